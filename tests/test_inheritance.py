"""Which recurring points confirm a sentence of an inherited text (clustering/inheritance.py)."""

from __future__ import annotations

import pytest

from deliberation.clustering.inheritance import CONFIRM_THRESHOLD, compare, sentences

# Sentences of the national motion (corpus/themes.json), as a published article lists them.
FORMATION = """- Le numérique bouleverse notre société et nos métiers.
- Des méthodes et moyens d'accompagnement et de formation doivent être déployés pour toutes \
et tous depuis l'école et tout au long de la vie.
- Former aux enjeux du numérique l'ensemble des citoyens, des agents des collectivités et \
des élus.
- Le numérique éducatif doit aider les citoyens à renforcer leur esprit critique, à déjouer \
la désinformation et à maîtriser l'usage des objets connectés."""
PROXIMITE = """Le numérique ne se substitue pas aux échanges humains. Les services numériques \
doivent renforcer la proximité avec les citoyens, mais ne doivent pas constituer la seule \
possibilité.

**Les mairies doivent rester le point d'entrée local.** La médiation reste fondamentale, \
afin d'accompagner les publics en demande ou éloignés."""
ACCES = """- Accès au très haut débit au plus tôt.
- Sur l'ensemble du territoire national : territoire ultra-marins, ruraux, urbains, \
péri-urbains."""


def test_sentences_one_per_item_or_sentence_markup_off():
    assert sentences(PROXIMITE) == [
        "Le numérique ne se substitue pas aux échanges humains.",
        "Les services numériques doivent renforcer la proximité avec les citoyens, mais ne "
        "doivent pas constituer la seule possibilité.",
        "Les mairies doivent rester le point d'entrée local.",
        "La médiation reste fondamentale, afin d'accompagner les publics en demande ou "
        "éloignés.",
    ]
    assert len(sentences(FORMATION)) == 4 and sentences(FORMATION)[0].startswith("Le numérique")
    assert sentences("") == [] and sentences("  \n- \n") == []


def test_a_paraphrase_confirms_its_sentence():
    [verdict] = compare(FORMATION, [("p1", "Former les élus, les agents et les habitants aux "
                                           "enjeux du numérique.")])
    assert verdict.kind == "confirms" and verdict.index == 2
    assert verdict.sentence.startswith("Former aux enjeux du numérique")
    assert verdict.score >= CONFIRM_THRESHOLD


def test_an_unrelated_point_is_new():
    [verdict] = compare(FORMATION, [("p1", "Il faut équiper les écoles rurales en tablettes "
                                           "et ordinateurs.",
                                     ["Des ordinateurs neufs pour l'école du village.",
                                      "Équiper les classes en tableaux numériques."])])
    assert verdict.kind == "new" and verdict.sentence is None and verdict.index is None
    assert verdict.score < CONFIRM_THRESHOLD


def test_members_say_more_than_the_statement():
    """« La fibre » shares no root with « très haut débit »; the members' words do."""
    statement = "Il faut que la fibre optique arrive vite dans toutes les communes."
    members = ["La fibre chez nous c'est pour quand ?",
               "Le très haut débit doit arriver rapidement dans nos villages.",
               "Raccorder les hameaux au haut débit sans attendre."]
    [alone] = compare(ACCES, [("p", statement)])
    [judged] = compare(ACCES, [("p", statement, members)])
    assert alone.kind == "new"
    assert judged.kind == "confirms" and judged.index == 0


# A sample of the hand-written cases the threshold was chosen on (module docstring):
# (inherited text, statement, members, index of the confirmed sentence or None when new).
CASES = [
    (PROXIMITE, "La mairie doit rester le premier lieu d'accueil pour les démarches en ligne.",
     ["Le secrétariat de mairie aide les habitants pour leurs démarches.",
      "Les gens viennent en mairie pour leurs papiers en ligne."], 2),
    (PROXIMITE, "Il faut des médiateurs numériques pour accompagner les personnes éloignées.",
     ["Des conseillers numériques pour aider les personnes âgées.",
      "Accompagner ceux qui sont perdus devant les écrans."], 3),
    (FORMATION, "L'école doit apprendre aux enfants à repérer les fausses informations.",
     ["Apprendre aux enfants à reconnaître les fausses infos dès la primaire.",
      "Éduquer à l'esprit critique face aux réseaux sociaux."], 3),
    (PROXIMITE, "Les bus itinérants France Services doivent passer dans chaque village.",
     ["Un bus France Services tous les mois.",
      "Un camion itinérant pour les services publics."], None),
    (ACCES, "Les antennes de téléphonie mobile doivent être mutualisées entre opérateurs.",
     ["Une seule antenne partagée par tous les opérateurs.", "Mutualiser les pylônes 4G."],
     None),
    (ACCES, "Les tarifs des abonnements internet sont trop élevés pour les ménages modestes.",
     ["Un tarif social pour internet.",
      "L'abonnement coûte trop cher pour les petits revenus."], None),
]


@pytest.mark.parametrize(("inherited", "statement", "members", "index"), CASES)
def test_threshold_on_hand_written_cases(inherited, statement, members, index):
    [verdict] = compare(inherited, [("p", statement, members)])
    assert verdict.index == index
    assert verdict.kind == ("new" if index is None else "confirms")


def test_many_points_keep_their_order_and_no_text_means_all_new():
    points = [("a", "Les mairies doivent rester le premier point d'entrée local."),
              ("b", "Créer un cadastre solaire intercommunal."),
              ("c", "")]
    verdicts = compare(PROXIMITE, points)
    assert [v.point for v in verdicts] == ["a", "b", "c"]
    assert [v.kind for v in verdicts] == ["confirms", "new", "new"]
    assert all(v.kind == "new" for v in compare("", points))
    assert compare(PROXIMITE, []) == []
