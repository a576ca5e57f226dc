"""The theme model's distilled meaning block: what it adds, and what it leaves alone."""

import pickle

import numpy as np
import pytest

from deliberation.clustering import themes as themes_mod
from deliberation.clustering.distilled import DistilledVectors
from deliberation.clustering.themes import ThemeAssigner, ThemeModel, model_key

from .test_clustering_themes import CUSTOM, TEXTS


@pytest.fixture
def small_table(monkeypatch):
    """A three-dimensional word table standing in for the distilled e5 one."""
    vocab = ["bus", "gare", "tramway", "piscine", "stade", "musée", "théâtre", "festival"]
    vectors = np.array([[1, 0, 0], [0.9, 0.1, 0], [1, 0.1, 0], [0, 1, 0], [0.1, 1, 0],
                        [0, 0, 1], [0, 0.1, 1], [0.1, 0, 1]], dtype=np.float32)
    table = DistilledVectors(vectors, np.ones(len(vocab), dtype=np.float32), vocab)
    monkeypatch.setattr(themes_mod, "load_distilled", lambda: table)
    return table


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTION_CACHE_DIR", str(tmp_path / "cache"))


def test_the_block_follows_the_text_columns(small_table):
    model = ThemeModel(use_corpus=False, distilled_weight=0.4).fit(CUSTOM)
    X = model.transform(["Plus de bus pour aller à la gare", "zzz qwxv"])
    assert X.shape[1] == model.n_text_features_ + small_table.dim
    block = X[:, model.n_text_features_:].toarray()
    # Centred and normalised to the block's weight; no known word, no meaning.
    assert np.linalg.norm(block[0]) == pytest.approx(0.4, rel=1e-4)
    assert not block[1].any()


def test_recurring_points_read_only_the_text_columns(small_table):
    model = ThemeModel(use_corpus=False, distilled_weight=0.4).fit(CUSTOM)
    X = model.transform([t for t, _ in TEXTS]).tolil()
    before = model.meaning(X.tocsr())
    X[:, model.n_text_features_:] = 0
    np.testing.assert_allclose(model.meaning(X.tocsr()), before, atol=1e-6)


def test_the_block_helps_where_words_are_unknown_to_the_themes(small_table):
    """« tramway » is in no theme text: only its meaning (near « bus », « gare ») places it."""
    plain = ThemeModel(use_corpus=False, distilled_weight=0.0).fit(CUSTOM)
    rich = ThemeModel(use_corpus=False, distilled_weight=0.4).fit(CUSTOM)
    texts = ["un tramway de plus", "le stade"]
    p_plain = ThemeAssigner(CUSTOM, model=plain, spread_alpha=0).fit(texts).proba_[0, 0]
    p_rich = ThemeAssigner(CUSTOM, model=rich, spread_alpha=0).fit(texts).proba_[0, 0]
    assert p_rich > p_plain


def test_the_cached_model_follows_the_table(monkeypatch, small_table):
    with_table = model_key(CUSTOM)
    monkeypatch.setattr(themes_mod, "load_distilled", lambda: None)
    assert model_key(CUSTOM) != with_table


def test_a_pickled_model_reloads_its_table(small_table):
    model = ThemeModel(use_corpus=False, distilled_weight=0.4).fit(CUSTOM)
    assert "distilled_" not in model.__getstate__()  # shared, loaded once per process
    again = pickle.loads(pickle.dumps(model))
    text = ["Plus de bus pour aller à la gare"]
    np.testing.assert_allclose(again.transform(text).toarray(),
                               model.transform(text).toarray(), rtol=1e-6)
