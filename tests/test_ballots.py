"""Ballots on the real database (deliberation/ballots.py, web/votes.py, the socket event).

Concurrency tests use real threads, each with its own app context and session,
against the test database (a file SQLite in WAL mode here; PostgreSQL when the
suite is pointed at one).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, inspect, select, text

from deliberation import ballots, voting
from deliberation.errors import InputError
from deliberation.extensions import db, socketio
from deliberation.models import AuditEvent, Ballot, BallotBox, BallotVoter, Participant, Vote
from deliberation.voting import VoteRefused

from .conftest import login, make_person


@pytest.fixture
def hall(congress):
    """A congress in its vote phase with eight present officials, an observer, an absentee."""
    congress.phase = "vote"
    db.session.commit()
    people = [make_person(congress, f"Élu {i}", present=True) for i in range(8)]
    observer = make_person(congress, "Presse locale", role="observer", present=True)
    absent = make_person(congress, "Élue absente")
    facilitator = make_person(congress, "Animation", role="facilitator",
                              email="anim@example.org", password="motdepasse-solide")
    return {"congress": congress, "people": people, "observer": observer, "absent": absent,
            "facilitator": facilitator}


def new_ballot(congress, title="Ensemble du texte", *, state="open", **options) -> int:
    ballot = ballots.create(congress, title, **options)
    db.session.commit()
    if state in ("open", "closed", "published"):
        ballots.open_ballot(ballot.id)
    if state in ("closed", "published"):
        ballots.close_ballot(ballot.id)
    if state == "published":
        ballots.publish_ballot(ballot.id)
    return ballot.id


def stored_votes(ballot_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Vote)
                             .where(Vote.ballot_id == ballot_id))


def refusal(call) -> str:
    with pytest.raises(VoteRefused) as err:
        call()
    db.session.rollback()
    assert err.value.message  # always a French sentence
    return err.value.code


# --- states, eligibility, choices ------------------------------------------------------

def test_vote_is_counted_with_a_receipt(hall):
    bid = new_ballot(hall["congress"])
    voter = hall["people"][0]
    outcome = ballots.cast_vote(bid, voter.id, "pour")
    assert outcome["status"] == "counted" and outcome["choice"] == "pour"
    assert len(outcome["receipt"]) == 14
    assert ballots.counts(bid, False) == {"pour": 1, "contre": 0, "abstention": 0}
    ballot = db.session.get(Ballot, bid)
    assert ballots.check_receipt(ballot, outcome["receipt"].lower().replace("-", " "))
    assert not ballots.check_receipt(ballot, "AAAA-BBBB-CCCC")


def test_vote_before_open_and_after_close(hall):
    congress, voter = hall["congress"], hall["people"][0]
    draft = new_ballot(congress, "Brouillon", state="draft")
    assert refusal(lambda: ballots.cast_vote(draft, voter.id, "pour")) == "not_open"
    closed = new_ballot(congress, "Clos", state="closed")
    assert refusal(lambda: ballots.cast_vote(closed, voter.id, "pour")) == "closed"
    published = new_ballot(congress, "Publié", state="published")
    assert refusal(lambda: ballots.cast_vote(published, voter.id, "pour")) == "closed"
    assert stored_votes(draft) == stored_votes(closed) == stored_votes(published) == 0


def test_ineligible_voters_are_refused(hall, congress):
    bid = new_ballot(hall["congress"])
    assert refusal(lambda: ballots.cast_vote(bid, hall["observer"].id, "pour")) == "observer"
    assert refusal(lambda: ballots.cast_vote(bid, hall["absent"].id, "pour")) == "absent"
    revoked = make_person(congress, "Accès retiré", present=True)
    revoked.token_revoked_at = revoked.created_at
    db.session.commit()
    assert refusal(lambda: ballots.cast_vote(bid, revoked.id, "pour")) == "inactive"
    from deliberation.models import Congress

    other = Congress(title="Autre congrès", join_code="AUTRE1", phase="vote")
    db.session.add(other)
    db.session.commit()
    stranger = make_person(other, "Élu d'ailleurs", present=True)
    assert refusal(lambda: ballots.cast_vote(bid, stranger.id, "pour")) == "not_member"
    assert refusal(lambda: ballots.cast_vote(bid, 999_999, "pour")) == "unknown_voter"
    assert refusal(lambda: ballots.cast_vote(999_999, hall["people"][0].id, "pour")) \
        == "unknown_ballot"
    assert stored_votes(bid) == 0


@pytest.mark.parametrize("choice", [None, "", "oui", "POUR", 3, ["pour"], "pour; DROP"])
def test_invalid_choice_is_refused(hall, choice):
    bid = new_ballot(hall["congress"])
    assert refusal(lambda: ballots.cast_vote(bid, hall["people"][0].id, choice)) \
        == "invalid_choice"
    assert stored_votes(bid) == 0


def test_state_machine_in_the_database(hall):
    congress = hall["congress"]
    bid = new_ballot(congress, state="draft")
    with pytest.raises(InputError):
        ballots.close_ballot(bid)
    with pytest.raises(InputError):
        ballots.publish_ballot(bid)
    ballots.open_ballot(bid)
    with pytest.raises(InputError):
        ballots.open_ballot(bid)
    ballots.close_ballot(bid)
    with pytest.raises(InputError):
        ballots.close_ballot(bid)
    with pytest.raises(InputError):
        ballots.delete_draft(bid)
    ballots.publish_ballot(bid)
    ballot = db.session.get(Ballot, bid)
    assert ballot.state == "published" and ballot.results["counts"]["pour"] == 0


def test_bad_ballot_settings_are_refused(hall):
    congress = hall["congress"]
    with pytest.raises(InputError, match="secret"):
        ballots.create(congress, "Secret modifiable", secret=True, allow_change=True)
    db.session.rollback()
    with pytest.raises(InputError):
        ballots.create(congress, "Majorité", majority="unanimité")
    db.session.rollback()
    with pytest.raises(InputError):
        ballots.create(congress, "   ")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


# --- one vote per voter -------------------------------------------------------------------

def test_unique_constraint_holds_without_the_code(hall):
    bid = new_ballot(hall["congress"])
    voter = hall["people"][0].id
    ballots.cast_vote(bid, voter, "pour")
    from sqlalchemy.exc import IntegrityError

    db.session.add(Vote(ballot_id=bid, voter_id=voter, choice="contre"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Vote(ballot_id=bid, voter_id=hall["people"][1].id, choice="peut-être"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_second_vote_refused_unless_change_allowed(hall):
    congress = hall["congress"]
    voter = hall["people"][0].id
    fixed = new_ballot(congress, "Sans changement")
    ballots.cast_vote(fixed, voter, "pour")
    assert refusal(lambda: ballots.cast_vote(fixed, voter, "contre")) == "already_voted"
    assert ballots.counts(fixed, False) == {"pour": 1, "contre": 0, "abstention": 0}

    changing = new_ballot(congress, "Avec changement", allow_change=True)
    assert ballots.cast_vote(changing, voter, "pour")["status"] == "counted"
    assert ballots.cast_vote(changing, voter, "contre")["status"] == "changed"
    assert ballots.cast_vote(changing, voter, "contre")["status"] == "unchanged"
    assert ballots.cast_vote(changing, voter, "abstention")["status"] == "changed"
    assert ballots.counts(changing, False) == {"pour": 0, "contre": 0, "abstention": 1}
    assert stored_votes(changing) == 1
    ballots.close_ballot(changing)
    assert refusal(lambda: ballots.cast_vote(changing, voter, "pour")) == "closed"
    assert ballots.counts(changing, False)["abstention"] == 1


def test_retry_with_the_same_key_is_applied_once(hall):
    bid = new_ballot(hall["congress"])
    voter = hall["people"][0].id
    first = ballots.cast_vote(bid, voter, "contre", client_key="cle-unique-123")
    again = ballots.cast_vote(bid, voter, "contre", client_key="cle-unique-123")
    assert first["status"] == "counted" and again["status"] == "repeat"
    assert again["receipt"] == first["receipt"] and again["choice"] == "contre"
    assert stored_votes(bid) == 1
    secret = new_ballot(hall["congress"], "Secret", secret=True)
    first = ballots.cast_vote(secret, voter, "pour", client_key="cle-secrete-456")
    again = ballots.cast_vote(secret, voter, "pour", client_key="cle-secrete-456")
    assert again["status"] == "repeat" and again["receipt"] == first["receipt"]
    assert ballots.counts(secret, True)["pour"] == 1


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
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
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


def test_database_is_wal_on_sqlite(app):
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


@pytest.mark.parametrize("secret", [False, True], ids=["nominal", "secret"])
def test_fifty_parallel_submissions_by_one_voter(app, hall, secret):
    bid = new_ballot(hall["congress"], secret=secret)
    voter = hall["people"][0].id
    before = sum(ballots.counts(bid, secret).values())
    results = _parallel(app, 50, lambda i: ballots.cast_vote(
        bid, voter, "pour", client_key=f"tentative-{i:03d}"))
    statuses = Counter(r["status"] if isinstance(r, dict) else r for r in results)
    assert statuses == {"counted": 1, ("refused", "already_voted"): 49}, statuses
    db.session.expire_all()
    assert sum(ballots.counts(bid, secret).values()) == before + 1
    assert ballots.cast_count(bid, secret) == 1
    assert ballots.verify_report()[1] == []


def test_parallel_retries_of_one_request_count_once(app, hall):
    bid = new_ballot(hall["congress"])
    voter = hall["people"][1].id
    results = _parallel(app, 20, lambda i: ballots.cast_vote(bid, voter, "contre",
                                                             client_key="meme-cle-0001"))
    statuses = Counter(r["status"] for r in results)
    assert statuses == {"counted": 1, "repeat": 19}, results
    db.session.expire_all()
    assert stored_votes(bid) == 1


def test_vote_racing_the_close_is_counted_or_refused(app, hall, congress):
    voters = [make_person(congress, f"Votant {i}", present=True) for i in range(30)]
    bid = new_ballot(hall["congress"])
    closer = len(voters)

    def work(i):
        if i == closer:
            return ("closed-ballot", ballots.close_ballot(bid).id)
        return ballots.cast_vote(bid, voters[i].id, ("pour", "contre", "abstention")[i % 3])

    results = _parallel(app, len(voters) + 1, work)
    assert ("closed-ballot", bid) in results
    acked = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, tuple) and r[0] == "refused"]
    assert all(r[1] == "closed" for r in refused), refused
    assert len(acked) + len(refused) == len(voters), results  # no error, nothing lost
    db.session.expire_all()
    ballot = db.session.get(Ballot, bid)
    assert ballot.results["cast"] == len(acked) == stored_votes(bid)
    assert ballot.results["counts"] == dict(Counter(r["choice"] for r in acked)) | {
        c: 0 for c in voting.CHOICES if c not in Counter(r["choice"] for r in acked)}
    assert ballots.verify_report()[1] == []


# --- secret ballots -------------------------------------------------------------------------

def test_secret_ballot_stores_nothing_linking_voter_and_choice(hall):
    congress, people = hall["congress"], hall["people"]
    bid = new_ballot(congress, "Vote secret", secret=True)
    plan = ["pour", "pour", "contre", "abstention", "pour", "contre", "pour", "contre"]
    receipts = [ballots.cast_vote(bid, p.id, c)["receipt"] for p, c in zip(people, plan,
                                                                              strict=True)]
    # The schema itself: the box holds a random id, the ballot and a choice — nothing else.
    columns = {c["name"] for c in inspect(db.engine).get_columns("ballot_box")}
    assert columns == {"id", "ballot_id", "choice"}
    register = {c["name"] for c in inspect(db.engine).get_columns("ballot_voter")}
    assert "choice" not in register and not any("at" == n or n.endswith("_at")
                                                for n in register)
    assert stored_votes(bid) == 0  # no nominal vote row at all
    box = db.session.execute(text("SELECT * FROM ballot_box WHERE ballot_id = :b"),
                             {"b": bid}).mappings().all()
    assert Counter(r["choice"] for r in box) == Counter(plan)
    assert all(set(r) == {"id", "ballot_id", "choice"} for r in box)
    # Random ids, no shared key with the register, no usable order.
    ids = [r["id"] for r in box]
    assert len(set(ids)) == len(ids) and all(len(i) == 32 for i in ids)
    register_rows = db.session.execute(select(BallotVoter)
                                       .where(BallotVoter.ballot_id == bid)).scalars().all()
    assert {r.voter_id for r in register_rows} == {p.id for p in people}
    shared = {str(v) for r in register_rows for v in (r.receipt, r.client_key, r.voter_id)}
    assert not shared & set(ids)
    assert set(receipts) == {r.receipt for r in register_rows}
    stored_order = [r.choice for r in db.session.execute(text(
        "SELECT choice FROM ballot_box WHERE ballot_id = :b"), {"b": bid})]
    # Physical order after the close says nothing of the casting order.
    ballots.close_ballot(bid)
    after = db.session.execute(select(BallotBox.id).where(BallotBox.ballot_id == bid)).all()
    assert not {r.id for r in after} & set(ids)  # papers re-drawn at the close
    assert Counter(stored_order) == Counter(plan)
    # The audit log says who voted, never what a secret voter chose.
    for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "vote.cast")):
        assert "choice" not in event.payload
    assert db.session.get(Ballot, bid).results["counts"] == {"pour": 4, "contre": 3,
                                                            "abstention": 1}
    assert ballots.verify_report()[1] == []


def test_secret_ballot_cannot_change_vote(hall):
    bid = new_ballot(hall["congress"], secret=True)
    voter = hall["people"][0].id
    ballots.cast_vote(bid, voter, "pour")
    assert refusal(lambda: ballots.cast_vote(bid, voter, "contre")) == "already_voted"
    assert ballots.counts(bid, True) == {"pour": 1, "contre": 0, "abstention": 0}


# --- proxies ----------------------------------------------------------------------------------

def test_proxy_vote_and_limits(hall, congress):
    holder, other = hall["people"][0], hall["people"][1]
    givers = [make_person(congress, f"Absent {i}") for i in range(3)]
    ballots.grant_proxy(givers[0], holder, None)
    with pytest.raises(InputError, match="maximum"):
        ballots.grant_proxy(givers[1], holder, None)
    db.session.rollback()
    ballots.set_max_proxies(congress, "2", None)
    ballots.grant_proxy(givers[1], holder, None)
    with pytest.raises(InputError, match="maximum"):
        ballots.grant_proxy(givers[2], holder, None)
    db.session.rollback()
    with pytest.raises(InputError):
        ballots.set_max_proxies(congress, 1, None)  # someone already carries two
    db.session.rollback()
    with pytest.raises(InputError):
        ballots.set_max_proxies(congress, "trois", None)
    db.session.rollback()
    with pytest.raises(InputError):
        ballots.grant_proxy(hall["people"][2], holder, None)  # present people vote themselves
    db.session.rollback()
    with pytest.raises(InputError):
        ballots.grant_proxy(givers[2], hall["observer"], None)
    db.session.rollback()
    with pytest.raises(InputError):
        ballots.grant_proxy(givers[2], givers[2], None)
    db.session.rollback()
    # Eligible: 8 present officials (+1 staff absent) + 2 procurations carried.
    assert ballots.eligible(congress.id) == 8 + 2

    bid = new_ballot(congress)
    out = ballots.cast_vote(bid, givers[0].id, "contre", holder_id=holder.id)
    assert out["status"] == "counted"
    row = db.session.scalar(select(Vote).where(Vote.ballot_id == bid,
                                               Vote.voter_id == givers[0].id))
    assert row.cast_by_id == holder.id
    assert refusal(lambda: ballots.cast_vote(bid, givers[0].id, "pour",
                                             holder_id=holder.id)) == "already_voted"
    assert refusal(lambda: ballots.cast_vote(bid, givers[1].id, "pour",
                                             holder_id=other.id)) == "no_proxy"
    assert refusal(lambda: ballots.cast_vote(bid, givers[2].id, "pour",
                                             holder_id=holder.id)) == "no_proxy"
    # The holder still votes for themself, once.
    assert ballots.cast_vote(bid, holder.id, "pour")["status"] == "counted"
    # A giver who turns up votes in person; the procuration lapses.
    ballots.set_present(givers[1], True, None)
    assert refusal(lambda: ballots.cast_vote(bid, givers[1].id, "pour",
                                             holder_id=holder.id)) == "proxy_lapsed"
    assert ballots.cast_vote(bid, givers[1].id, "abstention")["status"] == "counted"
    # An absent holder cannot use a procuration.
    ballots.set_present(holder, False, None)
    bid2 = new_ballot(congress, "Second scrutin")
    assert refusal(lambda: ballots.cast_vote(bid2, givers[0].id, "pour",
                                             holder_id=holder.id)) == "absent"


def test_presence_rules(hall, congress):
    observer = hall["observer"]
    with pytest.raises(InputError):
        ballots.set_present(observer, True, None) if not observer.present else \
            ballots.declare_present(observer)
    db.session.rollback()
    congress.phase = "debate"
    db.session.commit()
    with pytest.raises(InputError, match="présence"):
        ballots.declare_present(hall["absent"])
    db.session.rollback()
    ballots.set_presence_open(congress, True, None)
    assert ballots.declare_present(hall["absent"]) is True
    assert db.session.get(Participant, hall["absent"].id).present


# --- majority, quorum, results ------------------------------------------------------------------

def test_quorum_and_majority_in_the_database(hall):
    congress, people = hall["congress"], hall["people"]
    bid = new_ballot(congress, "Quorum", quorum=5)
    for p, c in zip(people[:4], ["pour", "pour", "pour", "contre"], strict=True):
        ballots.cast_vote(bid, p.id, c)
    live = ballots.results(db.session.get(Ballot, bid))
    assert live["final"] is False and live["voters"] == 4
    ballot = ballots.close_ballot(bid)
    assert ballot.results["quorum_reached"] is False and ballot.results["adopted"] is False
    assert "Quorum non atteint" in ballot.results["reason"]

    bid = new_ballot(congress, "Abstentions", quorum=5)
    for p, c in zip(people[:5], ["pour", "contre", "abstention", "abstention", "abstention"],
                    strict=True):
        ballots.cast_vote(bid, p.id, c)
    ballot = ballots.close_ballot(bid)
    assert ballot.results["quorum_reached"] is True
    assert ballot.results["adopted"] is False and "Égalité" in ballot.results["reason"]

    bid = new_ballot(congress, "Deux tiers", majority="two_thirds")
    for p, c in zip(people[:6], ["pour"] * 4 + ["contre"] * 2, strict=True):
        ballots.cast_vote(bid, p.id, c)
    assert ballots.close_ballot(bid).results["adopted"] is True


# --- verification and tampering ---------------------------------------------------------------

def test_verify_recomputes_every_tally(hall, runner):
    congress, people = hall["congress"], hall["people"]
    bid = new_ballot(congress)
    for p, c in zip(people[:5], ["pour", "pour", "contre", "abstention", "pour"], strict=True):
        ballots.cast_vote(bid, p.id, c)
    ballots.close_ballot(bid)
    ballots.publish_ballot(bid)
    secret = new_ballot(congress, "Secret", secret=True)
    for p in people[:3]:
        ballots.cast_vote(secret, p.id, "contre")
    ballots.close_ballot(secret)
    lines, problems = ballots.verify_report()
    assert problems == [] and any("chaîne intacte" in line for line in lines)
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 0, result.output
    assert "Vérification réussie" in result.output

    # A vote changed behind the app's back: the published counts no longer follow.
    db.session.execute(text("UPDATE vote SET choice = 'contre' WHERE ballot_id = :b AND "
                            "choice = 'pour'"), {"b": bid})
    db.session.commit()
    problems = ballots.verify_report()[1]
    assert any("décompte" in p for p in problems), problems
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1 and "ÉCHEC" in result.output


def test_verify_detects_a_stuffed_secret_box(hall, runner):
    bid = new_ballot(hall["congress"], secret=True)
    for p in hall["people"][:3]:
        ballots.cast_vote(bid, p.id, "pour")
    ballots.close_ballot(bid)
    db.session.add(BallotBox(ballot_id=bid, choice="contre"))
    db.session.commit()
    problems = ballots.verify_report()[1]
    assert any("urne" in p or "décompte" in p for p in problems), problems
    assert runner.invoke(args=["verify"]).exit_code == 1


def test_verify_detects_a_vote_missing_from_the_log(hall):
    bid = new_ballot(hall["congress"])
    ballots.cast_vote(bid, hall["people"][0].id, "pour")
    db.session.add(Vote(ballot_id=bid, voter_id=hall["people"][1].id, choice="pour"))
    db.session.commit()
    problems = ballots.verify_report()[1]
    assert any("journal" in p for p in problems), problems


# --- HTTP and socket interfaces -------------------------------------------------------------

def test_phone_vote_over_http(hall, client):
    congress, me = hall["congress"], hall["people"][0]
    bid = new_ballot(congress)
    login(client, me)
    page = client.get(f"/c/{congress.join_code}/vote")
    assert page.status_code == 200 and "Voter</button>" in page.get_data(as_text=True)
    headers = {"Accept": "application/json"}
    url = f"/c/{congress.join_code}/vote/{bid}"
    answer = client.post(url, data={"choice": "pour", "key": "clef-http-0001"}, headers=headers)
    assert answer.status_code == 200 and answer.json["status"] == "counted"
    again = client.post(url, data={"choice": "pour", "key": "clef-http-0001"}, headers=headers)
    assert again.json["status"] == "repeat" and again.json["receipt"] == answer.json["receipt"]
    other = client.post(url, data={"choice": "contre", "key": "clef-http-0002"},
                        headers=headers)
    assert other.status_code == 422 and "déjà voté" in other.json["error"]
    bad = client.post(url, data={"choice": "peut-être"}, headers=headers)
    assert bad.status_code == 422 and bad.json["code"] == "invalid_choice"
    html = client.post(url, data={"choice": "xx"})  # no JavaScript: flash and redirect
    assert html.status_code == 302
    assert "Choix invalide" in client.get(html.headers["Location"]).get_data(as_text=True)
    assert client.post(f"/c/{congress.join_code}/vote/999999", data={"choice": "pour"},
                       headers=headers).status_code == 422
    assert client.post(url, data={"choice": "pour", "for": "abc"},
                       headers=headers).json["code"] == "no_proxy"
    assert stored_votes(bid) == 1


def test_observer_sees_no_vote_form(hall, client):
    congress = hall["congress"]
    new_ballot(congress)
    login(client, hall["observer"])
    page = client.get(f"/c/{congress.join_code}/vote").get_data(as_text=True)
    assert "observateur" in page and "Confirmer mon vote" not in page


def test_vote_over_socket(app, hall, client):
    congress, me = hall["congress"], hall["people"][2]
    bid = new_ballot(congress)
    login(client, me)
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"congress": congress.join_code,
                                      "audience": "participants"})
    assert sock.is_connected()
    for bad in (None, "texte", {"ballot": "1"}, {"ballot": True, "choice": "pour"},
                {"ballot": bid, "choice": "oui"}, {"ballot": bid, "choice": "x" * 500},
                {"ballot": bid, "choice": "pour", "for": "moi"}):
        answer = sock.emit("ballot.vote", bad, callback=True)
        assert answer["ok"] is False and answer["error"], bad
    answer = sock.emit("ballot.vote", {"ballot": bid, "choice": "abstention",
                                       "key": "socket-cle-01"}, callback=True)
    assert answer["ok"] and answer["status"] == "counted"
    answer = sock.emit("ballot.vote", {"ballot": bid, "choice": "abstention",
                                       "key": "socket-cle-01"}, callback=True)
    assert answer["ok"] and answer["status"] == "repeat"
    state = sock.emit("ballot.state", {}, callback=True)
    assert state["ok"] and state["ballots"][0]["cast"] == 1
    assert "results" not in state["ballots"][0]  # no counts while it is open
    sock.disconnect()
    from flask import g

    g.pop("_login_user", None)  # the test's app context outlives the logged-in socket
    anonymous = socketio.test_client(app, auth={"congress": congress.join_code,
                                                "audience": "projector"})
    answer = anonymous.emit("ballot.vote", {"ballot": bid, "choice": "pour"}, callback=True)
    assert answer == {"ok": False, "error": answer["error"], "code": "login"}
    anonymous.disconnect()
    assert stored_votes(bid) == 1


def test_progress_is_coalesced_not_per_vote(app, hall):
    bid = new_ballot(hall["congress"])
    projector = socketio.test_client(app, auth={"congress": hall["congress"].join_code,
                                                "audience": "projector"})
    projector.get_received()
    for p in hall["people"][:6]:
        ballots.cast_vote(bid, p.id, "pour")
    assert [m for m in projector.get_received() if m["name"] == "ballot.progress"] == []
    phone = socketio.test_client(app, auth={"congress": hall["congress"].join_code,
                                            "audience": "participants"})
    phone.get_received()
    assert ballots.flush_progress() == 1
    pushed = [m for m in projector.get_received() if m["name"] == "ballot.progress"]
    assert len(pushed) == 1 and pushed[0]["args"][0]["cast"] == 6
    assert [m["args"][0]["cast"] for m in phone.get_received()
            if m["name"] == "ballot.progress"] == [6]
    # The screens hear of every flush; the phones at most every phone interval.
    ballots.cast_vote(bid, hall["people"][6].id, "contre")
    assert ballots.flush_progress(phone_interval=60) == 1
    assert [m["args"][0]["cast"] for m in projector.get_received()
            if m["name"] == "ballot.progress"] == [7]
    assert [m for m in phone.get_received() if m["name"] == "ballot.progress"] == []
    projector.disconnect()
    phone.disconnect()


def test_facilitator_runs_a_ballot(hall, client):
    from .conftest import staff_login

    congress = hall["congress"]
    staff_login(client, "anim@example.org")
    page = client.get("/animation/scrutins")
    assert page.status_code == 200
    bad = client.post("/animation/scrutins", data={"title": "X", "quorum": "-3"})
    assert bad.status_code == 422 and "quorum" in bad.get_data(as_text=True)
    bad = client.post("/animation/scrutins", data={"title": "X", "secret": "1",
                                                   "allow_change": "1"})
    assert bad.status_code == 422
    assert client.post("/animation/scrutins", data={"title": "X", "article": "abc"}
                       ).status_code == 422
    made = client.post("/animation/scrutins", data={"title": "Ensemble du texte",
                                                    "quorum": "3"})
    assert made.status_code == 302
    bid = db.session.scalar(select(Ballot.id).where(Ballot.congress_id == congress.id))
    assert client.post(f"/animation/scrutins/{bid}/clore").status_code == 302  # refused
    assert db.session.get(Ballot, bid).state == "draft"
    client.post(f"/animation/scrutins/{bid}/ouvrir", data={"project": "1"})
    for p in hall["people"][:3]:
        ballots.cast_vote(bid, p.id, "pour")
    client.post(f"/animation/scrutins/{bid}/clore")
    client.post(f"/animation/scrutins/{bid}/publier")
    db.session.expire_all()
    ballot = db.session.get(Ballot, bid)
    assert ballot.state == "published" and ballot.results["adopted"] is True
    assert client.post(f"/animation/scrutins/{bid}/nimporte").status_code == 404
    projector = client.get(f"/projecteur/{congress.join_code}/vote").get_data(as_text=True)
    assert "ADOPTÉ" in projector and "pv-chart" in projector
    presence = client.get("/animation/presence")
    assert presence.status_code == 200
    assert client.post("/animation/procurations", data={"giver": "x"}).status_code == 422
    assert client.post("/animation/procurations/limite", data={"limit": "9"}).status_code == 422
