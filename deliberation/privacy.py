"""Data protection (RGPD): what is stored and why, download, erasure, retention.

The rules; the pages are `web/privacy.py`, the purge command `cli.py`.

* `/donnees-personnelles` (public) says what Motion stores, why, for how long and
  how to exercise one's rights.
* `/mes-donnees` lets a logged-in person download everything stored about them as
  JSON, and erase it. Erasure replaces the name, commune, department, mandate,
  population and e-mail, revokes the invite link and every open session (sockets
  included), and keeps the person's contributions anonymised when the congress
  requires it for the traceability of the motion (otherwise their text is erased
  too). Votes stay counted: the voter row they point to no longer says who it was.
* `/animation/donnees` lets the facilitator set the congress's retention period
  and erasure rule; `flask purge-expired` erases the personal data of every
  congress whose retention period has run out.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, select

from . import audit
from .extensions import db
from .models import (
    Amendment,
    Congress,
    Contribution,
    Participant,
    SocketConnection,
    Support,
    Vote,
    new_token,
    utcnow,
)
from .push import close_participant_sockets

ERASED_NAME = "Participant·e anonymisé·e"
ERASED_TEXT = "Contribution effacée à la demande de son auteur·rice."
RETENTION_MAX = 3650


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") if hasattr(value, "hour") else (
        value.isoformat() if value is not None else None)


def export_data(person: Participant) -> dict:
    """Everything Motion stores about one person, as plain JSON-ready data."""
    congress = db.session.get(Congress, person.congress_id)
    contributions = db.session.scalars(
        select(Contribution).filter_by(author_id=person.id).order_by(Contribution.id))
    supports = db.session.scalars(select(Support).filter_by(participant_id=person.id)
                                  .order_by(Support.id))
    votes = db.session.scalars(select(Vote).filter_by(voter_id=person.id).order_by(Vote.id))
    amendments = db.session.scalars(select(Amendment).filter_by(author_id=person.id)
                                    .order_by(Amendment.id))
    return {
        "export": {
            "generated_at": _iso(utcnow()),
            "service": "Motion",
            "note": "Données personnelles détenues par Motion sur vous, pour ce congrès.",
        },
        "congress": {"code": congress.join_code, "title": congress.title,
                     "retention_days": congress.retention_days,
                     "keep_contributions_on_erasure": congress.keep_contributions_on_erasure},
        "person": {
            "display_name": person.display_name, "commune": person.commune,
            "department_code": person.department_code, "mandate": person.mandate,
            "population": person.population, "email": person.email, "role": person.role,
            "present": person.present, "created_at": _iso(person.created_at),
            "invite_revoked_at": _iso(person.token_revoked_at),
            "has_password": bool(person.password_hash), "erased_at": _iso(person.erased_at),
            "proxy_given_to": person.proxy_for_id,
        },
        "contributions": [
            {"id": c.id, "text": c.text, "channel": c.channel, "status": c.status,
             "theme": c.theme.code if c.theme else None, "supports": c.supports,
             "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at)}
            for c in contributions],
        "supports": [{"contribution_id": s.contribution_id, "created_at": _iso(s.created_at)}
                     for s in supports],
        # Nominal ballots only: a secret ballot stores no link between a voter and a choice.
        "votes": [{"ballot_id": v.ballot_id, "choice": v.choice, "cast_at": _iso(v.cast_at),
                   "by_proxy": v.cast_by_id is not None and v.cast_by_id != person.id}
                  for v in votes],
        "amendments": [{"id": a.id, "article_id": a.article_id, "text": a.body_md,
                        "rationale": a.rationale, "state": a.state,
                        "created_at": _iso(a.created_at)} for a in amendments],
    }


def erase(person: Participant, actor_id: int | None, reason: str) -> dict:
    """Erase one person's personal data in the current transaction; returns what was done.

    Idempotent: erasing an erased person changes nothing more.
    """
    congress = db.session.get(Congress, person.congress_id)
    contributions = list(db.session.scalars(select(Contribution).filter_by(author_id=person.id)))
    erased_texts = 0
    if not congress.keep_contributions_on_erasure:
        for contribution in contributions:
            if contribution.text != ERASED_TEXT:
                erased_texts += 1
            contribution.text = ERASED_TEXT
            contribution.status = "withdrawn"
            contribution.duplicate_of_id = None
        for amendment in db.session.scalars(select(Amendment).filter_by(author_id=person.id)):
            if amendment.state == "proposed":
                amendment.body_md = ERASED_TEXT
                amendment.rationale = ""
    already = person.erased_at is not None
    person.display_name = ERASED_NAME
    person.commune = ""
    person.department_code = ""
    person.mandate = ""
    person.population = None
    person.email = None
    person.password_hash = None
    if person.token_revoked_at is None:
        person.token_revoked_at = utcnow()
    # A fresh random token: the old link can never be matched again, even if un-revoked.
    person.invite_token = new_token()
    person.session_epoch += 1
    if not already:
        person.erased_at = utcnow()
        audit.record("participant.erased", person.congress_id, actor_id,
                     participant_id=person.id, reason=reason,
                     contributions_kept=congress.keep_contributions_on_erasure)
    return {"contributions": len(contributions), "texts_erased": erased_texts,
            "already": already}


def expiry_date(congress: Congress) -> date:
    """The day personal data of this congress may be purged."""
    reference = congress.ends_on or congress.starts_on or congress.created_at.date()
    return reference + timedelta(days=congress.retention_days)


def purge_expired(today: date | None = None) -> dict[str, int]:
    """Erase the personal data of every congress past its retention period."""
    today = today or date.today()
    result = {"congresses": 0, "participants": 0}
    for congress in db.session.scalars(select(Congress).order_by(Congress.id)):
        if expiry_date(congress) > today:
            continue
        result["congresses"] += 1
        people = list(db.session.scalars(select(Participant)
                                         .filter_by(congress_id=congress.id, erased_at=None)))
        for person in people:
            erase(person, None, reason="durée de conservation écoulée")
            result["participants"] += 1
        db.session.commit()
        for person in people:
            close_participant_sockets(person.id)
    # Socket rows of connections that ended on their own (see SocketConnection).
    db.session.execute(delete(SocketConnection).where(
        SocketConnection.connected_at < utcnow() - timedelta(days=2)))
    db.session.commit()
    return result
