"""The whole pipeline: tiny congresses, determinism, locks and identity across refits, map, live."""

import ast
import json
from pathlib import Path

import pytest

from deliberation.clustering import HORS_THEME, Locks, SortingModel, SortResult, sort_congress

CUSTOM = [
    {"code": "mobilite", "order": 1, "title": "Mobilités du quotidien",
     "description": "Transports en commun, bus, train, vélo, covoiturage, routes.",
     "subpoints": ["Des bus plus fréquents", "Des pistes cyclables sûres"],
     "keywords": ["bus", "car scolaire", "train", "gare", "vélo", "piste cyclable",
                  "covoiturage", "transport à la demande", "route", "stationnement"]},
    {"code": "culture", "order": 2, "title": "Culture et patrimoine",
     "description": "Bibliothèques, musées, festivals, patrimoine, spectacles.",
     "subpoints": ["Ouvrir la médiathèque le dimanche"],
     "keywords": ["bibliothèque", "médiathèque", "musée", "festival", "concert", "théâtre",
                  "patrimoine", "église", "exposition", "lecture"]},
    {"code": "sport", "order": 3, "title": "Sport pour tous",
     "description": "Équipements sportifs, clubs, piscine, stades.",
     "subpoints": ["Rénover la piscine"],
     "keywords": ["piscine", "stade", "gymnase", "club de foot", "sport", "terrain",
                  "natation", "randonnée", "équipement sportif", "licence"]},
]

ITEMS = [
    ("c1", "Plus de bus le matin pour aller à la gare"),
    ("c2", "Il faut plus de bus le matin vers la gare"),
    ("c3", "Des bus plus nombreux le matin pour rejoindre la gare SNCF"),
    ("c4", "Ouvrir la médiathèque le dimanche après-midi"),
    ("c5", "La médiathèque devrait ouvrir le dimanche"),
    ("c6", "Restaurer l'église et son patrimoine"),
    ("c7", "La piscine municipale est trop petite et vétuste"),
    ("c8", "Rénover la piscine municipale, trop petite"),
    ("c9", "Un nouveau gymnase pour les clubs"),
    ("c10", "Plus de bus le matin pour aller à la gare !"),
]


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MOTION_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def sort(items=ITEMS, **kw):
    return sort_congress(CUSTOM, items, random_state=0, **kw)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_tiny_congresses(n):
    result = sort(ITEMS[:n])
    assert [i.id for i in result.items] == [i for i, _ in ITEMS[:n]]
    assert sum(c.size for c in result.clusters) == n
    for item in result.items:
        assert item.theme in {"mobilite", "culture", "sport", HORS_THEME}
        assert 0.0 <= item.confidence <= 1.0
    if n:
        assert result.model.assign_one("Un bus vers la gare").theme == "mobilite"


def test_themes_groups_and_duplicates():
    result = sort()
    by_id = {i.id: i for i in result.items}
    assert [by_id[c].theme for c in ("c1", "c4", "c7", "c9")] == [
        "mobilite", "culture", "sport", "sport"]
    assert by_id["c1"].cluster == by_id["c2"].cluster == by_id["c10"].cluster
    assert by_id["c4"].cluster == by_id["c5"].cluster
    assert by_id["c6"].cluster != by_id["c4"].cluster
    bus = next(c for c in result.clusters if c.id == by_id["c1"].cluster)
    assert bus.medoid in bus.members and bus.size == len(bus.members) >= 3
    assert bus.label and "bus" in bus.label
    assert ("c1", "c10") in {(a, b) for a, b, _ in result.duplicates}
    assert result.theme_counts()["mobilite"] == 4


def test_same_input_same_output():
    a, b = sort().to_dict(), sort().to_dict()
    a.pop("timings"), b.pop("timings")
    assert a == b


def test_result_round_trips_through_json():
    result = sort(confirmed={"c9": "sport"})
    data = json.loads(json.dumps(result.to_dict()))
    again = SortResult.from_dict(data)
    assert again.to_dict() == result.to_dict()


def test_cluster_identity_and_map_survive_a_refit():
    first = sort()
    more = [*ITEMS, ("c11", "Un concert dans l'église"), ("c12", "Une piste de skate")]
    second = sort(more, previous=first.to_dict())
    old = {c.id: set(c.members) for c in first.clusters}
    for c in second.clusters:
        if c.id in old:
            assert len(old[c.id] & set(c.members)) >= 1
    kept = sum(1 for c in first.clusters if any(c.id == d.id for d in second.clusters))
    assert kept >= len(first.clusters) - 1
    pos1 = {i.id: (i.x, i.y, i.cluster) for i in first.items}
    size1 = {c.id: c.size for c in first.clusters}
    size2 = {c.id: c.size for c in second.clusters}
    for item in second.items:
        if item.id in pos1 and pos1[item.id][2] == item.cluster:
            if size1[item.cluster] == size2[item.cluster]:  # same group: same spot
                assert (item.x, item.y) == pos1[item.id][:2]
            else:  # the group grew: its members spread a little, never jump
                assert abs(item.x - pos1[item.id][0]) < 0.02
                assert abs(item.y - pos1[item.id][1]) < 0.02
    assert second.changes["first_run"] is False
    assert second.changes["new_contributions"] == 2


def test_corrections_survive_a_refit():
    first = sort()
    bus = next(i.cluster for i in first.items if i.id == "c1")
    locks = Locks(themes={"c6": "sport"}, memberships={"c9": bus, "c7": "manual-1"},
                  labels={bus: "Des bus le matin"})
    second = sort(locks=locks, previous=first)
    by_id = {i.id: i for i in second.items}
    assert by_id["c6"].theme == "sport" and by_id["c6"].confidence == 1.0
    assert by_id["c6"].confirmed
    assert by_id["c9"].cluster == bus
    assert by_id["c7"].cluster == "manual-1"
    group = next(c for c in second.clusters if c.id == bus)
    assert group.label == "Des bus le matin" and group.label_locked
    assert "c1" in group.members
    # And once more, from the second run, with nothing new: still honoured.
    third = sort(locks=locks.to_dict(), previous=second.to_dict())
    assert {i.id: i.cluster for i in third.items} == {i.id: i.cluster for i in second.items}


def test_live_assignment_joins_its_group_without_refit():
    result = sort()
    model = result.model
    live = model.assign_one("Davantage de bus le matin pour aller à la gare")
    bus = next(i.cluster for i in result.items if i.id == "c1")
    assert live.theme == "mobilite" and live.cluster == bus
    lone = model.assign_one("Un terrain de pétanque couvert pour l'hiver")
    assert lone.cluster is None or lone.cluster != bus
    assert model.assign_one("Davantage de bus").to_dict() == model.assign_one(
        "Davantage de bus").to_dict()


def test_extra_labelled_examples_are_used_but_not_output():
    result = sort(ITEMS[:3], extra_labelled=[("La navette du marché", "culture")])
    assert len(result.items) == 3


def test_sorting_model_follows_estimator_conventions():
    model = SortingModel(CUSTOM, random_state=3)
    assert model.random_state == 3 and not hasattr(model, "result_")
    assert model.fit(ITEMS) is model and hasattr(model, "result_")


def test_no_flask_import_in_the_package():
    package = Path(__file__).resolve().parents[1] / "deliberation" / "clustering"
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
                if node.level >= 2:  # from .. import x: the Flask app package itself
                    names.append("deliberation")
            for name in names:
                assert name.split(".")[0] not in {"flask", "flask_socketio", "flask_sqlalchemy"}
                assert name != "deliberation", f"{path.name} reaches outside the package"
