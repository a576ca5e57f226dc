"""The room's big screen: rendered from the database, public, no external service."""

from __future__ import annotations

import re

import pytest

from deliberation import corrections, create_app, screens
from deliberation.config import TestConfig
from deliberation.extensions import db
from deliberation.models import Congress
from deliberation.web import projector

from .conftest import text_of
from .debate import build, http_client


@pytest.fixture
def debate(congress):
    return build(congress)


def test_screen_shows_themes_points_ticker_map_and_qr(app, debate):
    response = http_client(app, debate, "anonymous").get("/projecteur/TEST26")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = text_of(response)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and ' style="' not in page
    assert not re.search(r"""(src|href)=["']https?://""", page)  # nothing from elsewhere
    assert page.count('class="tile ') == 3
    assert re.search(r'data-theme="acces">.*?<span data-count>5</span>', page, re.S)
    assert "fibre" in text  # largest recurring point, with its size
    assert page.count('<circle ') == 12  # the idea map
    assert 'src="data:image/svg+xml' in page  # QR code drawn here
    assert "Participez sur localhost/rejoindre code TEST26" in text
    assert debate.idea(11).text[:40] in text  # ticker: the latest idea first
    assert 'data-mode="overview"' in page and 'id="theme-mode" class="focus" ' \
        'aria-labelledby="focus-title" hidden' in page


def test_public_url_is_used_for_the_join_link(app, debate):
    app.config["PUBLIC_URL"] = "https://motion.example.org"
    text = text_of(http_client(app, debate, "anonymous").get("/projecteur/TEST26"))
    assert "motion.example.org/rejoindre code TEST26" in text


def test_the_join_address_may_wrap_before_its_slashes_only(app, debate):
    """A long public address wraps at a « / » in the projector's corner, never mid-word."""
    app.config["PUBLIC_URL"] = "https://congres.villes-internet.example.org"
    page = http_client(app, debate, "anonymous").get("/projecteur/TEST26").get_data(
        as_text=True)
    assert "congres.villes-internet.example.org<wbr>/rejoindre" in page
    assert str(projector.breakable("a&b/c/d")) == "a&amp;b<wbr>/c<wbr>/d"


def test_theme_mode_renders_the_focus(app, debate):
    corrections.set_projector_mode(debate.congress, None, "theme", "formation")
    db.session.commit()
    response = http_client(app, debate, "anonymous").get("/projecteur/TEST26")
    page = response.get_data(as_text=True)
    assert 'data-mode="theme"' in page and 'id="overview-mode"' in page
    assert re.search(r'id="focus-title" class="focus-title">Formation<', page)
    assert re.search(r'id="focus-count">4<', page)


def test_state_json_is_the_projector_snapshot(app, debate):
    response = http_client(app, debate, "anonymous").get("/projecteur/TEST26/etat.json")
    assert response.headers["Cache-Control"] == "no-store"
    state = response.json
    assert set(state) >= {"congress", "projector", "picture", "latest", "map", "focus", "run"}
    assert http_client(app, debate, "anonymous").get("/projecteur/NOPE").status_code == 404


def test_after_a_restart_the_projector_shows_the_same_state(app, debate):
    corrections.rename_point(debate.congress, None, debate.point("fibre").key, "Fibre partout")
    corrections.hide(debate.congress, None, debate.ideas[11])
    corrections.set_projector_mode(debate.congress, None, "theme", "acces")
    db.session.commit()
    before = screens.snapshot(db.session.get(Congress, debate.congress.id), "projector")
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    restarted = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig)
                               if k.isupper()}, "SQLALCHEMY_DATABASE_URI": uri})
    with restarted.app_context():
        after = screens.snapshot(db.session.get(Congress, debate.congress.id), "projector")
        page = restarted.test_client().get("/projecteur/TEST26").get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()
    assert after == before
    assert after["projector"] == {"mode": "theme", "theme": "acces"}
    assert "Fibre partout" in page and debate.ideas[11] not in [c["id"] for c in
                                                                 after["latest"]]


def test_points_are_shown_by_their_statement_with_the_rest_counted(app, debate, monkeypatch):
    fibre = debate.point("fibre")
    fibre.statement = "La fibre optique doit arriver dans tous les villages du Cantal."
    db.session.commit()
    monkeypatch.setattr(screens, "TOP_POINTS", 1)  # the picture carries one point per theme
    acces = next(t for t in screens.picture(debate.congress.id)["themes"] if t["code"] == "acces")
    assert acces["point_count"] == 2 and len(acces["points"]) == 1
    page = http_client(app, debate, "anonymous").get("/projecteur/TEST26").get_data(as_text=True)
    tile = page.split('data-theme="acces">', 1)[1].split('<li class="tile ', 1)[0]
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", tile))
    assert "3 idées La fibre optique doit arriver dans tous les villages du Cantal." in shown
    assert f'<span class="point-statement">{fibre.statement}</span>' in tile  # not the tag
    assert re.search(r'data-total="2".*data-more>\+&nbsp;1 autre point</p>', tile, re.S)


def test_theme_mode_carries_how_many_points_there_are(app, debate):
    corrections.set_projector_mode(debate.congress, None, "theme", "acces")
    db.session.commit()
    focus = screens.focus(db.session.get(Congress, debate.congress.id))
    assert focus["point_count"] == len(focus["points"]) == 2
    assert [p["size"] for p in focus["points"]] == [3, 2]
    page = http_client(app, debate, "anonymous").get("/projecteur/TEST26").get_data(as_text=True)
    assert re.search(r'class="focus-body" data-fit data-total="2"', page)
    assert re.search(r'id="focus-points">\s*<li class="point"><span class="point-size">3<span '
                     r'class="visually-hidden"> idées</span></span>', page)
