"""A published motion and its corrections in the browser (issue 14): the facilitator reaches
« Corriger la motion » from the menu and publishes version 2 by keyboard; the public page
shows « Version 2 du … », the results of each article and « Historique des versions »;
version 1 stays readable, marked as superseded. axe on every page, at 360 px and on the
1280×720 projector, with 44 px tap targets on the phone."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from deliberation import ballots, create_app, drafting, publishing
from deliberation.extensions import db
from deliberation.models import Congress, Participant

from .conftest import start_server, stop_server
from .support import check_axe, phone_context, projector_context, screenshot, staff_login

pytestmark = pytest.mark.browser

CODE = "RURAL26"
TYPO = "Le très haut débit dans chaque hameau, dici 2030."
FIXED = "Le très haut débit dans chaque hameau, d'ici 2030."
TAPS = """() => Array.from(document.querySelectorAll('.versions a, .card a'))
  .filter(a => a.offsetParent !== null)
  .map(a => [a.textContent.trim(), a.getBoundingClientRect().height])
  .filter(([, h]) => h < 44)"""


@pytest.fixture(scope="module")
def published_server(tmp_path_factory):
    """The demo congress with its first article written (with a typo), voted article by
    article and as a whole, and published: version 1."""
    server = start_server(tmp_path_factory.mktemp("publication-versions"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"],
                      "SORT_IN_BACKGROUND": False})
    with app.app_context():
        congress = db.session.scalar(select(Congress).filter_by(join_code=CODE))
        congress.phase = "vote"
        facilitator = db.session.scalar(select(Participant).filter_by(
            congress_id=congress.id, role="facilitator"))
        article = next(a for a in drafting.articles(congress) if a.kind == "theme")
        drafting.save_version(article, None, TYPO, facilitator)
        db.session.commit()
        people = list(db.session.scalars(select(Participant).filter_by(
            congress_id=congress.id, role="participant").order_by(Participant.id)))[:5]
        for person in people:
            ballots.set_present(person, True, None)
        for ballot, plan in ((ballots.create(congress, "Article 1", article=article),
                              ["pour", "pour", "pour", "contre", "abstention"]),
                             (ballots.create(congress, "Ensemble du texte"),
                              ["pour", "pour", "contre", "pour", "abstention"])):
            db.session.commit()
            ballots.open_ballot(ballot.id)
            for person, choice in zip(people, plan, strict=True):
                ballots.cast_vote(ballot.id, person.id, choice)
            ballots.close_ballot(ballot.id)
        publishing.publish(ballot.id, facilitator.id)
        db.session.remove()
        db.engine.dispose()
    yield server
    stop_server(server)


def test_the_facilitator_corrects_by_keyboard_and_the_public_page_keeps_the_history(
        published_server, browser):
    url = published_server.url
    context, page = staff_login(browser, url, viewport={"width": 1280, "height": 720})
    with context:
        page.get_by_role("link", name="Corriger la motion").first.click()
        page.wait_for_url(re.compile(r"/animation/motion/corriger$"))
        check_axe(page)
        body = page.get_by_label(re.compile(r"Texte de «\s*Article 1\s*»"))
        assert body.input_value() == TYPO  # prefilled with the version in force
        page.get_by_role("button", name=re.compile("Publier la version 2")).click()
        error = page.locator("#erreur")
        assert "Indiquez la raison de la correction" in error.inner_text()
        check_axe(page)
        page.get_by_label(re.compile("Raison de la correction")).focus()
        page.keyboard.type("Apostrophe oubliée à l'article 1.")
        body.fill(FIXED)
        body.focus()
        page.keyboard.press("Tab")  # the next fields, then the button, by keyboard
        while page.evaluate("document.activeElement.tagName") != "BUTTON":
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/motion/{CODE}$"))
        assert "Version 2 publiée" in page.inner_text("body")

    for make, name in ((lambda: phone_context(browser), "360"),
                       (lambda: projector_context(browser,
                                                  viewport={"width": 1280, "height": 720}),
                        "1280x720")):
        with make() as context:
            page = context.new_page()
            page.goto(f"{url}/motion/{CODE}")
            text = page.inner_text("body")
            assert re.search(r"Version 2 du \d+ \w+ 20\d\d", text)
            assert "Apostrophe oubliée à l'article 1." in text
            assert "Historique des versions" in text and FIXED in text
            assert "Résultats article par article" in text
            assert "Une correction ne modifie pas les résultats" in text
            check_axe(page)
            if name == "360":
                assert page.evaluate(TAPS) == []
                assert page.evaluate("document.documentElement.scrollWidth") <= 360
            screenshot(page, f"motion-versions-{name}", directory=published_server.log.parent)
            page.get_by_role("link", name=re.compile(r"Version 1 du")).click()
            page.wait_for_url(re.compile(rf"/motion/{CODE}/version/1$"))
            old = page.inner_text("body")
            assert "Version remplacée" in old and "dici 2030" in old
            check_axe(page)
            page.get_by_role("link", name=re.compile("Lire la version en vigueur")).click()
            page.wait_for_url(re.compile(rf"/motion/{CODE}$"))
