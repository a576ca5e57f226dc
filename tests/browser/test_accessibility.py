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
  const labelOf = i => i.closest('label') || (i.id && document.querySelector(`label[for="${i.id}"]`));
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    ' «' + (e.textContent || e.value || e.name || '').replace(/\\s+/g, ' ').trim().slice(0, 40) + '»';
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
