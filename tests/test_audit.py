"""The append-only, hash-chained audit log (deliberation/audit.py) and `verify`; since
issue 13 keyed, and anchored in every published result and receipt."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from deliberation import audit, ballots, create_app, publishing, voting
from deliberation.config import TestConfig
from deliberation.extensions import db, socketio
from deliberation.models import AuditEvent, Ballot, BallotBox, BallotVoter, Vote

from . import test_ballots
from .conftest import login, make_person, staff_login, text_of
from .test_ballots import new_ballot


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


# --- issue 13: a keyed chain, anchored in what is published ---------------------------------

hall = test_ballots.hall  # the vote-phase congress fixture, shared


def _key() -> bytes:
    return audit.audit_key(create=False)


def test_entries_are_sealed_with_the_key(congress):
    for i in range(3):
        audit.record("test.event", congress.id, None, n=i)
    db.session.commit()
    events = _events()
    for event in events:
        assert event.hash == audit._keyed_digest(_key(), event)
        assert event.hash != audit._digest(event)  # not the unkeyed digest of old
    report = audit.chain_report()
    assert report.problems == [] and report.keyed_from == events[0].id
    assert report.unkeyed == 0 and report.entries == 3
    assert audit.head() == {"entry": events[-1].id, "entries": 3, "hash": events[-1].hash}


def test_the_key_file_is_created_once_with_mode_0600(app, congress, tmp_path):
    path = tmp_path / "cles" / "audit_key"
    app.config.update(AUDIT_KEY=None, AUDIT_KEY_FILE=str(path))
    app.extensions.pop("motion_audit", None)
    assert audit.audit_key(create=False) is None and not path.exists()  # verify creates none
    audit.record("test.event", congress.id, None)
    db.session.commit()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = path.read_text().strip().encode()
    assert len(key) == 64 and _events()[0].hash == audit._keyed_digest(key, _events()[0])
    app.extensions.pop("motion_audit")  # another process: same file, same key
    assert audit.audit_key() == key and audit.verify_chain() == []
    app.extensions.pop("motion_audit")
    app.config["AUDIT_KEY"] = "trop courte"
    with pytest.raises(audit.AuditKeyError, match="32 caractères"):
        audit.audit_key()


def _write_unkeyed(congress_id: int, n: int) -> None:
    """Entries as the app wrote them before the key (plain sha256), straight into the table."""
    prev = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev = prev or ""
    for i in range(n):
        event = AuditEvent(congress_id=congress_id, at=audit.utcnow(), actor_id=None,
                           action="old.event", payload={"n": i}, prev_hash=prev)
        event.hash = prev = audit._digest(event)
        db.session.add(event)
        db.session.flush()
    db.session.commit()


def test_unkeyed_history_is_kept_and_sealed_from_a_marker(app, congress, runner):
    _write_unkeyed(congress.id, 3)
    report = audit.chain_report()
    assert any("Aucune entrée du journal n'est scellée" in p for p in report.problems)
    assert runner.invoke(args=["verify"]).exit_code == 1  # old or downgraded: said so
    audit.record("test.keyed", congress.id, None)
    db.session.commit()
    events = _events()
    assert [e.action for e in events] == ["old.event"] * 3 + [audit.KEYED_MARKER, "test.keyed"]
    assert events[3].payload == {"unkeyed_until": events[2].id}
    report = audit.chain_report()
    assert report.problems == [] and report.unkeyed == 3 and report.keyed_from == events[3].id
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 0, result.output
    assert "3 entrées antérieures à la clé, non scellées" in result.output
    # Written again without the key after the marker: refused.
    _write_unkeyed(congress.id, 1)
    assert any("non scellée par la clé" in p for p in audit.verify_chain())


def test_seal_history_marks_an_old_database_once(app, congress):
    _write_unkeyed(congress.id, 2)
    assert audit.seal_history() is True
    assert audit.seal_history() is False
    assert [e.action for e in _events()][-1] == audit.KEYED_MARKER
    assert audit.verify_chain() == []


def test_a_chain_recomputed_without_the_key_is_reported(congress):
    for i in range(3):
        audit.record("test.event", congress.id, None, n=i)
    db.session.commit()
    _rechain(None, start=0)  # the whole chain, downgraded to plain sha256
    problems = audit.verify_chain()
    assert any("Aucune entrée du journal n'est scellée" in p for p in problems), problems


# --- tampering with a published congress ---------------------------------------------------

def _rechain(key: bytes | None, start: int) -> None:
    """What a forger does after editing rows: recompute the hashes from entry `start` on,
    without the key (plain sha256, all one can do without it) or with it."""
    db.session.expire_all()
    prev = ""
    for event in _events():
        if event.id >= start:
            event.prev_hash = prev
            event.hash = audit._digest(event) if key is None else \
                audit._keyed_digest(key, event)
        prev = event.hash
    db.session.commit()


def _entries(action: str, ballot_id: int) -> list[AuditEvent]:
    return [e for e in _events() if e.action == action and e.payload.get("ballot") == ballot_id]


def _rewrite_vote(ballot_id: int, voter_id: int, choice: str) -> int:
    """Change one nominal vote, the frozen results and the audit rows that tell of it;
    returns the id of the first audit entry edited."""
    db.session.execute(update(Vote).where(Vote.ballot_id == ballot_id,
                                              Vote.voter_id == voter_id).values(choice=choice))
    ballot = db.session.get(Ballot, ballot_id)
    snapshot = voting.decide(ballots.counts(ballot_id, False),
                             eligible=ballot.results["eligible"], majority=ballot.majority,
                             quorum=ballot.quorum)
    snapshot["voters"] = ballot.results["voters"]
    ballot.results = snapshot
    edited = [e for e in _entries("vote.cast", ballot_id) if e.payload["voter"] == voter_id]
    edited[0].payload = {**edited[0].payload, "choice": choice}
    for action in ("ballot.closed", "ballot.published"):
        for event in _entries(action, ballot_id):
            event.payload = {**event.payload, "counts": snapshot["counts"],
                             "adopted": snapshot["adopted"]}
    db.session.commit()
    return edited[0].id


@pytest.fixture
def published(hall, client, tmp_path):
    """The whole text voted by name and published (its results.json downloaded), then a
    secret ballot closed: its `ballot.closed` is the log's last entry."""
    congress, people = hall["congress"], hall["people"]
    whole = new_ballot(congress)
    for person, choice in zip(people[:5], ["pour", "pour", "contre", "contre", "contre"],
                              strict=True):
        ballots.cast_vote(whole, person.id, choice)
    ballots.close_ballot(whole)
    publishing.publish(whole, None, "publier")  # rejected: published as such (publishing.py)
    path = tmp_path / "motion.json"
    path.write_bytes(client.get(f"/motion/{congress.join_code}/resultats.json").data)
    secret = new_ballot(congress, "Vote secret", secret=True)
    for person in people[:3]:
        ballots.cast_vote(secret, person.id, "pour")
    ballots.close_ballot(secret)
    return {**hall, "whole": whole, "secret": secret, "json": str(path)}


def _anchor_of(published) -> dict:
    return json.loads(Path(published["json"]).read_text(encoding="utf-8"))["audit"]


def _verify(runner, *args: str):
    return runner.invoke(args=["verify", *args])


def test_an_untouched_database_passes_both_checks(published, runner):
    plain = _verify(runner)
    assert plain.exit_code == 0, plain.output
    against = _verify(runner, "--against", published["json"])
    assert against.exit_code == 0, against.output
    assert "Sceau publié : entrée n°" in against.output and "conforme" in against.output
    anchor = _anchor_of(published)
    assert "conforme au sceau publié" in against.output and anchor["hash"] in against.output


def test_a_vote_rewritten_without_the_key_fails_verify(published, runner):
    first = _rewrite_vote(published["whole"], published["people"][2].id, "pour")
    _rechain(None, start=first)
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert "non scellée par la clé" in result.output
    assert _verify(runner, "--against", published["json"]).exit_code == 1


def test_deleting_the_last_entry_fails_verify(published, runner):
    last = _events()[-1]
    assert last.action == "ballot.closed" and last.payload["ballot"] == published["secret"]
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == last.id))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1 and "sa clôture manque au journal" in result.output
    assert _verify(runner, "--against", published["json"]).exit_code == 1


def test_a_stuffed_secret_ballot_fails_verify(published, runner):
    congress, secret = published["congress"], published["secret"]
    stranger = make_person(congress, "Élu fantôme", present=True)
    db.session.add_all([BallotVoter(ballot_id=secret, voter_id=stranger.id,
                                    receipt="FANT-OMEE-FANT"),
                        BallotBox(ballot_id=secret, choice="contre")])
    ballot = db.session.get(Ballot, secret)
    snapshot = voting.decide(ballots.counts(secret, True), eligible=ballot.results["eligible"],
                             majority=ballot.majority, quorum=ballot.quorum)
    snapshot["voters"] = ballot.results["voters"] + 1
    ballot.results = snapshot
    closed = _entries("ballot.closed", secret)[0]
    closed.payload = {**closed.payload, "counts": snapshot["counts"],
                      "adopted": snapshot["adopted"]}
    db.session.add(AuditEvent(congress_id=congress.id, at=audit.utcnow(), actor_id=stranger.id,
                              action="vote.cast", payload={"ballot": secret,
                                                           "voter": stranger.id,
                                                           "secret": True, "proxy": False}))
    db.session.commit()
    _rechain(None, start=closed.id)
    assert ballots.recompute(db.session.get(Ballot, secret)) == []  # the counts add up...
    result = _verify(runner)
    assert result.exit_code == 1, result.output  # ...but the log was rewritten without the key
    assert "non scellée par la clé" in result.output
    assert _verify(runner, "--against", published["json"]).exit_code == 1


def test_a_rewrite_with_the_key_is_caught_by_the_publication(published, runner):
    """Whoever holds the database and the key can make a consistent rewrite that `verify`
    alone accepts; the results.json downloaded before it still tells."""
    first = _rewrite_vote(published["whole"], published["people"][2].id, "pour")
    _rechain(_key(), start=first)
    assert _verify(runner).exit_code == 0  # consistent: the limit of a key alone
    result = _verify(runner, "--against", published["json"])
    assert result.exit_code == 1, result.output
    assert "son empreinte diffère de celle publiée" in result.output


def test_a_truncation_with_the_key_is_caught_by_the_publication(published, runner):
    anchor = _anchor_of(published)
    db.session.execute(delete(AuditEvent).where(AuditEvent.id >= anchor["entry"]))
    db.session.commit()
    result = _verify(runner, "--against", published["json"])
    assert result.exit_code == 1
    assert f"Entrée n° {anchor['entry']} publiée absente du journal" in result.output


def test_removing_an_earlier_entry_with_the_key_changes_the_count(published, runner):
    anchor = _anchor_of(published)
    first = _events()[0].id
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == first))
    db.session.commit()
    _rechain(_key(), start=0)
    result = _verify(runner, "--against", published["json"])
    assert result.exit_code == 1
    assert "son empreinte diffère" in result.output
    assert f"la publication en annonçait {anchor['entries']}" in result.output


@pytest.mark.parametrize("content", [None, b"", b"{pas du json", b"\xff\xfe", b"[]",
                                     b'{"audit": null}', b'{"audit": {"entry": 1}}',
                                     b'{"audit": {"entry": 1, "entries": 1, "hash": "zz"}}',
                                     b'{"audit": {"entry": 99999999999999999999, '
                                     b'"entries": 1, "hash": "' + b"a" * 64 + b'"}}',
                                     b"[" * 100_000])
def test_against_a_bad_file_is_one_french_line_and_exit_2(published, runner, tmp_path,
                                                          content):
    path = tmp_path / "mauvais.json"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(args=["verify", "--against", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Vérification impossible : "), lines
    assert "Traceback" not in result.output


def test_verify_without_the_key_is_impossible_not_a_success(published, runner, tmp_path):
    app = runner.app
    app.config.update(AUDIT_KEY=None, AUDIT_KEY_FILE=str(tmp_path / "absente"))
    app.extensions.pop("motion_audit", None)
    result = _verify(runner)
    assert result.exit_code == 2 and "clé d'audit introuvable" in result.output
    assert not (tmp_path / "absente").exists()


def test_verify_as_a_program_on_a_copy_of_the_database(published, tmp_path, app):
    """The command line on a copied SQLite file: the copy verifies; the key holder's
    consistent rewrite of the copy (which `verify` alone accepts, see above) fails
    `--against`."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a copy of the database file: SQLite")
    copy = tmp_path / "copie.db"
    source, target = sqlite3.connect(db.engine.url.database), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{copy}", "SECRET_KEY": "x",
           "MOTION_INSTANCE": str(tmp_path / "instance"), "AUDIT_KEY": app.config["AUDIT_KEY"]}

    def verify(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "deliberation", "verify", *args],
                              cwd=Path(__file__).resolve().parent.parent, env=env,
                              capture_output=True, text=True, timeout=120)

    untouched = verify("--against", published["json"])
    assert untouched.returncode == 0, untouched.stderr
    forger = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}"})
    with forger.app_context():
        first = _rewrite_vote(published["whole"], published["people"][2].id, "pour")
        _rechain(_key(), start=first)
        db.session.remove()
        db.engine.dispose()
    caught = verify("--against", published["json"])
    assert caught.returncode == 1 and "son empreinte diffère" in caught.stderr, caught.stderr
    assert "Traceback" not in caught.stderr


# --- the anchor where results are published, and on a receipt --------------------------------

def _pdf_text(data: bytes) -> bytes:
    """Every stream of a PDF, inflated (WeasyPrint compresses them), and the rest as is."""
    parts = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            pass
    return b"\n".join(parts)


def test_the_anchor_is_printed_on_every_publication(published, client):
    code = published["congress"].join_code
    anchor = audit.published_anchor(published["whole"])
    event = db.session.get(AuditEvent, anchor["entry"])
    assert event.action == "ballot.published" and event.payload["ballot"] == published["whole"]
    assert anchor["hash"] == event.hash and anchor["entries"] == audit.position_of(event.id)
    data = client.get(f"/motion/{code}/resultats.json").json
    assert data["audit"] == anchor  # stable: later entries do not move it
    assert data["audit"]["entries"] < len(_events())
    sentence = f"entrée n° {anchor['entry']}, {anchor['entries']} entrées"  # text_of: nbsp → " "
    for path in (f"/motion/{code}", f"/motion/{code}/motion.html"):
        page = text_of(client.get(path))
        assert "Sceau du journal d'audit" in page and sentence in page, path
        assert anchor["hash"] in page
    assert anchor["hash"] in client.get(f"/motion/{code}/motion.md").get_data(as_text=True)
    pdf = client.get(f"/motion/{code}/motion.pdf").data
    assert pdf.startswith(b"%PDF") and anchor["hash"].encode() in _pdf_text(pdf)


def test_a_receipt_carries_the_head_at_the_time_of_the_vote(hall, app):
    congress, people = hall["congress"], hall["people"]
    bid = new_ballot(congress)
    client = app.test_client()
    login(client, people[0])
    answer = client.post(f"/c/{congress.join_code}/vote/{bid}", data={"choice": "pour"},
                         headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.json
    event = _entries("vote.cast", bid)[-1]
    expected = {"entry": event.id, "entries": audit.position_of(event.id), "hash": event.hash}
    assert answer.json["audit"] == expected
    assert f"entrée n°\u00a0{event.id}" in answer.json["message"]
    assert event.hash in answer.json["message"]

    phone = app.test_client()
    login(phone, people[1])
    sock = socketio.test_client(app, flask_test_client=phone,
                                auth={"congress": congress.join_code,
                                      "audience": "participants"})
    try:
        ack = sock.emit("ballot.vote", {"ballot": bid, "choice": "contre", "key": "cle-0001"},
                        callback=True)
        again = sock.emit("ballot.vote", {"ballot": bid, "choice": "contre",
                                          "key": "cle-0001"}, callback=True)
    finally:
        sock.disconnect()
    event = _entries("vote.cast", bid)[-1]
    assert ack["ok"] and ack["audit"] == {"entry": event.id, "hash": event.hash,
                                          "entries": audit.position_of(event.id)}
    assert again["status"] == "repeat" and "audit" not in again  # the first ack had it
