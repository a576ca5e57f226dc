"""Votes counted in the room: show of hands or paper ballots, added to a ballot's results.

Some in the room have no phone or no signal, and some items are voted by show of hands.
After the electronic vote closes, a staff member enters what was counted in the room
(totals per choice, the method, how many people were counted); a *different* staff
member confirms it (two-person rule). Until then it is « en attente de confirmation »
and no result counts it; publication waits for it.

Rules, checked here for the HTML form and the staff API alike:

* Entered on a closed ballot only: the electronic count is then frozen, so the check
  below cannot be overtaken by a phone voting afterwards.
* No one counted twice: people counted ≤ voters present at the close (with proxies,
  the frozen `eligible`) minus the electronic votes cast. A person who voted by phone
  cannot also raise a hand.
* The totals add up to at most the people counted; the difference is people counted who
  did not vote (« sans vote »), shown but never counted as cast. Chosen over an exact
  sum because a show of hands rarely has everyone raise a hand.
* Confirmation re-freezes the ballot's results: counts are the sum, the majority and the
  quorum apply to the sum, and the electronic and room parts are kept beside it
  (`results["electronic"]`, `results["room"]`). Both steps are in the audit chain;
  `verify` recounts the sum (ballots.recompute).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from . import audit, voting
from .errors import InputError
from .extensions import db
from .models import MAX_ID, ROOM_COUNT_METHODS, Ballot, Participant, RoomCount, utcnow

METHOD_LABELS = {"hands": "à main levée", "paper": "bulletins papier"}
PENDING_LABEL = "en attente de confirmation"
STAFF_ROLES = ("facilitator", "scribe")


def _number(raw: Any, what: str, field: str) -> int:
    """A count from a form (text) or JSON (int): a whole number ≥ 0, else a French refusal."""
    if isinstance(raw, bool):
        raw = None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").replace("\u202f", "").replace(" ", "")
        text = text.strip()
        if text == "":
            text = "0" if field != "people" else ""
        if not text or not text.isascii() or not text.isdigit() or len(text) > 10:
            raise InputError(f"{what} doit être un nombre entier positif ou nul.", field=field)
        value = int(text)
    if not 0 <= value <= MAX_ID:
        raise InputError(f"{what} doit être un nombre entier positif ou nul.", field=field)
    return value


def _require_staff(person: Participant, congress_id: int) -> None:
    if person is None or person.role not in STAFF_ROLES or person.congress_id != congress_id:
        raise InputError("Seule l'équipe d'animation de ce congrès peut saisir ou confirmer "
                         "un décompte de la salle.")


def of_ballot(ballot_id: int) -> RoomCount | None:
    return db.session.scalar(select(RoomCount).where(RoomCount.ballot_id == ballot_id))


def of_ballots(ballot_ids: list[int]) -> dict[int, RoomCount]:
    """Each ballot's room count (pending or confirmed), for a list screen in one query."""
    if not ballot_ids:
        return {}
    return {r.ballot_id: r for r in db.session.scalars(
        select(RoomCount).where(RoomCount.ballot_id.in_(ballot_ids)))}


def room_capacity(ballot: Ballot) -> int:
    """How many people a room count may still count: voters present at the close
    (with proxies) minus those who voted electronically."""
    frozen = ballot.results or {}
    electronic = (frozen.get("electronic") or {}).get("voters", frozen.get("voters", 0))
    return max(0, int(frozen.get("eligible", 0)) - int(electronic or 0))


def record(ballot: Ballot, actor: Participant, *, method: Any, people: Any,
           pour: Any = 0, contre: Any = 0, abstention: Any = 0) -> RoomCount:
    """Enter the room's count for a closed ballot, pending confirmation (commits)."""
    _require_staff(actor, ballot.congress_id)
    if ballot.state != "closed":
        raise InputError("Le décompte de la salle se saisit une fois le vote électronique clos "
                         "et avant la publication des résultats."
                         if ballot.state in ("draft", "open") else
                         "Les résultats de ce scrutin sont publiés : on ne peut plus y ajouter "
                         "de décompte de la salle.")
    if method not in ROOM_COUNT_METHODS:
        raise InputError("Choisissez la méthode de décompte : à main levée ou bulletins papier.",
                         field="method")
    people = _number(people, "Le nombre de personnes comptées", "people")
    totals = {"pour": _number(pour, "Le nombre de voix « Pour »", "pour"),
              "contre": _number(contre, "Le nombre de voix « Contre »", "contre"),
              "abstention": _number(abstention, "Le nombre d'abstentions", "abstention")}
    if people == 0:
        raise InputError("Indiquez combien de personnes ont été comptées dans la salle.",
                         field="people")
    if sum(totals.values()) > people:
        raise InputError(f"Les voix saisies ({sum(totals.values())}) dépassent le nombre de "
                         f"personnes comptées ({people}).", field="people")
    capacity = room_capacity(ballot)
    if people > capacity:
        raise InputError(
            f"Décompte refusé : {people} personne{'s' if people > 1 else ''} comptée"
            f"{'s' if people > 1 else ''} dans la salle, mais seulement {capacity} votant·e"
            f"{'s' if capacity > 1 else ''} présent·e{'s' if capacity > 1 else ''} (procurations "
            "comprises) n'ont pas voté par téléphone. Une personne qui a voté par téléphone "
            "ne peut pas être comptée une seconde fois.", field="people")
    if of_ballot(ballot.id) is not None:
        raise InputError("Un décompte de la salle existe déjà pour ce scrutin : confirmez-le "
                         "ou annulez-le d'abord.")
    count = RoomCount(ballot_id=ballot.id, congress_id=ballot.congress_id, method=method,
                      people=people, recorded_by_id=actor.id, recorded_at=utcnow(), **totals)
    db.session.add(count)
    db.session.flush()
    audit.record("room_count.recorded", ballot.congress_id, actor.id, ballot=ballot.id,
                 method=method, people=people, counts=totals)
    db.session.commit()
    return count


def confirm(ballot: Ballot, actor: Participant) -> Ballot:
    """A second staff member confirms the room count: the results become the sum (commits)."""
    _require_staff(actor, ballot.congress_id)
    count = of_ballot(ballot.id)
    if count is None:
        raise InputError("Aucun décompte de la salle n'attend de confirmation pour ce scrutin.")
    if count.confirmed_at is not None:
        raise InputError("Ce décompte de la salle est déjà confirmé.")
    if count.recorded_by_id == actor.id:
        raise InputError("Vous avez saisi ce décompte : une autre personne de l'équipe "
                         "(animation ou relevé) doit le confirmer.")
    if ballot.state != "closed":
        raise InputError("Ce scrutin n'est plus clos : le décompte ne peut plus être confirmé.")
    frozen = ballot.results
    electronic = voting.normalise_counts(frozen["counts"])
    total = {c: electronic[c] + count.counts[c] for c in voting.CHOICES}
    snapshot = voting.decide(total, eligible=frozen["eligible"], majority=ballot.majority,
                             quorum=ballot.quorum)
    room_cast = sum(count.counts.values())
    snapshot["voters"] = int(frozen.get("voters", 0)) + room_cast
    snapshot["electronic"] = {"counts": electronic, "voters": int(frozen.get("voters", 0))}
    snapshot["room"] = {"counts": count.counts, "people": count.people, "method": count.method,
                        "method_label": METHOD_LABELS[count.method], "cast": room_cast,
                        "without_vote": count.people - room_cast}
    now = utcnow()
    changed = db.session.execute(
        update(RoomCount).where(RoomCount.id == count.id, RoomCount.confirmed_at.is_(None))
        .values(confirmed_by_id=actor.id, confirmed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        db.session.rollback()
        raise InputError("Ce décompte de la salle est déjà confirmé.")
    db.session.execute(update(Ballot).where(Ballot.id == ballot.id, Ballot.state == "closed")
                       .values(results=snapshot))
    audit.record("room_count.confirmed", ballot.congress_id, actor.id, ballot=ballot.id,
                 recorded_by=count.recorded_by_id, room=count.counts, people=count.people,
                 counts=snapshot["counts"], adopted=snapshot["adopted"])
    db.session.commit()
    db.session.refresh(ballot)
    db.session.refresh(count)
    return ballot


def discard(ballot: Ballot, actor: Participant) -> None:
    """Drop a room count still pending (a typing error); confirmed ones stay (commits)."""
    _require_staff(actor, ballot.congress_id)
    count = of_ballot(ballot.id)
    if count is None or count.confirmed_at is not None:
        raise InputError("Aucun décompte de la salle en attente à annuler pour ce scrutin.")
    db.session.delete(count)
    audit.record("room_count.discarded", ballot.congress_id, actor.id, ballot=ballot.id,
                 people=count.people, counts=count.counts)
    db.session.commit()


def payload(count: RoomCount | None) -> dict[str, Any] | None:
    """A room count for JSON and screens."""
    if count is None:
        return None
    return {"method": count.method, "method_label": METHOD_LABELS[count.method],
            "people": count.people, "counts": count.counts,
            "without_vote": count.people - sum(count.counts.values()),
            "confirmed": count.confirmed_at is not None,
            "status": "confirmé" if count.confirmed_at is not None else PENDING_LABEL,
            "recorded_by": count.recorded_by_id, "confirmed_by": count.confirmed_by_id}
