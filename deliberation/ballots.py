"""Ballots in the database: create, open, close, publish, cast a vote, presence, proxies.

The rules themselves are in `voting.py`; this module makes them hold under
concurrency:

* One vote per voter per ballot is the database's unique constraint (`vote`
  for nominal ballots, the primary key of `ballot_voter` for secret ones). A
  duplicate insert raises IntegrityError, which we answer with « déjà voté » —
  or with the first answer again when the same idempotency key is retried.
* A vote racing the close is either counted or refused, never lost: the vote is
  a single conditional statement, `INSERT ... SELECT ... WHERE EXISTS (ballot
  open)`, and the close first takes the ballot row (`UPDATE ... WHERE
  state='open'`) then counts, inside one transaction. On SQLite the write lock
  serialises the two; on PostgreSQL the vote holds `FOR SHARE` on the ballot
  row, so the close waits for votes in flight and a vote arriving after the
  close sees it closed.
* Counting is `SELECT choice, count(*) ... GROUP BY choice` in the database,
  never read-modify-write in Python.
* Progress (`ballot.progress`) is pushed by one background task, never once per
  vote: to the projector and facilitator every `BALLOT_PROGRESS_INTERVAL_S` (0.25 s)
  at most, to the phones every `BALLOT_PROGRESS_PHONE_INTERVAL_S` (1 s) at most.

State changes and votes commit here (each is one transaction that must not be
split); push to sockets only after they return. `create()` does not commit, so
that drafting can create a ballot in its own transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, exists, func, insert, null, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.types import DateTime, Integer, String

from . import audit, ballot_box, drafting, formats, push, voting
from .clustering.typography import french
from .coalesce import Pace
from .contributions import clean_line
from .errors import InputError
from .extensions import db
from .group_commit import GroupCommit, NotAnswered
from .models import (
    Amendment,
    Article,
    AuditEvent,
    Ballot,
    BallotBox,
    BallotVoter,
    Congress,
    Participant,
    RoomCount,
    Vote,
    is_row_id,
    utcnow,
)
from .push import scheduler
from .rendering import render_motion_text
from .voting import VoteRefused

TITLE_MAX = 300


# --- creating and moving through the states ---------------------------------------

def create(congress: Congress, title: str, *, article: Any = None,
           amendment_id: int | None = None, secret: bool = False, allow_change: bool = False,
           majority: str = "simple", quorum: int | None = None,
           actor_id: int | None = None) -> Ballot:
    """A draft ballot, added to the session and audited (the caller commits)."""
    title = clean_line(title, limit=TITLE_MAX, what="L'intitulé du scrutin", required=True)
    voting.check_settings(secret=secret, allow_change=allow_change, majority=majority,
                          quorum=quorum)
    if article is not None and article.congress_id != congress.id:
        raise InputError("Cet article n'appartient pas à ce congrès.")
    if (article is not None or amendment_id is not None) and _text_ballot_started(congress.id):
        raise InputError(TEXT_FROZEN)
    ballot = Ballot(congress_id=congress.id, title=title,
                    article_id=article.id if article is not None else None,
                    amendment_id=amendment_id, secret=bool(secret),
                    allow_change=bool(allow_change), majority=majority, quorum=quorum,
                    state="draft")
    db.session.add(ballot)
    db.session.flush()
    audit.record("ballot.created", congress.id, actor_id, ballot=ballot.id, title=title,
                 kind=ballot.kind, article=ballot.article_id, amendment=amendment_id,
                 secret=ballot.secret, allow_change=ballot.allow_change, majority=majority,
                 quorum=quorum)
    return ballot


#: Once the room votes on the whole text, that text is what it votes on: nothing may
#: change it any more (an amendment ballot closed afterwards rewrote a published article).
TEXT_FROZEN = ("Le vote sur l'ensemble du texte est ouvert ou terminé : le texte est figé, "
               "aucun article ni amendement ne peut plus être mis aux voix.")


def _text_ballot_started(congress_id: int) -> bool:
    return db.session.scalar(select(Ballot.id).where(
        Ballot.congress_id == congress_id, Ballot.article_id.is_(None),
        Ballot.amendment_id.is_(None), Ballot.state.in_(("open", "closed", "published")))
        .limit(1)) is not None


def text_started(congress_id: int) -> bool:
    """Whether the whole text is put to the vote (open, closed or published): it is frozen."""
    return _text_ballot_started(congress_id)


def _part_ballot_open(congress_id: int) -> bool:
    return db.session.scalar(select(Ballot.id).where(
        Ballot.congress_id == congress_id, Ballot.state == "open",
        (Ballot.article_id.is_not(None)) | (Ballot.amendment_id.is_not(None)))
        .limit(1)) is not None


def open_ballot(ballot_id: int, actor_id: int | None = None) -> Ballot:
    """Draft → open (commits). Raises InputError when the ballot is not a draft, when it
    is about an article or an amendment and the whole text is already put to the vote,
    or when it is the whole text and a vote on a part of it is still open."""
    ballot = _get(ballot_id)
    voting.check_transition(ballot.state, "open")
    if ballot.kind != "text" and _text_ballot_started(ballot.congress_id):
        raise InputError(TEXT_FROZEN)
    if ballot.kind == "text" and _part_ballot_open(ballot.congress_id):
        raise InputError("Un scrutin sur un article ou un amendement est encore ouvert : "
                         "clôturez-le avant de mettre aux voix l'ensemble du texte.")
    changed = db.session.execute(
        update(Ballot).where(Ballot.id == ballot_id, Ballot.state == "draft")
        .values(state="open", opened_at=utcnow())).rowcount
    if not changed:
        db.session.rollback()
        raise InputError("Ce scrutin a déjà été ouvert.")
    audit.record("ballot.opened", ballot.congress_id, actor_id, ballot=ballot_id,
                 eligible=eligible(ballot.congress_id))
    db.session.commit()
    db.session.refresh(ballot)
    return ballot


def close_ballot(ballot_id: int, actor_id: int | None = None) -> Ballot:
    """Open → closed, freezing the results in the same transaction (commits).

    The first statement takes the ballot row (write lock on SQLite, row lock on
    PostgreSQL); votes still in flight either finished before it — and are
    counted — or find the ballot closed and are refused.
    """
    ballot = _get(ballot_id)
    voting.check_transition(ballot.state, "closed")
    taken = db.session.execute(
        update(Ballot).where(Ballot.id == ballot_id, Ballot.state == "open")
        .values(state="open")).rowcount
    if not taken:
        db.session.rollback()
        raise InputError("Ce scrutin n'est pas ouvert : il ne peut pas être clos.")
    snapshot = voting.decide(counts(ballot_id, ballot.secret),
                             eligible=eligible(ballot.congress_id),
                             majority=ballot.majority, quorum=ballot.quorum)
    snapshot["voters"] = cast_count(ballot_id, ballot.secret)
    if ballot.secret:
        # Papers re-drawn under the ballot row's lock: the counts above cannot move.
        ballot_box.redraw(ballot_id)
    db.session.execute(update(Ballot).where(Ballot.id == ballot_id)
                       .values(state="closed", closed_at=utcnow(), results=snapshot))
    audit.record("ballot.closed", ballot.congress_id, actor_id, ballot=ballot_id,
                 counts=snapshot["counts"], eligible=snapshot["eligible"],
                 adopted=snapshot["adopted"])
    db.session.commit()
    if ballot.secret:
        ballot_box.scrub(ballot_id)  # the papers' old images, out of the files
    db.session.refresh(ballot)
    if ballot.amendment_id is not None:
        _settle_amendment(ballot)
    return ballot


def _settle_amendment(ballot: Ballot) -> None:
    """A ballot on an amendment closed: apply it (adopted) or mark it rejected."""
    try:
        if drafting.on_ballot_closed(ballot):
            db.session.commit()
    except (InputError, SQLAlchemyError):
        # The results are frozen either way; the drafting pages settle it again later.
        db.session.rollback()
        current_app.logger.exception("settling amendment of ballot %s failed", ballot.id)


def publish_ballot(ballot_id: int, actor_id: int | None = None) -> Ballot:
    """Closed → published (commits): the results become public."""
    ballot = _get(ballot_id)
    voting.check_transition(ballot.state, "published")
    refuse_pending_room_counts([ballot])
    changed = db.session.execute(
        update(Ballot).where(Ballot.id == ballot_id, Ballot.state == "closed")
        .values(state="published", published_at=utcnow())).rowcount
    if not changed:
        db.session.rollback()
        raise InputError("Ce scrutin n'est pas clos : il ne peut pas être publié.")
    audit.record("ballot.published", ballot.congress_id, actor_id, ballot=ballot_id,
                 counts=ballot.results["counts"], adopted=ballot.results["adopted"])
    db.session.commit()
    db.session.refresh(ballot)
    return ballot


def refuse_pending_room_counts(to_publish: list[Ballot]) -> None:
    """A result is published only once its room count, if any, is confirmed by a second
    person: checked for every ballot of a publication before any is published, so a
    refusal publishes nothing (the whole text publishes its articles' ballots too)."""
    ids = [ballot.id for ballot in to_publish]
    waiting = db.session.scalars(select(RoomCount.ballot_id).where(
        RoomCount.ballot_id.in_(ids), RoomCount.confirmed_at.is_(None))).all()
    if not waiting:
        return
    if len(to_publish) == 1:
        raise InputError("Le décompte de la salle de ce scrutin est en attente de confirmation "
                         ": faites-le confirmer par une autre personne de l'équipe, ou "
                         "annulez-le, avant de publier.")
    titles = " ; ".join(f"« {ballot.title} »" for ballot in to_publish if ballot.id in waiting)
    raise InputError(f"Le décompte de la salle attend une confirmation pour {titles} : "
                     "faites-le confirmer par une autre personne de l'équipe, ou annulez-le, "
                     "avant de publier. Rien n'a été publié.")


def delete_draft(ballot_id: int, actor_id: int | None = None) -> None:
    """Remove a ballot that was never opened (commits)."""
    ballot = _get(ballot_id)
    if ballot.state != "draft":
        raise InputError("Seul un scrutin en préparation peut être supprimé.")
    congress_id, title = ballot.congress_id, ballot.title
    db.session.delete(ballot)
    db.session.flush()
    audit.record("ballot.deleted", congress_id, actor_id, ballot=ballot_id, title=title)
    db.session.commit()


def _get(ballot_id: int) -> Ballot:
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        raise InputError("Ce scrutin n'existe pas.")
    return ballot


# --- counting -------------------------------------------------------------------------

def counts(ballot_id: int, secret: bool) -> dict[str, int]:
    """Votes per choice, counted by the database."""
    table = BallotBox if secret else Vote
    rows = db.session.execute(select(table.choice, func.count()).where(
        table.ballot_id == ballot_id).group_by(table.choice)).all()
    return voting.normalise_counts(rows)


def cast_count(ballot_id: int, secret: bool) -> int:
    """How many people have voted (rows in the register, or nominal votes)."""
    table = BallotVoter if secret else Vote
    return db.session.scalar(select(func.count()).select_from(table)
                             .where(table.ballot_id == ballot_id)) or 0


def _people(congress_id: int) -> list[voting.Person]:
    rows = db.session.execute(
        select(Participant.id, Participant.role, Participant.present,
               Participant.proxy_for_id, Participant.token_revoked_at,
               Participant.roster_status)
        .where(Participant.congress_id == congress_id,
               Participant.role.in_(voting.VOTING_ROLES))).all()
    return [voting.Person(id=r.id, congress_id=congress_id, role=r.role,
                          active=r.token_revoked_at is None, present=bool(r.present),
                          accepted=r.roster_status == "accepted",
                          proxy_for_id=r.proxy_for_id) for r in rows]


def attendance(congress_id: int) -> voting.Attendance:
    """Present roster members who vote, and the procurations they carry (within the
    congress limit); pending and refused registrations never count."""
    limit = db.session.scalar(select(Congress.max_proxies).where(Congress.id == congress_id))
    return voting.attendance(_people(congress_id), limit or 1)


def eligible(congress_id: int) -> int:
    """Voters a ballot counts on: the present members and the procurations they carry."""
    return attendance(congress_id).expected


def live_progress(ballot: Ballot, present: voting.Attendance | None = None) -> dict[str, Any]:
    """Presence, quorum and votes cast of a ballot, as the screens show them while it is
    open (`present`: the congress's attendance, when the caller already read it)."""
    present = present if present is not None else attendance(ballot.congress_id)
    return voting.progress(cast_count(ballot.id, ballot.secret), present, ballot.quorum)


def results(ballot: Ballot) -> dict[str, Any]:
    """Results of a ballot, as `voting.decide()` returns them plus `final` and `state`.

    Closed or published ballot: the frozen snapshot taken at the close (`final`
    True). Open ballot: the live counts from the database (`final` False, not to be
    published).
    """
    if ballot.results is not None:
        return {**ballot.results, "final": True, "state": ballot.state}
    live = voting.decide(counts(ballot.id, ballot.secret), eligible=eligible(ballot.congress_id),
                         majority=ballot.majority, quorum=ballot.quorum)
    return {**live, "voters": cast_count(ballot.id, ballot.secret), "final": False,
            "state": ballot.state}


def recompute(ballot: Ballot) -> list[str]:
    """Problems found when recounting a closed ballot against its frozen results (French)."""
    problems: list[str] = []
    name = f"Scrutin {ballot.id} « {ballot.title} »"
    if ballot.results is None:
        if ballot.state in ("closed", "published"):
            problems.append(f"{name} : clos sans résultats figés.")
        return problems
    electronic = counts(ballot.id, ballot.secret)
    voters = cast_count(ballot.id, ballot.secret)
    if ballot.secret and voters != sum(electronic.values()):
        problems.append(f"{name} : {voters} votant·es inscrit·es au registre pour "
                        f"{sum(electronic.values())} bulletins dans l'urne.")
    actual = electronic
    room = db.session.scalar(select(RoomCount).where(RoomCount.ballot_id == ballot.id,
                                                     RoomCount.confirmed_at.is_not(None)))
    if room is not None:  # a confirmed room count (room_counts.py): the results are the sum
        actual = {c: electronic[c] + room.counts[c] for c in voting.CHOICES}
        voters += sum(room.counts.values())
    if not voting.same_tally(ballot.results, actual):
        problems.append(f"{name} : résultats publiés {ballot.results.get('counts')} "
                        f"≠ décompte des bulletins {actual}.")
    if "voters" in ballot.results and ballot.results["voters"] != voters:
        problems.append(f"{name} : {ballot.results['voters']} votant·es au moment de la "
                        f"clôture, {voters} aujourd'hui.")
    outcome = voting.decide(actual, eligible=int(ballot.results.get("eligible", 0)),
                            majority=ballot.majority, quorum=ballot.quorum)
    if outcome["adopted"] != ballot.results.get("adopted"):
        problems.append(f"{name} : l'issue publiée ({ballot.results.get('outcome')}) ne "
                        f"découle pas du décompte ({outcome['outcome']}).")
    return problems


# --- casting a vote -------------------------------------------------------------------

@lru_cache(maxsize=1)
def _statements() -> dict[str, Any]:
    """The vote path's statements, built once (a burst of 500 votes builds none)."""
    def params(*names_types):
        return [bindparam(name, type_=type_) for name, type_ in names_types]

    def open_guard():
        return exists().where(Ballot.id == bindparam("guard", type_=Integer),
                              Ballot.state == "open")

    return {
        "ballot": select(Ballot.id, Ballot.congress_id, Ballot.state, Ballot.secret,
                         Ballot.allow_change).where(Ballot.id == bindparam("id")),
        "person": select(Participant.id, Participant.congress_id, Participant.role,
                         Participant.token_revoked_at, Participant.present,
                         Participant.proxy_for_id, Participant.roster_status)
        .where(Participant.id == bindparam("id")),
        "vote": insert(Vote.__table__).from_select(
            ["ballot_id", "voter_id", "choice", "cast_at", "cast_by_id", "client_key"],
            select(*params(("b", Integer), ("v", Integer), ("c", String), ("t", DateTime),
                           ("h", Integer), ("k", String))).where(open_guard())),
        "register": insert(BallotVoter.__table__).from_select(
            ["ballot_id", "voter_id", "cast_by_id", "receipt", "client_key"],
            select(*params(("b", Integer), ("v", Integer), ("h", Integer), ("r", String),
                           ("k", String))).where(open_guard())),
    }


def _lock_ballot_shared(ballot_id: int) -> None:
    """PostgreSQL: hold the ballot row in share mode until commit (the close waits)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Ballot.id).where(Ballot.id == ballot_id)
                           .with_for_update(read=True))


def _written(rowcount: int, table, ballot_id: int, voter_id: int) -> bool:
    """Whether the conditional insert wrote its row.

    psycopg reports a rowcount of -1 for an `INSERT ... SELECT` that waited on the
    ballot row's lock while the close committed (seen on PostgreSQL 15): -1 is truthy,
    and such votes were acknowledged though nothing was written. Only 0 and 1 are
    trusted; anything else is checked in the table itself.
    """
    if rowcount in (0, 1):
        return rowcount == 1
    return bool(db.session.scalar(select(func.count()).select_from(table).where(
        table.ballot_id == ballot_id, table.voter_id == voter_id)))


def _still_open(ballot_id: int):
    return exists().where(Ballot.id == ballot_id, Ballot.state == "open")


def _refuse_state(ballot: Any, voter_id: int, holder_id: int | None,
                  key: str | None) -> dict[str, Any]:
    """The ballot stopped taking votes under this one: the first answer again when this
    is a retry of a vote already counted (same key, same sender), else the refusal."""
    db.session.rollback()
    repeat = _repeat(ballot, voter_id, holder_id, key)
    if repeat is not None:
        return repeat
    state = db.session.scalar(select(Ballot.state).where(Ballot.id == ballot.id))
    voting.check_open(state or "closed")
    raise VoteRefused("Ce scrutin est clos : votre vote n'a pas été enregistré.", "closed")


def _repeat(ballot: Any, voter_id: int, holder_id: int | None,
            key: str | None) -> dict[str, Any] | None:
    """The answer to a vote already recorded under `key` by the same sender (in person,
    or by the same proxy holder), whatever the ballot's state now; None otherwise.

    A phone whose ack was lost retries with the same key, possibly after the close:
    docs/api.md promises it `repeat` with the same receipt, not a refusal.
    """
    if key is None:
        return None
    table = BallotVoter if ballot.secret else Vote
    sender = (table.cast_by_id.is_(None) if holder_id is None
              else table.cast_by_id == holder_id)
    found = db.session.execute(
        select(BallotVoter.receipt if ballot.secret else Vote.choice).where(
            table.ballot_id == ballot.id, table.voter_id == voter_id,
            table.client_key == key, sender)).one_or_none()
    if found is None:
        return None
    if ballot.secret:
        return {"ballot": ballot.id, "voter": voter_id, "secret": True, "status": "repeat",
                "receipt": found[0]}
    return {"ballot": ballot.id, "voter": voter_id, "secret": False, "status": "repeat",
            "choice": found[0],
            "receipt": voting.nominal_receipt(current_app.config["SECRET_KEY"], ballot.id,
                                              voter_id)}


def cast_vote(ballot_id: int, voter_id: int, choice: Any, *, holder_id: int | None = None,
              client_key: Any = None) -> dict[str, Any]:
    """Record one vote (commits), or raise VoteRefused with a French reason.

    `voter_id` is whose vote it is; `holder_id` is set for a proxy vote (the present
    participant casting it). Returns {"status", "receipt", "ballot", "voter", "secret",
    and "choice" for nominal ballots}. Status: "counted" (new vote), "changed",
    "unchanged" (same choice again, ballot allowing change) or "repeat" (the same
    idempotency key again: the first answer, nothing written).
    """
    choice = voting.check_choice(choice)
    key = voting.clean_key(client_key)
    # Plain column reads, not ORM loads: this is the hot path of a vote burst.
    ballot = (db.session.execute(_statements()["ballot"], {"id": ballot_id}).one_or_none()
              if is_row_id(ballot_id) else None)
    if ballot is None:
        raise VoteRefused("Ce scrutin n'existe pas.", "unknown_ballot")
    if ballot.state != "open" and is_row_id(voter_id):
        repeat = _repeat(ballot, voter_id,
                         holder_id if holder_id != voter_id else None, key)
        if repeat is not None:
            return repeat
    voter = _person(voter_id)
    if voter is None:
        raise VoteRefused("Votant·e inconnu·e.", "unknown_voter")
    if holder_id is not None and holder_id != voter_id:
        holder = _person(holder_id)
        if holder is None:
            raise VoteRefused("Votant·e inconnu·e.", "unknown_voter")
        voting.check_proxy(holder, voter, ballot.congress_id)
    else:
        holder_id = None
        voting.check_voter(voter, ballot.congress_id)
    voting.check_open(ballot.state)
    congress_id, secret = ballot.congress_id, ballot.secret
    outcome = (_cast_secret if secret else _cast_nominal)(
        ballot, voter_id, choice, holder_id, key)
    if outcome["status"] in ("counted", "changed"):
        note_progress(ballot_id, congress_id)
    return outcome


def _person(participant_id: Any) -> voting.Person | None:
    """What the rules need about one participant, read in one small query."""
    if not is_row_id(participant_id):
        return None
    row = db.session.execute(_statements()["person"], {"id": participant_id}).one_or_none()
    if row is None:
        return None
    return voting.Person(id=row.id, congress_id=row.congress_id, role=row.role,
                         active=row.token_revoked_at is None, present=bool(row.present),
                         accepted=row.roster_status == "accepted",
                         proxy_for_id=row.proxy_for_id)


def _cast_nominal(ballot: Any, voter_id: int, choice: str, holder_id: int | None,
                  key: str | None) -> dict[str, Any]:
    ballot_id, congress_id, allow_change = ballot.id, ballot.congress_id, ballot.allow_change
    base = {"ballot": ballot_id, "voter": voter_id, "secret": False,
            "receipt": voting.nominal_receipt(current_app.config["SECRET_KEY"], ballot_id,
                                              voter_id)}
    now = utcnow()
    try:
        _lock_ballot_shared(ballot_id)
        inserted = db.session.execute(_statements()["vote"], {
            "b": ballot_id, "v": voter_id, "c": choice, "t": now, "h": holder_id, "k": key,
            "guard": ballot_id}).rowcount
        if not _written(inserted, Vote, ballot_id, voter_id):
            return _refuse_state(ballot, voter_id, holder_id, key)
        audit.record("vote.cast", congress_id, holder_id or voter_id, ballot=ballot_id,
                     voter=voter_id, choice=choice, proxy=holder_id is not None)
        db.session.commit()
        return {**base, "status": "counted", "choice": choice}
    except IntegrityError:
        db.session.rollback()
    existing = db.session.execute(select(Vote.choice, Vote.client_key).where(
        Vote.ballot_id == ballot_id, Vote.voter_id == voter_id)).one_or_none()
    if existing is None:  # pragma: no cover - the unique row vanished (ballot deleted)
        raise VoteRefused("Vote impossible, réessayez.", "retry")
    if key is not None and existing.client_key == key:
        return {**base, "status": "repeat", "choice": existing.choice}
    if not allow_change:
        raise VoteRefused("Vous avez déjà voté à ce scrutin : votre premier vote est "
                          "enregistré.", "already_voted")
    if existing.choice == choice:
        return {**base, "status": "unchanged", "choice": choice}
    _lock_ballot_shared(ballot_id)
    changed = db.session.execute(
        update(Vote).where(Vote.ballot_id == ballot_id, Vote.voter_id == voter_id,
                           _still_open(ballot_id))
        .values(choice=choice, client_key=key, cast_at=utcnow(), cast_by_id=holder_id)
        .execution_options(synchronize_session=False)).rowcount
    if changed not in (0, 1):  # see _written: re-read instead of trusting -1
        changed = int(db.session.scalar(select(func.count()).select_from(Vote).where(
            Vote.ballot_id == ballot_id, Vote.voter_id == voter_id,
            Vote.choice == choice)) or 0)
    if not changed:
        return _refuse_state(ballot, voter_id, holder_id, key)
    audit.record("vote.changed", congress_id, holder_id or voter_id, ballot=ballot_id,
                 voter=voter_id, previous=existing.choice, choice=choice,
                 proxy=holder_id is not None)
    db.session.commit()
    return {**base, "status": "changed", "choice": choice}


def _cast_secret(ballot: Any, voter_id: int, choice: str, holder_id: int | None,
                 key: str | None) -> dict[str, Any]:
    ballot_id, congress_id = ballot.id, ballot.congress_id
    receipt = voting.random_receipt()
    try:
        _lock_ballot_shared(ballot_id)
        inserted = db.session.execute(_statements()["register"], {
            "b": ballot_id, "v": voter_id, "h": holder_id, "r": receipt, "k": key,
            "guard": ballot_id}).rowcount
        if not _written(inserted, BallotVoter, ballot_id, voter_id):
            return _refuse_state(ballot, voter_id, holder_id, key)
        ballot_box.put(ballot_id, choice)  # same transaction: never lost, never doubled
        # The audit entry says that this person voted, never what they chose.
        audit.record("vote.cast", congress_id, holder_id or voter_id, ballot=ballot_id,
                     voter=voter_id, secret=True, proxy=holder_id is not None)
        db.session.commit()
        ballot_box.note_cast(ballot_id)  # re-drawn soon, apart from this transaction
        return {"ballot": ballot_id, "voter": voter_id, "secret": True,
                "status": "counted", "receipt": receipt}
    except IntegrityError:
        db.session.rollback()
    existing = db.session.execute(select(BallotVoter.receipt, BallotVoter.client_key).where(
        BallotVoter.ballot_id == ballot_id, BallotVoter.voter_id == voter_id)).one_or_none()
    if existing is not None and key is not None and existing.client_key == key:
        return {"ballot": ballot_id, "voter": voter_id, "secret": True, "status": "repeat",
                "receipt": existing.receipt}
    raise VoteRefused("Vous avez déjà voté à ce scrutin (vote secret : il ne peut pas être "
                      "modifié).", "already_voted")


# --- a burst of votes: one transaction per batch (group commit) ---------------------------
#
# The socket handler hands each vote to the process's group commit (`submit_vote`): the
# first voter's handler to find nobody writing writes every vote waiting as one
# transaction (`cast_votes`), and each phone is answered once it has committed. The
# guarantees are cast_vote's: the same conditional INSERTs under the same unique
# constraints and the same ballot lock, the same audit entries; only the commit is
# shared. A voter whose vote is already recorded (a retry, a second tap, in this batch or
# before) is answered from the recorded row as cast_vote answers; what a batch cannot
# settle alone (a ballot no longer open, a nominal vote that may change, an unknown id)
# is answered by `cast_vote` itself, after the batch's commit. A batch that fails
# commits nothing and each of its votes is then written alone (group_commit.py).

@dataclass(frozen=True)
class VoteRequest:
    """One vote as a phone sends it: whose vote, cast by whom (a proxy), what, which key."""

    ballot_id: Any
    voter_id: Any
    choice: Any
    holder_id: Any = None
    client_key: Any = None
    #: The session epoch the sender's signed session claims (security.session_claim),
    #: checked against the sender's row where the vote is written, so that the socket
    #: handler reads nothing before the hand-off; None: the caller already checked it.
    session_epoch: Any = None

    @property
    def sender_id(self) -> Any:
        """Who sent the vote: the proxy holder, else the voter."""
        return self.holder_id if self.holder_id is not None else self.voter_id


#: A session that no longer holds (logged out elsewhere, invite revoked, person erased).
LOGIN_REFUSAL = ("Connectez-vous au congrès pour voter.", "login")


@dataclass(frozen=True)
class _Fresh:
    index: int
    voter_id: int
    holder_id: int | None
    choice: str
    key: str | None


def cast_votes(requests: list[VoteRequest]) -> list[dict[str, Any] | Exception]:
    """Record a batch of votes in one transaction (commits); one answer per request, in
    order: cast_vote's outcome (with `audit`, the vote's own entry in the chain, when
    counted or changed) or the VoteRefused (or other exception) that refuses it alone.

    Raises only before its commit (nothing of the batch written): the caller then
    writes each vote alone.
    """
    answers: list[Any] = [None] * len(requests)
    later: list[int] = []
    twins: list[tuple[int, _Fresh, Any]] = []
    fresh = _fresh_votes(requests, answers, later, twins)
    recorded: list[tuple[int, dict[str, Any]]] = []
    moved: dict[int, tuple[int, bool]] = {}
    for ballot, votes in fresh:
        written = _write_batch(ballot, votes, later, answers)
        for vote, receipt in written:
            audit.record("vote.cast", ballot.congress_id, vote.holder_id or vote.voter_id,
                         ballot=ballot.id, voter=vote.voter_id,
                         **({"secret": True} if ballot.secret else {"choice": vote.choice}),
                         proxy=vote.holder_id is not None)
            answer = {"ballot": ballot.id, "voter": vote.voter_id, "secret": ballot.secret,
                      "status": "counted", "receipt": receipt}
            if not ballot.secret:
                answer["choice"] = vote.choice
            recorded.append((vote.index, answer))
        if written:
            moved[ballot.id] = (ballot.congress_id, ballot.secret)
    db.session.commit()
    # Nothing below may raise: the batch is committed, its answers must go out.
    anchors = audit.heads()[-len(recorded):] if recorded else []
    for (index, answer), anchor in zip(recorded, anchors, strict=True):
        answers[index] = {**answer, "audit": anchor}
    for index, first, ballot in twins:
        counted = answers[first.index]
        if isinstance(counted, dict) and counted.get("status") == "counted":
            holder_id = requests[index].holder_id
            _answer_known(answers, later, index, ballot, first.voter_id,
                          voting.clean_key(requests[index].client_key),
                          holder_id if holder_id != first.voter_id else None,
                          {"key": first.key, "cast_by": first.holder_id,
                           "receipt": counted["receipt"], "choice": first.choice})
        else:
            later.append(index)
    for ballot_id, (congress_id, secret) in moved.items():
        try:
            note_progress(ballot_id, congress_id)
            if secret:
                ballot_box.note_cast(ballot_id)  # re-drawn soon, apart from this batch
        except Exception:  # noqa: BLE001 - a missed progress push is caught up by the next
            current_app.logger.exception("noting the progress of ballot %s failed", ballot_id)
    for index in sorted(later):
        try:
            answers[index] = cast_one(requests[index])
        except Exception as exc:  # noqa: BLE001 - its own refusal, for its caller alone
            db.session.rollback()
            answers[index] = exc
    return answers


def cast_one(request: VoteRequest) -> dict[str, Any]:
    """One vote in its own transaction (cast_vote), its receipt anchored in the chain."""
    if request.session_epoch is not None:
        row = db.session.execute(
            select(Participant.session_epoch, Participant.token_revoked_at)
            .where(Participant.id == request.sender_id)).one_or_none() \
            if is_row_id(request.sender_id) else None
        if row is None or row.session_epoch != request.session_epoch \
                or row.token_revoked_at is not None:
            db.session.rollback()
            raise VoteRefused(*LOGIN_REFUSAL)
    outcome = cast_vote(request.ballot_id, request.voter_id, request.choice,
                        holder_id=request.holder_id, client_key=request.client_key)
    if outcome["status"] in ("counted", "changed"):
        outcome = {**outcome, "audit": audit.head()}
    return outcome


def _fresh_votes(requests: list[VoteRequest], answers: list[Any], later: list[int],
                 twins: list[tuple[int, _Fresh, Any]]) -> list[tuple[Any, list[_Fresh]]]:
    """The batch's new votes per open ballot, the rules checked as cast_vote does (in
    two reads for the whole batch); refusals go into `answers`, the rest into `later`,
    a second vote of the same voter in the batch (a retry, a double tap) into `twins`
    with the first one, answered once the first is committed."""
    ballot_ids = {r.ballot_id for r in requests if is_row_id(r.ballot_id)}
    people_ids = {p for r in requests for p in (r.voter_id, r.holder_id) if is_row_id(p)}
    found = {row.id: row for row in db.session.execute(
        select(Ballot.id, Ballot.congress_id, Ballot.state, Ballot.secret, Ballot.allow_change)
        .where(Ballot.id.in_(sorted(ballot_ids))))} if ballot_ids else {}
    rows = list(db.session.execute(
        select(Participant.id, Participant.congress_id, Participant.role,
               Participant.token_revoked_at, Participant.present,
               Participant.proxy_for_id, Participant.roster_status,
               Participant.session_epoch)
        .where(Participant.id.in_(sorted(people_ids))))) if people_ids else []
    people = {row.id: voting.Person(
        id=row.id, congress_id=row.congress_id, role=row.role,
        active=row.token_revoked_at is None, present=bool(row.present),
        accepted=row.roster_status == "accepted", proxy_for_id=row.proxy_for_id)
        for row in rows}
    # The senders' sessions, held as load_participant holds them (epoch, not revoked).
    sessions = {row.id: row.session_epoch for row in rows if row.token_revoked_at is None}
    fresh: dict[int, list[_Fresh]] = {}
    seen: dict[tuple[int, int], _Fresh] = {}
    for index, request in enumerate(requests):
        if request.session_epoch is not None and (
                not is_row_id(request.sender_id)
                or sessions.get(request.sender_id) != request.session_epoch):
            answers[index] = VoteRefused(*LOGIN_REFUSAL)
            continue
        try:
            choice = voting.check_choice(request.choice)
        except VoteRefused as exc:
            answers[index] = exc
            continue
        ballot = found.get(request.ballot_id) if is_row_id(request.ballot_id) else None
        holder_id = request.holder_id if request.holder_id != request.voter_id else None
        voter = people.get(request.voter_id) if is_row_id(request.voter_id) else None
        holder = people.get(holder_id) if is_row_id(holder_id) else None
        if (ballot is None or ballot.state != "open" or voter is None
                or (holder_id is not None and holder is None)):
            later.append(index)  # cast_vote answers it exactly, after the commit
            continue
        try:
            if holder is not None:
                voting.check_proxy(holder, voter, ballot.congress_id)
            else:
                voting.check_voter(voter, ballot.congress_id)
        except VoteRefused as exc:
            answers[index] = exc
            continue
        first = seen.get((ballot.id, voter.id))
        if first is not None:
            twins.append((index, first, ballot))
            continue
        vote = _Fresh(index, voter.id, holder_id, choice, voting.clean_key(request.client_key))
        seen[(ballot.id, voter.id)] = vote
        fresh.setdefault(ballot.id, []).append(vote)
    return [(found[ballot_id], votes) for ballot_id, votes in sorted(fresh.items())]


def _write_batch(ballot: Any, votes: list[_Fresh], later: list[int],
                 answers: list[Any]) -> list[tuple[_Fresh, str]]:
    """Insert one ballot's new votes with the vote path's own conditional statements
    (in the batch's transaction); returns the (vote, receipt) written. A vote already in
    the table is answered as cast_vote would (`repeat` under the same key, else refused)
    or, when it may change a nominal vote, goes to `later` with the votes not written
    because the ballot closed."""
    table = BallotVoter if ballot.secret else Vote
    voters = [vote.voter_id for vote in votes]
    taken = {row.voter_id: {"key": row.client_key, "cast_by": row.cast_by_id,
                            "receipt": row.receipt, "choice": row.choice}
             for row in db.session.execute(select(
                 table.voter_id, table.client_key, table.cast_by_id,
                 (BallotVoter.receipt if ballot.secret else null()).label("receipt"),
                 (null() if ballot.secret else Vote.choice).label("choice"))
                 .where(table.ballot_id == ballot.id, table.voter_id.in_(voters)))}
    for vote in votes:
        if vote.voter_id in taken:
            _answer_known(answers, later, vote.index, ballot, vote.voter_id, vote.key,
                          vote.holder_id, taken[vote.voter_id])
    votes = [vote for vote in votes if vote.voter_id not in taken]
    if not votes:
        return []
    _lock_ballot_shared(ballot.id)
    if ballot.secret:
        receipts = {vote.voter_id: voting.random_receipt() for vote in votes}
        db.session.execute(_statements()["register"], [
            {"b": ballot.id, "v": vote.voter_id, "h": vote.holder_id,
             "r": receipts[vote.voter_id], "k": vote.key, "guard": ballot.id}
            for vote in votes])
    else:
        secret_key = current_app.config["SECRET_KEY"]
        receipts = {vote.voter_id: voting.nominal_receipt(secret_key, ballot.id, vote.voter_id)
                    for vote in votes}
        now = utcnow()
        db.session.execute(_statements()["vote"], [
            {"b": ballot.id, "v": vote.voter_id, "c": vote.choice, "t": now,
             "h": vote.holder_id, "k": vote.key, "guard": ballot.id} for vote in votes])
    # Which rows the guarded INSERTs wrote (none once the ballot is closed), read back in
    # this transaction: an executemany's rowcount is not to be trusted (see _written).
    written = set(db.session.scalars(select(table.voter_id).where(
        table.ballot_id == ballot.id, table.voter_id.in_([v.voter_id for v in votes]))))
    later.extend(vote.index for vote in votes if vote.voter_id not in written)
    votes = [vote for vote in votes if vote.voter_id in written]
    if ballot.secret and votes:
        # Same transaction: never lost, never doubled; in random order, so that even
        # the rows of one batch do not follow its voters' order.
        ballot_box.put_many(ballot.id, [vote.choice for vote in votes])
    return [(vote, receipts[vote.voter_id]) for vote in votes]


def _answer_known(answers: list[Any], later: list[int], index: int, ballot: Any,
                  voter_id: int, key: str | None, holder_id: int | None,
                  known: dict[str, Any]) -> None:
    """Answer a vote whose voter's vote is already recorded (`known`: its key, sender,
    receipt, choice) as cast_vote answers it once its INSERT hit the unique constraint:
    the first answer again under the same key from the same sender, else « déjà voté ».
    A nominal ballot that allows a change, or an unusual retry, is left to cast_vote
    (`later`), which settles it exactly after the batch's commit."""
    if key is not None and key == known["key"]:
        if holder_id != known["cast_by"]:
            later.append(index)
        elif ballot.secret:
            answers[index] = {"ballot": ballot.id, "voter": voter_id, "secret": True,
                              "status": "repeat", "receipt": known["receipt"]}
        else:
            answers[index] = {"ballot": ballot.id, "voter": voter_id, "secret": False,
                              "receipt": voting.nominal_receipt(
                                  current_app.config["SECRET_KEY"], ballot.id, voter_id),
                              "status": "repeat", "choice": known["choice"]}
    elif ballot.secret:
        answers[index] = VoteRefused("Vous avez déjà voté à ce scrutin (vote secret : il ne "
                                     "peut pas être modifié).", "already_voted")
    elif not ballot.allow_change:
        answers[index] = VoteRefused("Vous avez déjà voté à ce scrutin : votre premier vote "
                                     "est enregistré.", "already_voted")
    else:
        later.append(index)


def _batch_pace() -> None:
    config = current_app.config
    VOTES.limit = int(config.get("VOTE_BATCH_MAX", 500))
    # 0: a leader yields one turn of the event loop, then writes what has gathered.
    VOTES.window = float(config.get("VOTE_BATCH_WINDOW_S", 0.0))


#: The process's group commit of votes (one leader at a time, among the voters' handlers).
VOTES = GroupCommit(cast_votes, cast_one, around=scheduler.around, sleep=scheduler.sleep)


def submit_vote(request: VoteRequest) -> dict[str, Any]:
    """Cast one vote through the process's group commit: returns once its batch has committed
    (cast_vote's outcome, with `audit` when counted or changed), or raises VoteRefused.

    Ends the caller's transaction first (nothing of it is kept): a phone waiting for its
    batch holds no connection of the pool. An in-memory SQLite database is one
    connection per thread, which a writer apart would not see: the vote is cast here.
    """
    db.session.rollback()
    if not current_app.config.get("VOTE_GROUP_COMMIT", True) or \
            db.engine.url.database in (None, "", ":memory:"):
        return cast_one(request)
    _batch_pace()
    try:
        return VOTES.submit(current_app._get_current_object(), request,
                            timeout=float(current_app.config.get("VOTE_WAIT_S", 30.0)))
    except NotAnswered:
        raise VoteRefused("Vote non confirmé (serveur occupé) : réessayez, votre vote ne "
                          "sera pas compté deux fois.", "retry") from None


def check_receipt(ballot: Ballot, code: Any) -> bool:
    """True when `code` is the receipt of a vote recorded at this ballot."""
    code = voting.clean_receipt(code)
    if len(code) != 14:
        return False
    if ballot.secret:
        return db.session.scalar(select(BallotVoter.voter_id).where(
            BallotVoter.ballot_id == ballot.id, BallotVoter.receipt == code)) is not None
    secret_key = current_app.config["SECRET_KEY"]
    return any(voting.nominal_receipt(secret_key, ballot.id, voter_id) == code
               for voter_id in db.session.scalars(select(Vote.voter_id)
                                                  .where(Vote.ballot_id == ballot.id)))


def my_votes(ballot_ids: list[int], voter_ids: list[int]) -> dict[tuple[int, int], dict]:
    """What the phone screen shows about votes already cast: (ballot, voter) → info."""
    found: dict[tuple[int, int], dict] = {}
    if not ballot_ids or not voter_ids:
        return found
    secret_key = current_app.config["SECRET_KEY"]
    for row in db.session.execute(select(Vote.ballot_id, Vote.voter_id, Vote.choice).where(
            Vote.ballot_id.in_(ballot_ids), Vote.voter_id.in_(voter_ids))):
        found[(row.ballot_id, row.voter_id)] = {
            "choice": row.choice,
            "receipt": voting.nominal_receipt(secret_key, row.ballot_id, row.voter_id)}
    for row in db.session.execute(select(BallotVoter.ballot_id, BallotVoter.voter_id,
                                         BallotVoter.receipt).where(
            BallotVoter.ballot_id.in_(ballot_ids), BallotVoter.voter_id.in_(voter_ids))):
        found[(row.ballot_id, row.voter_id)] = {"choice": None, "receipt": row.receipt}
    return found


# --- presence and proxies -----------------------------------------------------------

def can_declare_presence(congress: Congress) -> bool:
    """Self-declaration (« Je suis présent·e ») is off until the facilitator opens it,
    whatever the phase: the facilitator marks presence."""
    return bool(congress.presence_open)


def set_present(person: Participant, present: bool, actor_id: int | None,
                via: str = "facilitator") -> bool:
    """Mark someone present or absent (commits). Returns True when it changed anything."""
    if present and person.role not in voting.VOTING_ROLES:
        raise InputError("Les observateur·rices ne votent pas : pas de présence à marquer.")
    if present and not person.is_accepted:
        raise InputError(f"L'inscription de {person.display_name} attend la validation de "
                         "l'animation\u00a0: acceptez-la d'abord (page Participants).")
    if bool(person.present) == present:
        return False
    person.present = present
    audit.record("presence.marked" if present else "presence.cleared", person.congress_id,
                 actor_id, participant=person.id, via=via)
    db.session.commit()
    return True


def declare_present(person: Participant) -> bool:
    """« Je suis présent·e »: allowed to roster members while the facilitator opened it."""
    congress = db.session.get(Congress, person.congress_id)
    if person.role not in voting.VOTING_ROLES or not person.is_active:
        raise InputError("Les observateur·rices ne votent pas.")
    if not person.is_accepted:
        raise InputError(voting.NOT_ACCEPTED)
    if not can_declare_presence(congress):
        raise InputError("La présence ne peut pas être signalée maintenant\u00a0: l'animation "
                         "l'ouvrira au moment du vote ou la marquera elle-même.")
    return set_present(person, True, person.id, via="self")


def proxies_held(holder_id: int) -> list[Participant]:
    return list(db.session.scalars(select(Participant).where(
        Participant.proxy_for_id == holder_id).order_by(Participant.display_name)))


def grant_proxy(giver: Participant, holder: Participant, actor_id: int | None) -> None:
    """Register a procuration from an absent member to a present one (commits)."""
    congress = db.session.get(Congress, giver.congress_id)
    held = db.session.scalar(select(func.count()).select_from(Participant).where(
        Participant.proxy_for_id == holder.id, Participant.id != giver.id)) or 0
    voting.check_proxy_grant(voting.person_of(holder), voting.person_of(giver), held,
                             congress.max_proxies)
    if db.session.scalar(select(func.count()).select_from(Participant).where(
            Participant.proxy_for_id == giver.id)):
        raise InputError("Cette personne porte elle-même des procurations : elle ne peut pas "
                         "donner la sienne.")
    giver.proxy_for_id = holder.id
    audit.record("proxy.granted", congress.id, actor_id, giver=giver.id, holder=holder.id)
    db.session.commit()


def revoke_proxy(giver: Participant, actor_id: int | None) -> None:
    if giver.proxy_for_id is None:
        return
    holder = giver.proxy_for_id
    giver.proxy_for_id = None
    audit.record("proxy.revoked", giver.congress_id, actor_id, giver=giver.id, holder=holder)
    db.session.commit()


def set_max_proxies(congress: Congress, limit: Any, actor_id: int | None) -> None:
    """Change the procurations limit (1 or 2); refused if someone already carries more."""
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        limit = 0
    if limit not in voting.MAX_PROXIES_CHOICES:
        raise InputError("Le nombre de procurations par personne doit être 1 ou 2.")
    most = db.session.scalar(
        select(func.count()).select_from(Participant)
        .where(Participant.congress_id == congress.id, Participant.proxy_for_id.is_not(None))
        .group_by(Participant.proxy_for_id).order_by(func.count().desc()).limit(1)) or 0
    if most > limit:
        raise InputError(f"Une personne porte déjà {most} procurations : retirez-en avant "
                         f"d'abaisser la limite à {limit}.")
    if congress.max_proxies != limit:
        congress.max_proxies = limit
        audit.record("proxy.limit", congress.id, actor_id, limit=limit)
        db.session.commit()


def set_presence_open(congress: Congress, is_open: bool, actor_id: int | None) -> None:
    if bool(congress.presence_open) != is_open:
        congress.presence_open = is_open
        audit.record("presence.opened" if is_open else "presence.closed", congress.id, actor_id)
        db.session.commit()


# --- an amendment put to the vote (drafting hands it over; the close settles it) ---

def put_to_vote(amendment: Amendment, actor: Participant, *, secret: bool = False,
                majority: str = "simple", quorum: int | None = None) -> Ballot:
    """Create a (draft) ballot on the amendment; the vote screens take it from there."""
    drafting.require_state(amendment, "proposed")
    drafting.require_editable(amendment.article)
    congress = db.session.get(Congress, amendment.congress_id)
    label = drafting.labels(drafting.articles(congress)).get(amendment.article_id, "Article")
    title = (f"Amendement n° {amendment.id} ({label}) de "
             f"{drafting.author_name(amendment)}")[:300]
    ballot = create(congress, title, article=amendment.article, amendment_id=amendment.id,
                    secret=secret, majority=majority, quorum=quorum, actor_id=actor.id)
    amendment.state = "put_to_vote"
    audit.record("amendment.put_to_vote", amendment.congress_id, actor.id,
                 amendment_id=amendment.id, ballot_id=getattr(ballot, "id", None))
    return ballot



# --- what screens hear of a ballot --------------------------------------------------

STATE_EVENTS = {"open": "ballot.opened", "closed": "ballot.closed",
                "published": "ballot.published"}


def payload(ballot: Ballot) -> dict[str, Any]:
    """What screens need to show a ballot; results only once it is closed."""
    found = {"id": ballot.id, "title": ballot.title, "state": ballot.state,
             "state_label": voting.STATE_LABELS[ballot.state], "kind": ballot.kind,
             "secret": ballot.secret, "allow_change": ballot.allow_change,
             "majority": ballot.majority, "quorum": ballot.quorum}
    if ballot.results is not None:
        found["results"] = ballot.results
    # What the room is voting on, while it votes (every phone asks on (re)connection:
    # closed ballots, whose results say the rest, spare those reads).
    if ballot.state == "open":
        found["subject"] = subject(ballot)
    return found


def subject(ballot: Ballot) -> dict[str, str]:
    """What the room votes on, as the phone and both projectors show it: « Article 2 —
    title » and the article's text, an amendment as a visible change to its article's
    text, or the whole motion (too long for a screen: its title stands for it).

    The label is empty when the ballot's title already says it (a ballot on the preamble
    is titled « Préambule »): screens print the title, then the label only if there is one.
    """
    found = _subject(ballot)
    if _same_words(found["label"], ballot.title):
        found["label"] = ""
    return found


def _same_words(one: str, other: str | None) -> bool:
    """The same words, whatever the case, spacing and typography."""
    def words(text: str) -> list[str]:
        return re.findall(r"\w+", (text or "").casefold())
    return bool(one) and words(one) == words(other or "")


def _subject(ballot: Ballot) -> dict[str, str]:
    amendment = db.session.get(Amendment, ballot.amendment_id) if ballot.amendment_id else None
    article_id = amendment.article_id if amendment is not None else ballot.article_id
    article = db.session.get(Article, article_id) if article_id else None
    if article is None:
        return {"label": "Ensemble de la motion", "html": ""}
    congress = db.session.get(Congress, ballot.congress_id)
    label = drafting.labels(drafting.articles(congress)).get(article.id, "Article")
    if article.kind == "theme" and article.title:
        label = f"{label} — {french(article.title)}"
    if amendment is None:
        return {"label": label, "html": str(render_motion_text(article.body_md or ""))}
    base = article.body_md or ""
    if amendment.base_number:
        base = drafting.version(article, amendment.base_number).body_md or base
    return {"label": f"Amendement n° {amendment.id} à l'{label[0].lower()}{label[1:]}"
            if label.startswith("Article") else f"Amendement n° {amendment.id} — {label}",
            "html": str(drafting.diff_html(base, amendment.body_md))}


def screen_payload(ballot: Ballot) -> dict[str, Any]:
    """`payload`, with presence, quorum and the live counts while the ballot is open."""
    found = payload(ballot)
    if ballot.state == "open":
        found.update(live_progress(ballot))
    return found


def state_events(ballot: Ballot) -> list[push.Event]:
    """A ballot's new state, for every screen of its congress (publish after commit)."""
    name = STATE_EVENTS.get(ballot.state)
    return [push.Event(name, screen_payload(ballot), ballot.congress_id)] if name else []


# --- coalesced progress ---------------------------------------------------------------
#
# Screens (projector, facilitator) hear of progress every BALLOT_PROGRESS_INTERVAL_S;
# the hundreds of phones at most every BALLOT_PROGRESS_PHONE_INTERVAL_S (fan-out cost).
# Never once per vote: 500 votes x 500 phones was 250,000 messages.

SCREENS_CHANNEL = "ballot.progress.screens"
PHONES_CHANNEL = "ballot.progress.phones"


def note_progress(ballot_id: int, congress_id: int) -> None:
    """Remember that a ballot's count moved; it goes out soon (never per vote)."""
    app = current_app._get_current_object()
    scheduler.offer(app, SCREENS_CHANNEL, ballot_id, congress_id)
    scheduler.offer(app, PHONES_CHANNEL, ballot_id, congress_id)


def note_open_progress(congress_id: int) -> None:
    """Who may vote changed (presence, proxies, the roster): every open ballot's progress
    goes out again, so screens never show a stale « votant·es » count."""
    for ballot_id in db.session.scalars(select(Ballot.id).where(
            Ballot.congress_id == congress_id, Ballot.state == "open")):
        note_progress(ballot_id, congress_id)


def progress_payload(ballot_id: int) -> dict[str, Any] | None:
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        return None
    return {"ballot": ballot.id, "state": ballot.state, **live_progress(ballot)}


def _send_progress(ballot_id: int, congress_id: int, audiences: tuple[str, ...]) -> bool:
    payload = progress_payload(ballot_id)
    if payload is None or payload["state"] != "open":
        return False
    push.send("ballot.progress", payload, congress_id, audiences)
    return True


def flush_progress(phone_interval: float = 0.0) -> int:
    """Push `ballot.progress` now for every ballot whose count moved (in an app context).

    The screens get every flush; the phones only when their last push is at least
    `phone_interval` seconds old. Returns how many ballots were pushed.
    """
    screens = push.scheduler.take_due(SCREENS_CHANNEL, pace=Pace())
    phones = push.scheduler.take_due(PHONES_CHANNEL, pace=Pace(spacing=phone_interval))
    sent = 0
    for ballot_id in sorted(set(screens) | set(phones)):
        audiences = (*(push.SCREENS if ballot_id in screens else ()),
                     *(push.PHONES if ballot_id in phones else ()))
        sent += _send_progress(ballot_id, screens.get(ballot_id) or phones[ballot_id],
                               audiences)
    return sent


def _progress_pace(phone: bool):
    def pace(config) -> Pace:
        return Pace(delay=float(config.get("BALLOT_PROGRESS_INTERVAL_S", 0.25)),
                    spacing=float(config.get("BALLOT_PROGRESS_PHONE_INTERVAL_S", 1.0))
                    if phone else 0.0,
                    background=bool(config.get("BALLOT_PROGRESS_IN_BACKGROUND",
                                               not config.get("TESTING"))),
                    leading=False)
    return pace


scheduler.channel(SCREENS_CHANNEL,
                  lambda ballot_id, congress_id: _send_progress(ballot_id, congress_id,
                                                                push.SCREENS),
                  pace=_progress_pace(phone=False))
scheduler.channel(PHONES_CHANNEL,
                  lambda ballot_id, congress_id: _send_progress(ballot_id, congress_id,
                                                                push.PHONES),
                  pace=_progress_pace(phone=True))


# --- verification (`python -m deliberation verify`) -----------------------------------

def verify_report(anchor: dict[str, Any] | None = None) -> tuple[list[str], list[str]]:
    """Check the audit chain (and the published `anchor`, from `verify --against`) and
    recount every ballot. Returns (report lines, problems)."""
    lines: list[str] = []
    chain = audit.chain_report()
    problems = list(chain.problems)
    n_events = chain.entries
    state = "chaîne intacte" if not problems else "chaîne ROMPUE"
    if chain.keyed_from is not None:
        state += f", scellée par la clé depuis l'entrée {chain.keyed_from}"
    if chain.unkeyed:
        state += (f" ; {chain.unkeyed} entrée{'s' if chain.unkeyed > 1 else ''} antérieure"
                  f"{'s' if chain.unkeyed > 1 else ''} à la clé, non scellée"
                  f"{'s' if chain.unkeyed > 1 else ''}")
    lines.append(f"Journal d'audit : {n_events} entrée{'s' if n_events > 1 else ''}, "
                 f"{state}.")
    if anchor is not None:
        found = audit.check_anchor(anchor)
        lines.append(f"Sceau publié : entrée n° {anchor['entry']} ({anchor['entries']} "
                     f"entrée{'s' if anchor['entries'] > 1 else ''}), empreinte "
                     f"{anchor['hash']} — {'NON CONFORME' if found else 'conforme'}.")
        problems.extend(found)
    # What the audit log says about each ballot: voters, last nominal choice, frozen counts.
    said: dict[int, dict[int, str | None]] = {}
    closed_counts: dict[int, dict] = {}
    published_counts: dict[int, dict] = {}
    for action, payload in db.session.execute(
            select(AuditEvent.action, AuditEvent.payload)
            .where(AuditEvent.action.in_(("vote.cast", "vote.changed", "ballot.closed",
                                          "room_count.confirmed", "ballot.published")))
            .order_by(AuditEvent.id)):
        payload = payload or {}
        ballot_id = payload.get("ballot")
        if action in ("ballot.closed", "room_count.confirmed"):  # the sum, once confirmed
            closed_counts[ballot_id] = payload.get("counts") or {}
        elif action == "ballot.published":
            published_counts[ballot_id] = payload.get("counts") or {}
        else:
            said.setdefault(ballot_id, {})[payload.get("voter")] = payload.get("choice")
    for ballot in db.session.scalars(select(Ballot).order_by(Ballot.id)):
        name = f"Scrutin {ballot.id} « {ballot.title} »"
        found = recompute(ballot)
        if ballot.secret:
            stored = {v: None for v in db.session.scalars(
                select(BallotVoter.voter_id).where(BallotVoter.ballot_id == ballot.id))}
        else:
            stored = dict(db.session.execute(select(Vote.voter_id, Vote.choice)
                                             .where(Vote.ballot_id == ballot.id)).all())
        logged = said.get(ballot.id, {})
        if set(stored) != set(logged):
            found.append(f"{name} : {len(stored)} votant·es en base, {len(logged)} dans le "
                         f"journal d'audit.")
        elif not ballot.secret:
            differing = [v for v, choice in stored.items() if logged.get(v) != choice]
            if differing:
                differ = formats.plural(len(differing), "vote diffère", "votes diffèrent")
                found.append(f"{name} : {differ} du journal d'audit.")
        if ballot.state == "draft" and stored:
            found.append(f"{name} : des votes existent alors qu'il n'a jamais été ouvert.")
        if ballot.results is not None and ballot.id in closed_counts and not voting.same_tally(
                ballot.results, closed_counts[ballot.id]):
            found.append(f"{name} : les résultats figés diffèrent de ceux du journal.")
        if ballot.state in ("closed", "published") and ballot.id not in closed_counts:
            found.append(f"{name} : sa clôture manque au journal d'audit.")
        if ballot.state == "published" and ballot.id not in published_counts:
            found.append(f"{name} : sa publication manque au journal d'audit.")
        elif ballot.results is not None and ballot.id in published_counts and not \
                voting.same_tally(ballot.results, published_counts[ballot.id]):
            found.append(f"{name} : les résultats publiés diffèrent de ceux du journal.")
        if ballot.results is not None:
            c = ballot.results["counts"]
            summary = (f"pour {c['pour']}, contre {c['contre']}, abstention {c['abstention']} "
                       f"— {ballot.results['outcome']}")
        else:
            summary = f"{len(stored)} vote{'s' if len(stored) > 1 else ''} à ce stade"
        status = "ANOMALIE" if found else "conforme"
        lines.append(f"{name} ({voting.STATE_LABELS[ballot.state].lower()}) : {summary} — "
                     f"{status}.")
        problems.extend(found)
    return lines, problems
