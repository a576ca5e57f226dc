"""The concept lexicon: terms matched on stems, expressions as runs, rare concepts weigh more."""

import numpy as np

from deliberation.clustering.concepts import ConceptLexicon, read_lexicon
from deliberation.clustering.text import FrenchAnalyser

LEXICON = {"cyber": ["cyberattaque", "rançongiciel", "pirates informatiques"],
           "mairie": ["mairie", "hôtel de ville"]}


def analysed(*texts):
    return FrenchAnalyser().analyse_many(texts)


def test_terms_match_their_inflections_and_expressions_match_as_runs():
    lex = ConceptLexicon(LEXICON)
    docs = analysed("Deux cyberattaques en un an", "Des pirates informatiques partout",
                    "Des pirates et un réseau informatique", "L'Hôtel de Ville ferme")
    named = [sorted(lex.names_[k] for k in lex.named(d)) for d in docs]
    assert named == [["cyber"], ["cyber"], [], ["mairie"]]


def test_a_concept_every_text_names_weighs_less():
    lex = ConceptLexicon(LEXICON).fit(analysed("La mairie", "La mairie encore",
                                               "Un rançongiciel à la mairie"))
    rare, common = lex.idf_[lex.names_.index("cyber")], lex.idf_[lex.names_.index("mairie")]
    assert rare > common
    rows = lex.transform(analysed("Un rançongiciel à la mairie", "Rien à voir"))
    assert np.isclose(np.linalg.norm(rows[0]), 1.0) and not rows[1].any()


def test_the_shipped_lexicon_reads(tmp_path):
    lexicon = read_lexicon()
    assert len(lexicon) >= 40 and "cybersécurité" in lexicon
    bad = tmp_path / "concepts.txt"
    bad.write_text("# comment\nno colon here\nvide:\nok: un; deux\n", encoding="utf-8")
    assert read_lexicon(bad) == {"ok": ["un", "deux"]}
    assert read_lexicon(tmp_path / "absent.txt") == {}
