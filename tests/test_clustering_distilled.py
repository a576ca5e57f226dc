"""The distilled word table: texts as weighted means of their words, stems as a fall-back."""

import numpy as np

from deliberation.clustering.distilled import DistilledVectors, load_distilled, table_key


def table(tmp_path):
    vocab = ["cyberattaque", "pirate", "fibre", "la", "mairie"]
    vectors = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1], [0, 0.5, 0.5]],
                       dtype=np.float32)
    weights = np.array([1.0, 1.0, 1.0, 0.01, 0.5], dtype=np.float32)
    path = tmp_path / "t.npz"
    np.savez(path, vocab=np.array(vocab), vectors=vectors, weights=weights)
    return path


def test_a_text_is_the_weighted_mean_of_its_known_words(tmp_path):
    vectors = DistilledVectors.load(table(tmp_path))
    rows = vectors.embed(["La cyberattaque", "la fibre", "rien de connu", ""])
    np.testing.assert_allclose(rows[0], (np.array([1, 0, 0]) + 0.01 * np.array([0, 0, 1]))
                               / 1.01, rtol=1e-5)
    assert rows[1][1] > 0.98
    assert not rows[2].any() and not rows[3].any()


def test_an_unknown_inflection_falls_back_to_its_stem(tmp_path):
    vectors = DistilledVectors.load(table(tmp_path))
    plural, singular = vectors.embed(["cyberattaques", "cyberattaque"])
    np.testing.assert_allclose(plural, singular)
    # The fall-back rows grow the table; a later batch still sees them.
    again = vectors.embed(["pirates", "cyberattaques"])
    np.testing.assert_allclose(again[1], singular)


def test_an_absent_table_is_none_and_the_key_follows_the_corpus(tmp_path):
    assert load_distilled(tmp_path / "absent.npz") is None
    corpus = tmp_path / "corpus"
    (corpus / "training").mkdir(parents=True)
    (corpus / "training" / "statements.csv").write_text("id,text\n1,a\n", encoding="utf-8")
    first = table_key(corpus)
    (corpus / "training" / "statements.csv").write_text("id,text\n1,b\n", encoding="utf-8")
    assert table_key(corpus) != first
