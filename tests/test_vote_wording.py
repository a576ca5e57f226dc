"""What the phone says after a vote (issue 14): a vote cast by procuration is confirmed
as the giver's, never as « Votre vote »; without JavaScript the vote page does not
promise to update by itself."""

from __future__ import annotations

from deliberation import ballots
from deliberation.extensions import db

from .conftest import login, make_person


def test_a_proxy_vote_is_confirmed_as_the_givers(client, congress, official):
    congress.phase = "vote"
    db.session.commit()
    giver = make_person(congress, "Paul Absent")
    ballots.set_present(official, True, None)
    ballots.grant_proxy(giver, official, None)
    ballot = ballots.create(congress, "Motion entière")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    login(client, official)
    answer = client.post(f"/c/{congress.join_code}/vote/{ballot.id}",
                         data={"choice": "pour", "for": str(giver.id), "key": "cle-procuration-1"},
                         headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["message"].startswith("Le vote de Paul Absent (procuration) est enregistré.")
    mine = client.post(f"/c/{congress.join_code}/vote/{ballot.id}",
                       data={"choice": "contre", "key": "cle-procuration-2"},
                       headers={"Accept": "application/json"})
    assert mine.json["message"].startswith("Votre vote est enregistré.")


def test_without_javascript_the_page_does_not_promise_to_update_itself(client, congress,
                                                                       official):
    congress.phase = "vote"
    db.session.commit()
    login(client, official)
    page = client.get(f"/c/{congress.join_code}/vote").get_data(as_text=True)
    assert '<span class="js-only" hidden>Cette page se met à jour' in page
    assert "<noscript>Rechargez cette page à l'ouverture d'un vote.</noscript>" in page
