"""A whole closing vote in real browsers: the facilitator opens the ballot, three officials
vote on 360-px phones, the projector shows the count, then the results once it closes.

Runs on its own server (the vote phase would get in the way of the other browser tests).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import start_server, stop_server
from .support import check_axe, phone_context, projector_context, screenshot, staff_login

pytestmark = pytest.mark.browser

CODE = "RURAL26"


@pytest.fixture(scope="module")
def vote_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("vote-server"))
    yield server
    stop_server(server)


def _facilitator(browser, server):
    return staff_login(browser, server.url, viewport={"width": 1280, "height": 900})


def _join(context, server, name: str):
    page = context.new_page()
    page.goto(f"{server.url}/rejoindre?code={CODE}")
    page.get_by_label("Code du congrès").fill(CODE)
    page.get_by_label("Votre nom").fill(name)
    page.get_by_label("Votre commune").fill("Polminhac")
    page.get_by_role("button", name="Rejoindre").click()
    page.wait_for_url(re.compile(rf"/c/{CODE}"))
    page.goto(f"{server.url}/c/{CODE}/vote")
    # Joined with the code: in the facilitator's queue, no vote yet (issue 13).
    expect(page.locator("#inscription-en-attente")).to_contain_text(
        "Votre inscription attend la validation de l'animation")
    expect(page.get_by_role("button", name="Je suis présent·e")).to_have_count(0)
    return page


def _admit(desk, server, pages) -> None:
    """The facilitator accepts the queue in one click and opens self-declared presence;
    then, in the room, one tap declares each official present."""
    desk.goto(server.url + "/animation/participants")
    desk.get_by_role("button", name=re.compile("^Tout accepter")).click()
    expect(desk.get_by_text(f"{len(pages)} inscriptions acceptées.")).to_be_visible()
    desk.goto(server.url + "/animation/presence")
    desk.get_by_role("button", name="Ouvrir le signalement de présence").click()
    for page in pages:
        page.reload()
        page.get_by_role("button", name="Je suis présent·e").click()
        expect(page.get_by_text("Vous êtes présent·e.")).to_be_visible()


def test_drafting_preview_draft_and_reorder(vote_server, browser):
    """Runs first: the closing vote below freezes the text."""
    server = vote_server
    staff, desk = _facilitator(browser, server)
    desk.goto(server.url + "/animation/redaction")
    check_axe(desk)
    first = desk.locator("li[data-article-id]").first
    first_id = first.get_attribute("data-article-id")
    second_id = desk.locator("li[data-article-id]").nth(1).get_attribute("data-article-id")
    # Drag the first theme's article below the second (SortableJS, then a reload).
    with desk.expect_navigation():  # the new order is saved, then the page reloads
        first.locator(".drag-handle").drag_to(
            desk.locator(f"#article-{second_id} .drag-handle"), target_position={"x": 5, "y": 20})
    expect(desk.locator("li[data-article-id]").first).to_have_attribute(
        "data-article-id", second_id, timeout=10_000)
    desk.goto(f"{server.url}/animation/redaction/article/{first_id}")
    desk.get_by_role("button", name="Proposer un brouillon").click()
    expect(desk.get_by_text("Brouillon proposé")).to_be_visible()
    body = desk.get_by_label("Texte (Markdown)")
    assert body.input_value().startswith("- ")
    body.fill("Un texte **gras** et <script>alert(1)</script>.")
    expect(desk.locator("#apercu strong")).to_have_text("gras")
    assert "<script" not in desk.inner_html("#apercu")
    check_axe(desk)
    staff.close()


def test_closing_vote(vote_server, browser):
    server = vote_server
    staff, desk = _facilitator(browser, server)
    desk.get_by_label("Vote", exact=True).check()
    desk.get_by_role("button", name="Appliquer").click()
    expect(desk.locator("#phase-courante")).to_have_text("Vote")

    phones = [phone_context(browser) for _ in range(3)]
    pages = [_join(ctx, server, f"Élu·e votant·e {i + 1}") for i, ctx in enumerate(phones)]
    _admit(desk, server, pages)
    expect(pages[0].locator("#aucun-scrutin")).to_be_visible()
    check_axe(pages[0])

    projector = projector_context(browser)
    screen = projector.new_page()
    screen.goto(f"{server.url}/projecteur/{CODE}/vote")
    expect(screen.locator(".pv-empty")).to_be_visible()

    desk.goto(server.url + "/animation/scrutins")
    desk.get_by_label("Intitulé").fill("Ensemble de la motion")
    desk.get_by_role("button", name="Créer le scrutin").click()
    desk.get_by_role("button", name="Ouvrir le vote « Ensemble de la motion »").click()
    expect(desk.get_by_text("Scrutin ouvert")).to_be_visible()

    # The projector switches to the open ballot by itself (socket push).
    expect(screen.locator(".pv-title")).to_have_text("Ensemble de la motion")
    expect(screen.locator(".pv-eligible")).to_have_text("3")
    expect(screen.locator(".pv-cast")).to_have_text("0")

    choices = ["Pour", "Pour", "Contre"]
    for i, (page, choice) in enumerate(zip(pages, choices, strict=True)):
        # The phone reloads itself when the ballot opens.
        confirm = page.get_by_role("button", name="Voter", exact=True)
        expect(confirm).to_be_visible(timeout=10_000)
        if i == 0:
            check_axe(page)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"horizontal scroll at 360 px: {width}"
        if i == 2:
            # Keyboard only: arrows move between choices, Enter confirms.
            page.get_by_label("Pour", exact=True).focus()
            page.keyboard.press("ArrowRight")
            expect(page.get_by_label("Contre", exact=True)).to_be_checked()
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")
        else:
            page.get_by_text(choice, exact=True).click()  # one tap on the choice…
            expect(page.get_by_label(choice, exact=True)).to_be_checked()
            if i == 0:
                screenshot(page, "vote-phone")
            confirm.click()  # …then the confirmation
        done = page.locator(".vote-done")
        expect(done).to_contain_text("Votre vote est enregistré")
        expect(done).to_contain_text(f"Choix : {choice}")
        # \s: the socket's answer is set with non-breaking spaces before the colons
        expect(done).to_contain_text(re.compile(r"Reçu\s:\s[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}"))
    check_axe(pages[0])

    expect(screen.locator(".pv-cast")).to_have_text("3", timeout=5_000)
    desk.goto(server.url + "/animation/scrutins")
    desk.get_by_role("button", name="Clore le vote « Ensemble de la motion »").click()

    expect(screen.locator(".pv-outcome")).to_have_text("ADOPTÉ", timeout=3_000)
    bars = screen.locator(".pv-bar-value")
    expect(bars.nth(0)).to_have_text("2 · 66,7 %")
    expect(bars.nth(1)).to_have_text("1 · 33,3 %")
    expect(bars.nth(2)).to_have_text("0")
    expect(screen.locator("[data-vote-projector]")).to_have_class(re.compile("has-chart"))
    expect(screen.locator(".pv-detail")).to_contain_text("3 votes sur 3 votant·es")
    screenshot(screen, "vote-projector")

    # The phones show the result once the ballot closes.
    expect(pages[1].locator(".result .outcome")).to_have_text("Adopté", timeout=10_000)
    check_axe(pages[1])

    for context in (*phones, projector, staff):
        context.close()
    assert "Traceback" not in server.log.read_text()
