"""Publishing the motion: frozen versions, corrections, and a rejected text's fate.

A published motion never changes (issue 14). Publishing the whole text's ballot writes
version 1, a `Publication` whose `document` is the motion as it stood (publication.py's
`document`): the public page, its PDF, motion.md and resultats.json are rendered from
the latest version, never from the drafting and ballot tables, which may still be
touched underneath. The database refuses any change to a version (models.py's trigger).

Rules chosen:

* A correction (a typo in an article, a wrong title) is a new version, 2, 3, …, made by
  the facilitator with a required reason; earlier versions stay readable at their own
  address, marked as superseded. A correction changes wording only: the results are
  those of the votes, copied unchanged, and every page says so.
* Each version is an entry of the audit chain (`motion.published`, `motion.corrected`)
  carrying the sha256 of its document, so `verify_versions` finds a rewritten version.
* A rejected whole text is published only by the facilitator's choice: published as
  rejected (never under « adoptent »), or not published at all (`withheld`: the page
  says the congress adopted no motion, and there is no text to download).
* Publishing the text also publishes the closed ballots on its articles and amendments
  that were not yet public: version 1 shows every result of the vote.
* An adopted text whose ballot was published without a version (a database older than
  versions, or `ballots.publish_ballot` called alone) is frozen on its first reading;
  the text was frozen since that ballot opened (`ballots.TEXT_FROZEN`). A rejected one
  waits for the facilitator's choice.

Data in, data out: `publish` commits (it publishes ballots, which commit); `correct`
leaves the commit to its caller.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from . import audit, ballots, formats
from .contributions import clean_line
from .errors import InputError
from .extensions import db
from .models import (
    ARTICLE_BODY_MAX,
    CORRECTION_REASON_MAX,
    AuditEvent,
    Ballot,
    Congress,
    Participant,
    Publication,
    utcnow,
)
from .publication import article_text, document, text_ballot

#: The facilitator's choice for a rejected text (the form's values).
REJECTED_CHOICES = {"publier": "published", "retenir": "withheld"}
VERSION_ACTIONS = ("motion.published", "motion.corrected")
TITLE_MAX = 300

ALREADY_PUBLISHED = ("La motion de ce congrès est déjà publiée : une correction se publie "
                     "comme nouvelle version (« Corriger la motion »).")
CHOOSE = ("Le texte a été rejeté : choisissez de le publier comme texte rejeté ou de ne "
          "pas publier de motion.")
NOTHING_TO_CORRECT = "Aucune motion publiée : il n'y a pas de texte à corriger."
REASON_REQUIRED = ("Indiquez la raison de la correction : elle est publiée avec la "
                   "nouvelle version.")


# --- reading ---------------------------------------------------------------------------

def versions(congress: Congress) -> list[Publication]:
    """Every version of the congress's motion, oldest first."""
    return list(db.session.scalars(select(Publication).filter_by(congress_id=congress.id)
                                   .order_by(Publication.number)))


def latest(congress: Congress) -> Publication | None:
    return db.session.scalar(select(Publication).filter_by(congress_id=congress.id)
                             .order_by(Publication.number.desc()).limit(1))


def current(congress: Congress) -> Publication | None:
    """The version in force, freezing an adopted text published before versions existed
    (see the module's rules); None while nothing is published."""
    found = latest(congress)
    if found is not None:
        return found
    whole = text_ballot(congress)
    if whole is None or not (whole.results or {}).get("adopted"):
        return None
    try:
        found = _freeze(congress, whole, "published", actor_id=None)
        db.session.commit()
    except IntegrityError:  # another request froze it first: read theirs
        db.session.rollback()
        found = latest(congress)
    return found


def is_public(congress: Congress) -> bool:
    """Whether /motion/<code> shows a publication (a version, or an adopted text about to
    be frozen on its first reading), without writing anything."""
    if latest(congress) is not None:
        return True
    whole = text_ballot(congress)
    return whole is not None and bool((whole.results or {}).get("adopted"))


def is_withheld(congress: Congress) -> bool:
    """The whole text was rejected and, by the facilitator's choice, not published."""
    newest = latest(congress)
    return newest is not None and newest.kind == "withheld"


def awaiting_choice(congress: Congress) -> bool:
    """The whole text was rejected, its ballot published, and the facilitator has not yet
    chosen whether to publish it."""
    whole = text_ballot(congress)
    return (whole is not None and not (whole.results or {}).get("adopted")
            and latest(congress) is None)


def version(congress: Congress, number: int) -> Publication | None:
    return db.session.scalar(select(Publication).filter_by(congress_id=congress.id,
                                                           number=number))


def version_info(publication: Publication, newest: Publication) -> dict[str, Any]:
    """What the page says of a version: its number, date, reason, and the newest one."""
    return {"number": publication.number, "published_at": publication.published_at,
            "reason": publication.reason, "latest_number": newest.number,
            "latest_at": newest.published_at,
            "superseded": publication.number < newest.number}


def history(congress: Congress) -> list[dict[str, Any]]:
    """Every version with its date, reason and audit entry, for « Historique des versions »."""
    entries = {}
    for entry_id, payload in db.session.execute(
            select(AuditEvent.id, AuditEvent.payload)
            .where(AuditEvent.congress_id == congress.id,
                   AuditEvent.action.in_(VERSION_ACTIONS)).order_by(AuditEvent.id)):
        entries.setdefault((payload or {}).get("version"), entry_id)
    return [{"number": p.number, "published_at": p.published_at, "reason": p.reason,
             "kind": p.kind, "entry": entries.get(p.number)} for p in versions(congress)]


# --- writing ---------------------------------------------------------------------------

def digest(doc: dict[str, Any]) -> str:
    """The sha256 of a document's canonical JSON (what the audit entry records)."""
    body = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _withheld_document(congress: Congress, whole: Ballot) -> dict[str, Any]:
    """What a text that is not published keeps: the decision, never the text."""
    full = document(congress)
    return {key: full[key] for key in ("format", "title", "congress", "ballot", "results",
                                       "rejected", "anchor")} | {
        "articles": [], "ballots": [],
        "voted_at": whole.closed_at.isoformat(timespec="seconds") if whole.closed_at else None}


def _freeze(congress: Congress, whole: Ballot, kind: str,
            actor_id: int | None) -> Publication:
    """Version 1, added to the session with its audit entry (the caller commits)."""
    doc = document(congress) if kind == "published" else _withheld_document(congress, whole)
    publication = Publication(congress_id=congress.id, number=1, kind=kind, reason="",
                              actor_id=actor_id, published_at=utcnow(), document=doc,
                              digest=digest(doc))
    db.session.add(publication)
    db.session.flush()
    audit.record("motion.published", congress.id, actor_id, version=1, kind=kind,
                 ballot=whole.id, digest=publication.digest)
    return publication


def publish(ballot_id: int, actor_id: int | None = None,
            rejected_choice: str | None = None) -> tuple[list[Ballot], Publication | None]:
    """Publish a ballot's results (commits); for the whole text, the motion's version 1.

    Returns the ballots published (the text's own last) and the version written, if any.
    A rejected whole text needs `rejected_choice` (« publier » or « retenir »).
    """
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        raise InputError("Ce scrutin n'existe pas.")
    if ballot.kind != "text":
        return [ballots.publish_ballot(ballot_id, actor_id)], None
    congress = db.session.get(Congress, ballot.congress_id)
    if latest(congress) is not None:
        raise InputError(ALREADY_PUBLISHED)
    if ballot.state not in ("closed", "published") or ballot.results is None:
        raise InputError("Ce scrutin n'est pas clos : il ne peut pas être publié.")
    if ballot.results.get("adopted"):
        kind = "published"
    elif rejected_choice in REJECTED_CHOICES:
        kind = REJECTED_CHOICES[rejected_choice]
    else:
        raise InputError(CHOOSE, field="texte_rejete")
    done = []
    parts = []
    if kind == "published":  # the text's page shows every result of its vote
        parts = list(db.session.scalars(select(Ballot).where(
            Ballot.congress_id == congress.id, Ballot.state == "closed",
            Ballot.id != ballot.id).order_by(Ballot.id)))
    ballots.refuse_pending_room_counts(
        parts + ([ballot] if ballot.state == "closed" else []))
    for part in parts:
        done.append(ballots.publish_ballot(part.id, actor_id))
    if ballot.state == "closed":
        ballot = ballots.publish_ballot(ballot.id, actor_id)
    done.append(ballot)
    try:
        publication = _freeze(congress, ballot, kind, actor_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise InputError(ALREADY_PUBLISHED) from None
    return done, publication


def correct(congress: Congress, actor: Participant, *, title: str | None,
            articles: Mapping[int, tuple[str | None, str | None]],
            reason: str | None) -> Publication:
    """A corrected text published as the next version (the caller commits).

    `articles`: article id → (title, Markdown) as submitted; an article left out, or
    sent back unchanged, keeps its published text. The results are copied unchanged.
    """
    newest = latest(congress)
    if newest is None or newest.kind != "published":
        raise InputError(NOTHING_TO_CORRECT)
    reason = clean_line(reason, limit=CORRECTION_REASON_MAX, what="La raison")
    if not reason:
        raise InputError(REASON_REQUIRED, field="reason")
    doc = copy.deepcopy(newest.document)
    changed = []
    try:
        new_title = clean_line(title, limit=TITLE_MAX, what="Le titre de la motion",
                               required=True)
    except InputError as exc:
        raise InputError(exc.message, field="title") from None
    if new_title != doc["title"]:
        doc["title"] = new_title
        changed.append("titre")
    for item in doc["articles"]:
        sent_title, sent_body = articles.get(item["id"], (None, None))
        if item["kind"] != "preamble" and sent_title is not None:
            try:
                line = clean_line(sent_title, limit=TITLE_MAX, required=True,
                                  what=f"Le titre de « {item['label']} »")
            except InputError as exc:  # the field's id on the correction form
                raise InputError(exc.message, field=f"titre-{item['id']}") from None
            if line != item["title"]:
                item["title"] = line
                changed.append(item["label"])
        if sent_body is None:
            continue
        body = sent_body.replace("\r\n", "\n").replace("\r", "\n")
        if len(body) > ARTICLE_BODY_MAX:
            raise InputError(f"Le texte de « {item['label']} » dépasse "
                             f"{formats.number(ARTICLE_BODY_MAX)} caractères.",
                             field=f"texte-{item['id']}")
        if body.strip() != item["body_md"].replace("\r\n", "\n").strip():
            item.update(article_text(body.strip()))
            if item["label"] not in changed:
                changed.append(item["label"])
    if not changed:
        raise InputError(f"Le texte corrigé est identique à la version {newest.number} : "
                         "aucune nouvelle version n'est publiée.")
    number = newest.number + 1
    publication = Publication(congress_id=congress.id, number=number, kind="published",
                              reason=reason, actor_id=actor.id, published_at=utcnow(),
                              document=doc, digest=digest(doc))
    db.session.add(publication)
    db.session.flush()
    audit.record("motion.corrected", congress.id, actor.id, version=number, reason=reason,
                 changed=changed, digest=publication.digest)
    return publication


# --- checking ---------------------------------------------------------------------------

def verify_versions() -> list[str]:
    """Problems (French) between the published versions and the audit chain: each version's
    document must still have the digest its audit entry recorded."""
    recorded = {}
    for congress_id, payload in db.session.execute(
            select(AuditEvent.congress_id, AuditEvent.payload)
            .where(AuditEvent.action.in_(VERSION_ACTIONS))):
        payload = payload or {}
        recorded[(congress_id, payload.get("version"))] = payload.get("digest")
    problems = []
    for publication in db.session.scalars(select(Publication).order_by(Publication.id)):
        name = f"Motion du congrès {publication.congress_id}, version {publication.number}"
        expected = recorded.get((publication.congress_id, publication.number))
        if expected is None:
            problems.append(f"{name} : sa publication manque au journal d'audit.")
        elif digest(publication.document) != expected or publication.digest != expected:
            problems.append(f"{name} : son texte diffère de celui que le journal a scellé.")
    return problems


def verify_line() -> tuple[str, list[str]]:
    """`verify`'s report on the published versions: one French line, and the problems."""
    problems = verify_versions()
    count = db.session.scalar(select(func.count()).select_from(Publication)) or 0
    s = "s" if count > 1 else ""
    state = f"conforme{s} au journal d'audit" if not problems else "ANOMALIE"
    return (f"Motions publiées : {formats.plural(count, 'version')} enregistrée{s}, "
            f"{state}."), problems
