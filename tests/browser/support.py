"""Helpers for real headless-browser tests (Playwright driving Debian's chromium).

Playwright's own browser download does not work on our machines, so tests drive the
distribution's ``/usr/bin/chromium`` (install it with ``scripts/ensure-chromium.sh``).
Nothing here skips: a missing browser is an error, so a broken setup never passes quietly.

Typical use (the ``browser`` session fixture lives in a conftest)::

    with sync_playwright() as pw:
        browser = launch_browser(pw)
        with phone_context(browser) as context:
            page = context.new_page()
            page.goto(live_url + "/join")
            check_axe(page)
            screenshot(page, "join-phone")
        browser.close()
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from playwright.sync_api import Browser, BrowserContext, Page, Playwright
from playwright.sync_api import Error as PlaywrightError

REPO_ROOT = Path(__file__).resolve().parents[2]
STATIC_DIR = REPO_ROOT / "static"
SCREENSHOT_DIR = REPO_ROOT / "docs" / "screenshots"

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

AXE_PATH = STATIC_DIR / "vendor" / "axe-core" / "axe.min.js"
AXE_URL = "/static/vendor/axe-core/axe.min.js"  # as served by the app (CSP 'self')
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
BLOCKING_IMPACTS = ("serious", "critical")

PHONE_VIEWPORT = {"width": 360, "height": 740}
PROJECTOR_VIEWPORT = {"width": 1920, "height": 1080}
LOCALE = "fr-FR"
TIMEZONE = "Europe/Paris"


class ChromiumMissing(RuntimeError):
    """The chromium binary the browser tests need is not installed."""


def chromium_path() -> str:
    """Path of the chromium binary: env ``CHROMIUM_PATH`` (read now) or the default."""
    return os.environ.get("CHROMIUM_PATH", CHROMIUM_PATH)


def launch_browser(playwright: Playwright, **kwargs: Any) -> Browser:
    """Launch Debian's chromium headless. Raises ChromiumMissing (never skips)."""
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise ChromiumMissing(
            f"chromium not found at {path!r} (set CHROMIUM_PATH, or run "
            "scripts/ensure-chromium.sh as root to apt-get install it). "
            "Playwright's own browser download does not work here."
        )
    options: dict[str, Any] = {
        "executable_path": path,
        "headless": True,
        "args": list(CHROMIUM_ARGS),
    }
    options.update(kwargs)
    return playwright.chromium.launch(**options)


def phone_context(browser: Browser, **overrides: Any) -> BrowserContext:
    """A French phone: 360x740 CSS px at 2x, touch, mobile. Close it (or use ``with``)."""
    options: dict[str, Any] = {
        "viewport": dict(PHONE_VIEWPORT),
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
        "locale": LOCALE,
        "timezone_id": TIMEZONE,
    }
    options.update(overrides)
    return browser.new_context(**options)


def projector_context(browser: Browser, **overrides: Any) -> BrowserContext:
    """The room's projector: 1920x1080, French. Close it (or use ``with``)."""
    options: dict[str, Any] = {
        "viewport": dict(PROJECTOR_VIEWPORT),
        "locale": LOCALE,
        "timezone_id": TIMEZONE,
    }
    options.update(overrides)
    return browser.new_context(**options)


def _inject_axe(page: Page, axe_url: str) -> str:
    """Load axe-core into the page; returns how ('present', 'url' or 'content').

    Pages served by the app have a strict CSP without inline scripts, so on an
    http(s) page axe is loaded as an external same-origin script first (allowed by
    script-src 'self'); inline injection of the file's content is the fallback
    (about:blank, data:, file: pages, or a server that does not serve static/).
    """
    if page.evaluate("() => typeof window.axe === 'object' && !!window.axe.run"):
        return "present"
    errors: list[str] = []
    if page.url.startswith(("http://", "https://")):
        try:
            page.add_script_tag(url=urljoin(page.url, axe_url))
        except PlaywrightError as exc:
            errors.append(f"url {axe_url}: {exc.message.splitlines()[0]}")
        else:
            if page.evaluate("() => typeof window.axe === 'object'"):
                return "url"
            errors.append(f"url {axe_url}: loaded but window.axe is undefined")
    try:
        page.add_script_tag(path=AXE_PATH)
    except PlaywrightError as exc:
        errors.append(f"inline content: {exc.message.splitlines()[0]}")
    else:
        if page.evaluate("() => typeof window.axe === 'object'"):
            return "content"
        errors.append("inline content: injected but window.axe is undefined (CSP?)")
    raise AssertionError(f"could not load axe-core into {page.url}: " + "; ".join(errors))


def format_violations(violations: Sequence[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node.get("target", []))) for node in v.get("nodes", [])]
        shown = ", ".join(targets[:3])
        if len(targets) > 3:
            shown += f" (+{len(targets) - 3} more)"
        lines.append(f"- [{v.get('impact')}] {v['id']}: {v.get('help')} -> {shown}")
    return "\n".join(lines)


def check_axe(
    page: Page,
    allowed_impacts: Sequence[str] = ("minor", "moderate"),
    *,
    tags: Sequence[str] = AXE_TAGS,
    axe_url: str = AXE_URL,
    assert_clean: bool = True,
) -> list[dict[str, Any]]:
    """Run axe-core on the whole document and return the blocking violations.

    Blocking = impact not in ``allowed_impacts`` (so serious and critical by default).
    With ``assert_clean`` (the default) any blocking violation fails with a message
    listing rule id, help text and the first targets. ``axe_url`` is where the page's
    origin serves axe.min.js (the app serves it at /static/vendor/...).
    """
    # Right after a click that navigates, the new document may have no <head> yet
    # (a fresh-clone CI run failed so: "Cannot read properties of null").
    page.wait_for_load_state("load")
    _inject_axe(page, axe_url)
    results = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html})),
            }));
        }""",
        list(tags),
    )
    blocking = [v for v in results if v.get("impact") not in allowed_impacts]
    if assert_clean and blocking:
        raise AssertionError(
            f"axe-core: {len(blocking)} blocking accessibility violation(s) on {page.url}:\n"
            + format_violations(blocking)
        )
    return blocking


def screenshot(page: Page, name: str, *, directory: Path | str | None = None) -> Path:
    """Full-page PNG at docs/screenshots/<name>.png (used by the README)."""
    target_dir = Path(directory) if directory is not None else SCREENSHOT_DIR
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class _QuietHandler(SimpleHTTPRequestHandler):
    extra_headers: dict[str, str] = {}
    requests: list[tuple[str, int]]

    def end_headers(self) -> None:
        for key, value in self.extra_headers.items():
            self.send_header(key, value)
        super().end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.requests.append((self.path, int(code) if str(code).isdigit() else 0))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@contextmanager
def serve_directory(
    directory: Path | str, *, headers: dict[str, str] | None = None
) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """Serve ``directory`` over HTTP on 127.0.0.1:<free port> in a thread.

    Yields ``(base_url, requests)`` where ``requests`` collects (path, status) pairs.
    ``headers`` are added to every response (e.g. a Content-Security-Policy).
    The server and its socket are closed on exit.
    """
    requests: list[tuple[str, int]] = []
    handler = type(
        "Handler",
        (_QuietHandler,),
        {"extra_headers": dict(headers or {}), "requests": requests},
    )

    def factory(*args: Any, **kwargs: Any) -> SimpleHTTPRequestHandler:
        return handler(*args, directory=str(directory), **kwargs)

    server = ThreadingHTTPServer(("127.0.0.1", 0), factory)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="static-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Measured in the page: each element matched by the selector and rendered (display: none
# is skipped) must show its whole text. Tolerances of 1 px absorb sub-pixel rounding.
_CLIPPING_JS = """(selector) => {
  const shown = e => e.getClientRects().length > 0;
  const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 &&
    a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
    Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  const classes = e => typeof e.className === 'string' && e.className.trim()
    ? '.' + e.className.trim().split(/\\s+/).join('.') : '';
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + classes(e);
  const viewport = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
  const elements = [...document.querySelectorAll(selector)].filter(shown);
  const problems = [];
  for (const e of elements) {
    const text = e.textContent.replace(/\\s+/g, ' ').trim();
    const say = why => problems.push(`${why}: «${text.slice(0, 70)}»`);
    const box = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    if (!text) { say('empty'); }
    if (/(\\u2026|\\.\\.\\.)$/.test(text)) { say('ends with an ellipsis'); }
    if (style.display !== 'inline' && (e.scrollWidth > e.clientWidth + 1 ||
        e.scrollHeight > e.clientHeight + 1)) {
      say(`overflows its own box (${e.scrollWidth}×${e.scrollHeight} in ` +
          `${e.clientWidth}×${e.clientHeight})`);
    }
    if (!inside(box, viewport)) { say('not inside the viewport'); }
    for (let a = e.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const s = getComputedStyle(a);
      if ((s.overflowX !== 'visible' || s.overflowY !== 'visible') &&
          !inside(box, a.getBoundingClientRect())) {
        say(`cut by the overflow of ${name(a)}`);
      }
    }
    const others = new Set([...(e.parentElement ? e.parentElement.children : []),
                            ...elements]);
    for (const o of others) {
      if (o !== e && !o.contains(e) && !e.contains(o) && shown(o) &&
          overlap(box, o.getBoundingClientRect())) {
        say(`overlapped by ${name(o)}`);
      }
    }
  }
  return {checked: elements.length, problems};
}"""


def assert_nothing_clipped(page: Page, selector: str, *, minimum: int = 1) -> int:
    """Assert every rendered element matching ``selector`` shows its whole text; return
    how many were checked (at least ``minimum``).

    Whole means: no overflow of its own box (scrollWidth/scrollHeight within
    clientWidth/clientHeight: catches line clamps and ``text-overflow``), its bounding box
    inside the viewport and inside every ancestor that clips (``overflow`` not visible),
    not overlapped by a sibling or by another matched element, and no text ending in « … ».
    Elements with ``display: none`` (or inside one) are not rendered and not checked.
    """
    result = page.evaluate(_CLIPPING_JS, selector)
    assert not result["problems"], (
        f"{len(result['problems'])} clipped element(s) for {selector!r} at "
        f"{page.viewport_size}:\n" + "\n".join(f"- {p}" for p in result["problems"]))
    assert result["checked"] >= minimum, (
        f"only {result['checked']} element(s) rendered for {selector!r}, expected {minimum}+")
    return result["checked"]


DEMO_FACILITATOR = ("animation@motion.local", "motion-demo")


def staff_login(browser: Browser, url: str, credentials=DEMO_FACILITATOR,
                **context_options: Any) -> tuple[BrowserContext, Page]:
    """A new French browser context logged in on the staff login form (the demo
    facilitator by default), on the dashboard."""
    context = browser.new_context(locale="fr-FR", **context_options)
    page = context.new_page()
    page.goto(url + "/animation/connexion")
    page.get_by_label("Adresse électronique").fill(credentials[0])
    page.get_by_label("Mot de passe").fill(credentials[1])
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/animation/$"))
    return context, page

