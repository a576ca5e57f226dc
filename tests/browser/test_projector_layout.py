"""Every projector mode fits the room's screen (issue 14, « The projector »).

On the demo congress (400+ ideas in eight themes), each mode the facilitator can pick is
opened at 1280×720 and 1920×1080: the overview, one theme in detail, the vote mode with a
ballot open on a long article and with a closed ballot, and the separate vote projector in
both states. For each, measured in the page: the document does not scroll; every word on
screen is inside the viewport and inside every box that clips it (nothing cut mid-line,
nothing clipped); no word is broken across two lines (one client rect per word, through a
Range); no style lets the browser split words. axe runs, and the screenshots go to
docs/screenshots/projector-<mode>-<w>x<h>.png.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from deliberation import ballots, create_app, drafting
from deliberation.extensions import db
from deliberation.models import Ballot, Congress, Participant
from deliberation.screens import picture

from .conftest import start_server, stop_server
from .support import check_axe, projector_context, screenshot

pytestmark = pytest.mark.browser

CODE = "RURAL26"
SIZES = ({"width": 1280, "height": 720}, {"width": 1920, "height": 1080})

# An article as long as the demo's drafted ones get: the vote mode must show it in whole
# lines and never push the count off-screen.
LONG_ARTICLE = "\n\n".join([
    "Les communes rurales demandent que chaque habitant dispose, à moins de vingt minutes "
    "de son domicile, d'un lieu de médiation numérique ouvert au moins trois demi-journées "
    "par semaine, tenu par un conseiller formé et rémunéré sur des crédits pérennes.",
    "L'État garantit la couverture en fibre optique et en téléphonie mobile des hameaux "
    "et des zones blanches avant toute dématérialisation obligatoire des démarches "
    "administratives ; un guichet physique reste ouvert tant que cette couverture n'est "
    "pas achevée.",
    "Les données produites par les collectivités territoriales sont hébergées sur des "
    "infrastructures souveraines, documentées et ouvertes aux habitants sous une licence "
    "libre et réutilisable, avec l'appui technique des intercommunalités.",
    "Un bilan public est présenté chaque année au conseil municipal, avec les chiffres de "
    "fréquentation des lieux de médiation et les délais de raccordement constatés.",
])
CHOICES = ["pour"] * 5 + ["contre"] * 3 + ["abstention"] * 2

# Each mode: (name in the screenshots, page path, projector mode, ballot state).
MODES = [
    ("overview", f"/projecteur/{CODE}", "overview", None),
    ("theme", f"/projecteur/{CODE}", "theme", None),
    ("vote-closed", f"/projecteur/{CODE}", "vote", "closed"),
    ("vote-screen-closed", f"/projecteur/{CODE}/vote", "vote", "closed"),
    ("vote-open", f"/projecteur/{CODE}", "vote", "open"),
    ("vote-screen-open", f"/projecteur/{CODE}/vote", "vote", "open"),
]


@pytest.fixture(scope="module")
def layout_server(tmp_path_factory):
    """Our own demo congress: this module opens and closes ballots on it."""
    server = start_server(tmp_path_factory.mktemp("projector-layout"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"],
                      "SORT_IN_BACKGROUND": False})
    yield server, app
    stop_server(server)


def prepare(app, mode: str, ballot_state: str | None) -> None:
    """Put the congress in `mode`, with a closed or an open article ballot as asked (the
    closed one first: once an article ballot is open the vote mode shows that one)."""
    with app.app_context():
        congress = db.session.scalar(select(Congress).filter_by(join_code=CODE))
        articles = [a for a in drafting.articles(congress) if a.kind == "theme"]
        states = set(db.session.scalars(select(Ballot.state).filter_by(
            congress_id=congress.id)))
        if ballot_state and not states & {"closed", "published", "open"}:
            congress.phase = "vote"
            people = list(db.session.scalars(select(Participant).filter_by(
                congress_id=congress.id, role="participant").order_by(Participant.id)))
            for person in people[:len(CHOICES)]:
                ballots.set_present(person, True, None)
            drafting.save_version(articles[0], None, LONG_ARTICLE.split("\n\n")[0], None)
            closed = ballots.create(congress, "Article 1 : l'égalité d'accès",
                                    article=articles[0])
            db.session.commit()
            ballots.open_ballot(closed.id)
            for person, choice in zip(people, CHOICES, strict=False):
                ballots.cast_vote(closed.id, person.id, choice)
            ballots.close_ballot(closed.id)
            ballots.publish_ballot(closed.id)
        if ballot_state == "open" and "open" not in states:
            drafting.save_version(articles[1], None, LONG_ARTICLE, None)
            ballot = ballots.create(congress, "Article 2 : la démocratie interactive, "
                                    "les outils ouverts et la participation des habitants",
                                    article=articles[1])
            db.session.commit()
            ballots.open_ballot(ballot.id)
        congress = db.session.scalar(select(Congress).filter_by(join_code=CODE))
        congress.projector_mode = mode
        if mode == "theme":  # the theme with the most recurring points
            themes = picture(congress.id)["themes"]
            congress.projector_theme_code = max(
                themes, key=lambda t: (t["point_count"], t["count"]))["code"]
        db.session.commit()
        db.session.remove()


# Measured in the page. A word is every run of non-space characters of a rendered text
# node (visually hidden text for screen readers aside): a compound word (« Saint-Denis »)
# is one word, never split after its hyphen. 1 px absorbs sub-pixel rounding.
LAYOUT_JS = """() => {
  const problems = [];
  const vw = innerWidth, vh = innerHeight;
  const root = document.documentElement;
  if (root.scrollWidth > vw || root.scrollHeight > vh) {
    problems.push(`the page scrolls: ${root.scrollWidth}×${root.scrollHeight}`);
  }
  const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 &&
    a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (typeof e.className === 'string' && e.className.trim()
      ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  const clips = e => { const s = getComputedStyle(e);
    return s.overflowX !== 'visible' || s.overflowY !== 'visible'; };
  const viewport = {left: 0, top: 0, right: vw, bottom: vh};
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let words = 0, node;
  while ((node = walker.nextNode())) {
    const parent = node.parentElement;
    if (!parent || !parent.getClientRects().length || parent.closest('.visually-hidden')
        || getComputedStyle(parent).visibility !== 'visible') continue;
    const style = getComputedStyle(parent);
    if (style.wordBreak === 'break-all' || style.overflowWrap !== 'normal' ||
        style.hyphens === 'auto') {
      problems.push(`${name(parent)} lets words split (word-break: ${style.wordBreak}, ` +
                    `overflow-wrap: ${style.overflowWrap}, hyphens: ${style.hyphens})`);
    }
    const clippers = [];
    for (let a = parent; a && a !== document.documentElement; a = a.parentElement) {
      if (clips(a)) clippers.push(a);
    }
    const found = /\\S+/g;
    let m;
    while ((m = found.exec(node.data))) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0.5 && r.height > 0.5);
      if (!rects.length) continue;
      words += 1;
      const lines = new Set(rects.map(r => Math.round(r.top)));
      if (lines.size > 1) {
        problems.push(`«${m[0]}» is broken across ${lines.size} lines in ${name(parent)}`);
      }
      const box = range.getBoundingClientRect();
      if (!inside(box, viewport)) {
        problems.push(`«${m[0]}» of ${name(parent)} is off-screen ` +
                      `(${Math.round(box.left)},${Math.round(box.top)})`);
        continue;
      }
      const cut = clippers.find(a => !inside(box, a.getBoundingClientRect()));
      if (cut) {
        problems.push(`«${m[0]}» of ${name(parent)} is clipped by ${name(cut)}`);
      }
    }
  }
  return {words, problems: [...new Set(problems)]};
}"""


def check_layout(page, where: str) -> int:
    """Assert the page fits its viewport, every word whole and on screen; returns how many
    words were checked."""
    result = page.evaluate(LAYOUT_JS)
    problems = result["problems"]
    assert not problems, f"{where}: {len(problems)} problem(s):\n" + "\n".join(
        f"- {p}" for p in problems[:40])
    return result["words"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s['width']}x{s['height']}")
@pytest.mark.parametrize("name,path,mode,ballot_state", MODES, ids=[m[0] for m in MODES])
def test_every_projector_mode_fits_the_screen(layout_server, browser, name, path, mode,
                                              ballot_state, size):
    server, app = layout_server
    prepare(app, mode, ballot_state)
    where = f"{name} {size['width']}x{size['height']}"
    with projector_context(browser, viewport=dict(size)) as context:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.url + path)
        if path.endswith("/vote"):
            page.wait_for_selector("[data-vote-projector][data-ready]", state="attached")
        else:
            page.wait_for_selector("body[data-live=on]", state="attached", timeout=15_000)
        page.evaluate("document.fonts.ready.then(() => true)")
        page.wait_for_timeout(500)  # the snapshot is drawn and fitted
        text = page.inner_text("body").upper()
        if mode == "overview":
            assert page.locator(".tile").count() == 8, where
        if mode == "theme":
            assert page.is_visible("#theme-mode .point"), where
        if ballot_state == "open":
            assert "VOTE EN COURS" in text and "VOTANT·ES" in text, where
            assert page.is_visible(".pv-text"), where
        if ballot_state == "closed":
            assert "ADOPTÉ" in text and "ABSTENTION" in text, where
        screenshot(page, f"projector-{name}-{size['width']}x{size['height']}")
        words = check_layout(page, where)
        assert words > 20, where
        check_axe(page)
        assert not errors, errors


LONG_TITLE = ("Congrès national des élus au numérique des communes rurales, des petites villes "
              "et des intercommunalités de montagne, d'outre-mer et du littoral — édition 2026")


def test_long_titles_end_after_a_whole_word(layout_server, browser):
    """The congress's and the ballot's titles at their longest: cut after a whole word with
    « … » (two and three lines), the rest of the screen unmoved."""
    server, app = layout_server
    prepare(app, "vote", "open")
    with app.app_context():
        congress = db.session.scalar(select(Congress).filter_by(join_code=CODE))
        congress.title = LONG_TITLE
        ballot = db.session.scalar(select(Ballot).filter_by(congress_id=congress.id,
                                                            state="open"))
        ballot.title = (LONG_TITLE + " : ") * 2
        db.session.commit()
        db.session.remove()
    size = {"width": 1280, "height": 720}
    with projector_context(browser, viewport=size) as context:
        page = context.new_page()
        page.goto(f"{server.url}/projecteur/{CODE}")
        page.wait_for_selector("body[data-live=on]", state="attached", timeout=15_000)
        page.evaluate("document.fonts.ready.then(() => true)")
        page.wait_for_timeout(500)
        check_layout(page, "long titles")
        for selector in (".bar-title-text", ".pv-title"):
            shown = page.inner_text(selector)
            assert shown.endswith("\u2026"), (selector, shown)
            assert LONG_TITLE.startswith(shown[:-1].rstrip(" ,;:.")), (selector, shown)
        assert page.is_visible(".pv-count") and page.is_visible(".pv-text")


BROKEN_PAGE = """<!doctype html><html lang="fr"><body style="margin:0;font:20px sans-serif">
<p id="narrow" style="width:60px;overflow-wrap:anywhere">Accompagnement</p>
<p id="compound" style="width:70px">Saint-Denis</p>
<div style="height:24px;overflow:hidden"><p id="cut" style="margin:0">Un<br>deux</p></div>
<p id="dots" style="width:80px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis">
Une idée tronquée</p>
<p id="below" style="position:absolute;top:2000px">Sous</p>
</body></html>"""


def test_the_layout_check_finds_each_way_of_breaking_the_screen(browser):
    with projector_context(browser, viewport={"width": 1280, "height": 720}) as context:
        page = context.new_page()
        page.set_content(BROKEN_PAGE)
        problems = "\n".join(page.evaluate(LAYOUT_JS)["problems"])
        for expected in ("«Accompagnement» is broken across",
                         "«Saint-Denis» is broken across",
                         "p#narrow lets words split",
                         "«deux» of p#cut is clipped by div",
                         "of p#dots is clipped by p#dots",
                         "«Sous» of p#below is off-screen",
                         "the page scrolls"):
            assert expected in problems, (expected, problems)
        page.set_content("<p style='width:300px'>Une phrase entière qui tient.</p>")
        assert page.evaluate(LAYOUT_JS) == {"words": 5, "problems": []}
