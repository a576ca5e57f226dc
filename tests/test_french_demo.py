"""French throughout, on the demo congress as `make run` serves it (issue 14): no line
breaks before « : ; ! ? » or inside « 5 000 », one « à vérifier » figure on every screen,
commune counts that say what they count, sorting changes counted in recurring points."""

from __future__ import annotations

import re
from uuid import uuid4

import pytest
from sqlalchemy import select

from deliberation import formats, sorting
from deliberation.extensions import db
from deliberation.models import Contribution, Participant
from deliberation.queries import review_count, review_queue
from deliberation.web.board import REVIEW_SHOWN

from .demo_site import breakable_spaces, clients, demo_app, get, load_sorted_demo, visible_text

#: Heard in the room, from a commune no registered official comes from.
NEW_COMMUNE = "Lauzerte-les-Vignes"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = demo_app(tmp_path_factory.mktemp("demo") / "demo.db")
    with app.app_context():
        demo = load_sorted_demo()
        db.session.add(Contribution(
            congress_id=demo.id, channel="live", speaker_name="Mme Bernadette Inconnue",
            speaker_commune=NEW_COMMUNE, text="Un tiers-lieu numérique dans chaque canton !"))
        db.session.commit()
        yield {"app": app, "demo": demo, "as": clients(app, demo)}
        db.session.remove()
        db.engine.dispose()


def _page(site, role: str, url: str) -> str:
    response = get(site["as"][role], url.format(code=site["demo"].join_code))
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


MAIN_PAGES = [("official", "/c/{code}"), ("official", "/c/{code}/direct"),
              ("facilitator", "/animation/tableau"), ("facilitator", "/animation/"),
              ("scribe", "/animation/releve"), ("visitor", "/projecteur/{code}"),
              ("visitor", "/motion/{code}/releve")]


@pytest.mark.parametrize("role, url", MAIN_PAGES, ids=[u for _, u in MAIN_PAGES])
def test_no_line_breaks_before_french_punctuation_or_inside_numbers(site, role, url):
    assert breakable_spaces(_page(site, role, url)) == []


def test_people_s_ideas_are_set_in_french_typography(site):
    board = visible_text(_page(site, "facilitator", "/animation/tableau"))
    assert "chaque canton\u202f!" in board


def _board_review_figures(html: str) -> tuple[int, int, int]:
    text = re.sub(r"\s+", " ", visible_text(html))
    summary = int(re.search(r"à vérifier : (\d+)", text).group(1))
    heading = int(re.search(r"À vérifier (\d+)", text).group(1))
    queue = html[html.index('id="a-verifier"'):]
    listed = queue[:queue.index("</section>")].count('class="idea idea-review"')
    return summary, heading, listed


def _dashboard_review_figure(html: str) -> int:
    return int(re.search(r"À vérifier \((\d+)\)", re.sub(r"\s+", " ", visible_text(html)))
               .group(1))


def _review_figures(site) -> dict:
    summary, heading, listed = _board_review_figures(_page(site, "facilitator",
                                                           "/animation/tableau"))
    return {"board summary": summary, "board heading": heading,
            "dashboard": _dashboard_review_figure(_page(site, "facilitator", "/animation/")),
            "scribe's dashboard": _dashboard_review_figure(_page(site, "scribe", "/animation/")),
            "query": review_count(site["demo"]), "listed": listed}


def test_every_screen_counts_the_same_ideas_to_check(site):
    after_sort = _review_figures(site)
    listed = after_sort.pop("listed")
    assert len(set(after_sort.values())) == 1, after_sort
    total = after_sort["query"]
    # The board lists at most REVIEW_SHOWN ideas; every count is the whole queue's.
    assert total >= 3 and listed == min(total, REVIEW_SHOWN)

    first, second, third = review_queue(site["demo"], 3)
    facilitator = site["as"]["facilitator"]
    for data in ({"action": "contribution.confirm", "id": first.id},
                 {"action": "contribution.duplicate", "id": second.id, "of": third.id}):
        get(facilitator, "/animation/tableau")
        response = facilitator.post("/animation/tableau/action",
                                    data={**data, "key": uuid4().hex})
        assert response.status_code == 302
    after_corrections = _review_figures(site)
    after_corrections.pop("listed")
    assert set(after_corrections.values()) == {total - 2}, after_corrections


def test_the_report_labels_its_two_commune_counts_apart(site):
    demo = site["demo"]
    registered = {(p.commune.casefold(), p.department_code) for p in db.session.scalars(
        select(Participant).filter_by(congress_id=demo.id, role="participant"))
        if p.commune}
    text = re.sub(r"\s+", " ", visible_text(_page(site, "visitor", "/motion/{code}/releve")))
    assert f"{formats.number(len(registered))} communes des élu·es inscrit·es" in text
    assert (f"Les contributions viennent de {formats.number(len(registered) + 1)} communes"
            in text)
    assert len(re.findall(r"\d+ communes?\b(?! des élu·es| et \d)", text)) == 0, text


def test_the_sorting_summary_counts_recurring_points(site):
    demo = site["demo"]
    run = sorting.refit(demo.id)
    changes = run.changes
    # Kept and new points are the points there are now; lone ideas are no point.
    assert changes["points_kept"] + changes["points_new"] == run.quality["groups"]
    assert changes["groups_kept"] > run.quality["groups"]
    text = re.sub(r"\s+", " ", visible_text(_page(site, "facilitator", "/animation/")))
    kept = formats.plural(changes["points_kept"], "conservé", "conservés")
    assert f"points récurrents : {kept}" in text
    assert f"{run.changes['groups_kept']} conservés" not in text
    assert "(s)" not in text and "(es)" not in text
