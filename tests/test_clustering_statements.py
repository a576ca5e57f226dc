"""Statements of recurring points and French typography (clustering/statements.py,
clustering/typography.py): pure functions, no app."""

from __future__ import annotations

import pytest

from deliberation.clustering.statements import (
    choose_statement,
    flaws,
    merits,
    normalise_statement,
    serious_faults,
    shorten,
    split_sentences,
)
from deliberation.clustering.typography import NBSP, THIN_NBSP, french, french_markdown

FIBRE = "La fibre doit arriver dans tous les hameaux avant 2030."
MAIRIE = "Les mairies doivent rester le point d'entrée local des services publics numériques."


# --- statement choice ------------------------------------------------------------------------

def test_prefers_the_central_member_among_well_formed_sentences():
    texts = [FIBRE, MAIRIE]
    assert choose_statement(texts, [0.4, 0.9]) == MAIRIE
    assert choose_statement(texts, [0.9, 0.4]) == FIBRE


def test_a_well_formed_sentence_beats_a_more_central_faulty_one():
    texts = ["Je veux la fibre dans mon village, vite !", FIBRE]
    assert choose_statement(texts, [0.95, 0.3]) == FIBRE
    shouted = ["LA FIBRE PARTOUT TOUT DE SUITE MAINTENANT", FIBRE]
    assert choose_statement(shouted, [0.95, 0.3]) == FIBRE
    questions = ["Pourquoi la fibre n'arrive-t-elle jamais dans les hameaux ?", FIBRE]
    assert choose_statement(questions, [0.95, 0.3]) == FIBRE


@pytest.mark.parametrize("faulty", [
    "Vous devez déployer la fibre dans tous les hameaux.",           # second person
    "Mais la fibre doit arriver dans tous les hameaux avant 2030.",  # leans on context
    "Cela doit arriver dans tous les hameaux avant 2030.",
    "Elle doit arriver dans tous les hameaux avant 2030.",
    "La fibre doit arriver dans tous les hameaux :)",                # emoticon
    "Fibre partout.",                                                # a fragment
    "J'attends la fibre dans tous les hameaux avant 2030.",          # first person
])
def test_faulty_sentences_are_passed_over(faulty):
    assert serious_faults(faulty) >= 1
    assert choose_statement([faulty, FIBRE], [1.0, 0.0]) == FIBRE


def test_impersonal_il_and_a_place_opening_are_fine():
    assert serious_faults("Il faut la fibre dans tous les hameaux du Cantal.") == 0
    assert serious_faults("Il y a encore trop de zones blanches en montagne.") == 0
    assert serious_faults("Il est urgent de couvrir les zones blanches du Cantal.") == 0
    assert serious_faults("En zone rurale, la mairie reste le premier guichet.") == 0
    assert serious_faults("Il a promis la fibre mais rien n'est venu.") >= 1


def test_nous_is_a_fallback_not_a_refusal():
    nous = "Nous demandons que la fibre soit déployée dans tous les hameaux."
    assert choose_statement([nous, FIBRE], [0.9, 0.5]) == FIBRE
    assert choose_statement([nous, "Je veux la fibre !"], [0.1, 0.9]) == \
        "Nous demandons que la fibre soit déployée dans tous les hameaux."


def test_picks_a_sentence_inside_a_member_and_ideal_length():
    text = ("Merci pour ce débat ! " + MAIRIE + " Je compte sur vous.")
    assert choose_statement([text], [1.0]) == MAIRIE
    assert split_sentences("Un. Deux !\nTrois") == ["Un.", "Deux !", "Trois"]


def test_long_sentences_are_cut_at_a_clause_only_when_complete():
    long = ("Les mairies doivent rester le point d'entrée local de la médiation numérique, "
            "car les habitants ne savent plus à qui s'adresser quand un guichet ferme et "
            "que personne ne répond au téléphone.")
    assert shorten(long) == ("Les mairies doivent rester le point d'entrée local de la "
                             "médiation numérique")
    assert choose_statement([long], [1.0]) == (
        "Les mairies doivent rester le point d'entrée local de la médiation numérique.")
    dangling = ("Si l'État ne finance pas les antennes dans les zones blanches qui restent "
                "nombreuses dans le Cantal et en Lozère, les communes ne pourront pas suivre.")
    assert shorten(dangling) == dangling  # « Si … » alone is no sentence
    words = ("Les communes rurales demandent un accompagnement durable de leurs secrétaires "
             "de mairie pour les démarches en ligne des habitants les plus éloignés du "
             "numérique partout")
    assert shorten(words) == words  # no clause boundary: never cut mid-sentence


@pytest.mark.parametrize("long", [
    # a question is never cut: what is left would be a question without its mark
    "Pourquoi les communes rurales devraient-elles payer la fibre plus cher que les "
    "métropoles, alors que les opérateurs ont reçu des aides publiques ?",
    # « Le bilan est clair : en 2030 » announces what the cut would drop
    "Le bilan est clair : en 2030, toutes les communes rurales du département devront "
    "disposer d'un accès à la fibre optique et d'une couverture mobile complète.",
    # the prefix would end inside an apposition
    "La médiation numérique, telle qu'elle est organisée aujourd'hui dans nos villages, ne "
    "répond pas aux besoins des habitants les plus âgés et les plus isolés.",
    # « a montré que, dans les villages… » : the « que » clause is missing
    "L'enquête départementale a montré que, dans les villages de montagne comme dans les "
    "bourgs, les habitants renoncent à leurs démarches en ligne.",
    # « Si …, tient parole » : the main clause is what the cut would drop
    "Si le département, qui a promis la fibre à toutes les communes, tient parole, les "
    "écoles rurales pourront enfin utiliser des ressources en ligne sans coupure.",
])
def test_cuts_that_would_leave_no_sentence_are_not_made(long):
    assert shorten(long) == long


def test_openings_that_lean_on_context_and_pointing_words():
    for sentence in ("Dans ces conditions, les communes doivent mutualiser leurs moyens.",
                     "En réalité, rien ne change pour les habitants des hameaux isolés.",
                     "Ont développé des outils numériques pour les commerçants du bourg.",
                     "Qui peut accepter que des villages restent sans réseau mobile."):
        assert serious_faults(sentence) >= 1, sentence
    pointing = "Les communes doivent mutualiser leurs moyens dans cette intercommunalité."
    assert serious_faults(pointing) == 0 and flaws(pointing) > 0
    assert flaws("Ce qui compte le plus reste un accueil humain dans chaque mairie.") == 0


def test_a_demand_is_preferred_to_a_close_description():
    describes = "Les communes rurales manquent de conseillers numériques formés."
    demands = "Les communes rurales doivent disposer de conseillers numériques formés."
    assert choose_statement([describes, demands], [0.5, 0.45]) == demands
    assert choose_statement([describes, demands], [0.5, 0.3]) == describes


SAMEDI = "La mairie doit ouvrir le samedi matin pour ceux qui travaillent en semaine."


@pytest.mark.parametrize("flawed", [
    # spoken register, a joke
    "Les gens qui bossent ne peuvent jamais passer à la mairie le samedi matin.",
    "Une mairie fermée le samedi pour ceux qui travaillent, c'est une blague.",
    "Les horaires de la mairie c'est pas fait pour ceux qui travaillent en semaine.",
    # a pronoun whose referent is in another sentence
    "Il faut maintenant des horaires le samedi pour les garder.",
    "La préfecture en aurait ouvert un le samedi, paraît-il.",
    # an anecdote
    "Un mardi soir, la mairie a fermé à 17 heures devant dix personnes qui attendaient.",
    # a fragment with no verb
    "Guichets fermés le samedi, habitants en colère.",
])
def test_a_sentence_a_facilitator_would_rewrite_loses_to_a_plain_demand(flawed):
    assert serious_faults(flawed) == 0
    assert flaws(flawed) > 0 and flaws(SAMEDI) == 0
    assert choose_statement([flawed, SAMEDI], [1.0, 0.8]) == SAMEDI


def test_a_demand_or_a_proposal_beats_a_description():
    describes = "Les habitants attendent des horaires d'ouverture plus larges le samedi."
    proposes = "Élargir les horaires d'ouverture de la mairie le samedi matin."
    assert merits(proposes) > 0 and merits(describes) == 0
    assert choose_statement([describes, proposes], [1.0, 0.85]) == proposes
    assert merits("Il faudrait une navette entre les hameaux et le bourg.") > 0
    assert merits("Créer un réseau des bibliothèques du canton.") > 0
    # an opening infinitive that is the subject of its sentence is no proposal
    assert merits("Multiplier les guichets en ligne ne remplace pas un agent d'accueil.") == 0
    # nor is a noun that ends like a verb
    assert merits("Premier constat sur la fibre dans les hameaux du plateau.") == 0


def test_the_words_several_members_share_tip_the_choice():
    texts = ["Les bus doivent passer plus souvent dans les villages éloignés.",
             "Le transport scolaire doit desservir tous les hameaux du plateau.",
             "Le transport scolaire oublie les hameaux, les familles paient des taxis."]
    assert choose_statement(texts, [1.0, 0.95, 0.9]) == texts[1]


def test_a_clause_that_reads_better_on_its_own_is_taken():
    spoken = "Ouvrir la mairie le samedi matin, les gens qui bossent pourraient enfin passer."
    assert choose_statement([spoken], [1.0]) == "Ouvrir la mairie le samedi matin."
    titled = ("Ma conviction : chaque commune doit garder un accueil humain ouvert toute la "
              "semaine.")
    assert choose_statement([titled], [1.0]) == (
        "Chaque commune doit garder un accueil humain ouvert toute la semaine.")
    joking = ("Les éditeurs augmentent leurs tarifs tous les ans, c'est une blague, l'État "
              "doit plafonner les prix des logiciels de mairie.")
    assert choose_statement([joking], [1.0]) == (
        "L'État doit plafonner les prix des logiciels de mairie.")
    # the words before a demand stay when they name its subject or its condition
    for whole in ("Pétition en ligne : au-delà de cent signatures, le conseil municipal doit "
                  "inscrire le sujet à l'ordre du jour.",
                  "Je trouve que si cent habitants le demandent, le conseil municipal doit "
                  "débattre du sujet."):
        assert "Le conseil municipal doit" not in choose_statement([whole], [1.0])


def test_a_cut_never_drops_a_contrast():
    contrast = "Consulter les habitants en ligne avant chaque gros projet, pas après."
    assert choose_statement([contrast], [1.0]) == contrast
    long = ("Le numérique peut rendre de grands services aux habitants des communes rurales "
            "éloignées, mais il ne doit jamais devenir le seul accès aux services publics.")
    assert shorten(long) == long


def test_first_plural_imperative_and_figures_are_flaws_deadlines_are_not():
    assert flaws("Remettons un agent d'accueil dans chaque mairie du canton.") > 0
    assert flaws("Une salle de 40 m² suffit pour ouvrir un tiers-lieu de village.") > 0
    assert flaws(FIBRE) == 0  # « avant 2030 » is part of the demand


def test_initials_and_abbreviations_do_not_end_a_sentence():
    assert split_sentences("M. Dupont, maire de Murat, demande la fibre. Rien d'autre.") == \
        ["M. Dupont, maire de Murat, demande la fibre.", "Rien d'autre."]
    assert split_sentences("La fibre arrive. ensuite le mobile.") == \
        ["La fibre arrive. ensuite le mobile."]


def test_statement_is_normalised_and_stays_within_the_column():
    assert choose_statement(["  - **supprimer** les zones blanches de téléphonie mobile ,"],
                            [1.0]) == "Supprimer les zones blanches de téléphonie mobile."
    assert choose_statement(["Hameau des granges: impossible d'apeler les secours!!"],
                            [1.0]) == f"Hameau des granges{NBSP}: impossible d'apeler les secours."
    huge = "Les communes " + "rurales " * 300 + "demandent la fibre"
    statement = choose_statement([huge], [1.0])
    assert len(statement) <= 400 and statement.endswith("…")
    assert not statement.endswith("ru…")  # cut between words, never inside one


def test_deterministic_and_empty():
    texts = [FIBRE, MAIRIE, "Des moyens humains doivent être mutualisés à l'échelon "
             "intercommunal."]
    first = choose_statement(texts, [0.5, 0.5, 0.5])
    assert all(choose_statement(texts, [0.5, 0.5, 0.5]) == first for _ in range(5))
    assert first == FIBRE  # a tie goes to the first member
    assert choose_statement([], []) == ""
    assert choose_statement([FIBRE], []) == FIBRE  # a missing score counts as 0
    assert choose_statement(["Un!", "Deux!"], [0.1, 0.2]) == "Deux."


def test_normalise_statement_for_a_rename():
    assert normalise_statement("des moyens humains mutualisés") == \
        "Des moyens humains mutualisés."
    assert normalise_statement("« la fibre partout »") == "La fibre partout."
    assert normalise_statement("Former les élus ; vite!!!") == \
        f"Former les élus{THIN_NBSP}; vite{THIN_NBSP}!"
    assert normalise_statement("éduquer aux médias...") == "Éduquer aux médias."
    assert normalise_statement("   ") == ""
    for raw in ("« la fibre » partout", "Quoi ?", '"tout" et "rien"', "la fibre…"):
        once = normalise_statement(raw)
        assert normalise_statement(once) == once  # a stored statement normalises to itself


# --- typography --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("Il faut la fibre: partout!", f"Il faut la fibre{NBSP}: partout{THIN_NBSP}!"),
    ("Pourquoi ? Parce que ; voilà", f"Pourquoi{THIN_NBSP}? Parce que{THIN_NBSP}; voilà"),
    ('Le programme "Action cœur de ville"', f"Le programme «{NBSP}Action cœur de ville{NBSP}»"),
    ("Le «numérique» et “les usages”", f"Le «{NBSP}numérique{NBSP}» et «{NBSP}les usages{NBSP}»"),
    ("Trop   d'espaces , vraiment .", "Trop d'espaces, vraiment."),
    ("Rendez-vous à 14:30 sur https://villes.example/a?b=1:2 !",
     f"Rendez-vous à 14:30 sur https://villes.example/a?b=1:2{THIN_NBSP}!"),
    ("1 000 communes, 50% de bio, 12,5 % et 3000 élus",
     f"1{THIN_NBSP}000 communes, 50{NBSP}% de bio, 12,5{NBSP}% et 3000 élus"),
    ("Écrire à contact@villes.example; merci",
     f"Écrire à contact@villes.example{THIN_NBSP}; merci"),
    ("Quoi?!Encore", f"Quoi{THIN_NBSP}?! Encore"),
])
def test_french_typography(raw, expected):
    assert french(raw) == expected
    assert french(expected) == expected
    assert french(french(raw)) == french(raw)


def test_french_markdown_keeps_structure_and_code():
    text = "- Premier point: oui\n- Second point!\n\n    code: x\n```\na: b\n```\n## Titre: deux"
    out = french_markdown(text)
    assert out.splitlines() == [f"- Premier point{NBSP}: oui", f"- Second point{THIN_NBSP}!",
                                "", "    code: x", "```", "a: b", "```",
                                f"## Titre{NBSP}: deux"]
    assert french_markdown(out) == out
    assert french_markdown("[le site](https://example.org/a:b)") == \
        "[le site](https://example.org/a:b)"
