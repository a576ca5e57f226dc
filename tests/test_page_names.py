"""One name per page (issue 14): on the demo congress, with its motion published, every
page a facilitator, a scribe, an official or a visitor reaches without a parameter has
its own <title> and <h1>, and the staff menu's labels name the pages they open."""

from __future__ import annotations

import re
from html import unescape

import pytest

from deliberation.web.menus import SCREENS

from .demo_site import breakable_spaces, clients, demo_app, get, load_sorted_demo, staff
from .test_derivation import DEMO_MOTION, publish_motion


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = demo_app(tmp_path_factory.mktemp("published") / "demo.db")
    with app.app_context():
        demo = load_sorted_demo()
        publish_motion(demo, DEMO_MOTION, staff(demo))
        yield {"app": app, "demo": demo, "as": clients(app, demo)}


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", fragment))).strip()


@pytest.fixture(scope="module")
def pages(site) -> dict[str, dict]:
    return _pages(site)


def _pages(site) -> dict[str, dict]:
    """Every HTML page reached by a GET without parameters (the congress's code filled
    in), by URL: its endpoint, <title>, <h1> and who reached it."""
    code = site["demo"].join_code
    pages: dict[str, dict] = {}
    for rule in site["app"].url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if set(rule.arguments) - {"code"} or "." in rule.rule.rsplit("/", 1)[-1]:
            continue  # a parameter to invent, or a download (motion.pdf, resultats.csv)
        url = rule.rule.replace("<code>", code)
        for role, client in site["as"].items():
            response = get(client, url)
            if (response.status_code != 200 or response.mimetype != "text/html"
                    or "attachment" in response.headers.get("Content-Disposition", "")):
                continue
            html = response.get_data(as_text=True)
            title = re.search(r"<title>(.*?)</title>", html, re.S)
            if title is None:  # a fragment fetched by a page's script (the board's content)
                continue
            h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
            page = pages.setdefault(url, {"endpoint": rule.endpoint, "title": _text(
                title.group(1)), "h1": _text(h1.group(1)) if h1 else None, "roles": set()})
            page["roles"].add(role)
    return pages


def test_no_two_pages_share_a_title_or_a_heading(pages):
    assert {"staff", "visitor"} <= {"staff" if p["roles"] & {"facilitator", "scribe"}
                                    else "visitor" for p in pages.values()}
    assert len(pages) >= 20, sorted(pages)
    for key in ("title", "h1"):
        by_name: dict[str, set[str]] = {}
        for page in pages.values():
            assert page[key], (page["endpoint"], key)
            by_name.setdefault(page[key], set()).add(page["endpoint"])
        shared = {name: endpoints for name, endpoints in by_name.items() if len(endpoints) > 1}
        assert shared == {}, key


def test_menu_labels_name_their_pages(pages):
    by_endpoint = {p["endpoint"]: p for p in pages.values()}
    for screen in SCREENS:
        page = by_endpoint.get(screen.endpoint)
        if page is None or screen.endpoint == "publication.motion_page":
            continue  # the published motion is titled by its own title
        assert page["title"].startswith(screen.label) or page["h1"].startswith(
            screen.label), (screen.label, page["title"], page["h1"])


@pytest.mark.parametrize("url", ["/motion/{code}", "/motion/{code}/releve", "/c/{code}"])
def test_published_pages_keep_french_spacing(site, url):
    response = get(site["as"]["official"], url.format(code=site["demo"].join_code))
    assert response.status_code == 200
    found = breakable_spaces(response.get_data(as_text=True))
    assert found == [], found
