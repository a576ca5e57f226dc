"""Drafting the motion (deliberation/drafting.py and web/drafting.py)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from deliberation import ballots, drafting
from deliberation.errors import InputError, PermissionDenied, PhaseError
from deliberation.extensions import db
from deliberation.models import Amendment, Article, ArticleVersion, Cluster, Contribution
from deliberation.rendering import render_markdown, render_motion_text

from .conftest import login, make_person, staff_login, text_of, theme

NB, FINE = "\u00a0", "\u202f"  # espace insécable, espace fine insécable
FIBRE = "La fibre doit arriver dans tous les hameaux avant 2030."


def add_point(congress, code, key, texts, authors, *, medoid=0, statuses=None,
              statement="", custom=None, supports=0):
    th = theme(congress, code)
    cluster = Cluster(congress_id=congress.id, theme_id=th.id, key=key,
                      label=f"Point {key}", size=len(texts), statement=statement,
                      custom_label=custom)
    db.session.add(cluster)
    db.session.flush()
    rows = []
    for i, body in enumerate(texts):
        row = Contribution(congress_id=congress.id, author_id=authors[i % len(authors)].id,
                           text=body, theme_id=th.id, cluster_id=cluster.id,
                           status=(statuses or {}).get(i, "visible"), supports=supports)
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    cluster.medoid_id = rows[medoid].id
    db.session.commit()
    return cluster, rows


@pytest.fixture
def desk(congress, facilitator, official):
    """The « acces » theme: points of 3, 2 (much supported), 2 (twin of the first) and 2
    ideas, a point of one, an unsorted idea of the theme and an off-theme idea."""
    congress.phase = "drafting"
    db.session.commit()
    other = make_person(congress, "Jean Martin", commune="Aurillac", population=25000)
    big, big_rows = add_point(congress, "acces", "p1", [
        "La fibre partout avant 2030, y compris dans les hameaux.",
        "Il faut la fibre dans tous les hameaux.",
        "Déployer la fibre jusqu'au dernier hameau !",
    ], [official, other], statement=FIBRE)
    small, small_rows = add_point(congress, "acces", "p2", [
        "- supprimer les zones blanches de téléphonie mobile",
        "zones blanches : encore trop de villages sans réseau mobile",
    ], [other], custom='zones blanches: couvrir les "villages oubliés"', supports=4)
    twin, twin_rows = add_point(congress, "acces", "p3", [
        "La fibre partout avant 2030 y compris dans les hameaux",
        "La fibre partout avant 2030, y compris dans les hameaux…",
    ], [official], statement="la fibre doit arriver dans tous les hameaux avant 2030")
    late, late_rows = add_point(congress, "acces", "p4", [
        "Les antennes mobiles doivent être mutualisées entre opérateurs.",
        "Mutualiser les pylônes des opérateurs dans les vallées.",
    ], [other])  # no statement yet: chosen from its members, the medoid first
    lone, lone_rows = add_point(congress, "acces", "p5", [
        "Un numéro unique pour signaler les pannes de réseau.",
    ], [official])
    th = theme(congress, "acces")
    unsorted = Contribution(congress_id=congress.id, author_id=other.id, theme_id=th.id,
                            text="Des bornes wifi publiques sur chaque place de village.")
    off = Contribution(congress_id=congress.id, author_id=other.id, theme_id=None,
                       off_topic=True, text="Passer la cantine scolaire à 50 % de bio.")
    db.session.add_all([unsorted, off])
    db.session.commit()
    article = next(a for a in drafting.articles(congress) if a.theme
                   and a.theme.code == "acces")
    return {"congress": congress, "facilitator": facilitator, "official": official,
            "article": article, "big": (big, big_rows), "small": (small, small_rows),
            "twin": (twin, twin_rows), "late": (late, late_rows), "lone": (lone, lone_rows),
            "unsorted": unsorted, "off": off}


SMALL = f"Zones blanches{NB}: couvrir les «{NB}villages oubliés{NB}»."
LATE = "Les antennes mobiles doivent être mutualisées entre opérateurs."


def test_motion_shape(desk):
    congress = desk["congress"]
    items = drafting.articles(congress)
    assert items[0].kind == "preamble" and len(items) == 1 + len(congress.themes)
    names = drafting.labels(items)
    assert names[items[0].id] == "Préambule" and names[items[1].id] == "Article 1"
    motion = drafting.motion_for(congress)
    assert motion.title.startswith("Motion")
    with pytest.raises(InputError):
        drafting.set_title(congress, "   ", desk["facilitator"])


def test_draft_is_one_sentence_per_point_of_two_ideas_by_size(desk):
    article = desk["article"]
    row = drafting.propose_draft(article, desk["facilitator"])
    db.session.commit()
    # Largest first; among points of two, the more supported first; the twin point's
    # statement is the first one's, so it is not repeated; the point of one is left out.
    assert article.body_md.splitlines() == [f"- {FIBRE}", f"- {SMALL}", f"- {LATE}"]
    linked = drafting.source_ids(article)
    every = {c.id for key in ("big", "small", "twin", "late") for c in desk[key][1]}
    assert linked == every  # the twin point is still traced through its duplicate
    assert desk["lone"][1][0].id not in linked and desk["off"].id not in linked
    assert row.number >= 1 and "4 points récurrents" in row.note
    assert "cantine" not in article.body_md and "numéro unique" not in article.body_md


def test_draft_points_order_and_sentences(desk):
    points = drafting.draft_points(theme(desk["congress"], "acces"))
    assert [p.cluster.key for p in points] == ["p1", "p2", "p3", "p4"]
    assert [p.size for p in points] == [3, 2, 2, 2]
    assert points[1].sentence == SMALL  # the rename, normalised and set in typography
    assert points[3].sentence == LATE


def test_draft_skips_hidden_contributions_and_needs_points(desk, congress):
    big, rows = desk["big"]
    rows[0].status = "hidden"
    db.session.commit()
    drafting.propose_draft(desk["article"], desk["facilitator"])
    db.session.commit()
    assert rows[0].id not in {c.id for c in drafting.sources(desk["article"])}
    assert FIBRE in desk["article"].body_md  # still two ideas behind it
    rows[1].status = "hidden"
    db.session.commit()
    assert "p1" not in [p.cluster.key for p in drafting.draft_points(big.theme)]
    empty = next(a for a in drafting.articles(congress) if a.theme
                 and a.theme.code == "donnees")
    with pytest.raises(InputError, match="point récurrent"):
        drafting.propose_draft(empty, desk["facilitator"])
    add_point(congress, "donnees", "d1", ["Un hébergement souverain des données."],
              [desk["official"]])
    with pytest.raises(InputError, match="au moins deux"):
        drafting.propose_draft(empty, desk["facilitator"])  # a point of one is no draft
    preamble = drafting.articles(congress)[0]
    with pytest.raises(InputError):
        drafting.propose_draft(preamble, desk["facilitator"])


def test_left_out_ideas_are_offered_and_pulled_in(desk):
    article, actor = desk["article"], desk["facilitator"]
    drafting.propose_draft(article, actor)
    db.session.commit()
    points = drafting.draft_points(article.theme)
    isolated = drafting.isolated_ideas(article.theme, points)
    assert [c.id for c in isolated] == sorted([desk["lone"][1][0].id, desk["unsorted"].id])
    assert [c.id for c in drafting.off_theme_ideas(desk["congress"])] == [desk["off"].id]

    lone = desk["lone"][1][0]
    row = drafting.pull_in(article, lone.id, actor)
    db.session.commit()
    assert article.body_md.splitlines()[-1] == \
        "- Un numéro unique pour signaler les pannes de réseau."
    assert "ajoutée" in row.note and lone.id in drafting.source_ids(article)
    assert drafting.pull_in(article, lone.id, actor) is None  # the text already says it
    drafting.pull_in(article, desk["off"].id, actor)
    db.session.commit()
    assert article.body_md.splitlines()[-1] == f"- Passer la cantine scolaire à 50{NB}% de bio."
    with pytest.raises(InputError):
        drafting.pull_in(article, 999_999, actor)


def test_pulling_into_a_paragraph_starts_a_list(desk):
    article, actor = desk["article"], desk["facilitator"]
    drafting.save_version(article, None, "Les élus ruraux demandent :", actor)
    drafting.pull_point(article, desk["late"][0].id, actor)
    db.session.commit()
    assert article.body_md == f"Les élus ruraux demandent :\n\n- {LATE}"
    assert render_markdown(article.body_md).count("<li>") == 1
    other = next(a for a in drafting.articles(desk["congress"]) if a.theme
                 and a.theme.code == "donnees")
    with pytest.raises(InputError, match="thème de cet article"):
        drafting.pull_point(other, desk["late"][0].id, actor)


def test_each_sentence_finds_the_ideas_behind_it(desk):
    article, actor = desk["article"], desk["facilitator"]
    drafting.propose_draft(article, actor)
    drafting.pull_in(article, desk["lone"][1][0].id, actor)
    db.session.commit()
    retouched = article.body_md.replace("avant 2030", "d'ici 2030") + \
        "\n\nUne phrase écrite à la main."
    drafting.save_version(article, None, retouched, actor)
    db.session.commit()
    points = drafting.draft_points(article.theme)
    sentences = drafting.trace_sentences(article, points)
    assert [s.text for s in sentences][1] == SMALL
    first, small, late, lone, hand = sentences
    assert first.point.cluster.key == "p1" and len(first.contributions) == 3  # retouched
    assert small.point.cluster.key == "p2" and late.point.cluster.key == "p4"
    assert [c.id for c in lone.contributions] == [desk["lone"][1][0].id]
    assert hand.point is None and hand.contributions == []
    # The twin point (same statement as p1) counts as stated; nothing is missing.
    assert drafting.missing_points(sentences, points) == []
    drafting.save_version(article, None, f"- {FIBRE}", actor)
    sentences = drafting.trace_sentences(article, points)
    assert [p.cluster.key for p in drafting.missing_points(sentences, points)] == ["p2", "p4"]


def test_body_sentences():
    body = "Chapeau: une phrase. Une autre !\n\n- Premier **point**\n  suite\n1. Second"
    assert drafting.body_sentences(body) == [
        f"Chapeau{NB}: une phrase.", f"Une autre{FINE}!", "Premier point suite", "Second"]


def test_near_duplicates():
    assert drafting.near_duplicate("La fibre partout.", "la FIBRE partout")
    assert drafting.near_duplicate("Élus formés au numérique.", "Elus formes au numerique")
    assert not drafting.near_duplicate("La fibre partout.", "Former les élus au RGPD.")
    assert drafting.normalise_sentence("  - **supprimer** les zones blanches ,") == \
        "Supprimer les zones blanches."


def test_versions_diff_and_restore(desk):
    article, actor = desk["article"], desk["facilitator"]
    v1 = drafting.save_version(article, None, "Premier texte.", actor)
    v2 = drafting.save_version(article, "Nouveau titre", "Second texte, plus long.", actor)
    db.session.commit()
    assert drafting.save_version(article, "Nouveau titre", "Second texte, plus long.",
                                 actor) is None
    assert [v.number for v in drafting.versions(article)] == [v2.number, v1.number]
    diff = str(drafting.diff_html(v1.body_md, v2.body_md))
    assert "<del>" in diff and "<ins>" in diff and "Premier" in diff
    assert "<script>" not in str(drafting.diff_html("", "<script>alert(1)</script>"))
    v3 = drafting.restore(article, v1.number, actor)
    db.session.commit()
    assert v3.number == v2.number + 1 and article.body_md == "Premier texte."
    assert "Restauration" in v3.note
    with pytest.raises(InputError):
        drafting.restore(article, v3.number, actor)  # already the current text
    with pytest.raises(InputError):
        drafting.restore(article, 999, actor)
    with pytest.raises(InputError):
        drafting.save_version(article, "", "x", actor)


def test_reorder_articles(desk, congress):
    actor = desk["facilitator"]
    themes = [a for a in drafting.articles(congress) if a.kind == "theme"]
    assert drafting.move(themes[1], "up", actor) is True
    assert drafting.move(drafting.articles(congress)[1], "up", actor) is False
    order = [a.id for a in drafting.articles(congress) if a.kind == "theme"]
    assert order[0] == themes[1].id
    drafting.set_order(congress, list(reversed(order)), actor)
    db.session.commit()
    assert [a.id for a in drafting.articles(congress)][1:] == list(reversed(order))
    assert drafting.articles(congress)[0].kind == "preamble"
    with pytest.raises(InputError):
        drafting.set_order(congress, order[:1], actor)
    with pytest.raises(InputError):
        drafting.set_order(congress, ["a", "b", "c"], actor)
    with pytest.raises(InputError):
        drafting.move(drafting.articles(congress)[0], "up", actor)
    with pytest.raises(InputError):
        drafting.move(themes[0], "sideways", actor)


def test_text_frozen_once_its_ballot_opens(desk, congress):
    article = desk["article"]
    ballot = ballots.create(congress, "Article 1", article=article)
    db.session.commit()
    drafting.save_version(article, None, "Avant le vote.", desk["facilitator"])
    db.session.commit()
    ballots.open_ballot(ballot.id)
    with pytest.raises(PhaseError, match="figé"):
        drafting.save_version(article, None, "Pendant le vote.", desk["facilitator"])
    db.session.rollback()
    with pytest.raises(PhaseError):
        drafting.propose_draft(article, desk["facilitator"])
    db.session.rollback()
    assert db.session.get(Article, article.id).body_md == "Avant le vote."


# --- amendments ------------------------------------------------------------------------------

def test_amendments_need_an_open_text_and_an_official(desk, scribe):
    congress, official, article = desk["congress"], desk["official"], desk["article"]
    with pytest.raises(PhaseError):
        drafting.propose_amendment(congress, article.id, official, "Texte nouveau.")
    drafting.set_amendments_open(congress, True, desk["facilitator"])
    db.session.commit()
    with pytest.raises(PermissionDenied):
        drafting.propose_amendment(congress, article.id, scribe, "Texte nouveau.")
    with pytest.raises(InputError):
        drafting.propose_amendment(congress, 999_999, official, "Texte nouveau.")
    with pytest.raises(InputError):
        drafting.propose_amendment(congress, article.id, official, "   ")
    first, created = drafting.propose_amendment(congress, article.id, official,
                                                "Texte nouveau.", "Plus clair.")
    again, created_again = drafting.propose_amendment(congress, article.id, official,
                                                      "Texte nouveau.")
    assert created and not created_again and again.id == first.id


def test_accept_reject_and_vote_on_amendments(desk, congress):
    facilitator, official, article = desk["facilitator"], desk["official"], desk["article"]
    drafting.save_version(article, None, "Texte de départ.", facilitator)
    drafting.set_amendments_open(congress, True, facilitator)
    db.session.commit()
    accepted, _ = drafting.propose_amendment(congress, article.id, official, "Texte accepté.")
    rejected, _ = drafting.propose_amendment(congress, article.id, official, "Texte rejeté.")
    voted, _ = drafting.propose_amendment(congress, article.id, official, "Texte voté.")
    db.session.commit()

    row = drafting.accept(accepted, facilitator)
    db.session.commit()
    assert article.body_md == "Texte accepté." and row.author_id == official.id
    assert row.amendment_id == accepted.id and accepted.state == "accepted"
    with pytest.raises(InputError):
        drafting.reject(accepted, facilitator)
    drafting.reject(rejected, facilitator)
    db.session.commit()
    assert rejected.state == "rejected" and article.body_md == "Texte accepté."

    ballot = ballots.put_to_vote(voted, facilitator)
    db.session.commit()
    assert ballot.kind == "amendment" and voted.state == "put_to_vote"
    voters = [make_person(congress, f"Votant {i}", present=True) for i in range(3)]
    ballots.open_ballot(ballot.id)
    for person, choice in zip(voters, ["pour", "pour", "contre"], strict=True):
        ballots.cast_vote(ballot.id, person.id, choice)
    ballots.close_ballot(ballot.id)  # settles the amendment in the same call
    db.session.expire_all()
    voted = db.session.get(Amendment, voted.id)
    assert voted.state == "adopted"
    article = db.session.get(Article, article.id)
    assert article.body_md == "Texte voté."
    last = drafting.versions(article)[0]
    assert last.amendment_id == voted.id and "adopté par vote" in last.note


def test_rejected_amendment_vote_changes_nothing(desk, congress):
    facilitator, official, article = desk["facilitator"], desk["official"], desk["article"]
    drafting.save_version(article, None, "Texte de départ.", facilitator)
    drafting.set_amendments_open(congress, True, facilitator)
    amendment, _ = drafting.propose_amendment(congress, article.id, official, "Autre texte.")
    ballot = ballots.put_to_vote(amendment, facilitator)
    db.session.commit()
    voter = make_person(congress, "Votant", present=True)
    ballots.open_ballot(ballot.id)
    ballots.cast_vote(ballot.id, voter.id, "contre")
    ballots.close_ballot(ballot.id)
    db.session.expire_all()
    assert db.session.get(Amendment, amendment.id).state == "rejected"
    assert db.session.get(Article, article.id).body_md == "Texte de départ."


# --- pages ---------------------------------------------------------------------------------

def test_drafting_pages(desk, client):
    article = desk["article"]
    staff_login(client, "anim@example.org")
    assert client.get("/animation/redaction").status_code == 200
    page = client.get(f"/animation/redaction/article/{article.id}")
    assert page.status_code == 200 and "Proposer un brouillon" in page.get_data(as_text=True)
    response = client.post(f"/animation/redaction/article/{article.id}/brouillon")
    assert response.status_code == 302
    assert db.session.scalar(select(ArticleVersion).filter_by(article_id=article.id))
    too_long = client.post(f"/animation/redaction/article/{article.id}",
                           data={"title": "T", "body_md": "x" * 30000})
    assert too_long.status_code == 422
    assert client.post(f"/animation/redaction/article/{article.id}",
                       data={"title": "Titre", "body_md": "**Nouveau** texte."}
                       ).status_code == 302
    history = client.get(f"/animation/redaction/article/{article.id}/versions")
    assert history.status_code == 200 and "<ins>" in history.get_data(as_text=True)
    assert client.post(f"/animation/redaction/article/{article.id}/versions/1/restaurer"
                       ).status_code == 302
    text = "Un **texte** avec <script>alert(1)</script> et [lien](https://example.org)."
    preview = client.post("/animation/redaction/apercu", json={"text": text})
    assert preview.status_code == 200 and preview.json["html"] == str(render_motion_text(text))
    assert "<script>" not in preview.json["html"]
    typo = client.post("/animation/redaction/apercu", json={"text": '- Le "bio": oui ?'})
    assert html.unescape(typo.json["html"]) == \
        f"<ul>\n<li>Le «{NB}bio{NB}»{NB}: oui{FINE}?</li>\n</ul>"
    assert client.post("/animation/redaction/apercu", data="pas du json").status_code == 400
    assert client.post("/animation/redaction/ordre", json={"order": "x"}).status_code == 400
    assert client.post("/animation/redaction/ordre", json={"order": [1]}).status_code == 422
    assert client.get("/animation/redaction/motion").status_code == 200
    assert client.get("/animation/redaction/amendements").status_code == 200
    assert client.get("/animation/redaction/article/999999").status_code == 404


def test_article_screen_shows_sentences_sources_and_other_proposals(desk, client):
    article = desk["article"]
    staff_login(client, "anim@example.org")
    url = f"/animation/redaction/article/{article.id}"
    assert client.post(f"{url}/brouillon").status_code == 302
    page = client.get(url)
    doc = page.get_data(as_text=True)
    assert page.status_code == 200
    ids = re.findall(r'\bid="([^"]+)"', doc)
    assert len(ids) == len(set(ids))  # the same idea shown twice keeps unique ids
    sentences = doc[doc.index('id="titre-phrases"'):doc.index('id="titre-autres"')]
    assert sentences.count("<details>") == 3 and sentences.count("<summary>") == 3
    assert html.unescape(sentences).count(SMALL) == 1 and "3 contributions" in sentences
    others = html.unescape(doc[doc.index('id="titre-autres"'):])
    assert "Autres propositions" in others and "numéro unique" in others
    assert "cantine scolaire" in others and "Ajouter au texte" in others
    lone = desk["lone"][1][0]
    pulled = client.post(f"{url}/ajouter", data={"contribution_id": str(lone.id)})
    assert pulled.status_code == 302
    db.session.expire_all()
    assert db.session.get(Article, article.id).body_md.endswith(
        "- Un numéro unique pour signaler les pannes de réseau.")
    again = client.post(f"{url}/ajouter", data={"contribution_id": str(lone.id)},
                        follow_redirects=True)
    assert "dit déjà cela" in text_of(again)
    bad = client.post(f"{url}/ajouter", data={"contribution_id": "abc"},
                      follow_redirects=True)
    assert bad.status_code == 200 and "n'existe pas" in text_of(bad)
    assert client.post(f"{url}/ajouter", data={"cluster_id": "999999"},
                       follow_redirects=True).status_code == 200


def test_official_proposes_an_amendment_over_http(desk, client):
    congress, article = desk["congress"], desk["article"]
    drafting.set_amendments_open(congress, True, desk["facilitator"])
    db.session.commit()
    login(client, desk["official"])
    url = f"/c/{congress.join_code}/amendements"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"article_id": "abc", "body_md": "Texte"})
    assert bad.status_code == 422 and "n'existe pas" in text_of(bad)
    empty = client.post(url, data={"article_id": str(article.id), "body_md": ""})
    assert empty.status_code == 422
    ok = client.post(url, data={"article_id": str(article.id), "body_md": "Nouveau texte."})
    assert ok.status_code == 302
    assert db.session.scalar(select(Amendment).filter_by(article_id=article.id)) is not None


def test_ids_past_64_bits_or_not_digits_get_a_french_refusal(desk):
    article = desk["article"]
    for bad in ("9" * 25, "²", "٣", "-1", "", None):
        assert drafting._row(Cluster, bad) is None
        with pytest.raises(InputError):
            drafting.pull_point(article, bad, desk["facilitator"])
    assert drafting._number("12") == 12 and drafting._number(" 7 ") == 7
