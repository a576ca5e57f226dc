"""The congress's roster: who is let in, and who may vote once present.

* Imported (CSV), invited or added by the facilitator: `accepted` at once.
* Joined with the code (`/rejoindre`): `pending`, in the facilitator's queue, who
  accepts in one click (or all at once) or refuses; `accepted` at once while the
  congress's registration is open (« inscriptions ouvertes », off by default).
* A pending person may read, and post, edit or withdraw ideas during the
  consultation and the debate: ideas are moderated (the facilitator hides them) and
  weigh on nothing until the facilitator sorts them. They never vote, never count as
  eligible, never declare or get marked present, never give or carry a procuration,
  never "+1" an idea and never propose an amendment: those weigh on what the room
  decides (voting.py, corrections.add_support, drafting.propose_amendment).
* Refused: their access is revoked like a revoked invitation (sessions ended, sockets
  closed by the caller after the commit); their ideas stay for the facilitator to
  moderate.

Every change is audited. Functions commit; pushes and socket closing are the caller's,
after they return.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from . import audit
from .errors import InputError
from .extensions import db
from .models import Congress, Participant, utcnow

#: Statuses a person waiting in the queue can be in before the facilitator decides.
UNDECIDED = ("pending",)


def joining_status(congress: Congress) -> str:
    """The roster status of someone joining with the code now."""
    return "accepted" if congress.registration_open else "pending"


def pending(congress: Congress) -> list[Participant]:
    """The queue: people who joined with the code and wait for the facilitator, oldest first."""
    return list(db.session.scalars(
        select(Participant).where(Participant.congress_id == congress.id,
                                  Participant.roster_status == "pending")
        .order_by(Participant.created_at, Participant.id)))


def pending_count(congress: Congress) -> int:
    """How many people wait in the queue (the dashboard's reminder)."""
    return db.session.scalar(select(func.count()).select_from(Participant).where(
        Participant.congress_id == congress.id, Participant.roster_status == "pending")) or 0


def accept(person: Participant, actor_id: int | None) -> bool:
    """Put a pending (or refused) person on the roster (commits). False if already on it.

    A refused person's access stays revoked: « Nouveau lien » gives it back.
    """
    if person.roster_status == "accepted":
        return False
    previous, person.roster_status = person.roster_status, "accepted"
    audit.record("roster.accepted", person.congress_id, actor_id, participant=person.id,
                 previous=previous)
    db.session.commit()
    return True


def accept_all(congress: Congress, actor_id: int | None) -> list[int]:
    """« Tout accepter »: every pending person of the congress, in one transaction.

    Only the rows still pending when the statement runs are changed and audited, so a
    double click accepts nobody twice. Returns their ids.
    """
    ids = list(db.session.scalars(
        update(Participant).where(Participant.congress_id == congress.id,
                                  Participant.roster_status == "pending")
        .values(roster_status="accepted").returning(Participant.id)
        .execution_options(synchronize_session=False)))
    if ids:
        audit.record("roster.accepted_all", congress.id, actor_id, participants=sorted(ids))
    db.session.commit()
    db.session.expire_all()
    return sorted(ids)


def refuse(person: Participant, actor_id: int | None) -> None:
    """Refuse a pending registration (commits): off the queue, access revoked.

    The caller closes the person's sockets after this returns
    (push.close_participant_sockets).
    """
    if person.roster_status not in UNDECIDED:
        raise InputError(f"{person.display_name} n'est pas en attente de validation\u00a0: "
                         "pour lui retirer l'accès, révoquez son invitation.")
    person.roster_status = "refused"
    person.present = False
    person.token_revoked_at = person.token_revoked_at or utcnow()
    person.end_sessions()
    audit.record("roster.refused", person.congress_id, actor_id, participant=person.id)
    db.session.commit()


def set_registration_open(congress: Congress, is_open: bool, actor_id: int | None) -> bool:
    """« Inscriptions ouvertes »: joiners accepted at once (commits). True if it changed.

    Opening does not accept those already waiting: « Tout accepter » does.
    """
    if bool(congress.registration_open) == is_open:
        return False
    congress.registration_open = is_open
    audit.record("roster.registration_opened" if is_open else "roster.registration_closed",
                 congress.id, actor_id)
    db.session.commit()
    return True


def set_listed(congress: Congress, listed: bool, actor_id: int | None) -> bool:
    """« Afficher sur la page d'accueil » (commits). True if it changed."""
    if bool(congress.listed) == listed:
        return False
    congress.listed = listed
    audit.record("congress.listed" if listed else "congress.unlisted", congress.id, actor_id)
    db.session.commit()
    return True
