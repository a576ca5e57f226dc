"""RGAA 4.1 in Chromium on the demo congress (issue 14): tap targets of at least 44×44 px
on a 360-px phone and unique ids on every page an official, the public and the staff
reach; the focus on a form's error summary; the facilitator's board by keyboard."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from .support import check_axe, phone_context, staff_login

pytestmark = pytest.mark.browser

# Not pages a finger uses: exports and files, the projectors (a screen in the room, never
# touched), sign-out and invite links (they change the session), the API and health.
SKIPPED = re.compile(r"/(i|api|static|projecteur)/|/deconnexion|/sante|/export/|"
                     r"\.(csv|json|md|pdf|html|txt|png|svg)$")

# Measured in the page, for every rendered control a finger aims at.
TARGETS_JS = """() => {
  const words = t => (t || '').replace(/\\s+/g, ' ').trim().split(' ').filter(Boolean);
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'
    && !e.closest('details:not([open]) > :not(summary)') && !e.closest('.visually-hidden');
  const block = e => { let a = e.parentElement;
    while (a && getComputedStyle(a).display.startsWith('inline')) { a = a.parentElement; }
    return a; };
  const inRunningText = a => { if (getComputedStyle(a).display !== 'inline') { return false; }
    const p = block(a);
    return !!p && ['P', 'LI', 'DD', 'TD'].includes(p.tagName) &&
      words(p.textContent).length - words(a.textContent).length >= 3; };
  const labelOf = i => i.closest('label') ||
    (i.id && document.querySelector(`label[for="${i.id}"]`));
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    ' «' + (e.textContent || e.value || e.name || '').replace(/\\s+/g, ' ').trim()
    .slice(0, 40) + '»';
  const small = [];
  let checked = 0;
  for (const e of document.querySelectorAll('a[href], button, input, select, summary')) {
    if (e.type === 'hidden' || e.classList.contains('skip-link')) { continue; }
    let target = e;
    if (e.type === 'checkbox' || e.type === 'radio') { target = labelOf(e) || e; }
    if (!shown(target) || (target.tagName === 'A' && inRunningText(target))) { continue; }
    const box = target.getBoundingClientRect();
    checked += 1;
    if (box.width < 43.5 || box.height < 43.5) {
      small.push(`${name(target)} ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  const duplicated = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
  return {checked, small: [...new Set(small)], duplicated};
}"""


def _invite_url(server) -> str:
    return re.search(r"(http://\S+/i/\S+)", server.cli("demo-info")).group(1)


def _demo_urls(server) -> list[str]:
    """Every screen `demo-info` prints, on this server."""
    return [server.url + urlsplit(u).path + (f"?{urlsplit(u).query}" if urlsplit(u).query else "")
            for u in re.findall(r"(http://\S+)", server.cli("demo-info"))]


def _crawl(page, starts: list[str], origin: str, limit: int = 45) -> dict[str, dict]:
    """Visit the start pages and every page they link to (one level, one visit per route:
    /article/1 stands for /article/2), measuring each: {path: TARGETS_JS's result}."""
    seen: dict[str, dict] = {}
    routes: set[str] = set()
    queue = list(starts)
    depth = {u: 0 for u in starts}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        path = urlsplit(url).path
        route = re.sub(r"/\d+", "/<n>", path)
        if route in routes or SKIPPED.search(path) or not url.startswith(origin):
            continue
        routes.add(route)
        response = page.goto(url)
        if response is None or response.status != 200 or \
                "text/html" not in response.headers.get("content-type", ""):
            continue
        page.wait_for_load_state("load")
        seen[path] = page.evaluate(TARGETS_JS)
        if depth[url] == 0:
            for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
                link = urljoin(url, href).split("#")[0]
                if link not in depth:
                    depth[link] = 1
                    queue.append(link)
    return seen


def _assert_targets_and_ids(measured: dict[str, dict]) -> None:
    problems = [f"{path}: targets under 44×44 px: {', '.join(r['small'][:8])}"
                for path, r in measured.items() if r["small"]]
    problems += [f"{path}: duplicated ids {r['duplicated']}"
                 for path, r in measured.items() if r["duplicated"]]
    assert not problems, "\n".join(problems)


def test_every_tap_target_is_44_px_and_every_id_unique_at_360_px(server, browser):
    """At 360 px, every rendered link, button, input (but hidden ones), select, summary,
    and the label of each checkbox and radio (the label is where the finger lands), is at
    least 44 px high and 44 px wide (WCAG 2.5.5, RGAA 13.x advice for phones), on every page
    of an official, the public pages and the staff pages: the screens `demo-info` lists and
    every page they link to.

    Exempt, as WCAG 2.5.8 allows: a link inside running text, that is an inline link whose
    paragraph, list item or cell holds at least three more words than the link itself (a
    sentence, not a lone link beside a count). The skip link (off screen until focused) and
    the projectors (screens in the room, never touched) are not measured. On the same pages,
    no id appears twice.
    """
    demo = _demo_urls(server)
    public = [server.url + p for p in ("/", "/rejoindre", "/accessibilite",
                                       "/donnees-personnelles", "/animation/connexion")]
    public += [u for u in demo if "/motion/" in u]
    official_pages = [u for u in demo if "/c/RURAL26" in u] + [
        server.url + "/mes-donnees", server.url + "/c/RURAL26/contributions"]
    staff_pages = [u for u in demo if "/animation/" in u and "connexion" not in u] + [
        server.url + p for p in ("/animation/", "/animation/participants",
                                 "/animation/donnees", "/animation/redaction/amendements")]
    measured: dict[str, dict] = {}
    with phone_context(browser) as context:
        page = context.new_page()
        measured.update(_crawl(page, public, server.url, limit=12))
    with phone_context(browser) as context:
        page = context.new_page()
        page.goto(_invite_url(server))
        measured.update({f"official {k}": v for k, v in
                         _crawl(page, official_pages, server.url).items()})
    context, page = staff_login(browser, server.url, viewport={"width": 360, "height": 740},
                                is_mobile=True, has_touch=True)
    with context:
        measured.update({f"staff {k}": v for k, v in
                         _crawl(page, staff_pages, server.url, limit=60).items()})
    for path in ("/", "/accessibilite", "official /c/RURAL26", "staff /animation/tableau",
                 "staff /animation/presence"):
        assert path in measured and measured[path]["checked"] > 0, sorted(measured)
    assert len(measured) >= 25, sorted(measured)
    _assert_targets_and_ids(measured)


def test_a_refused_form_puts_the_focus_on_its_error_summary(server, browser):
    with phone_context(browser) as context:
        page = context.new_page()
        page.goto(server.url + "/rejoindre")
        page.get_by_label("Votre commune").fill("Polminhac")
        page.get_by_label("Population de la commune (facultatif)").fill("beaucoup")
        page.get_by_role("button", name="Rejoindre").click()
        page.wait_for_selector("[data-error-summary]")
        assert page.evaluate("document.activeElement.id") == "erreur"
        links = page.locator("#erreur a")
        assert links.count() == 3  # code, name, population: all of them at once
        assert page.get_by_label("Votre commune").input_value() == "Polminhac"
        check_axe(page)
        # Tab reaches the first error; Enter takes the person to its field.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#code"
        page.keyboard.press("Enter")
        page.wait_for_function("document.activeElement.id === 'code'")
        assert page.evaluate("document.activeElement.getAttribute('aria-invalid')") == "true"
        # the statement, from the footer of that page, passes axe too
        page.get_by_role("link", name="Accessibilité : partiellement conforme").click()
        page.wait_for_url(re.compile(r"/accessibilite$"))
        assert page.get_by_role("heading", name="Déclaration d'accessibilité").is_visible()
        check_axe(page)


ITEMS = ".board-theme li.idea, .board-review li.idea, .point-tools > summary"


def _tab_stops(page, limit: int = 400) -> list[dict]:
    """Press Tab from the top of the page until the focus comes back to a stop already
    seen (or leaves the page): every stop, in order."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); "
                  "window.scrollTo(0, 0); }")
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate("""(items) => {
            const e = document.activeElement;
            if (!e || e === document.body || e.dataset.tabStop) { return null; }
            e.dataset.tabStop = '1';
            const section = e.closest('.board-theme, .board-review');
            return {item: e.matches(items), section: section ? section.id : null,
                    id: e.id, tag: e.tagName};
        }""", ITEMS)
        if stop is None:
            break
        stops.append(stop)
    page.evaluate("() => document.querySelectorAll('[data-tab-stop]')"
                  ".forEach(e => delete e.dataset.tabStop)")
    return stops


def test_the_board_by_keyboard_one_tab_stop_per_section(server, browser):
    """The board of the demo (hundreds of ideas): each theme and the « À vérifier » list is
    one tab stop; arrows, Home and End move among its ideas; Enter opens the idea's actions
    in the correction panel, which applies by keyboard and gives the focus back."""
    context, page = staff_login(browser, server.url, viewport={"width": 1280, "height": 720})
    with context:
        page.goto(server.url + "/animation/tableau")
        page.wait_for_function("() => !document.querySelector('[data-correct]').hidden")
        ideas = page.locator("#board li.idea").count()
        sections = page.evaluate(f"""() => [...document.querySelectorAll(
            '.board-theme, .board-review')].filter(s => s.querySelector('{ITEMS}')).length""")
        stops = _tab_stops(page)
        assert len(stops) < 400, "the focus never came back to the top"
        on_items = [s for s in stops if s["item"]]
        assert len(on_items) == sections and len({s["section"] for s in on_items}) == sections
        assert len(stops) < 12 * sections and 3 * len(stops) < ideas, (len(stops), ideas)

        # Into the first theme: its first idea, then the arrows.
        theme = page.eval_on_selector(".board-theme", "s => s.id")
        first = page.locator(f"#{theme} li.idea").first
        for _ in range(200):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.matches('.board-theme li.idea')"):
                break  # past the theme's « Plus / Moins de points »
        assert page.evaluate("document.activeElement.id") == first.get_attribute("id")
        items = page.eval_on_selector_all(f"#{theme} li.idea, #{theme} .point-tools > summary",
                                          "es => es.map(e => e.id)")
        page.keyboard.press("ArrowDown")
        assert page.evaluate("document.activeElement.id") == items[items.index(
            first.get_attribute("id")) + 1]
        page.keyboard.press("End")
        assert page.evaluate("document.activeElement.id") == items[-1]
        page.keyboard.press("Home")
        assert page.evaluate("document.activeElement.id") == items[0]
        # only the item last used is in the tab order
        assert page.eval_on_selector_all(f"#{theme} [tabindex='0']", "es => es.length") <= 3
        # back down to an idea, and act on it by keyboard
        while not page.evaluate("document.activeElement.matches('li.idea')"):
            page.keyboard.press("ArrowDown")
        idea = page.evaluate("document.activeElement.dataset.id")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "correction-action"
        assert page.input_value("#correction-id") == idea
        page.keyboard.press("Escape")  # changed my mind: back to the idea
        assert page.evaluate("document.activeElement.dataset.id") == idea
        page.keyboard.press(" ")  # Space opens the actions as well
        assert page.evaluate("document.activeElement.id") == "correction-action"
        while page.input_value("#correction-action") != "contribution.confirm":
            page.keyboard.press("ArrowDown")
        while page.evaluate("document.activeElement.type") != "submit":
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_function("(id) => document.querySelector('#board-feedback').textContent"
                               ".includes('n° ' + id)", arg=idea)
        assert "c'est fait" in page.inner_text("#board-feedback")
        page.wait_for_function("(id) => document.activeElement.dataset.id === id", arg=idea,
                               timeout=10000)
        assert page.evaluate("document.activeElement.tabIndex") == 0
        check_axe(page)
