"""The draft in a real browser: one sentence per recurring point, each opening (by keyboard
too) on the ideas behind it, shown whole at both projector sizes.

On the demo congress after its sort, the facilitator proposes the draft of the theme with
the most points of two ideas or more, opens a sentence's sources with the keyboard, pulls
an isolated idea in, and the article screen and the motion preview are checked at
1280×720 and 1920×1080: every sentence whole (no cut, no ellipsis, nothing hidden by an
overflow, checked scrolled into view), axe-core clean, and no horizontal scroll at 360 px.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import pytest
from playwright.sync_api import expect

from .conftest import start_server, stop_server
from .support import assert_nothing_clipped, check_axe, screenshot, staff_login

pytestmark = pytest.mark.browser

SIZES = ({"width": 1280, "height": 720}, {"width": 1920, "height": 1080})


@pytest.fixture(scope="module")
def draft_server(tmp_path_factory):
    """Our own demo congress: this module rewrites an article."""
    server = start_server(tmp_path_factory.mktemp("drafting"))
    yield server
    stop_server(server)


def richest_article(server) -> int:
    """The theme article whose theme has the most points of two shown ideas or more."""
    path = re.sub(r"^sqlite:///", "", server.env["DATABASE_URL"])
    with closing(sqlite3.connect(path, timeout=30)) as db:
        row = db.execute("""
            SELECT a.id FROM article a JOIN cluster k ON k.theme_id = a.theme_id
            WHERE a.kind = 'theme' AND (
                SELECT count(*) FROM contribution c WHERE c.cluster_id = k.id
                AND c.theme_id = k.theme_id AND c.off_topic = 0
                AND c.status IN ('visible', 'duplicate')) >= 2
            GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1""").fetchone()
    assert row, "the demo congress has no recurring point of two ideas"
    return row[0]


def facilitator(browser, server, viewport):
    return staff_login(browser, server.url, viewport=viewport)


def assert_whole(page, selector: str, minimum: int = 1) -> int:
    """Each element whole once scrolled into view (the pages are longer than a screen)."""
    count = page.locator(selector).count()
    assert count >= minimum, f"{count} element(s) for {selector!r}, expected {minimum}+"
    for i in range(count):
        page.locator(selector).nth(i).evaluate(
            "e => { e.classList.add('clip-check'); e.scrollIntoView({block: 'center'}); }")
        assert_nothing_clipped(page, ".clip-check")
        page.locator(selector).nth(i).evaluate("e => e.classList.remove('clip-check')")
    return count


def test_draft_sentences_sources_and_projector_sizes(draft_server, browser):
    server = draft_server
    article = richest_article(server)
    url = f"{server.url}/animation/redaction/article/{article}"
    context, page = facilitator(browser, server, SIZES[0])
    page.goto(url)
    page.get_by_role("button", name="Proposer un brouillon").click()
    expect(page.get_by_text("Brouillon proposé")).to_be_visible()
    body = page.get_by_label("Texte (Markdown)").input_value()
    lines = body.splitlines()
    assert lines and all(line.startswith("- ") for line in lines)
    assert "!" not in body  # statements are no exclamations

    sentences = page.locator("#titre-phrases ~ .sentence-list > .sentence")
    assert sentences.count() == len(lines)
    first = sentences.first.locator("summary")
    first.focus()
    page.keyboard.press("Enter")  # a sentence opens on its ideas from the keyboard
    expect(sentences.first.locator("details")).to_have_attribute("open", "")
    expect(sentences.first.locator(".contribution").first).to_be_visible()
    assert sentences.first.locator(".contribution").count() >= 2
    check_axe(page)

    others = page.locator("#titre-autres ~ details .contribution")
    if others.count():
        page.locator("#titre-autres ~ details summary").first.click()
        others.first.get_by_role("button", name=re.compile("^Ajouter au texte")).click()
        expect(page.get_by_text("Phrase ajoutée")).to_be_visible()
        assert len(page.get_by_label("Texte (Markdown)").input_value().splitlines()) \
            == len(lines) + 1

    for size in SIZES:
        page.set_viewport_size(size)
        page.goto(url)
        label = f"{size['width']}x{size['height']}"
        screenshot(page, f"draft-{label}")
        assert_whole(page, ".sentence-text", minimum=len(lines))
        assert_whole(page, "#apercu li", minimum=len(lines))
        page.goto(server.url + "/animation/redaction/motion")
        assert_whole(page, f"#article-{article} .motion-text li", minimum=len(lines))
    check_axe(page)

    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(url)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"horizontal scroll at 360 px: {width}"
    context.close()
