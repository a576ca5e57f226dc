"""Pre-moderation: officials' ideas wait for the facilitator before reaching any screen.

With the congress's switch on (« Modération avant affichage », off by default), an
official's new idea is stored `pending` (contributions.create): no projector, phone,
public board, count or sorting reads it, as they all select `visible` ideas. The
facilitator approves it, and it goes down the path of a new idea (sorted now, then
announced by the caller), or rejects it, with a short reason its author reads; a
rejected idea is kept for the record and reaches no screen. Staff captures skip the
queue. Switching the moderation off releases nothing: waiting ideas stay until decided.

Every decision and every switch is audited. Functions commit; pushes are the caller's
(`announce.moderation_decided`), after they return.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from . import audit, sorting
from .contributions import clean_line
from .corrections import parse_id
from .errors import InputError
from .extensions import db
from .models import MODERATION_REASON_MAX, Congress, Contribution, Participant, utcnow
from .rendering import plain_excerpt

#: The queue shows an idea whole (up to the contribution's own limit): the facilitator
#: judges what would reach the projector.
MAX_SHOWN = 2000
#: How many rejected ideas the queue's page lists (newest first), for the record.
REJECTED_SHOWN = 50


def set_premoderation(congress: Congress, on: bool, actor_id: int | None) -> bool:
    """Switch pre-moderation on or off (commits). True if it changed.

    Switching it off does not release the ideas already waiting: the facilitator decides
    each one, so nothing reaches the projector unseen by the switch of a checkbox.
    """
    if bool(congress.premoderation) == on:
        return False
    congress.premoderation = on
    audit.record("moderation.enabled" if on else "moderation.disabled", congress.id, actor_id)
    db.session.commit()
    return True


def queue(congress: Congress) -> list[Contribution]:
    """The ideas waiting for the facilitator, oldest first."""
    return list(db.session.scalars(
        select(Contribution).filter_by(congress_id=congress.id, status="pending")
        .options(selectinload(Contribution.author))
        .order_by(Contribution.id)))


def pending_count(congress_id: int) -> int:
    """How many ideas wait (the dashboard's reminder and the queue's live heading)."""
    return db.session.scalar(select(func.count()).select_from(Contribution).filter_by(
        congress_id=congress_id, status="pending")) or 0


def rejected(congress: Congress, limit: int = REJECTED_SHOWN) -> list[Contribution]:
    """The latest rejected ideas, newest decision first (kept for the record)."""
    return list(db.session.scalars(
        select(Contribution).filter_by(congress_id=congress.id, status="rejected")
        .options(selectinload(Contribution.author))
        .order_by(Contribution.moderated_at.desc(), Contribution.id.desc()).limit(limit)))


def _waiting(congress: Congress, contribution_id) -> Contribution:
    ident = parse_id(contribution_id, "L'identifiant de l'idée")
    contribution = db.session.get(Contribution, ident)
    if contribution is None or contribution.congress_id != congress.id:
        raise InputError(f"L'idée n° {ident} n'existe pas dans ce congrès.")
    if contribution.status == "withdrawn":
        raise InputError(f"L'idée n° {ident} a été retirée par son auteur·rice.")
    if contribution.status != "pending":
        raise InputError(f"L'idée n° {ident} n'attend plus de modération\u00a0: elle a déjà "
                         "été approuvée ou rejetée.")
    return contribution


def approve(congress: Congress, actor: Participant | None, contribution_id) -> Contribution:
    """Let a waiting idea through (commits): sorted now, as a new idea is; the caller then
    announces it (`announce.moderation_decided`) to every screen."""
    contribution = _waiting(congress, contribution_id)
    contribution.status = "visible"
    contribution.moderated_at = utcnow()
    sorting.assign_live(contribution)
    audit.record("moderation.approved", congress.id, actor.id if actor else None,
                 contribution_id=contribution.id)
    db.session.commit()
    return contribution


def reject(congress: Congress, actor: Participant | None, contribution_id,
           reason: str | None = None) -> Contribution:
    """Keep a waiting idea off every screen for good (commits); its author reads `reason`."""
    text = clean_line(reason if isinstance(reason, str) else None,
                      limit=MODERATION_REASON_MAX, what="Le motif du rejet")
    contribution = _waiting(congress, contribution_id)
    contribution.status = "rejected"
    contribution.moderated_at = utcnow()
    contribution.moderation_reason = text or None
    audit.record("moderation.rejected", congress.id, actor.id if actor else None,
                 contribution_id=contribution.id, reason=text or None)
    db.session.commit()
    return contribution


def queue_item(contribution: Contribution) -> dict:
    """A waiting idea as the facilitator's queue shows it (staff only: never on a public
    screen)."""
    return {
        "id": contribution.id,
        "status": contribution.status,
        "text": plain_excerpt(contribution.text, MAX_SHOWN),
        "speaker": contribution.speaker,
        "commune": contribution.commune,
        "channel": contribution.channel,
        "created_at": contribution.created_at.isoformat(timespec="seconds"),
    }
