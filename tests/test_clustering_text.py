"""French text handling: elisions, accents, stems, character n-grams, stopwords."""

from collections import Counter

import numpy as np
import pytest

from deliberation.clustering.text import (
    FrenchAnalyser,
    TextVectorizer,
    best_surface,
    char_ngrams,
    load_stopwords,
    normalise,
    stem,
    strip_accents,
    surface_forms,
    words,
)


@pytest.mark.parametrize("text, expected", [
    ("l'école", ["école"]),
    ("d’accès", ["accès"]),
    ("qu'il", ["il"]),
    ("j'ai", ["ai"]),
    ("jusqu'au", ["au"]),
    ("L’ÉCOLE d'aujourd'hui", ["école", "aujourd", "hui"]),
])
def test_elisions_are_cut(text, expected):
    assert words(text) == expected


def test_accents_are_stripped_but_letters_kept():
    assert strip_accents("éàçôœ") == "eacoœ"
    assert normalise("Cœur") == "coeur"


def test_stems_are_accent_free_and_shared_by_inflections():
    assert stem("numérique") == stem("numériques") == stem("numerique") == "numer"
    assert stem("formés") == stem("former") == stem("formées")
    assert all(ch.isascii() for ch in stem("médiation"))


def test_stem_cache_is_used():
    stem.cache_clear()
    stem("collectivités")
    stem("collectivités")
    assert stem.cache_info().hits >= 1


def test_char_ngrams_match_misspellings():
    right, wrong = set(char_ngrams("numérique")), set(char_ngrams("numerrique"))
    assert " nu" in right and "que " in right
    assert len(right & wrong) / len(right | wrong) > 0.4


def test_stopwords_are_dropped_with_their_inflections():
    analyser = FrenchAnalyser(stopwords={"le", "de", "nous", "sommes"})
    doc = analyser.analyse("Nous sommes le cœur de la commune")
    assert "nous" not in doc.surfaces and "sommes" not in doc.surfaces
    assert "commun" in doc.stems


def test_stopwords_file_is_read(tmp_path):
    path = tmp_path / "stop.txt"
    path.write_text("# comment\nle\nÉté\n\n", encoding="utf-8")
    assert load_stopwords(path) == frozenset({"le", "ete"})
    assert "le" in load_stopwords(tmp_path / "missing.txt")  # built-in fallback


def test_surface_forms_are_real_words_never_stems():
    analyser = FrenchAnalyser(stopwords=set())
    docs = analyser.analyse_many(["Les données publiques", "une donnée", "des données"])
    forms = surface_forms(docs)
    assert forms[stem("données")] == Counter({"données": 2, "donnée": 1})
    assert best_surface(stem("données"), forms) == "données"


@pytest.mark.parametrize("texts", [[], ["seul"], ["le la les", "", "un"], ["a", "b", "c"]])
def test_vectorizer_survives_tiny_and_empty_corpora(texts):
    vec = TextVectorizer(min_df=2, max_df=0.5)
    X = vec.fit_transform(texts) if texts else vec.fit([]).transform([])
    assert X.shape[0] == len(texts)


def test_vectorizer_rows_are_unit_length_and_deterministic():
    texts = ["La fibre optique arrive enfin", "Former les élus au numérique", "fibre optique"]
    X1 = TextVectorizer().fit_transform(texts)
    X2 = TextVectorizer().fit_transform(texts)
    norms = np.sqrt(np.asarray(X1.multiply(X1).sum(axis=1)).ravel())
    assert np.allclose(norms, 1.0, atol=1e-5)
    assert (X1 != X2).nnz == 0
    sim = (X1 @ X1.T).toarray()
    assert sim[0, 2] > sim[0, 1]


def test_vectorizer_blocks_match_scikit_learn_tfidf():
    """The hand-counted blocks weigh exactly like TfidfVectorizer(sublinear_tf=True)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from deliberation.clustering.text import FrenchAnalyser, TextVectorizer

    texts = ["La fibre arrive enfin dans les hameaux de la commune.",
             "Les hameaux attendent toujours la fibre optique !",
             "Former les seniors au numérique à la médiathèque.",
             "Des ateliers numériques pour les seniors et les parents.",
             "La cybersécurité des mairies : sauvegardes et mots de passe."] * 5
    docs = FrenchAnalyser().analyse_many(texts)
    ours = TextVectorizer(char_weight=0.0, min_df=2, max_df=0.9).fit_transform(docs)
    ref = TfidfVectorizer(analyzer=lambda d: d.word_features(True), sublinear_tf=True,
                          min_df=2, max_df=0.9).fit(docs)
    expected = ref.transform(docs).toarray()
    vec = TextVectorizer(char_weight=0.0, min_df=2, max_df=0.9).fit(docs)
    assert list(vec.word_.get_feature_names_out()) == list(ref.get_feature_names_out())
    np.testing.assert_allclose(ours.toarray()[:, :expected.shape[1]], expected, atol=1e-6)
    chars = TextVectorizer(char_weight=1.0).fit(docs)
    ref_c = TfidfVectorizer(analyzer=lambda d: d.chars, sublinear_tf=True).fit(docs)
    got = chars.transform_analysed(docs).toarray()[:, len(chars.word_.vocabulary_):]
    np.testing.assert_allclose(got, ref_c.transform(docs).toarray(), atol=1e-6)


def test_pruned_rows_and_reduction_keep_neighbours():
    """The national-size path: pruned rows and the sampled SVD keep near texts near."""
    import numpy as np

    from deliberation.clustering.neighbours import prune_rows, reduce
    from deliberation.clustering.text import TextVectorizer

    texts = [f"La fibre optique doit arriver au hameau numéro {i} de la commune"
             for i in range(30)] + [f"Atelier de formation au numérique pour les seniors {i}"
                                    for i in range(30)]
    X = TextVectorizer().fit_transform(texts)
    P = prune_rows(X, keep=10)
    assert np.diff(P.indptr).max() <= 10
    np.testing.assert_allclose(np.sqrt(P.multiply(P).sum(axis=1)).A.ravel(), 1.0, atol=1e-5)
    Z = reduce(P, n_components=8, fit_rows=20, random_state=0)
    assert Z.shape[0] == 60 and 1 <= Z.shape[1] <= 8  # rank-deficient axes are dropped
    S = Z @ Z.T
    assert S[:30, :30].mean() > S[:30, 30:].mean() + 0.3
    np.testing.assert_array_equal(Z, reduce(P, n_components=8, fit_rows=20, random_state=0))


def test_live_single_text_path_matches_the_batch_transform():
    import numpy as np

    from deliberation.clustering.text import TextVectorizer

    texts = ["La fibre arrive enfin dans les hameaux de la commune.",
             "Former les seniors au numérique à la médiathèque, vite !",
             "zzzz", ""]
    vec = TextVectorizer(char_weight=0.4).fit(texts * 3)
    batch = vec.transform(texts + ["Fibre et seniors : une médiathèque pour tous."])
    for i, text in enumerate(texts + ["Fibre et seniors : une médiathèque pour tous."]):
        one = vec.transform([text])
        np.testing.assert_allclose(one.toarray(), batch[i].toarray(), atol=1e-6)
