"""Calibrated confidence: a reliability check on contributions the model never saw.

The fixed sample is the demo congress's held-out test split (corpus/README.md): no
theme model trains or tunes on it. The engine sorts the whole demo congress, as the
app would, and the confidences of the test rows are compared with how often they
are right.
"""

import csv

import numpy as np
import pytest

from deliberation.clustering import load_themes, sort_congress
from deliberation.clustering.text import CORPUS_DIR
from deliberation.clustering.themes import ThemeAssigner, ThemeModel

from .test_clustering_themes import CUSTOM


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("MOTION_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    with (CORPUS_DIR / "demo" / "contributions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    result = sort_congress(load_themes(), [(r["id"], r["text"]) for r in rows],
                           random_state=0)
    got = {item.id: item for item in result.items}
    test = [r for r in rows if r["split"] == "test" and r["theme"] != "hors_theme"]
    confidence = np.array([got[r["id"]].confidence for r in test])
    right = np.array([got[r["id"]].theme == r["theme"] for r in test])
    yield result, confidence, right
    patch.undo()


def test_confidence_matches_how_often_the_engine_is_right(demo):
    _, confidence, right = demo
    # Overall, and in each third of the sample by confidence (about 30 rows: a
    # tolerance of two standard errors of a proportion near 0.8).
    assert abs(confidence.mean() - right.mean()) <= 0.08
    for part in np.array_split(np.argsort(confidence, kind="stable"), 3):
        assert abs(confidence[part].mean() - right[part].mean()) <= 0.15


def test_more_confident_means_more_often_right(demo):
    _, confidence, right = demo
    order = np.argsort(confidence, kind="stable")
    low, high = order[: len(order) // 2], order[len(order) // 2:]
    assert right[high].mean() > right[low].mean()


def test_calibration_is_fitted_on_out_of_fold_predictions(demo):
    result = demo[0]
    model = result.model.theme_model_
    n = len(model.oof_y_)
    rows = np.arange(n)
    in_sample, _ = model.scores(model.train_X_[:n])
    # A model that saw a text is surer of its theme than one that did not.
    assert model.oof_proba_[rows, model.oof_y_].mean() < in_sample[rows, model.oof_y_].mean()
    np.testing.assert_allclose(model.oof_proba_.sum(axis=1), 1.0, rtol=1e-4)
    slope, _ = result.model.assigner_.calibrator()
    assert slope > 0  # calibration keeps the order of the confidences


def test_calibration_keeps_the_order_of_confidences(demo):
    assigner = demo[0].model.assigner_
    raw = np.linspace(0.15, 0.99, 30)
    calibrated = assigner.calibrate(raw)
    assert np.all(np.diff(calibrated) > 0)
    assert np.all((calibrated > 0) & (calibrated < 1))


def test_without_labelled_texts_the_confidence_is_the_raw_probability():
    model = ThemeModel(use_corpus=False).fit(CUSTOM)
    assigner = ThemeAssigner(CUSTOM, model=model).fit(["Plus de bus le matin"])
    assert assigner.calibrator() is None
    assert assigner.confidence_[0] == pytest.approx(assigner.proba_[0].max())
