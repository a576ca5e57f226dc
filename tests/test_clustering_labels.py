"""Labels of recurring points read as the members wrote them (clustering/labels.py)."""

from __future__ import annotations

from deliberation.clustering.labels import label_stopwords, phrases, tokens
from deliberation.clustering.pipeline import sort_congress
from deliberation.clustering.text import CORPUS_DIR, FrenchAnalyser, stem
from deliberation.clustering.themes import load_themes

THEMES = load_themes(CORPUS_DIR / "themes.json")

ANALYSER = FrenchAnalyser()


def s(*words):
    return tuple(stem(w) for w in words)


def test_neighbouring_words_become_one_phrase_as_written():
    text = "Les pylônes du New Deal mobile sont installés mais n'émettent toujours pas."
    got = phrases([s("deal"), s("new"), s("pylônes")], [text], ANALYSER)
    assert got == ["pylônes du New Deal"]


def test_a_pair_is_shown_with_its_linking_words_never_across_punctuation():
    text = "Un numéro de téléphone avec un humain au bout, ce n'est pas trop demander !"
    assert phrases([s("numéro", "téléphone")], [text], ANALYSER) == ["numéro de téléphone"]
    # "bout pas" is a pair of the features, not a phrase anyone wrote
    assert phrases([s("bout", "pas")], [text], ANALYSER) == []


def test_negations_and_vague_words_never_make_a_label():
    assert {"pas", "rien", "demande"} <= label_stopwords()
    text = "Pas de budget et pas de personnel, rien pour le numérique."
    got = phrases([s("pas"), s("rien"), s("budget"), s("personnel")], [text], ANALYSER)
    assert got == ["budget", "personnel"]


def test_phrases_follow_the_medoid_then_the_other_members():
    medoid = "La cantine scolaire en bio et en local dès la rentrée."
    other = "Des produits bio pour la cantine, avec des maraîchers du canton."
    got = phrases([s("maraîchers"), s("rentrée"), s("cantine", "scolaire")],
                  [medoid, other], ANALYSER)
    assert got == ["cantine scolaire", "rentrée", "maraîchers"]


def test_case_is_kept_for_names_and_acronyms_only():
    text = "Former les agents au RGPD avec la CNIL, à Aurillac."
    marks = {t.word: t.capital for t in tokens(text, ANALYSER) if t.word}
    assert marks["rgpd"] and marks["cnil"] and marks["aurillac"]
    assert not marks["former"]  # a capital that only starts the sentence
    got = phrases([s("former"), s("rgpd"), s("aurillac")], [text], ANALYSER)
    assert got == ["former", "RGPD", "Aurillac"]


def test_unknown_terms_and_empty_groups_give_no_label():
    assert phrases([s("inconnu")], ["La fibre partout."], ANALYSER) == []
    assert phrases([], ["La fibre partout."], ANALYSER) == []
    assert phrases([s("fibre")], [""], ANALYSER) == []


def test_pipeline_labels_are_phrases_and_deterministic():
    items = [("1", "Les pylônes du New Deal mobile n'émettent pas."),
             ("2", "Le New Deal mobile : des pylônes installés qui n'émettent toujours pas."),
             ("3", "Des ateliers numériques pour les seniors dans chaque commune."),
             ("4", "Des ateliers numériques pour les seniors, animés par des bénévoles.")]
    first = sort_congress(THEMES, items)
    again = sort_congress(THEMES, items)
    assert [c.label for c in first.clusters] == [c.label for c in again.clusters]
    deal = next(c for c in first.clusters if "1" in c.members)
    if deal.size > 1:
        assert "New Deal" in deal.label and "deal, new" not in deal.label


def test_phrases_left_side_by_side_are_joined():
    text = "Nos données communales sur des serveurs en France, pas chez les Américains !"
    got = phrases([s("serveurs", "france"), s("données"), s("communales", "serveurs"),
                   s("américains")], [text], ANALYSER)
    assert got == ["données communales sur des serveurs en France", "Américains"]
