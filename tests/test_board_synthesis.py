"""Issue 12 on the facilitator's board: points read as statements, a rename pins a
statement, and « plus / moins de points » sets each theme's grain (a correction)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from deliberation import contributions as contrib
from deliberation import corrections, screens, sorting
from deliberation.clustering import pipeline as engine
from deliberation.errors import InputError
from deliberation.extensions import db
from deliberation.models import AuditEvent, Cluster, Contribution, Theme

from .conftest import text_of
from .debate import build, connect, emit, http_client, received


@pytest.fixture
def debate(congress):
    return build(congress)


def _theme(debate, code: str) -> Theme:
    return db.session.scalar(select(Theme).filter_by(congress_id=debate.congress.id, code=code))


def _refit(debate):
    sorting.refit(debate.congress.id)
    db.session.expire_all()


@pytest.fixture
def engine_calls(monkeypatch):
    """The Locks every refit hands the engine, and a statement for each point it returns
    (so that what is the app's is tested whatever sentence the engine picks)."""
    calls: list[engine.Locks] = []
    real = engine.sort_congress

    def spy(themes, items, *, locks, **kwargs):
        calls.append(locks)
        result = real(themes, items, locks=locks, **kwargs)
        for point in result.clusters:
            point.statement = point.statement or f"Énoncé du point {point.id}."
        return result

    monkeypatch.setattr(engine, "sort_congress", spy)
    return calls


# -- statements ----------------------------------------------------------------------------

def test_refit_stores_each_points_statement(debate, engine_calls):
    _refit(debate)
    points = list(db.session.scalars(select(Cluster).filter_by(congress_id=debate.congress.id)
                                     .where(Cluster.size > 0)))
    assert points and all(p.statement and p.display_label == p.statement for p in points)
    assert all(len(p.statement) <= 400 for p in points)


def test_board_and_pushes_show_the_statement_with_the_keywords_as_a_tag(app, debate):
    fibre = debate.point("fibre")
    fibre.label = "fibre, villages, hameaux"
    fibre.statement = "La fibre optique doit arriver dans tous les villages."
    db.session.commit()
    page = http_client(app, debate, "facilitator").get("/animation/tableau/contenu")
    html = page.get_data(as_text=True)
    assert ('<span class="point-name">La fibre optique doit arriver dans tous les '
            'villages.</span>') in html
    assert '<p class="point-tag"><span class="visually-hidden">Mots-clés' in html
    assert "fibre, villages, hameaux" in html
    acces = next(t for t in screens.picture(debate.congress.id)["themes"] if t["code"] == "acces")
    shown = next(p for p in acces["points"] if p["key"] == fibre.key)
    assert shown["label"] == fibre.statement and shown["tag"] == "fibre, villages, hameaux"
    summary = sorting.dashboard_summary(debate.congress)
    assert fibre.statement in [p.display_label for ps in summary["points"].values() for p in ps]


# -- renaming: a pinned statement --------------------------------------------------------------

def test_rename_pins_a_normalised_statement_that_survives_refits(debate, engine_calls):
    fibre = debate.point("fibre")
    outcome = corrections.rename_point(debate.congress, None, fibre.key,
                                       "  la fibre   optique partout, même dans les hameaux ")
    db.session.commit()
    assert outcome.result["label"] == "La fibre optique partout, même dans les hameaux."
    _refit(debate)
    _refit(debate)
    fibre = db.session.get(Cluster, fibre.id)
    assert fibre.custom_label == "La fibre optique partout, même dans les hameaux."
    assert fibre.display_label == fibre.custom_label
    assert engine_calls[-1].labels[fibre.key] == fibre.custom_label
    [entry] = [e.payload for e in db.session.scalars(
        select(AuditEvent).filter_by(action="correction.rename"))]
    assert entry["label"] == fibre.custom_label


def test_rename_takes_a_full_sentence_up_to_400_characters(app, debate):
    fibre = debate.point("fibre")
    long = "Les communes rurales " + "et leurs hameaux " * 22
    assert len(long) < 400
    corrections.rename_point(debate.congress, None, fibre.key, long)
    assert len(fibre.custom_label) <= 400
    for too_long in ("a" * 401, "a" * 400):  # the final full stop must fit too
        with pytest.raises(InputError, match="400 caractères"):
            corrections.rename_point(debate.congress, None, fibre.key, too_long)
    db.session.rollback()
    html = http_client(app, debate, "facilitator").get(
        "/animation/tableau/contenu").get_data(as_text=True)
    assert f'<textarea id="rename-{fibre.key}" name="label" rows="3" maxlength="400"' in html


def test_a_split_names_its_new_point_with_a_pinned_statement(debate, engine_calls):
    fibre = debate.point("fibre")
    outcome = corrections.split_point(debate.congress, None, fibre.key, debate.ideas[1:3],
                                      "la fibre avant 2030 : même dans les hameaux")
    db.session.commit()
    _refit(debate)
    new = db.session.scalar(select(Cluster).filter_by(key=outcome.result["new"]))
    assert new.display_label == "La fibre avant 2030\u00a0: même dans les hameaux."
    assert engine_calls[-1].labels[new.key] == new.custom_label


# -- granularity ----------------------------------------------------------------------------

def test_granularity_steps_within_bounds_with_french_errors(debate):
    facilitator = debate.people["facilitator"]
    for expected in (1, 2, 3):
        outcome = corrections.set_granularity(debate.congress, facilitator, "acces", 1)
        assert outcome.result["granularity"] == expected
    assert outcome.result["label"] == "Grain\u00a0: +3"
    with pytest.raises(InputError, match="déjà le plus de points"):
        corrections.set_granularity(debate.congress, facilitator, "acces", "1")
    for _ in range(6):
        outcome = corrections.set_granularity(debate.congress, facilitator, "acces", "-1")
    assert outcome.result == {"theme": "acces", "granularity": -3,
                              "label": "Grain\u00a0: \u22123"}
    with pytest.raises(InputError, match="déjà le moins de points"):
        corrections.set_granularity(debate.congress, facilitator, "acces", -1)
    for bad in (0, 2, True, "beaucoup", None):
        with pytest.raises(InputError, match="Plus de points"):
            corrections.set_granularity(debate.congress, facilitator, "acces", bad)
    with pytest.raises(InputError, match="hors thème"):
        corrections.set_granularity(debate.congress, facilitator, "hors_theme", 1)
    with pytest.raises(InputError, match="n'existe pas"):
        corrections.set_granularity(debate.congress, facilitator, "cuisine", 1)
    db.session.commit()
    assert _theme(debate, "acces").granularity == -3
    audit = [e for e in db.session.scalars(
        select(AuditEvent).filter_by(action="correction.granularity"))]
    assert len(audit) == 9 and audit[-1].actor_id == facilitator.id
    assert audit[-1].payload == {"theme": "acces", "previous": -2, "granularity": -3}


def test_granularity_is_passed_to_the_engine_and_survives_refits(debate, engine_calls):
    corrections.set_granularity(debate.congress, None, "acces", 1)
    corrections.set_granularity(debate.congress, None, "formation", -1)
    db.session.commit()
    _refit(debate)
    _refit(debate)
    assert engine_calls[-1].granularity == {"acces": 1, "formation": -1}
    assert engine_calls[-2].granularity == {"acces": 1, "formation": -1}
    assert _theme(debate, "acces").granularity == 1
    assert _theme(debate, "donnees").granularity == 0


def test_granularity_buttons_work_as_plain_forms(app, debate):
    staff = http_client(app, debate, "facilitator")
    html = staff.get("/animation/tableau").get_data(as_text=True)
    assert 'id="grain-acces-max"' in html and 'id="grain-acces-min"' in html
    assert "Grain : 0" in text_of(staff.get("/animation/tableau"))  # text_of: nbsp → space
    for n in range(3):
        response = staff.post("/animation/tableau/action", data={
            "action": "theme.granularity", "theme": "acces", "step": "1",
            "key": f"grain-plus-{n:02d}"})
        assert response.status_code == 302
    db.session.expire_all()
    assert _theme(debate, "acces").granularity == 3
    page = staff.get("/animation/tableau")
    html = page.get_data(as_text=True)
    assert "Grain : +3" in text_of(page)
    assert ('id="grain-acces-max" disabled aria-describedby="grain-acces-max-pourquoi"'
            in html)
    assert 'id="grain-acces-max-pourquoi">Grain le plus fin atteint (+3)' in html
    assert 'id="grain-acces-min" disabled' not in html
    refused = staff.post("/animation/tableau/action", data={
        "action": "theme.granularity", "theme": "acces", "step": "1",
        "key": "grain-plus-99"})
    assert refused.status_code == 302
    assert "déjà le plus de points" in text_of(staff.get("/animation/tableau"))
    as_json = staff.post("/animation/tableau/action", json={
        "action": "theme.granularity", "theme": "acces", "step": 1, "key": "grain-json-1"})
    assert as_json.status_code == 422 and "grain +3" in as_json.json["error"]
    scribe = http_client(app, debate, "scribe")
    denied = scribe.post("/animation/tableau/action", json={
        "action": "theme.granularity", "theme": "acces", "step": -1, "key": "grain-scribe"})
    assert denied.status_code == 403


def test_granularity_over_the_socket_pushes_and_asks_for_a_refit(app, debate, monkeypatch):
    asked: list[int] = []
    monkeypatch.setattr(sorting, "schedule_refit", lambda app, cid: asked.append(cid))
    projector = connect(app, audience="projector")
    staff = connect(app, http_client(app, debate, "facilitator"), "facilitator")
    received(projector)
    ack = emit(staff, "theme.granularity", {"theme": "formation", "step": -1,
                                            "key": "grain-sock-1"})
    assert ack == {"ok": True, "theme": "formation", "granularity": -1,
                   "label": "Grain\u00a0: \u22121"}
    [(name, pushed)] = received(projector)
    assert name == "points.updated" and pushed["reason"] == "granularity"
    assert asked == [debate.congress.id]
    again = emit(staff, "theme.granularity", {"theme": "formation", "step": -1,
                                              "key": "grain-sock-1"})
    assert again == ack  # a retried key is applied once
    db.session.expire_all()
    assert _theme(debate, "formation").granularity == -1


#: More ways of asking for access, some close to each other, some less: the engine's
#: grain has something to split or to join in « Égalité d'accès ».
MORE_ACCESS = [
    "Le très haut débit doit couvrir les hameaux isolés du département.",
    "Raccorder les fermes et hameaux à internet par la fibre ou le satellite.",
    "Une couverture mobile correcte sur les routes de montagne.",
    "Les opérateurs doivent tenir leurs promesses de couverture 4G.",
    "Internet lent dans les villages : il faut un vrai débit pour télétravailler.",
    "Le réseau mobile ne passe pas dans la vallée, il faut des antennes.",
    "La fibre jusqu'à l'abonné dans chaque commune rurale.",
]


def _points(debate) -> dict[str, dict[str, frozenset[int]]]:
    """Theme code → point key → its members, as the board groups them."""
    rows = db.session.execute(
        select(Theme.code, Cluster.key, Contribution.id)
        .join(Theme, Contribution.theme_id == Theme.id)
        .join(Cluster, Contribution.cluster_id == Cluster.id)
        .where(Contribution.congress_id == debate.congress.id,
               Contribution.status == "visible"))
    found: dict[str, dict[str, set[int]]] = {}
    for code, key, cid in rows:
        found.setdefault(code, {}).setdefault(key, set()).add(cid)
    return {code: {k: frozenset(v) for k, v in points.items()}
            for code, points in found.items()}


def _press(staff, code: str, step: str, key: str) -> None:
    response = staff.post("/animation/tableau/action", data={
        "action": "theme.granularity", "theme": code, "step": step, "key": key})
    assert response.status_code == 302


def test_plus_de_points_regroups_the_theme_and_keeps_the_unchanged_points(app, debate):
    for text in MORE_ACCESS:
        contrib.create(debate.congress, text, speaker_name="Orateur", channel="live")
    db.session.commit()
    _refit(debate)
    staff = http_client(app, debate, "facilitator")
    before = start = _points(debate)
    for n in range(3):
        _press(staff, "acces", "1", f"grain-engine-plus-{n}")
        _refit(debate)
        after = _points(debate)
        assert len(after["acces"]) >= len(before["acces"])
        kept = {members: key for key, members in before["acces"].items()}
        for key, members in after["acces"].items():
            if members in kept:  # a point the new grain left whole keeps its id
                assert key == kept[members]
        for code in ("formation", "donnees"):  # the other themes are not touched
            assert after[code] == before[code]
        before = after
    assert len(before["acces"]) > len(start["acces"])  # +3 splits what grain 0 joined
    coarse = before
    for n in range(6):
        _press(staff, "acces", "-1", f"grain-engine-moins-{n}")
    _refit(debate)
    assert len(_points(debate)["acces"]) <= len(coarse["acces"])
    assert _theme(debate, "acces").granularity == -3
