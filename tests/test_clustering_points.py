"""Recurring points: groups, labels in surface form, medoids, singletons, duplicates, identity."""

import numpy as np

from deliberation.clustering.points import (
    RecurringPoints,
    match_groups,
    medoid,
    near_duplicates,
    stable_id,
)
from deliberation.clustering.text import (
    FrenchAnalyser,
    TextVectorizer,
    stem,
    surface_forms,
    words,
)

TEXTS = [
    "Il faut installer des pistes cyclables sécurisées le long des routes départementales",
    "Des pistes cyclables sécurisées pour aller au collège à vélo",
    "Les pistes cyclables doivent être sécurisées et continues",
    "Rouvrir la petite ligne ferroviaire vers la préfecture",
    "La ligne ferroviaire fermée doit rouvrir pour les lycéens",
    "Organiser un festival de musique baroque dans l'abbaye",
]


def fitted(texts=TEXTS, themes=None, **params):
    analyser = FrenchAnalyser()
    docs = analyser.analyse_many(texts)
    vec = TextVectorizer(char_weight=0.4)
    X = vec.fit_transform(docs)
    names = vec.word_.get_feature_names_out()
    block = (len(vec.word_.vocabulary_), names, surface_forms(docs))
    themes = themes or ["t"] * len(texts)
    return RecurringPoints(**params).fit(X, themes, word_block=block), X


def test_similar_contributions_group_and_singletons_stay_alone():
    points, _ = fitted()
    lab = points.labels_
    assert lab[0] == lab[1] == lab[2]
    assert lab[3] == lab[4]
    assert len({lab[0], lab[3], lab[5]}) == 3
    assert sum(1 for g in points.groups_ if len(g) == 1) == 1


def test_groups_never_cross_themes():
    points, _ = fitted(themes=["a", "b", "a", "b", "a", "b"])
    for g in points.groups_:
        assert len({["a", "b", "a", "b", "a", "b"][i] for i in g}) == 1


def test_labels_are_surface_forms_never_stems():
    points, _ = fitted()
    terms = points.terms_[points.labels_[0]]
    assert terms and len(terms) <= 3
    joined = " ".join(terms)
    assert "cyclables" in joined or "pistes" in joined
    seen = {w for t in TEXTS for w in words(t)}
    for term in terms:
        for word in term.split():
            assert word in seen, word  # a word someone wrote
    assert stem("cyclables") not in joined.split()


def test_medoid_is_a_member_closest_to_the_others():
    _, X = fitted()
    rows = np.array([0, 1, 2])
    assert medoid(X, rows) in rows
    assert medoid(X, np.array([4])) == 4


def test_near_duplicates_across_the_congress():
    texts = TEXTS + ["Il faut installer des pistes cyclables sécurisées le long des routes "
                     "départementales !"]
    _, X = fitted(texts)
    pairs = near_duplicates(X, threshold=0.85)
    assert [(a, b) for a, b, _ in pairs] == [(0, 6)]
    assert near_duplicates(X[:1]) == []


def test_large_theme_is_blocked_and_still_groups():
    texts = TEXTS * 30
    points, _ = fitted(texts, dense_max=40)
    lab = points.labels_
    assert lab[0] == lab[6] or lab[0] == lab[1]  # repeated texts land together
    assert len(points.groups_) < len(texts)


def test_match_groups_keeps_identity_by_overlap():
    old = {"p1": {"a", "b", "c"}, "p2": {"d", "e"}, "p3": {"f"}}
    new = [{"d", "e", "g"}, {"a", "b"}, {"x"}]
    assert match_groups(new, old) == {0: "p2", 1: "p1"}
    assert match_groups(new, {}) == {}


def test_stable_id_depends_on_members_only():
    assert stable_id("p", ["b", "a"]) == stable_id("p", ["a", "b"])
    assert stable_id("p", ["a"]) != stable_id("p", ["b"])
