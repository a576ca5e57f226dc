"""Votes written in batches (ballots.cast_votes, the group commit writer): the same
guarantees as one vote per transaction. Counted or refused with a French reason, never
lost, never doubled; one bad vote refuses only itself; nothing acknowledged that was not
stored. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from deliberation import audit, ballots
from deliberation.extensions import db, socketio
from deliberation.group_commit import _Ticket
from deliberation.models import AuditEvent, BallotBox, BallotVoter, Vote, utcnow
from deliberation.voting import VoteRefused

from .conftest import login, make_person


@pytest.fixture
def room(congress):
    congress.phase = "vote"
    db.session.commit()
    people = [make_person(congress, f"Élu·e {i:02d}", present=True) for i in range(24)]
    observer = make_person(congress, "Presse locale", role="observer", present=True)
    return {"congress": congress, "people": people, "observer": observer}


def open_ballot(congress, secret=False, title="Ensemble du texte") -> int:
    ballot = ballots.create(congress, title, secret=secret)
    db.session.commit()
    ballots.open_ballot(ballot.id)
    return ballot.id


def stored(ballot_id: int, secret: bool = False) -> set[int]:
    db.session.expire_all()
    table = BallotVoter if secret else Vote
    return set(db.session.scalars(select(table.voter_id).where(table.ballot_id == ballot_id)))


def acked(answers) -> set[int]:
    """Voters whose answer says their vote is in the box."""
    return {a["voter"] for a in answers
            if isinstance(a, dict) and a["status"] in ("counted", "repeat", "changed")}


def run_batch(app, requests) -> list:
    """One step of the writer, as the server runs it: its own app context and session."""
    tickets = [_Ticket(r) for r in requests]
    ballots.VOTES.app = app
    ballots.VOTES.run(tickets)
    db.session.expire_all()
    return [t.error if t.error is not None else t.result for t in tickets]


@pytest.mark.parametrize("secret", [False, True], ids=["nominal", "secret"])
def test_a_batch_counts_every_vote_with_its_own_audit_entry(app, room, secret):
    bid = open_ballot(room["congress"], secret=secret)
    people = room["people"]
    requests = [ballots.VoteRequest(bid, p.id, ("pour", "contre", "abstention")[i % 3],
                                    client_key=f"cle-{i:04d}") for i, p in enumerate(people)]
    answers = run_batch(app, requests)
    assert [a["status"] for a in answers] == ["counted"] * len(people)
    assert ballots.VOTES.history[-1] == (len(people), True)
    assert stored(bid, secret) == {p.id for p in people}
    assert sum(ballots.counts(bid, secret).values()) == len(people)
    if secret:  # one paper per registered voter, each with a receipt of its own
        assert db.session.scalar(select(func.count()).select_from(BallotBox)
                                 .where(BallotBox.ballot_id == bid)) == len(people)
        assert len({a["receipt"] for a in answers}) == len(people)
    # Each receipt's anchor is the voter's own vote.cast entry in the chain.
    for person, answer in zip(people, answers, strict=True):
        entry = db.session.get(AuditEvent, answer["audit"]["entry"])
        assert entry.action == "vote.cast" and entry.payload["voter"] == person.id
        assert answer["audit"] == {"entry": entry.id, "hash": entry.hash,
                                   "entries": audit.position_of(entry.id)}
    assert ballots.verify_report()[1] == []


def test_what_a_batch_cannot_settle_is_answered_as_one_vote_would_be(app, room):
    congress, people = room["congress"], room["people"]
    bid = open_ballot(congress)
    closed = open_ballot(congress, title="Article 1")
    ballots.close_ballot(closed)
    ballots.cast_vote(bid, people[0].id, "pour", client_key="avant-0001")
    db.session.commit()
    requests = [
        ballots.VoteRequest(bid, people[0].id, "pour", client_key="avant-0001"),  # retry
        ballots.VoteRequest(bid, people[1].id, "contre", client_key="lot-0001"),
        ballots.VoteRequest(bid, people[1].id, "contre", client_key="lot-0001"),  # retry
        ballots.VoteRequest(bid, people[1].id, "pour", client_key="lot-0002"),  # 2nd tap
        ballots.VoteRequest(bid, room["observer"].id, "pour"),
        ballots.VoteRequest(bid, people[2].id, "oui"),
        ballots.VoteRequest(closed, people[3].id, "pour"),
        ballots.VoteRequest(999_999, people[4].id, "pour"),
        ballots.VoteRequest(bid, 999_999, "pour"),
        ballots.VoteRequest(bid, people[5].id, "abstention"),
    ]
    answers = run_batch(app, requests)
    outcome = [a["status"] if isinstance(a, dict) else a.code for a in answers]
    assert outcome == ["repeat", "counted", "repeat", "already_voted", "observer",
                       "invalid_choice", "closed", "unknown_ballot", "unknown_voter",
                       "counted"]
    assert all(a.message for a in answers if isinstance(a, VoteRefused))  # French
    assert stored(bid) == {people[0].id, people[1].id, people[5].id} == acked(answers)
    assert stored(closed) == set()
    assert ballots.verify_report()[1] == []


@pytest.mark.parametrize("secret", [False, True], ids=["nominal", "secret"])
def test_retries_and_second_taps_are_answered_within_the_batch(app, room, secret):
    """A lost ack's retry gets the first answer's receipt, a second tap is refused, in
    the batch that counts the first vote as in a later one (issue 17: no transaction
    of its own per retry)."""
    congress, people = room["congress"], room["people"]
    bid = open_ballot(congress, secret=secret)
    before = ballots.cast_vote(bid, people[0].id, "pour", client_key="avant-0002")
    db.session.commit()
    requests = [
        ballots.VoteRequest(bid, people[1].id, "contre", client_key="lot-0003"),
        ballots.VoteRequest(bid, people[1].id, "contre", client_key="lot-0003"),  # retry
        ballots.VoteRequest(bid, people[1].id, "pour", client_key="lot-0004"),  # 2nd tap
        ballots.VoteRequest(bid, people[0].id, "pour", client_key="avant-0002"),  # retry
        ballots.VoteRequest(bid, people[0].id, "contre", client_key="avant-0003"),  # tap
    ]
    answers = run_batch(app, requests)
    outcome = [a["status"] if isinstance(a, dict) else a.code for a in answers]
    assert outcome == ["counted", "repeat", "already_voted", "repeat", "already_voted"]
    assert answers[1]["receipt"] == answers[0]["receipt"]
    assert answers[3]["receipt"] == before["receipt"]
    assert all(a["secret"] is secret and a["voter"] in (people[0].id, people[1].id)
               for a in answers if isinstance(a, dict))
    assert "déjà voté" in answers[2].message
    assert stored(bid, secret) == {people[0].id, people[1].id} == acked(answers)
    assert ballots.verify_report()[1] == []


@pytest.mark.parametrize("secret", [False, True], ids=["nominal", "secret"])
def test_a_failing_batch_loses_no_vote_and_refuses_only_the_bad_one(app, room, monkeypatch,
                                                                    secret):
    bid = open_ballot(room["congress"], secret=secret)
    people = room["people"][:10]
    bad = people[4].id
    real = audit.record

    def record(action, congress_id, actor_id=None, **payload):
        if payload.get("voter") == bad:  # this vote breaks whatever transaction holds it
            raise RuntimeError("an audit entry that cannot be written")
        return real(action, congress_id, actor_id, **payload)

    monkeypatch.setattr(audit, "record", record)
    answers = run_batch(app, [ballots.VoteRequest(bid, p.id, "pour", client_key=f"k-{p.id:05d}")
                              for p in people])
    assert ballots.VOTES.history[-1] == (10, False)  # the batch failed, each went alone
    assert isinstance(answers[4], RuntimeError)  # the handler answers « réessayez »
    assert [a["status"] for i, a in enumerate(answers) if i != 4] == ["counted"] * 9
    assert stored(bid, secret) == {p.id for p in people} - {bad} == acked(answers)
    monkeypatch.setattr(audit, "record", real)
    assert ballots.verify_report()[1] == []


def test_a_commit_that_fails_acknowledges_nothing_of_its_batch(app, room, monkeypatch):
    bid = open_ballot(room["congress"])
    people = room["people"][:8]
    real = ballots._write_batch
    calls = []

    def dies_before_commit(ballot, votes, later, answers):
        written = real(ballot, votes, later, answers)  # rows inserted in the batch's transaction...
        calls.append(len(written))
        raise ConnectionError("the server went away before the COMMIT")

    def down(request):
        raise ConnectionError("still down")

    monkeypatch.setattr(ballots, "_write_batch", dies_before_commit)
    tickets = [_Ticket(ballots.VoteRequest(bid, p.id, "pour", client_key=f"c-{p.id:05d}"))
               for p in people]
    writer = ballots.VOTES
    monkeypatch.setattr(writer, "one", down)
    writer.app = app
    writer.run(tickets)
    assert calls == [8]
    assert all(isinstance(t.error, ConnectionError) and t.result is None for t in tickets)
    assert stored(bid) == set()  # ...and none survived: nothing acked, nothing stored
    monkeypatch.undo()
    answers = run_batch(app, [t.item for t in tickets])  # the phones retry, same keys
    assert [a["status"] for a in answers] == ["counted"] * 8
    assert stored(bid) == {p.id for p in people}


def test_concurrent_duplicates_through_the_writer(app, room):
    """Threads vote at once through the real writer: distinct voters, retries under one
    key, second taps under another: one row per voter, every answer true."""
    congress, people = room["congress"], room["people"]
    bid = open_ballot(congress)
    work = [(p.id, "pour", f"v-{p.id:05d}") for p in people]
    work += [(p.id, "pour", f"v-{p.id:05d}") for p in people[::3]]  # lost acks: retries
    work += [(p.id, "contre", f"w-{p.id:05d}") for p in people[::4]]  # second taps
    barrier = threading.Barrier(len(work))
    answers: list = [None] * len(work)

    def run(i):
        voter, choice, key = work[i]
        with app.app_context():
            barrier.wait()
            try:
                answers[i] = ballots.submit_vote(ballots.VoteRequest(bid, voter, choice,
                                                                     client_key=key))
            except VoteRefused as exc:
                answers[i] = ("refused", exc.code, voter)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # Whichever request of a voter lands first is counted; the others under its key are
    # repeats, those under another key are refused « déjà voté ».
    counted = {work[i][0]: work[i][2] for i, a in enumerate(answers)
               if isinstance(a, dict) and a["status"] == "counted"}
    assert Counter(work[i][0] for i, a in enumerate(answers) if isinstance(a, dict)
                   and a["status"] == "counted") == Counter({p.id: 1 for p in people})
    for (voter, _choice, key), answer in zip(work, answers, strict=True):
        status = answer["status"] if isinstance(answer, dict) else answer[1]
        expected = {"counted", "repeat"} if key == counted[voter] else {"already_voted"}
        assert status in expected, (voter, key, answer)
    assert stored(bid) == {p.id for p in people} == acked(answers)
    assert db.session.scalar(select(func.count()).select_from(Vote)
                             .where(Vote.ballot_id == bid)) == len(people)
    assert ballots.verify_report()[1] == []


def test_votes_racing_the_close_through_the_writer(app, room):
    congress, people = room["congress"], room["people"]
    bid = open_ballot(congress)
    barrier = threading.Barrier(len(people) + 1)
    answers: list = [None] * len(people)

    def vote(i):
        with app.app_context():
            barrier.wait()
            try:
                answers[i] = ballots.submit_vote(ballots.VoteRequest(bid, people[i].id, "pour"))
            except VoteRefused as exc:
                answers[i] = exc.code
            finally:
                db.session.remove()

    def close():
        with app.app_context():
            barrier.wait()
            ballots.close_ballot(bid)
            db.session.remove()

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(len(people))]
    threads.append(threading.Thread(target=close))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    refused = [a for a in answers if not isinstance(a, dict)]
    assert set(refused) <= {"closed"}, refused
    assert stored(bid) == acked(answers)
    assert ballots.verify_report()[1] == []


def test_the_socket_ack_leaves_after_the_batch_commits(app, room, client):
    congress, me = room["congress"], room["people"][0]
    bid = open_ballot(congress)
    login(client, me)
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"congress": congress.join_code,
                                      "audience": "participants"})
    answer = sock.emit("ballot.vote", {"ballot": bid, "choice": "pour", "key": "sock-0001"},
                       callback=True)
    sock.disconnect()
    assert answer["ok"] and answer["status"] == "counted"
    assert stored(bid) == {me.id}
    entry = db.session.get(AuditEvent, answer["audit"]["entry"])
    assert entry.payload["voter"] == me.id


def test_a_session_that_no_longer_holds_is_refused_in_the_batch_and_alone(app, room):
    """The socket handler reads the session without the database (issue 17): the batch
    checks its epoch and the revocation, and refuses that vote alone, in French."""
    congress, people = room["congress"], room["people"]
    bid = open_ballot(congress)
    stale, revoked, good = people[0], people[1], people[2]
    epochs = {p.id: p.session_epoch for p in (stale, revoked, good)}
    stale.session_epoch += 1  # logged out on every device
    revoked.token_revoked_at = utcnow()
    db.session.commit()
    requests = [ballots.VoteRequest(bid, p.id, "pour", client_key=f"sess-{p.id:04d}",
                                    session_epoch=epochs[p.id])
                for p in (stale, revoked, good)]
    answers = run_batch(app, requests)
    assert [getattr(a, "code", None) for a in answers[:2]] == ["login", "login"]
    assert "Connectez-vous" in answers[0].message
    assert answers[2]["status"] == "counted"
    with pytest.raises(VoteRefused) as refused:
        ballots.cast_one(requests[0])
    assert refused.value.code == "login"
    assert stored(bid) == {good.id}


def test_the_socket_refuses_a_vote_from_a_session_closed_elsewhere(app, room, client):
    congress, me = room["congress"], room["people"][0]
    bid = open_ballot(congress)
    login(client, me)
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"congress": congress.join_code,
                                      "audience": "participants"})
    me.session_epoch += 1
    db.session.commit()
    answer = sock.emit("ballot.vote", {"ballot": bid, "choice": "pour", "key": "sock-0002"},
                       callback=True)
    sock.disconnect()
    assert answer == {"ok": False, "error": "Connectez-vous au congrès pour voter.",
                      "code": "login"}
    assert stored(bid) == set()
