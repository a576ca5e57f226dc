"""Presence, quorum and progress on screen during a ballot (issue 14): the figures the
phone and both projectors show, on a known congress, and their live update after a vote
and after a presence change, through the coalesced progress channel."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from deliberation import ballots, voting
from deliberation.extensions import db, socketio
from deliberation.formats import NARROW_NBSP
from deliberation.models import Participant

from .conftest import login, make_person, staff_login

NBSP = "\u00a0"


# --- the rules, without a server -----------------------------------------------------------

def test_progress_words_presence_quorum_and_votes_in_french():
    found = voting.progress(3, voting.Attendance(present=6, proxies=2), quorum=5)
    assert (found["cast"], found["eligible"], found["present"], found["proxies"]) == (3, 8, 6, 2)
    assert found["quorum"] == 5 and not found["quorum_met"] and found["quorum_reachable"]
    assert found["percent"] == 37.5
    assert found["texts"] == {
        "presence": f"6 élu·es présent·es, 2 procurations{NBSP}: 8 votant·es attendu·es.",
        "quorum": f"Quorum{NBSP}: 5 votes requis — non atteint, il manque 2 votes.",
        "progress": f"3 votes sur 8 votant·es attendu·es (37,5{NARROW_NBSP}%).",
    }


@pytest.mark.parametrize(("cast", "present", "quorum", "met", "text"), [
    (0, voting.Attendance(1, 0), None, True, "Pas de quorum requis."),
    (0, voting.Attendance(1, 0), 0, True, "Pas de quorum requis."),
    (5, voting.Attendance(9, 1), 5, True, f"Quorum{NBSP}: 5 votes requis — atteint."),
    (4, voting.Attendance(9, 1), 5, False,
     f"Quorum{NBSP}: 5 votes requis — non atteint, il manque 1 vote."),
    (1, voting.Attendance(3, 0), 5, False,
     f"Quorum{NBSP}: 5 votes requis — hors d'atteinte avec 3 votant·es attendu·es."),
])
def test_quorum_rule_met_or_not(cast, present, quorum, met, text):
    found = voting.progress(cast, present, quorum)
    assert found["quorum_met"] is met and found["texts"]["quorum"] == text
    assert found["quorum_reachable"] is ("hors d'atteinte" not in text)


def test_singular_and_empty_room():
    one = voting.progress(1, voting.Attendance(present=1, proxies=0), None)
    assert one["texts"]["presence"] == \
        f"1 élu·e présent·e, aucune procuration{NBSP}: 1 votant·e attendu·e."
    assert one["texts"]["progress"] == f"1 vote sur 1 votant·e attendu·e (100{NARROW_NBSP}%)."
    empty = voting.progress(0, voting.Attendance(present=0, proxies=0), 3)
    assert empty["percent"] == 0.0 and not empty["quorum_reachable"]
    # Someone voted, then was marked absent: the bar never passes 100 %.
    over = voting.progress(3, voting.Attendance(present=2, proxies=0), None)
    assert over["percent"] == 100.0


# --- a known congress ------------------------------------------------------------------------

@pytest.fixture
def room(congress):
    """Vote phase: six present officials, two absent ones who gave their procuration (one
    each, limit 1), a third absent one whose procuration exceeds the limit, a present
    observer, a pending registration and a facilitator."""
    congress.phase = "vote"
    db.session.commit()
    present = [make_person(congress, f"Élu·e présent·e {i}", present=True) for i in range(6)]
    givers = [make_person(congress, f"Élu·e absent·e {i}") for i in range(3)]
    ballots.grant_proxy(givers[0], present[0], None)
    ballots.grant_proxy(givers[1], present[1], None)
    givers[2].proxy_for_id = present[0].id  # beyond the limit of 1: not counted
    db.session.commit()
    make_person(congress, "Presse locale", role="observer", present=True)
    make_person(congress, "Inscription en attente", roster_status="pending")
    absent = make_person(congress, "Élue en retard")
    facilitator = make_person(congress, "Animation", role="facilitator",
                              email="anim@example.org", password="motdepasse-solide")
    return {"congress": congress, "present": present, "givers": givers, "absent": absent,
            "facilitator": facilitator}


def open_ballot(congress, quorum=None) -> int:
    ballot = ballots.create(congress, "Ensemble du texte", quorum=quorum)
    db.session.commit()
    ballots.open_ballot(ballot.id)
    return ballot.id


def test_payload_figures_on_a_known_congress(room):
    congress, present = room["congress"], room["present"]
    attendance = ballots.attendance(congress.id)
    assert (attendance.present, attendance.proxies) == (6, 2)
    bid = open_ballot(congress, quorum=5)
    ballots.cast_vote(bid, present[2].id, "pour")
    ballots.cast_vote(bid, room["givers"][0].id, "contre", holder_id=present[0].id)  # proxy
    ballots.cast_vote(bid, present[0].id, "pour")
    found = ballots.progress_payload(bid)
    assert {k: found[k] for k in ("ballot", "state", "cast", "eligible", "present", "proxies",
                                  "quorum", "quorum_met")} == {
        "ballot": bid, "state": "open", "cast": 3, "eligible": 8, "present": 6,
        "proxies": 2, "quorum": 5, "quorum_met": False}
    assert "il manque 2 votes" in found["texts"]["quorum"]
    for person in present[3:5]:
        ballots.cast_vote(bid, person.id, "abstention")
    found = ballots.progress_payload(bid)
    assert found["cast"] == 5 and found["quorum_met"]
    assert found["texts"]["quorum"].endswith("atteint.")
    assert found["texts"]["progress"].startswith("5 votes sur 8 votant·es attendu·es")
    # What screens get on (re)connection carries the same figures.
    screen = ballots.screen_payload(db.session.get(ballots.Ballot, bid))
    assert screen["texts"] == found["texts"] and screen["present"] == 6


def test_progress_is_pushed_live_after_a_vote_and_a_presence_change(app, room, client):
    congress = room["congress"]
    bid = open_ballot(congress, quorum=7)
    auth = {"congress": congress.join_code}
    projector = socketio.test_client(app, auth={**auth, "audience": "projector"})
    phone = socketio.test_client(app, auth={**auth, "audience": "participants"})
    for sock in (projector, phone):
        sock.get_received()

    def pushed(sock):
        return [m["args"][0] for m in sock.get_received() if m["name"] == "ballot.progress"]

    ballots.cast_vote(bid, room["present"][3].id, "pour")
    assert ballots.flush_progress() == 1
    for sock in (projector, phone):
        [p] = pushed(sock)
        assert (p["cast"], p["present"], p["proxies"], p["quorum_met"]) == (1, 6, 2, False)
        assert p["texts"]["progress"].startswith("1 vote sur 8 votant·es")
    # The facilitator marks a latecomer present: the count of those present moves.
    staff_login(client, "anim@example.org")
    response = client.post(f"/animation/presence/{room['absent'].id}", data={"present": "1"})
    assert response.status_code == 302
    assert ballots.flush_progress() == 1
    [p] = pushed(projector)
    assert (p["present"], p["eligible"]) == (7, 9)
    assert p["texts"]["presence"].startswith("7 élu·es présent·es, 2 procurations")
    projector.disconnect()
    phone.disconnect()


def test_the_phone_shows_presence_quorum_and_progress(room, client):
    congress = room["congress"]
    bid = open_ballot(congress, quorum=5)
    ballots.cast_vote(bid, room["present"][1].id, "pour")
    login(client, room["present"][0])
    page = client.get(f"/c/{congress.join_code}/vote").get_data(as_text=True)
    assert f'data-progress-for="{bid}"' in page
    assert f"6 élu·es présent·es, 2 procurations{NBSP}: 8 votant·es attendu·es." in page
    assert "il manque 4 votes" in page
    assert 'role="progressbar"' in page and 'aria-valuenow="12.5"' in page
    assert f'aria-valuetext="1 vote sur 8 votant·es attendu·es (12,5{NARROW_NBSP}%)."' in page


def test_both_projectors_render_presence_and_quorum(room, client):
    congress = room["congress"]
    open_ballot(congress)
    for path in (f"/projecteur/{congress.join_code}/vote", f"/projecteur/{congress.join_code}"):
        page = client.get(path).get_data(as_text=True)
        assert "pv-meter-box" in page and 'role="progressbar"' in page, path
        assert "Pas de quorum requis." in page, path
        assert f"6 élu·es présent·es, 2 procurations{NBSP}: 8 votant·es attendu·es." in page


def test_the_roster_queue_refreshes_an_open_ballots_progress(app, room, client):
    """Accepting or refusing a registration changes who may vote: the screens hear the
    progress again, as after a presence or proxy change."""
    congress = room["congress"]
    bid = open_ballot(congress)
    waiting = db.session.scalar(select(Participant).filter_by(
        congress_id=congress.id, roster_status="pending"))
    late = make_person(congress, "Deuxième inscription", roster_status="pending")
    projector = socketio.test_client(app, auth={"congress": congress.join_code,
                                                "audience": "projector"})
    projector.get_received()
    staff_login(client, "anim@example.org")
    ballots.flush_progress()
    for path in (f"/animation/participants/{waiting.id}/accepter",
                 f"/animation/participants/{late.id}/refuser"):
        assert client.post(path).status_code == 302, path
        assert ballots.flush_progress() == 1, path
        [p] = [m["args"][0] for m in projector.get_received() if m["name"] == "ballot.progress"]
        assert p["ballot"] == bid and p["eligible"] == 8
    projector.disconnect()
