"""A congress derived from the demo's published motion, in a real browser.

The demo congress's motion (the national motion's sentences) is voted and published;
the facilitator reaches « Créer un congrès à partir de cette motion » by keyboard,
gets a French error for a bad code, creates the congress, and, once new ideas are
sorted, the drafting screen of an article shows the earlier text sentence by sentence
with « Confirmé par » marks and the « Nouveau » points, at 1280×720, 1920×1080 and
360 px, axe-core clean, targets of 44 px.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from deliberation import contributions, create_app, derivation, sorting
from deliberation.config import TestConfig
from deliberation.extensions import db
from deliberation.models import Congress, Participant

from ..conftest import make_person
from ..test_derivation import DEMO_MOTION, NEW_IDEAS, _article, publish_motion
from .conftest import start_server, stop_server
from .support import check_axe, screenshot, staff_login

pytestmark = pytest.mark.browser

SIZES = ({"width": 1280, "height": 720}, {"width": 1920, "height": 1080})


@pytest.fixture(scope="module")
def derive_server(tmp_path_factory):
    """Our own demo congress, its motion published (this module creates a congress)."""
    server = start_server(tmp_path_factory.mktemp("derivation"))
    with same_database(server).app_context():
        demo = db.session.scalar(select(Congress).filter_by(join_code="RURAL26"))
        animation = db.session.scalar(select(Participant).filter_by(
            congress_id=demo.id, role="facilitator"))
        publish_motion(demo, DEMO_MOTION, animation)
        db.session.commit()
    yield server
    stop_server(server)


def same_database(server):
    """An app of this test process on the server's database (to prepare data)."""
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    return create_app({**config, "SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"]})


def sort_new_ideas(server) -> int:
    """Post the new ideas in the derived congress, sort them; the id of its proximity
    article."""
    with same_database(server).app_context():
        new = db.session.scalar(select(Congress).filter_by(join_code="RURALITIC"))
        new.phase = "consultation"
        db.session.commit()
        for i, text in enumerate(NEW_IDEAS):
            contributions.create(new, text, author=make_person(new, f"Élu·e {i}"))
        db.session.commit()
        sorting.refit(new.id)
        new.phase = "drafting"
        db.session.commit()
        article = _article(new, "proximite")
        assert derivation.inherited_view(article).new
        return article.id


def assert_targets(page, selector: str) -> None:
    for box in page.locator(selector).evaluate_all(
            "els => els.filter(e => e.offsetParent).map(e => e.getBoundingClientRect().height)"):
        assert box >= 44, f"{selector}: a target of {box} px"


def test_derive_then_draft_marks_confirmed_and_new(derive_server, browser):
    server = derive_server
    context, page = staff_login(browser, server.url, viewport=SIZES[0])

    page.get_by_role("link", name="Créer un congrès à partir de cette motion").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/animation/deriver$"))
    page.get_by_label("Titre du nouveau congrès").fill("Ruralitic — déclinaison rurale")
    page.get_by_label("Code du congrès").fill("ab")
    page.get_by_label("Code du congrès").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("4 à 16 lettres sans accent ou chiffres")
    check_axe(page)
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_targets(page, "form input, form button")
    page.get_by_label("Code du congrès").fill("ruralitic")
    page.get_by_role("button", name="Créer le congrès").click()
    page.wait_for_url(re.compile(r"/animation/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Tableau de bord — Ruralitic — déclinaison rurale")

    url = f"{server.url}/animation/redaction/article/{sort_new_ideas(server)}"
    for size in SIZES:
        page.set_viewport_size(size)
        page.goto(url)
        panel = page.locator("#inherited")
        expect(panel).to_contain_text("Texte de la motion d'origine")
        mark = panel.locator(".is-confirmed summary").first
        expect(mark).to_contain_text(re.compile(r"Confirmé par \d+ points? \(\d+ contributions?\)"))
        mark.focus()
        page.keyboard.press("Enter")
        expect(panel.locator(".is-confirmed details").first).to_have_attribute("open", "")
        expect(panel.locator(".mark-new").first).to_be_visible()
        check_axe(page)
        screenshot(page, f"derived-draft-{size['width']}x{size['height']}",
                   directory=server.log.parent)

    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_targets(page, "#inherited button, #inherited summary")
    new_point = page.locator("#inherited .point-new").first
    words = new_point.locator("p").first.inner_text().split()[1:4]  # after « Nouveau »
    new_point.get_by_role("button", name=re.compile("^Ajouter au texte")).click()
    expect(page.get_by_text("Phrase ajoutée")).to_be_visible()
    last = page.get_by_label("Texte (Markdown)").input_value().splitlines()[-1]
    assert last.startswith("- ") and " ".join(words) in " ".join(last.split()), last
    expect(page.locator("#inherited")).to_contain_text("déjà dans le texte de l'article")
    context.close()
