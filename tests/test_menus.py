"""The staff menu (issue 14): every screen of the current phase and of the next one is one
click away, for the facilitator and the scribe; the dashboard says what to do next."""

from __future__ import annotations

import re

import pytest

from deliberation import ballots, publishing
from deliberation.extensions import db
from deliberation.models import PHASES

from .conftest import login


def _menu(client) -> dict[str, str]:
    page = client.get("/animation/").get_data(as_text=True)
    nav = re.search(r'<nav aria-label="Animation" class="sub-nav">(.*?)</nav>', page, re.S)
    assert nav, page[:500]
    return {label.strip(): href for href, label in
            re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(1))}


def _set_phase(congress, phase):
    congress.phase = phase
    db.session.commit()


@pytest.mark.parametrize("phase, expected", [
    ("consultation", {"Tableau du débat", "Relevé en séance", "Participants"}),
    ("debate", {"Rédaction de la motion", "Relevé en séance", "Relevé des idées"}),
    ("drafting", {"Rédaction de la motion", "Amendements", "Scrutins",
                  "Présence et procurations", "Aperçu de la motion"}),
    ("vote", {"Scrutins", "Présence et procurations", "Amendements"}),
])
def test_the_facilitator_reaches_every_screen_of_the_phase_and_the_next(
        client, congress, facilitator, phase, expected):
    _set_phase(congress, phase)
    login(client, facilitator)
    menu = _menu(client)
    assert expected <= set(menu), sorted(menu)
    for label, href in menu.items():  # every link leads somewhere, no URL typed
        assert client.get(href).status_code == 200, (label, href)


def test_drafting_and_ballots_are_offered_before_the_vote_and_gone_in_consultation(
        client, congress, facilitator):
    _set_phase(congress, "consultation")
    login(client, facilitator)
    assert "Scrutins" not in _menu(client)  # two phases ahead: not yet
    _set_phase(congress, "drafting")
    assert {"Scrutins", "Présence et procurations"} <= set(_menu(client))


def test_the_scribe_sees_only_the_screens_of_the_scribe(client, congress, scribe):
    _set_phase(congress, "debate")
    login(client, scribe)
    menu = _menu(client)
    assert "Relevé en séance" in menu and "Projecteur" in menu
    assert not {"Participants", "Scrutins", "Tableau du débat"} & set(menu)


def test_the_current_page_is_marked_for_screen_readers(client, congress, facilitator):
    login(client, facilitator)
    page = client.get("/animation/").get_data(as_text=True)
    assert re.search(r'<a href="/animation/"[^>]*aria-current="page"', page)


@pytest.mark.parametrize("phase", PHASES)
def test_the_dashboard_says_what_to_do_next_with_a_link(client, congress, facilitator, phase):
    _set_phase(congress, phase)
    login(client, facilitator)
    page = client.get("/animation/").get_data(as_text=True)
    step = re.search(r'<p class="next-step"><strong>Prochaine étape\s:</strong>.*?'
                     r'<a href="([^"]+)">', page, re.S)
    assert step, phase
    assert client.get(step.group(1)).status_code == 200


def test_the_published_motion_joins_the_menu_once_published(client, congress, facilitator):
    _set_phase(congress, "vote")
    login(client, facilitator)
    assert "Motion publiée" not in _menu(client)  # its page would answer 404 before
    ballot = ballots.create(congress, "Motion entière")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    ballots.close_ballot(ballot.id)
    ballots.publish_ballot(ballot.id)
    _set_phase(congress, "closed")
    # No vote: the text is rejected, and waits for the facilitator's choice (publishing.py).
    assert "Motion publiée" not in _menu(client)
    publishing.publish(ballot.id, facilitator.id, "publier")
    menu = _menu(client)
    assert client.get(menu["Motion publiée"]).status_code == 200
    page = client.get("/animation/").get_data(as_text=True)
    assert "La motion est publiée" in page
