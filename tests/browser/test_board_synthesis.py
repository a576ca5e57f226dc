"""Issue 12 on the facilitator's board, in Chromium on the real server (demo congress):
« Plus / moins de points » by keyboard and without JavaScript, and a rename written as a
full sentence that comes back normalised. Accessible (axe-core) at 1280 px and 360 px."""

from __future__ import annotations

import re

import pytest

from deliberation.corpus import DEMO_FACILITATOR

from .conftest import start_server, stop_server
from .support import check_axe
from .test_live_debate import connected, staff_page, warm

pytestmark = pytest.mark.browser

SENTENCE = ("les communes rurales doivent garder un guichet humain pour accompagner "
            "les démarches en ligne, au plus près des habitants")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("board-synthesis"))
    warm(server)
    yield server
    stop_server(server)


def _first_theme(page) -> str:
    return page.eval_on_selector(".board-theme .grain", "g => g.closest('section').dataset.theme")


def test_grain_buttons_by_keyboard_and_a_sentence_rename(server, browser):
    context, board = staff_page(browser, server, DEMO_FACILITATOR, "/animation/tableau")
    connected(board)
    check_axe(board)
    code = _first_theme(board)
    title = f"#grain-{code}-titre"
    assert "Grain\u00a0: 0" in board.inner_text(title)
    plus = board.locator(f"#grain-{code}-max")
    assert re.match(r"Plus de points dans « .+ »", plus.evaluate(
        "b => b.textContent.replace(/\\s+/g, ' ').trim()"))
    box = plus.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    plus.focus()
    board.keyboard.press("Enter")
    board.wait_for_function("() => /Grain\u00a0: \\+1/.test(document.querySelector("
                            "'#board-feedback').textContent)")
    board.wait_for_function(f"() => /\\+1/.test(document.querySelector('{title}')"
                            ".textContent)", timeout=15000)

    # A full sentence as the new statement: normalised (capital, final full stop).
    point = board.locator(f"#theme-{code} article.point").first
    key = point.get_attribute("data-cluster")
    point.locator("summary").click()
    board.fill(f"#rename-{key}", SENTENCE)
    point.get_by_role("button", name="Renommer").click()
    expected = SENTENCE[0].upper() + SENTENCE[1:] + "."
    board.wait_for_function(
        "([k, s]) => (document.querySelector(`#point-${k} .point-name`) || {}).textContent"
        " === s", arg=[key, expected], timeout=15000)
    check_axe(board)
    context.close()

    phone_sized, small = staff_page(browser, server, DEMO_FACILITATOR, "/animation/tableau",
                                    viewport={"width": 360, "height": 740})
    connected(small)
    check_axe(small)
    assert small.evaluate("document.documentElement.scrollWidth") <= 360
    phone_sized.close()


def test_grain_buttons_work_without_javascript(server, browser):
    context, board = staff_page(browser, server, DEMO_FACILITATOR, "/animation/tableau",
                                java_script_enabled=False)
    code = board.eval_on_selector_all(".board-theme .grain",
                                      "gs => gs.map(g => g.closest('section').dataset.theme)")[-1]
    for _ in range(3):
        board.click(f"#grain-{code}-min")
        assert "C'est fait." in board.inner_text(".flashes")
    assert "Grain\u00a0: \u22123" in board.inner_text(f"#grain-{code}-titre")
    assert board.is_disabled(f"#grain-{code}-min")
    assert "Grain le plus large atteint" in board.inner_text(f"#grain-{code}-min-pourquoi")
    context.close()  # no axe-core here: it is a script (checked above, with JavaScript)
