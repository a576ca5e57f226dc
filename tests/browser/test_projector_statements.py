"""The projector shows each recurring point by its whole statement, at both projector sizes.

On the demo congress after a sort, the overview (every theme) and the theme mode (one
theme) are opened at 1280×720 and 1920×1080: every statement shown is whole (never cut,
no ellipsis, nothing hidden by an overflow), the biggest points come first, only points
of two ideas or more, and « + N autres points » counts the rest. The same checks then run
on the worst cases a screen meets: statements of 25+ words, and the engine's keyword
labels when a point has no statement yet.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import pytest
import requests

from .conftest import start_server, stop_server
from .support import assert_nothing_clipped, check_axe, projector_context, screenshot

pytestmark = pytest.mark.browser

CODE = "RURAL26"
SIZES = ({"width": 1280, "height": 720}, {"width": 1920, "height": 1080})
STATEMENT = ".point-statement"

# Written for this test, as long as the engine's statements get (about 25 words).
LONG_STATEMENTS = [
    "Les mairies doivent rester le point d'entrée local de la médiation des services "
    "publics numériques, avec un accueil physique ouvert au moins trois demi-journées "
    "par semaine.",
    "Des moyens humains et matériels doivent être mutualisés à l'échelon intercommunal "
    "pour que les plus petites communes disposent enfin d'un conseiller numérique "
    "formé et disponible.",
    "La couverture en fibre optique et en téléphonie mobile des hameaux et des zones "
    "blanches doit être achevée avant la dématérialisation obligatoire des démarches "
    "administratives.",
    "Les données produites par les collectivités territoriales doivent être hébergées "
    "sur des infrastructures souveraines et ouvertes aux habitants sous une licence "
    "libre et réutilisable.",
]
LONG_LABEL = ("accompagnement, dématérialisation, intercommunalité, médiation numérique, "
              "cybersécurité, interopérabilité, conseillers numériques")


@pytest.fixture(scope="module")
def sorted_server(tmp_path_factory):
    """Our own demo congress (this module rewrites its statements), sorted by `load-demo`."""
    server = start_server(tmp_path_factory.mktemp("projector"))
    yield server
    stop_server(server)


def database(server) -> sqlite3.Connection:
    return sqlite3.connect(re.sub(r"^sqlite:///", "", server.env["DATABASE_URL"]), timeout=30)


def set_mode(server, mode: str, theme: str | None = None) -> None:
    with closing(database(server)) as db, db:
        db.execute("UPDATE congress SET projector_mode = ?, projector_theme_code = ? "
                   "WHERE join_code = ?", (mode, theme, CODE))


def rewrite_points(server, statement, label=None) -> None:
    """Give every point of the congress the statement `statement(i)` (and keyword label)."""
    with closing(database(server)) as db, db:
        ids = [row[0] for row in db.execute(
            "SELECT cluster.id FROM cluster JOIN congress ON congress.id = cluster.congress_id "
            "WHERE congress.join_code = ? ORDER BY cluster.id", (CODE,))]
        for i, cluster_id in enumerate(ids):
            db.execute("UPDATE cluster SET statement = ?, custom_label = NULL, "
                       "label = COALESCE(?, label) WHERE id = ?",
                       (statement(i), label, cluster_id))


def state(server) -> dict:
    return requests.get(f"{server.url}/projecteur/{CODE}/etat.json", timeout=30).json()


def open_projector(browser, server, size):
    """A projector at `size`, connected; also returns the script errors it will raise."""
    context = projector_context(browser, viewport=dict(size))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/projecteur/{CODE}")
    page.wait_for_selector("body[data-live=on]", state="attached", timeout=15000)
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_timeout(300)  # the snapshot is drawn and fitted
    return context, page, errors


def shown_points(page, box: str) -> dict:
    """What one box of points shows: sizes and statements of the visible points, and the
    « + N autres points » line."""
    return page.eval_on_selector(box, """b => ({
        sizes: [...b.querySelectorAll('.point:not([hidden]) .point-size')]
            .map(s => parseInt(s.textContent, 10)),
        statements: [...b.querySelectorAll('.point:not([hidden]) .point-statement')]
            .map(s => s.textContent),
        more: b.querySelector('[data-more]').hidden ? ''
            : b.querySelector('[data-more]').textContent})""")


def check_box(shown: dict, points: list[dict], point_count: int, where: str) -> None:
    """The largest points first, whole, as the server sent them; the rest counted."""
    n = len(shown["statements"])
    assert shown["statements"] == [p["label"] for p in points[:n]], where
    assert shown["sizes"] == sorted(shown["sizes"], reverse=True), where
    assert all(size >= 2 for size in shown["sizes"]), where
    if point_count:
        assert n >= 1, f"{where}: not even the largest point is shown"
    rest = point_count - n
    if rest > 0:
        assert shown["more"] == f"+\u00a0{rest} autre{'s' if rest > 1 else ''} point" \
                                f"{'s' if rest > 1 else ''}", where
    else:
        assert shown["more"] == ("" if point_count else "Pas encore de point récurrent."), where


def check_projector(browser, server, *, shots: bool = False, axe: bool = False) -> None:
    """Overview then theme mode (the theme with the most points), at both sizes."""
    set_mode(server, "overview")
    picture = state(server)["picture"]
    themes = {t["code"]: t for t in picture["themes"]}
    busiest = max(picture["themes"], key=lambda t: t["point_count"])["code"]
    for size in SIZES:
        name = f"{size['width']}x{size['height']}"
        set_mode(server, "overview")
        context, page, errors = open_projector(browser, server, size)
        assert_nothing_clipped(page, STATEMENT,
                               minimum=sum(1 for t in themes.values() if t["point_count"]))
        for code, theme in themes.items():
            check_box(shown_points(page, f'.tile[data-theme="{code}"] [data-fit]'),
                      theme["points"], theme["point_count"], f"overview {name} {code}")
        assert page.evaluate("document.documentElement.scrollHeight <= innerHeight && "
                             "document.documentElement.scrollWidth <= innerWidth")
        if axe:
            check_axe(page)
        if shots:
            screenshot(page, f"projector-{name}")

        set_mode(server, "theme", busiest)
        page.reload()
        page.wait_for_selector("body[data-live=on]", state="attached", timeout=15000)
        page.wait_for_timeout(300)
        assert page.is_visible("#theme-mode") and page.is_hidden("#overview-mode")
        focus = state(server)["focus"]
        shown = assert_nothing_clipped(page, STATEMENT, minimum=1)
        check_box(shown_points(page, "#theme-mode [data-fit]"), focus["points"],
                  focus["point_count"], f"theme {name} {busiest}")
        assert shown >= min(3, focus["point_count"]), f"theme {name}: only {shown} points"
        if axe:
            check_axe(page)
        if shots:
            screenshot(page, f"projector-theme-{name}")
        assert not errors, errors
        context.close()
    set_mode(server, "overview")


def test_projector_shows_whole_statements_after_a_sort(sorted_server, browser):
    check_projector(browser, sorted_server, shots=True, axe=True)


def test_long_statements_are_shown_whole_or_counted(sorted_server, browser):
    rewrite_points(sorted_server, lambda i: LONG_STATEMENTS[i % len(LONG_STATEMENTS)])
    shown = state(sorted_server)["picture"]["themes"][0]["points"]
    assert shown and shown[0]["label"] in LONG_STATEMENTS
    check_projector(browser, sorted_server)


def test_long_keyword_labels_stand_in_for_missing_statements(sorted_server, browser):
    rewrite_points(sorted_server, lambda i: "", LONG_LABEL)
    assert state(sorted_server)["picture"]["themes"][0]["points"][0]["label"] == LONG_LABEL
    check_projector(browser, sorted_server)


CLIPPED_PAGE = """<!doctype html><html lang="fr"><body style="margin:0;font:16px sans-serif">
<p class="s" id="whole">Une phrase entière qui tient dans sa boîte.</p>
<p class="s" id="clamped" style="width:120px;display:-webkit-box;-webkit-line-clamp:1;
  -webkit-box-orient:vertical;overflow:hidden">Une phrase bien trop longue pour une ligne.</p>
<div style="height:20px;overflow:hidden"><p class="s" id="cut" style="margin:0">Un<br>deux</p></div>
<p class="s" id="dots">Coupée avec des points…</p>
<p class="s" id="below" style="position:absolute;top:2000px">Sous l'écran.</p>
<div style="position:relative"><p class="s" id="under" style="margin:0">Recouverte ici.</p>
  <p id="over" style="position:absolute;top:0;margin:0">Par-dessus.</p></div>
</body></html>"""


def test_the_clipping_check_finds_each_way_of_cutting_text(browser):
    context = projector_context(browser, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_content(CLIPPED_PAGE)
    assert assert_nothing_clipped(page, "#whole") == 1
    for selector, reason in (("#clamped", "overflows its own box"),
                             ("#cut", "cut by the overflow of div"),
                             ("#dots", "ends with an ellipsis"),
                             ("#below", "not inside the viewport"),
                             ("#under", "overlapped by p#over")):
        with pytest.raises(AssertionError, match=reason):
            assert_nothing_clipped(page, selector)
    with pytest.raises(AssertionError, match="only 0 element"):
        assert_nothing_clipped(page, ".absent")
    context.close()
