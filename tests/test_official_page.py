"""An official's congress page says what they can do now (issue 14): « Voter maintenant »
while a ballot is open (revealed live by static/js/congress.js), and the amendments
page while the facilitator keeps the text open for them."""

from __future__ import annotations

import re

from deliberation import ballots, drafting
from deliberation.extensions import db

from .conftest import login


def _page(client, congress) -> str:
    return client.get(f"/c/{congress.join_code}").get_data(as_text=True)


def _vote_banner_hidden(page: str) -> bool:
    banner = re.search(r'<p class="card now-card" id="voter-maintenant"[^>]*>', page)
    assert banner, "the banner is always in the page, so the live update can reveal it"
    return " hidden" in banner.group(0)


def test_voter_maintenant_shows_while_a_ballot_is_open(client, congress, official):
    congress.phase = "vote"
    db.session.commit()
    login(client, official)
    assert _vote_banner_hidden(_page(client, congress))
    ballot = ballots.create(congress, "Motion entière")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    page = _page(client, congress)
    assert not _vote_banner_hidden(page)
    link = re.search(r'<a class="button button-primary" href="([^"]+)">Voter maintenant</a>', page)
    assert link and client.get(link.group(1)).status_code == 200
    assert 'src="/static/js/congress.js"' in page
    ballots.close_ballot(ballot.id)
    assert _vote_banner_hidden(_page(client, congress))


def test_before_the_first_ballot_the_vote_space_is_one_tap_away(client, congress, official):
    """In the vote phase the official declares presence on the vote page: the congress page
    leads there before any ballot opens, then gives way to « Voter maintenant »."""
    congress.phase = "vote"
    db.session.commit()
    login(client, official)
    page = _page(client, congress)
    link = re.search(r'id="espace-vote">.*?href="([^"]+)">Aller à l\'espace de vote</a>', page)
    assert link and client.get(link.group(1)).status_code == 200
    ballot = ballots.create(congress, "Motion entière")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    assert re.search(r'id="espace-vote" hidden>', _page(client, congress))
    congress.phase = "drafting"
    db.session.commit()
    assert "espace-vote" not in _page(client, congress)


def test_the_amendments_page_is_offered_while_amendments_are_open(client, congress, official,
                                                                  facilitator):
    congress.phase = "drafting"
    db.session.commit()
    login(client, official)
    assert "proposer un amendement" not in _page(client, congress)
    drafting.set_amendments_open(congress, True, facilitator)
    db.session.commit()
    page = _page(client, congress)
    link = re.search(r'href="([^"]+)">Lire le texte et proposer un amendement</a>', page)
    assert link and client.get(link.group(1)).status_code == 200


def test_visitors_who_have_not_joined_see_no_vote_link(client, congress):
    congress.phase = "vote"
    db.session.commit()
    assert "Voter maintenant" not in _page(client, congress)
