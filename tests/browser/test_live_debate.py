"""The live debate end to end on the real server (gevent, Socket.IO, demo congress):
the scribe captures an idea, the projector shows it without reload, the facilitator
moves it (keyboard and drag and drop), the projector and an official's phone follow;
after a server restart the projector shows the same state.

Screenshots of the scribe, projector and board screens go to docs/screenshots/.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
import requests

from deliberation.corpus import DEMO_FACILITATOR, DEMO_SCRIBE

from .conftest import start_server, stop_server
from .support import (
    REPO_ROOT,
    SCREENSHOT_DIR,
    check_axe,
    phone_context,
    projector_context,
    screenshot,
)

pytestmark = pytest.mark.browser

CODE = "RURAL26"
IDEA = "Un bus numérique qui passe chaque semaine dans les hameaux du plateau de Millevaches."


@pytest.fixture(scope="module")
def debate_server(tmp_path_factory):
    """Our own server (this module restarts it), warmed up: the sorting model is fitted."""
    server = start_server(tmp_path_factory.mktemp("live"))
    warm(server)
    yield server
    stop_server(server)


def warm(server) -> None:
    """Wait until this server process holds the sorting model (fitted once after a start)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # /similaires asks for the model, then uses it
        found = requests.get(f"{server.url}/c/{CODE}/similaires",
                             params={"texte": "la fibre optique dans les villages"},
                             timeout=60).json()
        if found["items"]:
            return
        time.sleep(1)
    raise AssertionError("the sorting model was never ready")


def restart(server) -> None:
    """Stop the server process and start `python app.py` again on the same database."""
    stop_server(server)
    log = server.log.open("a")
    server.process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT,
                                      env=server.env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(server.url + "/", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError("server did not come back")


def staff_page(browser, server, credentials, path, **options):
    context = browser.new_context(locale="fr-FR", **({"viewport": {"width": 1280,
                                                                   "height": 900}} | options))
    page = context.new_page()
    page.goto(server.url + "/animation/connexion")
    page.get_by_label("Adresse électronique").fill(credentials[0])
    page.get_by_label("Mot de passe").fill(credentials[1])
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/animation/"))
    page.goto(server.url + path)
    return context, page


def connected(page) -> None:
    """Wait until the page's socket is connected (it gets its snapshot right then)."""
    page.wait_for_selector("body[data-live=on]", state="attached", timeout=15000)
    page.wait_for_timeout(300)


def test_capture_shows_on_projector_then_move_reaches_every_screen(debate_server, browser):
    server = debate_server
    invite = re.search(r"(http://\S+/i/\S+)", server.cli("demo-info")).group(1)

    projector_ctx = projector_context(browser)
    projector = projector_ctx.new_page()
    projector.goto(f"{server.url}/projecteur/{CODE}")
    connected(projector)

    phone_ctx = phone_context(browser)
    phone = phone_ctx.new_page()
    phone.goto(invite)
    phone.goto(f"{server.url}/c/{CODE}/direct")
    connected(phone)

    # 1. The scribe: speaker from the registered officials, text, Entrée — keyboard only.
    scribe_ctx, scribe = staff_page(browser, server, DEMO_SCRIBE, "/animation/releve")
    check_axe(scribe)
    connected(scribe)
    speaker = scribe.eval_on_selector("#speakers option", "o => o.value")
    assert scribe.evaluate("document.activeElement.id") == "speaker"  # autofocus
    scribe.keyboard.type(speaker)
    assert scribe.input_value("#commune")  # filled from the registered official
    scribe.keyboard.press("Tab")
    scribe.keyboard.press("Tab")
    assert scribe.evaluate("document.activeElement.id") == "text"
    scribe.keyboard.type(IDEA)
    started = time.monotonic()
    scribe.keyboard.press("Enter")
    scribe.wait_for_selector("#guess:not([hidden])")
    line = scribe.inner_text("#guess-line")
    assert "enregistrée" in line and "Thème deviné" in line, line
    idea_id = int(re.search(r"Idée n° (\d+)", line).group(1))
    assert scribe.evaluate("document.activeElement.id") == "guess"

    # 2. The projector shows it without reload.
    projector.wait_for_selector(f'#ticker li[data-id="{idea_id}"]', timeout=15000)
    capture_to_projector = time.monotonic() - started
    projector.wait_for_selector(f'#map-points circle[data-id="{idea_id}"]')
    assert IDEA[:40] in projector.inner_text("#ticker")
    phone.wait_for_selector(f'#latest li[data-id="{idea_id}"]', timeout=15000)
    print(f"capture → projector: {capture_to_projector * 1000:.0f} ms")

    # One key corrects the guessed theme: « 2 » is the second theme.
    themes = scribe.eval_on_selector_all(".key-list li", "ls => ls.map(l => l.textContent)")
    second = re.sub(r"^\s*2\s*", "", themes[1]).strip()
    scribe.keyboard.press("2")
    scribe.wait_for_function("(t) => document.querySelector('#guess-line').textContent"
                             ".includes('corrigé en « ' + t)", arg=second)
    assert scribe.evaluate("document.activeElement.id") == "speaker"  # next speaker
    check_axe(scribe)
    screenshot(scribe, "scribe")
    projector.wait_for_function(f"() => document.querySelector('#map-points circle[data-id="
                                f"\"{idea_id}\"]').classList.contains('t1')")

    # 3. The facilitator moves it with the keyboard alternative…
    board_ctx, board = staff_page(browser, server, DEMO_FACILITATOR, "/animation/tableau")
    connected(board)
    check_axe(board)
    board.locator(f'[data-correct="{idea_id}"]').first.focus()
    board.keyboard.press("Enter")
    assert board.evaluate("document.activeElement.id") == "correction-action"
    assert IDEA[:30] in board.inner_text("#correction-text")
    target = board.eval_on_selector_all(
        "#correction-target option[value^='theme:']", "os => os.map(o => o.value)")[4]
    board.select_option("#correction-target", target)
    board.focus("#correction-form button[type=submit]")
    board.keyboard.press("Enter")
    board.wait_for_function("() => /c'est fait/.test(document.querySelector("
                            "'#board-feedback').textContent)")
    board.wait_for_selector(f'#theme-{target[6:]} [data-id="{idea_id}"]', timeout=15000)

    # …and the projector and the official's phone follow.
    projector.wait_for_function(f"() => document.querySelector('#map-points circle[data-id="
                                f"\"{idea_id}\"]').classList.contains('t4')", timeout=15000)
    theme_label = board.inner_text(f"#theme-{target[6:]}-titre").split("\n")[0]
    label = re.sub(r"\s*\d+ idées?$", "", theme_label).strip()
    phone.wait_for_function(
        f"(t) => (document.querySelector('#latest li[data-id=\"{idea_id}\"] "
        f"[data-theme-label]') || {{}}).textContent === t", arg=label, timeout=15000)

    # 4. Drag and drop: the idea goes into a recurring point of its new theme (the last
    # one, just above the isolated ideas: a theme has many points, the first is far away).
    point_list = board.locator(f"#theme-{target[6:]} ul.ideas[data-cluster]:not("
                               "[data-cluster=''])").last
    source = board.locator(f'#theme-{target[6:]} li.idea[data-id="{idea_id}"] .idea-text')
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    board.mouse.move(start["x"] + 20, start["y"] + 8)
    board.mouse.down()
    end = point_list.locator("li.idea").last.bounding_box()
    board.mouse.move(end["x"] + 20, end["y"] + 10, steps=25)
    board.mouse.move(end["x"] + 22, end["y"] + 12, steps=5)
    board.mouse.up()
    board.wait_for_function("() => /déplacée/.test(document.querySelector("
                            "'#board-feedback').textContent)")
    # Re-rendered from the server: the idea now sits in a recurring point of that theme.
    board.wait_for_function(
        f"() => {{ const li = document.querySelector('#theme-{target[6:]} "
        f"li.idea[data-id=\"{idea_id}\"]'); return li && li.parentElement.dataset.cluster; }}",
        timeout=15000)
    board.wait_for_function("() => /déplacée/.test(document.querySelector("
                            "'#board-feedback').textContent)")
    board.wait_for_selector(f'li.idea[data-id="{idea_id}"] input[name=ids]', state="attached",
                            timeout=15000)  # re-rendered by the server: split checkbox
    board.evaluate("window.scrollTo(0, 0)")
    board.screenshot(path=str(SCREENSHOT_DIR / "board.png"))

    # The official's phone: read-only board, 360 px, accessible.
    check_axe(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=str(SCREENSHOT_DIR / "live-board.png"))  # the top: themes, form

    # The projector: 16:9, no scrollbars, accessible.
    projector.wait_for_timeout(500)
    assert projector.evaluate("document.documentElement.scrollHeight <= innerHeight && "
                              "document.documentElement.scrollWidth <= innerWidth")
    check_axe(projector)
    screenshot(projector, "projector")

    # 5. Projector modes driven from the board: one theme in detail, then back.
    board.check("input[name=mode][value=theme]")
    board.select_option("#projector-theme", target[6:])
    board.click("#projector-form button[type=submit]")
    projector.wait_for_selector("#theme-mode:not([hidden])", timeout=15000)
    projector.wait_for_function("() => document.querySelector('#focus-title').textContent"
                                ".trim().length > 0")
    assert projector.is_hidden("#overview-mode")
    check_axe(projector)
    board.check("input[name=mode][value=overview]")
    board.click("#projector-form button[type=submit]")
    projector.wait_for_selector("#overview-mode:not([hidden])", timeout=15000)

    # 6. After a server restart, the projector shows the same state.
    before = projector.eval_on_selector_all(
        ".tile", "ts => ts.map(t => [t.dataset.theme, t.querySelector('[data-count]')"
        ".textContent, t.querySelector('[data-points]').textContent.replace(/\\s+/g, '')])")
    dot = projector.get_attribute(f'#map-points circle[data-id="{idea_id}"]', "class")
    for ctx in (scribe_ctx, board_ctx, phone_ctx):
        ctx.close()
    restart(server)
    projector.reload()
    assert projector.evaluate("document.body.dataset.mode") == "overview"
    after = projector.eval_on_selector_all(
        ".tile", "ts => ts.map(t => [t.dataset.theme, t.querySelector('[data-count]')"
        ".textContent, t.querySelector('[data-points]').textContent.replace(/\\s+/g, '')])")
    assert after == before
    assert projector.get_attribute(f'#map-points circle[data-id="{idea_id}"]', "class") == dot
    assert IDEA[:40] in projector.inner_text("#ticker")
    projector_ctx.close()


def test_official_supports_a_similar_idea_instead_of_duplicating(debate_server, browser):
    server = debate_server
    warm(server)
    invite = re.search(r"(http://\S+/i/\S+)", server.cli("demo-info")).group(1)
    with phone_context(browser) as context:
        page = context.new_page()
        page.goto(invite)
        page.goto(f"{server.url}/c/{CODE}/direct")
        connected(page)
        page.get_by_label("Votre idée").fill("La fibre optique dans tous les villages")
        page.wait_for_selector("#similaires li.similar-item", timeout=15000)
        check_axe(page)
        item = page.locator("#similaires li.similar-item").first
        before = int(item.locator("[data-supports]").inner_text())
        item.get_by_role("button", name=re.compile(r"\+1 Je soutiens")).click()
        try:
            page.wait_for_selector("#similaires .supported", timeout=15000)
        except Exception:
            print("DEBUG similar", page.inner_text("#similaires"))
            raise
        assert int(item.locator("[data-supports]").inner_text()) == before + 1
        # issue 14: no « +1 » left on that idea anywhere on the page, nor after a reload
        supported = item.get_attribute("data-id")
        assert page.locator(f'form[data-support="{supported}"]').count() == 0
        page.reload()
        connected(page)
        assert page.locator(f'form[data-support="{supported}"]').count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_board_and_scribe_work_without_javascript(debate_server, browser):
    server = debate_server
    context, page = staff_page(browser, server, DEMO_SCRIBE, "/animation/releve",
                               java_script_enabled=False)
    page.get_by_label("Orateur·rice", exact=True).fill("Jeanne Sans-Script")
    page.get_by_label("Commune", exact=True).fill("Murat")
    page.get_by_label("Idée", exact=True).fill(
        "Des ateliers de formation au numérique pour les seniors.")
    page.get_by_role("button", name="Enregistrer l'idée").click()
    assert "enregistrée — thème" in page.inner_text(".flashes")
    assert "Jeanne Sans-Script" in page.inner_text("#recent")
    context.close()
