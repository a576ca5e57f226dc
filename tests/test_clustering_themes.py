"""Theme assignment: zero-shot on custom themes, confirmed labels, hors_theme, themes files."""

import json

import numpy as np
import pytest

from deliberation.clustering import themes as themes_mod
from deliberation.clustering.themes import (
    HORS_THEME,
    ThemeAssigner,
    ThemeModel,
    ThemesError,
    get_theme_model,
    load_labelled,
    load_themes,
    themes_from_data,
)

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

TEXTS = [
    ("Plus de bus le matin pour aller à la gare", "mobilite"),
    ("Une piste cyclable entre le bourg et le collège", "mobilite"),
    ("Le covoiturage devrait être encouragé par la commune", "mobilite"),
    ("Ouvrir la médiathèque le dimanche après-midi", "culture"),
    ("Un festival de théâtre dans la cour du château", "culture"),
    ("Restaurer l'église et son patrimoine", "culture"),
    ("La piscine municipale est trop petite et vétuste", "sport"),
    ("Un nouveau gymnase pour les clubs", "sport"),
    ("Rénover le stade et son terrain synthétique", "sport"),
]


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTION_CACHE_DIR", str(tmp_path / "cache"))


def fit(texts, y=None, **params):
    model = ThemeModel(use_corpus=False).fit(CUSTOM)
    return ThemeAssigner(CUSTOM, model=model, **params).fit(texts, y)


def test_zero_shot_on_custom_themes():
    a = fit([t for t, _ in TEXTS])
    assert list(a.labels_) == [y for _, y in TEXTS]
    assert a.proba_.shape == (len(TEXTS), 4)
    assert np.allclose(a.proba_.sum(axis=1), 1.0)
    assert ((a.confidence_ >= 0) & (a.confidence_ <= 1)).all()


def test_confirmed_labels_are_kept_and_pull_similar_texts():
    texts = ["Les navettes du samedi vers le marché de Loches",
             "Une navette le samedi matin vers le marché",
             "navette du samedi pour le marché"]
    base = fit(texts)
    conf = fit(texts, y=["sport", None, None])
    assert conf.labels_[0] == "sport" and conf.confidence_[0] == 1.0
    j = list(conf.classes_).index("sport")
    assert (conf.proba_[1:, j] > base.proba_[1:, j]).all()
    assert conf.labels_[1] == "sport"


def test_hors_theme_when_nothing_fits():
    a = fit([t for t, _ in TEXTS] + ["zzzz qwxv plouf"])
    assert a.labels_[-1] == HORS_THEME


def test_review_queue_is_most_uncertain_first():
    a = fit([t for t, _ in TEXTS] + ["Le bus pour la piscine et le musée"],
            review_below=1.01)
    margins = a.margin_[a.review_]
    assert list(margins) == sorted(margins)


def test_alt_theme_is_a_different_theme_or_empty():
    a = fit(["Un bus pour emmener les enfants à la piscine et au stade"], alt_min=0.05)
    assert a.alt_[0] in {"", *[t["code"] for t in CUSTOM]}
    assert a.alt_[0] != a.labels_[0]


def test_empty_congress():
    a = fit([])
    assert a.labels_.shape == (0,) and a.review_.shape == (0,)


def test_corpus_labels_are_mapped_by_code_only(tmp_path):
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "statements.csv").write_text(
        "id,text,theme,alt_theme,voice\n1,Des bus partout,mobilite,,maire\n"
        "2,Des données ouvertes,donnees,,maire\n", encoding="utf-8")
    texts, labels = load_labelled(tmp_path)
    assert labels == ["mobilite", "donnees"]
    model = ThemeModel(corpus_dir=tmp_path).fit(CUSTOM)
    assert model.n_labelled_ == 1  # the donnees statement is not a theme of this congress
    assert set(model.classes_) == {"mobilite", "culture", "sport"}


def test_demo_test_split_is_never_read(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "contributions.csv").write_text(
        "id,author_id,channel,text,theme,alt_theme,split\n1,,online,Appris,sport,,train\n"
        "2,,online,Secret,culture,,test\n", encoding="utf-8")
    texts, labels = load_labelled(tmp_path)
    assert texts == ["Appris"]


def test_model_is_cached_in_memory_and_on_disk(tmp_path):
    themes_mod._MEMORY_CACHE.clear()
    m1 = get_theme_model(CUSTOM, cache_dir=tmp_path, use_corpus=False)
    assert get_theme_model(CUSTOM, cache_dir=tmp_path, use_corpus=False) is m1
    assert list(tmp_path.glob("theme-model-*.joblib"))
    themes_mod._MEMORY_CACHE.clear()
    m2 = get_theme_model(CUSTOM, cache_dir=tmp_path, use_corpus=False)
    assert m2 is not m1 and list(m2.classes_) == list(m1.classes_)


@pytest.mark.parametrize("content", [
    "{not json", json.dumps({"themes": []}), json.dumps({"themes": [{"title": "x"}]}),
    json.dumps({"themes": [{"code": "a", "title": "A"}, {"code": "a", "title": "B"}]}),
    json.dumps({"themes": [{"code": "hors_theme", "title": "A"}]}),
])
def test_bad_themes_files_are_refused(tmp_path, content):
    path = tmp_path / "themes.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ThemesError):
        load_themes(path)


def test_themes_keep_their_order():
    shuffled = [CUSTOM[2], CUSTOM[0], CUSTOM[1]]
    assert [t.code for t in themes_from_data(shuffled)] == ["mobilite", "culture", "sport"]


GARDENS = ["Des jardins partagés au pied des immeubles du quartier",
           "Créer des jardins partagés dans le quartier de la gare",
           "Les jardins partagés du quartier ont besoin d'eau",
           "Un jardin partagé pour les habitants du quartier"]


def test_confirmations_move_similar_texts_to_their_theme():
    # No theme speaks of shared gardens; the facilitator files two of them under culture
    # (and one example of two other themes).  With the neighbour graph switched off,
    # only the adapter fitted on the confirmations can move the other two.
    texts = [t for t, _ in TEXTS] + GARDENS
    y = [None] * len(texts)
    y[0], y[6], y[9], y[10] = "mobilite", "sport", "culture", "culture"
    base = fit(texts, spread_alpha=0.0)
    conf = fit(texts, y=y, spread_alpha=0.0)
    j = list(conf.classes_).index("culture")
    assert not (base.labels_[11:] == "culture").all()
    assert list(conf.labels_[11:]) == ["culture", "culture"]
    assert (conf.proba_[11:, j] > base.proba_[11:, j] + 0.1).all()
    # the clear texts are not dragged along
    assert list(conf.labels_[:9]) == [y for _, y in TEXTS]
    # the live path knows the adapter too
    live, _ = conf.predict_proba(["Des jardins partagés pour tout le quartier"])
    before, _ = base.predict_proba(["Des jardins partagés pour tout le quartier"])
    assert live[0].argmax() == j and live[0, j] > before[0, j]


def test_confirmations_that_agree_with_the_model_change_no_label():
    # A congress dominated by one theme, a few confirmations per theme (as a facilitator
    # would): the case-control correction keeps them from pushing towards rare themes.
    texts = [t for t, _ in TEXTS] + [
        "Des bus plus fréquents vers la gare le soir", "Un car scolaire pour les hameaux",
        "Le transport à la demande pour les personnes âgées", "Plus de trains vers la ville",
        "Sécuriser la route du collège pour les vélos", "Du stationnement près de la gare"]
    base = fit(texts)
    y = [None] * len(texts)
    for i in (0, 1, 3, 4, 6, 7):
        y[i] = TEXTS[i][1]
    conf = fit(texts, y=y)
    assert list(conf.labels_) == list(base.labels_)
    # Without the correction, equal counts per theme read as « equally frequent themes »:
    # the dominant theme's bias and its texts' probabilities come out lower.
    naive = fit(texts, y=y, case_control=False)
    j = list(conf.classes_).index("mobilite")
    assert conf.adapter_[1][j] > naive.adapter_[1][j]
    assert conf.proba_[9:, j].mean() > naive.proba_[9:, j].mean()


def test_graph_strength_is_checked_on_enough_confirmations():
    texts = [t for t, _ in TEXTS] + GARDENS
    few = [None] * len(texts)
    few[9] = "culture"
    # Too few to judge: the default strength (none, unless configured).
    assert fit(texts, y=few).alpha_ == 0.0
    assert fit(texts, y=few, spread_default=0.3).alpha_ == 0.3
    many = [y for _, y in TEXTS] + ["culture", None, None, None]
    a = fit(texts, y=many, alpha_min_confirmed=8)
    assert a.alpha_ in {0.0, 0.15, 0.3, 0.5}
    assert fit(texts, y=many, spread_alpha=0.2).alpha_ <= 0.2
    assert fit(texts, y=many, confirmed_mode="refit", spread_default=0.3).alpha_ == 0.3
