"""A congress derived from an earlier, published motion, and what its draft owes to it.

The Ruralitic forum takes the national motion and adds what its own officials
bring (« déclinaison rurale de la motion nationale »).  `derive_congress` copies
the published motion's themes and articles into a new congress; each article
keeps the earlier text twice: as its first version (the starting draft) and in
`Article.inherited_md` (what the draft is compared with, whatever is edited
later).  `inherited_view` tells, per article, which recurring points confirm a
sentence of that earlier text and which are new; a new point is written into the
article by drafting's « Ajouter au texte » (`drafting.pull_point`).

Rules chosen:

* Only a published motion (its ballot on the whole text published, as the
  public motion page requires) can be derived: a draft could still change.
* The new congress starts in « Préparation »: the facilitator invites the
  officials and sets the dates before opening the consultation.
* The facilitator who derives it gets a facilitator account in the new congress
  with the same e-mail and password (accounts belong to one congress each, and
  logging in opens the newest); « Vos autres congrès » on the dashboard switches
  between such accounts without a new login.

Data in, data out, like the other domain modules: the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from . import audit, drafting, publishing
from .clustering.inheritance import compare, sentences
from .contributions import clean_line
from .errors import InputError
from .extensions import db
from .models import (
    Article,
    ArticleVersion,
    Cluster,
    Congress,
    Contribution,
    Participant,
    Theme,
)

INHERITED_NOTE = "Texte de la motion d'origine"
DERIVED_PHASE = "preparation"
JOIN_CODE = re.compile(r"[A-Z0-9]{4,16}")
#: Ideas of a point compared with the earlier text, most supported first: enough to say
#: what the point means, and the page's cost stays bounded in a congress of 50,000 ideas.
COMPARED_MEMBERS = 40


# --- creating the congress ------------------------------------------------------------

def is_published(congress: Congress) -> bool:
    """The motion's text is public (publishing.py): a published version, or an adopted
    text about to be frozen on its first reading; a text withheld by the facilitator's
    choice is not."""
    newest = publishing.latest(congress)
    if newest is not None:
        return newest.kind == "published"
    return publishing.is_public(congress)


def clean_join_code(raw: str | None) -> str:
    """An upper-case code of 4 to 16 letters or digits that no congress uses yet."""
    code = (raw or "").strip().upper()
    if not code:
        raise InputError("Le code du nouveau congrès est obligatoire.", field="join_code")
    if not JOIN_CODE.fullmatch(code):
        raise InputError("Le code du congrès doit compter 4 à 16 lettres sans accent ou "
                         "chiffres, sans espace (par exemple RURAL27).", field="join_code")
    if db.session.scalar(select(Congress.id).filter_by(join_code=code)) is not None:
        raise InputError(f"Le code « {code} » est déjà celui d'un autre congrès : "
                         "choisissez-en un autre.", field="join_code")
    return code


def derive_congress(source: Congress, title: str | None, join_code: str | None, *,
                    place: str | None = "", actor: Participant | None = None) -> Congress:
    """A new congress whose themes and articles are those of `source`'s published motion."""
    if not is_published(source):
        raise InputError(f"La motion de « {source.title} » n'est pas encore publiée : "
                         "seul un texte voté et publié peut servir de base à un nouveau "
                         "congrès.")
    title = clean_line(title, limit=200, what="Le titre du congrès", required=True)
    code = clean_join_code(join_code)
    # The text as published, corrections included (read first: it may freeze version 1).
    version = publishing.current(source)
    published = {item["id"]: item for item in version.document["articles"]} if version else {}
    congress = Congress(title=title, join_code=code, phase=DERIVED_PHASE,
                        place=clean_line(place, limit=200, what="Le lieu"),
                        derived_from_id=source.id)
    db.session.add(congress)
    db.session.flush()
    themes = _copy_themes(source, congress)
    account = _carry_facilitator(actor, congress)
    articles = _copy_articles(source, congress, themes, account, published)
    audit.record("congress.derived", congress.id, account.id if account else None,
                 source_id=source.id, source_code=source.join_code, themes=len(themes),
                 articles=len(articles), by=actor.id if actor else None)
    return congress


def _copy_themes(source: Congress, congress: Congress) -> dict[int, Theme]:
    """Copy the themes; returns source theme id → new theme."""
    copies = {}
    for theme in source.themes:
        copies[theme.id] = Theme(
            congress_id=congress.id, code=theme.code, title=theme.title,
            short_title=theme.short_title, description=theme.description,
            subpoints=list(theme.subpoints or []), keywords=list(theme.keywords or []),
            position=theme.position)
    db.session.add_all(copies.values())
    db.session.flush()
    return copies


def _copy_articles(source: Congress, congress: Congress, themes: dict[int, Theme],
                   author: Participant | None,
                   published: dict[int, dict] | None = None) -> list[Article]:
    """Copy the articles as `published` has them (article id → the published version's
    article), else as drafted; each one's text becomes its first version and its
    inherited text."""
    copies = []
    for old in drafting.articles(source):
        theme = themes.get(old.theme_id) if old.theme_id is not None else None
        shown = (published or {}).get(old.id, {})
        body = shown.get("body_md", old.body_md or "").strip()
        heading = shown.get("title", old.title)
        article = Article(congress_id=congress.id, kind=old.kind, title=heading,
                          position=old.position, theme_id=theme.id if theme else None,
                          inherited_md=body)
        db.session.add(article)
        db.session.flush()
        if body:
            drafting.save_version(article, heading, body, author, note=INHERITED_NOTE)
        copies.append(article)
    return copies


def _carry_facilitator(actor: Participant | None, congress: Congress) -> Participant | None:
    """The deriving facilitator's account in the new congress (same e-mail and password)."""
    if actor is None:
        return None
    account = Participant(congress_id=congress.id, display_name=actor.display_name,
                          role="facilitator", email=actor.email,
                          password_hash=actor.password_hash)
    db.session.add(account)
    db.session.flush()
    return account


def source_of(congress: Congress) -> Congress | None:
    """The congress whose motion this one was derived from, if any (and still there)."""
    return db.session.get(Congress, congress.derived_from_id) \
        if congress.derived_from_id else None


def facilitator_of(congress: Congress, email: str) -> Participant | None:
    """The facilitator account of `congress` with this e-mail (CLI: whom to carry over)."""
    return db.session.scalar(select(Participant).filter_by(
        congress_id=congress.id, role="facilitator", email=(email or "").strip().lower()))


def other_accounts(account: Participant) -> list[Participant]:
    """The same facilitator's accounts in other congresses (same e-mail, same password), so
    that after a derivation they can go back and forth without logging in again."""
    if account.role != "facilitator" or not account.email or not account.password_hash:
        return []
    rows = db.session.scalars(select(Participant).filter_by(
        email=account.email, role="facilitator", password_hash=account.password_hash,
        token_revoked_at=None).where(Participant.id != account.id).order_by(Participant.id))
    return list(rows)


def switch_account(account: Participant, target_id: int) -> Participant:
    """The account to continue as, among `other_accounts`; audited in both congresses."""
    target = next((p for p in other_accounts(account) if p.id == target_id), None)
    if target is None:
        raise InputError("Vous n'animez pas ce congrès avec ce compte.")
    audit.record("staff.switched", account.congress_id, account.id, to_congress=target.congress_id)
    audit.record("staff.login", target.congress_id, target.id, via="switch")
    return target


# --- the draft: confirmed sentences and new points --------------------------------------

@dataclass
class PointView:
    """A recurring point as the inherited-text panel shows it."""

    cluster: Cluster
    statement: str
    size: int
    in_text: bool = False  # already written into the article's current text


@dataclass
class SentenceView:
    text: str
    points: list[PointView] = field(default_factory=list)

    @property
    def contributions(self) -> int:
        return sum(p.size for p in self.points)


@dataclass
class InheritedView:
    source: Congress | None
    sentences: list[SentenceView]
    new: list[PointView]


def _points_with_members(theme: Theme | None) -> list[tuple[Cluster, list[Contribution]]]:
    """The theme's points with their ideas (drafting.members' rule), in one query."""
    clusters = drafting.recurring_points(theme)
    if not clusters:
        return []
    items: dict[int, list[Contribution]] = {c.id: [] for c in clusters}
    for row in db.session.scalars(
            select(Contribution).filter_by(theme_id=theme.id, off_topic=False)
            .where(Contribution.cluster_id.in_(list(items)),
                   Contribution.status.in_(drafting.SOURCE_STATUSES))
            .order_by(Contribution.supports.desc(), Contribution.id)):
        items[row.cluster_id].append(row)
    return [(c, items[c.id]) for c in clusters if items[c.id]]


def inherited_view(article: Article) -> InheritedView | None:
    """Per sentence of the inherited text, the points that confirm it; then the new points.

    None when the article has no inherited text (a congress that was not derived).
    """
    if not (article.inherited_md or "").strip():
        return None
    source = source_of(db.session.get(Congress, article.congress_id))
    rows = _points_with_members(article.theme)
    current = drafting.body_sentences(article.body_md)
    views = {}
    for cluster, items in rows:
        text = drafting.point_sentence(cluster, items) or cluster.display_label
        views[cluster.id] = PointView(
            cluster, text, len(items),
            in_text=any(drafting.near_duplicate(text, s) for s in current))
    verdicts = compare(article.inherited_md,
                       [(c.id, views[c.id].statement,
                         [m.text for m in items[:COMPARED_MEMBERS]]) for c, items in rows])
    shown = [SentenceView(s) for s in sentences(article.inherited_md)]
    new = []
    for verdict in verdicts:
        view = views[verdict.point]
        if verdict.kind == "confirms":
            shown[verdict.index].points.append(view)
        else:
            new.append(view)
    new.sort(key=lambda p: (-p.size, p.cluster.id))
    return InheritedView(source=source, sentences=shown, new=new)


def propose_draft(article: Article, actor: Participant) -> ArticleVersion:
    """« Proposer un brouillon », knowing where the article comes from.

    In a derived congress the draft is the earlier motion's text plus what the new
    contributions add: the inherited article as it was published, then one sentence
    per new recurring point (largest first). Points that confirm an inherited sentence
    are linked as its sources but add no sentence. Elsewhere, the plain draft.
    """
    view = inherited_view(article)
    if view is None:
        return drafting.propose_draft(article, actor)
    added = [p for p in view.new if p.size >= 2]
    body = article.inherited_md.rstrip()
    if added:
        body += "\n\n" + "\n".join(f"- {p.statement}" for p in added)
    confirming = [p for s in view.sentences for p in s.points]
    note = (f"Brouillon : texte de la motion d'origine, confirmé par {len(confirming)} "
            f"point{'s' if len(confirming) > 1 else ''}, et {len(added)} "
            f"point{'s' if len(added) > 1 else ''} nouveau{'x' if len(added) > 1 else ''}")
    row = drafting.save_version(article, article.title, body, actor, note=note)
    if row is None:
        raise InputError("Le brouillon proposé est identique au texte actuel.")
    for point in [*confirming, *added]:
        for contribution in drafting.members(point.cluster):
            drafting.link(article, contribution.id, actor, origin="draft")
    db.session.flush()
    return row
