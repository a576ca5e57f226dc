"""A room count entered by the facilitator and confirmed by the scribe (issue 18): the
facilitator types it by keyboard at 1280×720, cannot confirm their own entry (French
refusal), the scribe confirms it on a 360-px screen, and the ballot's results show the
electronic and room counts and their sum. axe-core on both sizes, 44-px targets."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from deliberation import ballots
from deliberation.corpus import DEMO_SCRIBE
from deliberation.extensions import db
from deliberation.models import Participant

from .conftest import demo_in_vote_phase, start_server, stop_server
from .support import check_axe, staff_login

pytestmark = pytest.mark.browser

CODE = "RURAL26"
PROJECTOR_720 = {"width": 1280, "height": 720}
PHONE = {"width": 360, "height": 740}
CHOICES = ["pour"] * 3 + ["contre"] * 2
TITLE = "Article 1 — l'accès au très haut débit"


@pytest.fixture(scope="module")
def closed_server(tmp_path_factory):
    """The demo congress with a closed ballot: 10 present, 5 voted by phone (3 pour, 2 contre)."""
    server = start_server(tmp_path_factory.mktemp("room-count"))
    with demo_in_vote_phase(server, CODE) as congress:
        people = list(db.session.scalars(select(Participant).filter_by(
            congress_id=congress.id, role="participant").order_by(Participant.id)))[:10]
        for person in people:
            ballots.set_present(person, True, None)
        ballot = ballots.create(congress, TITLE)
        db.session.commit()
        ballots.open_ballot(ballot.id)
        for person, choice in zip(people, CHOICES, strict=False):
            ballots.cast_vote(ballot.id, person.id, choice)
        ballots.close_ballot(ballot.id)
        db.session.remove()
        db.engine.dispose()
    yield server
    stop_server(server)


def _targets_are_44px(page) -> None:
    for target in page.locator("main button, main input:not([type=hidden]):not([type=radio]), "
                               "main label.radio").all():
        box = target.bounding_box()
        assert box and box["height"] >= 44 and box["width"] >= 44, \
            (target.evaluate("e => e.outerHTML"), box)


def test_a_room_count_entered_then_confirmed_by_a_second_staff_member(closed_server, browser):
    url = closed_server.url
    context, staff = staff_login(browser, url, viewport=PROJECTOR_720)
    with context:
        staff.get_by_role("navigation", name="Animation") \
            .get_by_role("link", name="Décomptes de la salle").click()
        staff.wait_for_url(re.compile(r"/animation/decomptes-salle$"))
        check_axe(staff)
        assert staff.evaluate("document.documentElement.scrollWidth") <= 1280

        # Too many people: the five who voted by phone cannot be counted again.
        staff.get_by_label("Personnes comptées dans la salle").focus()
        staff.keyboard.type("9")
        staff.get_by_label("Pour", exact=True).fill("4")
        staff.get_by_label("Pour", exact=True).press("Enter")
        staff.wait_for_selector("[role=alert]")
        assert "ne peut pas être comptée une seconde fois" in staff.inner_text("[role=alert]")
        assert staff.get_by_label("Personnes comptées dans la salle").input_value() == "9"
        check_axe(staff)

        # Four people counted by show of hands: 3 pour, 1 abstention.
        staff.get_by_label("Personnes comptées dans la salle").fill("4")
        staff.get_by_label("Pour", exact=True).fill("3")
        staff.get_by_label("Abstention", exact=True).fill("1")
        staff.get_by_role("button", name=re.compile("Enregistrer le décompte")).press("Enter")
        staff.wait_for_selector("text=en attente de confirmation")

        # The facilitator cannot confirm their own entry.
        staff.get_by_role("button", name=re.compile("Confirmer le décompte")).press("Enter")
        staff.wait_for_selector("[role=alert]")
        assert "une autre personne de l'équipe" in staff.inner_text("[role=alert]")

        # The ballot is not publishable meanwhile, and its results are electronic only.
        staff.goto(url + "/animation/scrutins")
        assert staff.locator(".room-split").count() == 0
        staff.get_by_role("button", name=re.compile("Publier les résultats")).press("Enter")
        staff.wait_for_selector("text=en attente de confirmation")
        assert "Résultats publiés" not in staff.inner_text("main")

    scribe_context, scribe = staff_login(browser, url, DEMO_SCRIBE, viewport=PHONE)
    with scribe_context:
        scribe.goto(url + "/animation/decomptes-salle")
        assert "en attente de confirmation" in scribe.inner_text("main")
        check_axe(scribe)
        assert scribe.evaluate("document.documentElement.scrollWidth") <= 360
        _targets_are_44px(scribe)
        scribe.get_by_role("button", name=re.compile("Confirmer le décompte")).focus()
        scribe.keyboard.press("Enter")
        scribe.wait_for_selector("text=Décompte de la salle confirmé")
        text = scribe.inner_text("main")
        assert "confirmé par Garant du relevé" in text
        check_axe(scribe)

    context, staff = staff_login(browser, url, viewport=PROJECTOR_720)
    with context:
        staff.goto(url + "/animation/scrutins")
        split = staff.inner_text(".room-split")
        assert "pour 3, contre 2, abstention 0" in split  # electronic
        assert "à main levée, 4 personnes comptées" in split
        assert "pour 3, contre 0, abstention 1" in split  # room
        rows = staff.locator(".ballot-admin table tbody tr")
        assert rows.nth(0).inner_text().split("\t")[1].strip() == "6"  # the sum
        check_axe(staff)
