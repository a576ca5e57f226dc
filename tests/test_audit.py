"""The append-only, hash-chained audit log (deliberation/audit.py) and `verify`."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from deliberation import audit, ballots
from deliberation.extensions import db
from deliberation.models import AuditEvent

from .conftest import make_person, staff_login


def _events():
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_entries_are_chained(congress):
    for i in range(4):
        audit.record("test.event", congress.id, None, n=i, texte="é")
    db.session.commit()
    events = _events()
    assert events[0].prev_hash == ""
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash and len(after.hash) == 64
    assert audit.verify_chain() == []


def test_editing_a_row_is_detected(congress, runner):
    for i in range(3):
        audit.record("test.event", congress.id, None, n=i)
    db.session.commit()
    target = _events()[1].id
    db.session.execute(text("UPDATE audit_event SET payload = :p WHERE id = :i"),
                       {"p": '{"n": 99}', "i": target})
    db.session.commit()
    db.session.expire_all()
    problems = audit.verify_chain()
    assert any(f"Entrée {target}" in p and "modifié" in p for p in problems), problems
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1 and "chaîne ROMPUE" in result.output


def test_rehashing_a_row_still_breaks_the_next_link(congress):
    for i in range(3):
        audit.record("test.event", congress.id, None, n=i)
    db.session.commit()
    event = _events()[1]
    event.payload = {"n": 42}
    event.hash = audit._digest(event)  # a forger recomputes this row's own hash
    db.session.commit()
    problems = audit.verify_chain()
    assert any("maillon précédent" in p for p in problems), problems


def test_deleting_or_reordering_rows_is_detected(congress):
    for i in range(4):
        audit.record("test.event", congress.id, None, n=i)
    db.session.commit()
    middle = _events()[2].id
    db.session.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": middle})
    db.session.commit()
    assert audit.verify_chain()
    first = _events()[0].id
    db.session.execute(text("UPDATE audit_event SET action = 'autre' WHERE id = :i"),
                       {"i": first})
    db.session.commit()
    db.session.expire_all()
    assert any(f"Entrée {first}" in p for p in audit.verify_chain())


def test_phase_changes_and_votes_are_logged(congress, client):
    make_person(congress, "Animation", role="facilitator", email="anim@example.org",
                password="motdepasse-solide")
    staff_login(client, "anim@example.org")
    response = client.post("/animation/phase", data={"phase": "vote"})
    assert response.status_code in (200, 302)
    voter = make_person(congress, "Élu", present=True)
    ballot = ballots.create(congress, "Texte")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    ballots.cast_vote(ballot.id, voter.id, "pour")
    ballots.close_ballot(ballot.id)
    ballots.publish_ballot(ballot.id)
    actions = [e.action for e in _events()]
    for expected in ("congress.phase", "ballot.created", "ballot.opened", "vote.cast",
                     "ballot.closed", "ballot.published"):
        assert expected in actions, (expected, actions)
    assert audit.verify_chain() == []


def test_verify_on_an_empty_database(runner, app):
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 0 and "0 entrée" in result.output


def test_entries_are_written_at_commit_and_dropped_with_a_rollback(congress):
    audit.record("test.kept", congress.id, None, n=1)
    audit.record("test.kept", congress.id, None, n=2)
    assert _events() == []  # not yet: written as the transaction commits, lock held briefly
    db.session.commit()
    assert [e.payload["n"] for e in _events()] == [1, 2]
    audit.record("test.dropped", congress.id, None, n=3)
    db.session.rollback()
    audit.record("test.kept", congress.id, None, n=4)
    db.session.commit()
    events = _events()
    assert [e.action for e in events] == ["test.kept"] * 3
    assert events[2].prev_hash == events[1].hash and audit.verify_chain() == []


def test_hostile_payloads_are_stored_verbatim_and_chain(congress):
    """On PostgreSQL the entry travels as quoted literals in one message with its lock
    and commit: quotes, backslashes, semicolons or braces must neither break nor inject."""
    nasty = ["'; DELETE FROM audit_event; --", "\\'\\\\", "{prefix} %(at)s %s {{}}",
             "COMMIT; ROLLBACK", "l’élu·e « dit » \u2028 \t\n fin", "\x7f€😀"]
    for i, value in enumerate(nasty):
        audit.record("test.nasty", congress.id, None, texte=value, n=i)
    db.session.commit()
    events = _events()
    assert [e.payload["texte"] for e in events] == nasty
    assert audit.verify_chain() == []


def test_entries_in_a_savepoint_follow_the_outer_transaction(congress):
    """A savepoint's entries are written under the lock but never commit the outer
    transaction (PostgreSQL: the one-message append adds its COMMIT only at top level)."""
    if db.engine.dialect.name == "sqlite":
        # pysqlite's legacy transaction control opens no transaction before a SAVEPOINT,
        # so releasing one commits on SQLite whatever the audit log does.
        pytest.skip("pysqlite: RELEASE SAVEPOINT without an open transaction commits")
    audit.record("test.outer", congress.id, None, n=1)
    with db.session.begin_nested():
        audit.record("test.inner", congress.id, None, n=2)
    db.session.rollback()  # the savepoint's release committed nothing on its own
    assert _events() == []
    with db.session.begin_nested():
        audit.record("test.inner", congress.id, None, n=3)
    audit.record("test.outer", congress.id, None, n=4)
    db.session.commit()
    assert [e.payload["n"] for e in _events()] == [3, 4]
    assert audit.verify_chain() == []
