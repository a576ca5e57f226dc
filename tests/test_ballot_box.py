"""A secret ballot's box kept apart from its register in storage (deliberation/ballot_box.py).

Issue 13, item 3 (CNIL deliberation 2019-053): after the close, nothing in the
database's files links a voter to a choice. The SQLite test reads the files themselves
(main database, -wal, -shm, raw bytes); the PostgreSQL test reads the relation files
through the server (row order, `xmin`, old row versions). Votes go through the phone's
Socket.IO event, the close through the facilitator's HTTP action. Both run on SQLite and,
with TEST_DATABASE_URL, on PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import func, select, text

from deliberation import ballot_box, ballots, push
from deliberation.coalesce import Pace
from deliberation.extensions import db, socketio
from deliberation.models import AuditEvent, Ballot, BallotBox, BallotVoter, Participant
from deliberation.voting import VoteRefused

from .conftest import login, make_person, staff_login

# Ten « pour » then ten « contre », in that order: any structure that kept the casting
# order would pair the first ten voters with « pour ».
PLAN = ["pour"] * 10 + ["contre"] * 10


@pytest.fixture
def room(congress):
    """A congress in its vote phase, twenty present officials and the facilitator."""
    congress.phase = "vote"
    db.session.commit()
    people = [make_person(congress, f"Élu·e {i:02d}", present=True) for i in range(20)]
    make_person(congress, "Animation", role="facilitator", email="anim@example.org",
                password="motdepasse-solide")
    return {"congress": congress, "people": people}


def open_secret_ballot(congress, title="Vote secret") -> int:
    ballot = ballots.create(congress, title, secret=True)
    db.session.commit()
    ballots.open_ballot(ballot.id)
    return ballot.id


def socket_vote(app, congress, person, ballot_id: int, choice: str) -> dict:
    """One phone: log in with the invite link, vote over Socket.IO, hang up."""
    phone = app.test_client()
    login(phone, person)
    sock = socketio.test_client(app, flask_test_client=phone,
                                auth={"congress": congress.join_code,
                                      "audience": "participants"})
    try:
        answer = sock.emit("ballot.vote", {"ballot": ballot_id, "choice": choice,
                                           "key": secrets.token_hex(16)}, callback=True)
    finally:
        sock.disconnect()
        g.pop("_login_user", None)  # the test's app context outlives the phone's login
    assert answer["ok"] and answer["status"] == "counted", answer
    return answer


def close_over_http(app, ballot_id: int) -> None:
    facilitator = app.test_client()
    staff_login(facilitator, "anim@example.org")
    assert facilitator.post(f"/animation/scrutins/{ballot_id}/clore").status_code == 302
    db.session.expire_all()
    assert db.session.get(Ballot, ballot_id).state == "closed"
    db.session.commit()
    finish_scrubs()


def finish_scrubs() -> None:
    """The scheduler's retries of a held-up scrub, until done: on PostgreSQL any session
    older than the close holds it up, and the test database is shared with other runs."""
    for _ in range(120):
        if not push.scheduler.pending(ballot_box.SCRUB_CHANNEL):
            return
        time.sleep(0.5)
        push.scheduler.run_due(ballot_box.SCRUB_CHANNEL, pace=Pace())
    assert not push.scheduler.pending(ballot_box.SCRUB_CHANNEL), "scrub never finished"


def box_ids(ballot_id: int) -> set[str]:
    return set(db.session.scalars(select(BallotBox.id).where(BallotBox.ballot_id == ballot_id)))


def redraw_now() -> int:
    """What the scheduler's background task does BALLOT_BOX_REDRAW_S after a vote."""
    return push.scheduler.run_due(ballot_box.CHANNEL, pace=Pace())


def vote_the_plan(app, room, ballot_id: int) -> tuple[set[str], list[str]]:
    """Everyone votes, in PLAN's order, with one re-draw half-way as the timer would.
    Returns every paper id the box ever held, and the receipts."""
    congress, seen, receipts = room["congress"], set(), []
    for i, (person, choice) in enumerate(zip(room["people"], PLAN, strict=True)):
        receipts.append(socket_vote(app, congress, person, ballot_id, choice)["receipt"])
        seen |= box_ids(ballot_id)
        if i == 9:
            assert redraw_now() == 1
            seen |= box_ids(ballot_id)
    return seen, receipts


def assert_box_intact(ballot_id: int) -> None:
    assert ballots.counts(ballot_id, True) == {"pour": 10, "contre": 10, "abstention": 0}
    assert ballots.cast_count(ballot_id, True) == 20
    assert ballots.verify_report()[1] == []


def assert_audit_holds_no_choice(ballot_id: int, receipts: list[str]) -> None:
    """The audit log says who voted and when, never what nor with which receipt."""
    entries = [e.payload for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "vote.cast"))
        if e.payload.get("ballot") == ballot_id]
    assert len(entries) == 20
    for payload in entries:
        assert "choice" not in payload
        assert not set(map(str, payload.values())) & set(receipts)


def never_in_casting_order(choices_in_storage_order: list[str]) -> bool:
    """Storage order is not the casting order (nor its reverse): after a shuffle of 20
    papers, 10 and 10, either comes back by chance once in 92,378 runs."""
    return choices_in_storage_order not in (PLAN, PLAN[::-1])


# --- SQLite: the files themselves -----------------------------------------------------

def sqlite_files() -> dict[str, bytes]:
    path = db.engine.url.database
    return {suffix or "main": Path(path + suffix).read_bytes()
            if Path(path + suffix).exists() else b"" for suffix in ("", "-wal", "-shm")}


def test_sqlite_files_hold_no_voter_choice_link_after_the_close(app, room):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("reads the SQLite files")
    assert db.session.execute(text("PRAGMA secure_delete")).scalar() == 1
    bid = open_secret_ballot(room["congress"])
    seen, receipts = vote_the_plan(app, room, bid)
    db.session.commit()
    # Control: before the close the scan does find papers (the WAL links them to their
    # voters' register rows, frame by frame).
    before = sqlite_files()
    assert before["-wal"] and any(i.encode() in before["-wal"] for i in seen)

    close_over_http(app, bid)
    db.session.commit()
    files = sqlite_files()
    live = box_ids(bid)
    assert live and not live & seen  # every paper re-drawn at the close
    # The WAL is empty: no sequence of commits pairs a register row with a paper.
    assert files["-wal"] == b""
    # No old image of any paper anywhere: deleted cells, free pages, -shm.
    for name, blob in files.items():
        leftovers = [i for i in seen if i.encode() in blob]
        assert leftovers == [], f"{len(leftovers)} old paper(s) in {name}"
    # The live papers are in the main file, in no casting order within a page.
    main = files["main"]
    page_size = db.session.execute(text("PRAGMA page_size")).scalar()
    choice_of = dict(db.session.execute(select(BallotBox.id, BallotBox.choice)
                                        .where(BallotBox.ballot_id == bid)).all())
    pages: dict[int, list[tuple[int, str]]] = {}
    for paper, choice in choice_of.items():
        offsets = _offsets(main, paper.encode())
        # Once in the table, once in the (ballot, choice) index: no stale copy.
        assert len(offsets) == 2, (paper, offsets)
        for offset in offsets:
            pages.setdefault(offset // page_size, []).append((offset, choice))
    for cells in pages.values():
        if len(cells) == len(PLAN):
            assert never_in_casting_order([c for _, c in sorted(cells)])
    assert_box_intact(bid)
    assert_audit_holds_no_choice(bid, receipts)


def test_sqlite_free_pages_keep_no_old_paper(app, congress):
    """A box over several pages: freed pages and cells would keep old papers without
    secure_delete (47 of 300 here when it is off); with it, none."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("reads the SQLite files")
    congress.phase = "vote"
    db.session.add_all([Participant(congress_id=congress.id, display_name=f"Élu·e {i:03d}",
                                    role="participant", present=True) for i in range(150)])
    db.session.commit()
    people = list(db.session.scalars(select(Participant.id).where(
        Participant.congress_id == congress.id).order_by(Participant.id)))
    bid = open_secret_ballot(congress)
    seen: set[str] = set()
    for i, voter in enumerate(people):
        ballots.cast_vote(bid, voter, ("pour", "contre", "abstention")[i % 3])
        if i % 50 == 49:  # the timer's re-draws, as a vote burst would get them
            seen |= box_ids(bid)
            assert redraw_now() == 1
    seen |= box_ids(bid)
    db.session.commit()
    ballots.close_ballot(bid)
    db.session.commit()
    assert not box_ids(bid) & seen
    for name, blob in sqlite_files().items():
        assert [i for i in seen if i.encode() in blob] == [], name
    assert ballots.counts(bid, True) == {"pour": 50, "contre": 50, "abstention": 50}


def _offsets(blob: bytes, needle: bytes) -> list[int]:
    found, at = [], blob.find(needle)
    while at != -1:
        found.append(at)
        at = blob.find(needle, at + 1)
    return found


# --- PostgreSQL: row order, xmin, old row versions --------------------------------------

def pg_relation_bytes(relation: str) -> bytes:
    """The relation's file as the server stores it, after a checkpoint flushed it."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("CHECKPOINT")
        return bytes(connection.execute(
            text("SELECT pg_read_binary_file(pg_relation_filepath(CAST(:r AS regclass)))"),
            {"r": relation}).scalar())


def pg_box_relations() -> list[str]:
    return ["ballot_box", *db.session.scalars(text(
        "SELECT CAST(indexrelid AS regclass)::text FROM pg_index "
        "WHERE indrelid = CAST('ballot_box' AS regclass)"))]


def xmins(table: str, ballot_id: int) -> set[str]:
    return set(db.session.scalars(text(f"SELECT xmin::text FROM {table} WHERE ballot_id = :b"),
                                  {"b": ballot_id}))


def test_postgresql_box_after_the_close(app, room):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("reads PostgreSQL's relation files")
    bid = open_secret_ballot(room["congress"])
    congress, people = room["congress"], room["people"]
    receipts = [socket_vote(app, congress, p, bid, c)["receipt"]
                for p, c in zip(people[:10], PLAN[:10], strict=True)]
    # Control, what the re-draws are for: a vote writes its register row and its paper
    # in one transaction, so until a re-draw both carry the same xmin.
    assert xmins("ballot_box", bid) == xmins("ballot_voter", bid)
    assert redraw_now() == 1
    redrawn = xmins("ballot_box", bid)
    assert len(redrawn) == 1 and not redrawn & xmins("ballot_voter", bid)
    receipts += [socket_vote(app, congress, p, bid, c)["receipt"]
                 for p, c in zip(people[10:], PLAN[10:], strict=True)]
    seen = box_ids(bid)
    db.session.commit()
    assert any(i.encode() in pg_relation_bytes("ballot_box") for i in seen)  # control

    close_over_http(app, bid)
    db.session.commit()
    live = box_ids(bid)
    assert live and not live & seen
    # Physical order: nothing of the casting order.
    in_ctid_order = list(db.session.scalars(text(
        "SELECT choice FROM ballot_box WHERE ballot_id = :b ORDER BY ctid"), {"b": bid}))
    assert never_in_casting_order(in_ctid_order)
    # One xmin for every paper (the close's), shared with no register row nor vote entry.
    box_xmin = xmins("ballot_box", bid)
    assert len(box_xmin) == 1
    assert not box_xmin & xmins("ballot_voter", bid)
    assert not box_xmin & set(db.session.scalars(text(
        "SELECT xmin::text FROM audit_event WHERE action = 'vote.cast'")))
    # Old row versions are gone from the table's and its indexes' files, bytes included.
    db.session.commit()
    for relation in pg_box_relations():
        stored = pg_relation_bytes(relation)
        assert [i for i in seen if i.encode() in stored] == [], relation
    assert all(i.encode() in pg_relation_bytes("ballot_box") for i in live)
    assert_box_intact(bid)
    assert_audit_holds_no_choice(bid, receipts)


# --- while the ballot is open: re-drawn on a timer, never a paper lost or doubled --------

def test_a_secret_vote_asks_for_a_redraw_that_keeps_every_paper(app, room):
    congress, people = room["congress"], room["people"]
    bid = open_secret_ballot(congress)
    nominal = ballots.create(congress, "Vote nominal")
    db.session.commit()
    ballots.open_ballot(nominal.id)
    ballots.cast_vote(nominal.id, people[0].id, "pour")
    assert push.scheduler.pending(ballot_box.CHANNEL) == {}  # nominal: no box
    for person, choice in zip(people[:6], PLAN[7:13], strict=True):
        socket_vote(app, congress, person, bid, choice)
    assert push.scheduler.pending(ballot_box.CHANNEL) == {bid: None}  # one, not six
    register = set(db.session.scalars(select(BallotVoter.receipt)
                                      .where(BallotVoter.ballot_id == bid)))
    before = box_ids(bid)
    assert redraw_now() == 1 and push.scheduler.pending(ballot_box.CHANNEL) == {}
    db.session.expire_all()
    assert box_ids(bid).isdisjoint(before) and len(box_ids(bid)) == 6
    assert ballots.counts(bid, True) == {"pour": 3, "contre": 3, "abstention": 0}
    assert set(db.session.scalars(select(BallotVoter.receipt)
                                  .where(BallotVoter.ballot_id == bid))) == register
    # Closed: a late timer changes nothing.
    ballots.close_ballot(bid)
    after_close = box_ids(bid)
    assert ballot_box.redraw_open(bid) == 0
    db.session.expire_all()
    assert box_ids(bid) == after_close
    assert ballots.verify_report()[1] == []


def test_a_redraw_another_process_holds_is_asked_for_again(app, room):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock orders re-draws by itself")
    bid = open_secret_ballot(room["congress"])
    ballots.cast_vote(bid, room["people"][0].id, "pour")
    before = box_ids(bid)
    db.session.commit()
    with db.engine.connect() as other_process:  # re-drawing this box right now
        other_process.execute(text("SELECT pg_advisory_xact_lock(:space, :id)"),
                              {"space": ballot_box.REDRAW_LOCK, "id": bid})
        assert redraw_now() == 1
        assert push.scheduler.pending(ballot_box.CHANNEL) == {bid: None}  # again later
        db.session.expire_all()
        assert box_ids(bid) == before
        db.session.commit()
        other_process.rollback()
    assert redraw_now() == 1 and push.scheduler.pending(ballot_box.CHANNEL) == {}
    db.session.expire_all()
    assert box_ids(bid).isdisjoint(before) and ballots.counts(bid, True)["pour"] == 1


def test_the_timer_pace_comes_from_the_configuration(app):
    pace = ballot_box._pace({"BALLOT_BOX_REDRAW_S": 3, "TESTING": False})
    assert (pace.delay, pace.spacing, pace.leading, pace.background) == (3.0, 3.0, False, True)
    assert ballot_box._pace({"TESTING": True}).background is False


@pytest.mark.parametrize("hold", ["lock", "snapshot"])
def test_a_scrub_held_up_at_the_close_is_retried_until_done(app, room, hold):
    """When the ballot closes, a reader holds the SQLite WAL; on PostgreSQL a transaction
    holds ballot_box (lock), or an older snapshot still sees the old papers (snapshot):
    the scrub gives up, and the scheduler's retry finishes it."""
    if hold == "snapshot" and db.engine.dialect.name == "sqlite":
        pytest.skip("on SQLite a snapshot is a reader: the lock case")
    congress, people = room["congress"], room["people"]
    bid = open_secret_ballot(congress)
    for person, choice in zip(people[:6], PLAN[7:13], strict=True):
        ballots.cast_vote(bid, person.id, choice)
    seen = box_ids(bid)
    db.session.commit()
    app.config["BALLOT_BOX_SCRUB_WAIT_MS"] = 50
    sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:
        holder = sqlite3.connect(db.engine.url.database, isolation_level=None)
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM ballot_box").fetchall()
    elif hold == "lock":
        holder = db.engine.connect()
        holder.execute(text("SELECT count(*) FROM ballot_box")).scalar()
    else:  # a report running since before the close, on another table
        holder = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
        holder.execute(text("SELECT count(*) FROM congress")).scalar()
    try:
        ballots.close_ballot(bid)
        assert push.scheduler.pending(ballot_box.SCRUB_CHANNEL) == {bid: None}
        if sqlite:
            assert sqlite_files()["-wal"] != b""
        assert push.scheduler.run_due(ballot_box.SCRUB_CHANNEL, pace=Pace()) == 1
        assert push.scheduler.pending(ballot_box.SCRUB_CHANNEL) == {bid: None}  # still held
    finally:
        holder.rollback()
        holder.close()
    assert push.scheduler.run_due(ballot_box.SCRUB_CHANNEL, pace=Pace()) == 1
    finish_scrubs()
    db.session.commit()
    if sqlite:
        files = sqlite_files()
        assert files["-wal"] == b""
        blobs = list(files.values())
    else:
        blobs = [pg_relation_bytes(relation) for relation in pg_box_relations()]
    assert not [i for i in seen for blob in blobs if i.encode() in blob]
    assert ballots.counts(bid, True) == {"pour": 3, "contre": 3, "abstention": 0}


def _parallel(app, n, work):
    """Run `work(i)` in n real threads released together; return their results."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = work(i)
            except VoteRefused as exc:
                db.session.rollback()
                results[i] = ("refused", exc.code)
            except Exception as exc:  # noqa: BLE001 - reported by the assertions
                db.session.rollback()
                results[i] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_redraws_racing_votes_and_the_close_lose_and_double_nothing(app, room, congress):
    people = room["people"] + [make_person(congress, f"Votant·e {i}", present=True)
                               for i in range(20)]
    choices = {p.id: ("pour", "contre", "abstention")[i % 3] for i, p in enumerate(people)}
    bid = open_secret_ballot(congress)
    redrawers = 3

    def votes_and_redraws(voters, closer=False):
        def work(i):
            if i < len(voters):
                return ("voted", voters[i].id, ballots.cast_vote(
                    bid, voters[i].id, choices[voters[i].id])["status"])
            if closer and i == len(voters):
                return ("closed", ballots.close_ballot(bid).state)
            return ("redrawn", [ballot_box.redraw_open(bid) for _ in range(4)])
        return _parallel(app, len(voters) + redrawers + closer, work)

    # Votes and re-draws at once: every vote counted once.
    first = votes_and_redraws(people[:20])
    assert not [r for r in first if r[0] in ("error", "refused")], first
    db.session.expire_all()
    assert ballots.cast_count(bid, True) == 20
    assert ballots.counts(bid, True) == dict(Counter(choices[p.id] for p in people[:20]))
    # Votes, re-draws and the close at once: counted or refused, never lost nor doubled.
    second = votes_and_redraws(people[20:], closer=True)
    assert ("closed", "closed") in second
    assert not [r for r in second if r[0] == "error"], second
    counted = [r[1] for r in second if r[0] == "voted"]
    refused = [r for r in second if r[0] == "refused"]
    assert all(r[1] == "closed" for r in refused), refused
    assert len(counted) + len(refused) == 20
    db.session.expire_all()
    ballot = db.session.get(Ballot, bid)
    expected = Counter(choices[p.id] for p in people[:20]) + Counter(choices[v]
                                                                     for v in counted)
    assert ballot.results["counts"] == {c: expected.get(c, 0)
                                        for c in ("pour", "contre", "abstention")}
    assert db.session.scalar(select(func.count()).select_from(BallotBox)
                             .where(BallotBox.ballot_id == bid)) == 20 + len(counted)
    assert ballots.cast_count(bid, True) == 20 + len(counted)
    assert ballots.verify_report()[1] == []
