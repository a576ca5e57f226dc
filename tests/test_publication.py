"""The public motion, its exports, the results and the « relevé des idées »."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest

from deliberation import ballots, drafting, publication
from deliberation.extensions import db
from deliberation.models import Cluster, Contribution
from deliberation.publication import Origin, traceability

from .conftest import make_person, text_of, theme


def test_traceability_counts():
    trace = traceability([
        Origin("online", "Polminhac", "15", 1100),
        Origin("online", "polminhac ", "15", 1100),
        Origin("live", "Aurillac", "15", 25000),
        Origin("live", "Rodez", "12", None),
    ])
    assert trace == {"contributions": 4, "communes": 3, "departments": 2, "rural": 2,
                     "urban": 1, "unknown": 1, "rural_share": 66.7, "online": 2, "live": 2}
    assert traceability([])["rural_share"] is None
    assert publication.is_rural(1999) and not publication.is_rural(2000)


@pytest.fixture
def adopted(congress, facilitator):
    """A motion with one sourced article, voted article by article and as a whole."""
    congress.phase = "vote"
    db.session.commit()
    rural = make_person(congress, "Élue rurale", commune="Polminhac", population=1100,
                        present=True)
    town = make_person(congress, "Élu urbain", commune="Rodez", department_code="12",
                       population=24000, present=True)
    third = make_person(congress, "Troisième", present=True)
    th = theme(congress, "acces")
    contributions = [Contribution(congress_id=congress.id, author_id=p.id, theme_id=th.id,
                                  text=t, channel=ch)
                     for p, t, ch in ((rural, "La fibre dans les hameaux.", "online"),
                                      (town, "Couvrir les zones blanches.", "live"))]
    db.session.add_all(contributions)
    db.session.flush()
    article = next(a for a in drafting.articles(congress) if a.theme_id == th.id)
    drafting.save_version(article, None, "La **fibre** partout, et vite.", facilitator)
    for c in contributions:
        drafting.link(article, c.id, facilitator)
    drafting.set_title(congress, "Motion pour un numérique de proximité", facilitator)
    on_article = ballots.create(congress, "Article 1", article=article)
    whole = ballots.create(congress, "Ensemble du texte", secret=True)
    db.session.commit()
    for ballot, plan in ((on_article, ["pour", "pour", "contre"]),
                         (whole, ["pour", "abstention", "pour"])):
        ballots.open_ballot(ballot.id)
        for person, choice in zip((rural, town, third), plan, strict=True):
            ballots.cast_vote(ballot.id, person.id, choice)
        ballots.close_ballot(ballot.id)
    return {"congress": congress, "article": article, "on_article": on_article,
            "whole": whole}


def test_nothing_public_before_the_text_is_published(adopted, client):
    code = adopted["congress"].join_code
    page = client.get(f"/motion/{code}")
    assert page.status_code == 404 and "pas encore publiée" in text_of(page)
    for suffix in ("motion.md", "motion.html", "motion.pdf", "resultats.csv"):
        assert client.get(f"/motion/{code}/{suffix}").status_code == 404
    assert "error" in client.get(f"/motion/{code}/resultats.json").json
    assert client.get("/motion/INCONNU").status_code == 404


def publish_all(adopted):
    ballots.publish_ballot(adopted["on_article"].id)
    ballots.publish_ballot(adopted["whole"].id)


def test_public_page_shows_results_and_traceability(adopted, client):
    publish_all(adopted)
    page = client.get(f"/motion/{adopted['congress'].join_code}")
    assert page.status_code == 200
    body = text_of(page)
    assert "Motion pour un numérique de proximité" in body
    assert "Adopté" in body and "66,7 %" in body
    assert "S'appuie sur 2 contributions de 2 communes et 2 départements" in body
    assert "50 % venues de communes rurales" in body and "1 en ligne, 1 en séance" in body
    assert "<strong>fibre</strong>" in page.get_data(as_text=True)


def test_markdown_html_and_pdf_exports(adopted, client):
    publish_all(adopted)
    code = adopted["congress"].join_code
    md = client.get(f"/motion/{code}/motion.md")
    assert md.status_code == 200 and md.mimetype == "text/markdown"
    text = md.get_data(as_text=True)
    assert text.startswith("# Motion pour un numérique de proximité")
    assert "## Article 1 — " in text and "La **fibre** partout, et vite." in text
    assert "Vote : 2 pour, 1 contre, 0 abstention — adopté." in text
    assert "Vote : 2 pour, 0 contre, 1 abstention — adopté." in text
    assert "S'appuie sur 2 contributions" in text

    html = client.get(f"/motion/{code}/motion.html")
    assert html.status_code == 200 and "attachment" in html.headers["Content-Disposition"]
    doc = html.get_data(as_text=True)
    assert "<script" not in doc and "<link" not in doc
    assert not re.search(r"(src|href)=\"(https?:)?//", doc)
    assert "<style>" in doc and "<strong>fibre</strong>" in doc
    assert "default-src 'none'" in html.headers["Content-Security-Policy"]

    pdf = client.get(f"/motion/{code}/motion.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and len(pdf.data) > 2000


def test_results_csv_and_json(adopted, client):
    publish_all(adopted)
    code = adopted["congress"].join_code
    response = client.get(f"/motion/{code}/resultats.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                               delimiter=_delimiter(response.get_data(as_text=True))))
    assert [r["objet"] for r in rows] == ["Article 1", "Ensemble du texte"]
    first, whole = rows
    assert (first["pour"], first["contre"], first["abstention"]) == ("2", "1", "0")
    assert first["resultat"] == "adopté" and first["secret"] == "non"
    assert (whole["pour"], whole["abstention"], whole["secret"]) == ("2", "1", "oui")
    assert whole["inscrits"] == "3" and whole["votants"] == "3"

    data = json.loads(client.get(f"/motion/{code}/resultats.json").get_data(as_text=True))
    assert data["motion"] == {"title": "Motion pour un numérique de proximité",
                              "published": True, "adopted": True}
    by_kind = {b["kind"]: b for b in data["ballots"]}
    assert by_kind["text"]["counts"] == {"pour": 2, "contre": 0, "abstention": 1}
    assert by_kind["article"]["percent_expressed"]["pour"] == 66.7


def _delimiter(body: str) -> str:
    head = body.splitlines()[0]
    return ";" if head.count(";") > head.count(",") else ","


def test_exports_match_verified_tallies(adopted):
    publish_all(adopted)
    assert ballots.verify_report()[1] == []


def test_report_page(adopted, client):
    response = client.get(f"/motion/{adopted['congress'].join_code}/releve")
    assert response.status_code == 200
    body = text_of(response)
    assert "Relevé des idées" in body and "Participation" in body
    assert "Contributions par thème" in body and "Points récurrents" in body
    assert "Communes rurales" in body and "En séance" in body
    assert response.get_data(as_text=True).count('class="bars"') >= 3


NB, FINE = "\u00a0", "\u202f"


def test_rendered_motion_keeps_french_typography(adopted, client):
    article = adopted["article"]
    article.body_md = '- La fibre: partout !\n- Le "bio" à 50% ; vite'
    article.title = "Accès: pour tous"
    db.session.commit()
    publish_all(adopted)
    code = adopted["congress"].join_code
    expected = [f"La fibre{NB}: partout{FINE}!", f"Le «{NB}bio{NB}» à 50{NB}%{FINE}; vite"]
    page = html.unescape(client.get(f"/motion/{code}").get_data(as_text=True))
    exported = html.unescape(client.get(f"/motion/{code}/motion.html").get_data(as_text=True))
    markdown = client.get(f"/motion/{code}/motion.md").get_data(as_text=True)
    assert f"Accès{NB}: pour tous" in page and f"Accès{NB}: pour tous" in markdown
    for sentence in expected:
        assert sentence in page and sentence in exported  # the PDF prints this same HTML
        assert f"- {sentence}" in markdown
    assert article.body_md.startswith("- La fibre: partout !")  # stored as typed


def _point(congress, code, key, texts, *, statement="", custom=None):
    th = theme(congress, code)
    cluster = Cluster(congress_id=congress.id, theme_id=th.id, key=key, label="mots, clés",
                      size=len(texts), statement=statement, custom_label=custom)
    db.session.add(cluster)
    db.session.flush()
    author = make_person(congress, f"Élu {key}")
    db.session.add_all(Contribution(congress_id=congress.id, author_id=author.id, text=t,
                                    theme_id=th.id, cluster_id=cluster.id) for t in texts)
    db.session.commit()
    return cluster


def test_report_lists_statements_with_sizes_and_counts_isolated_ideas(congress, client):
    _point(congress, "acces", "a2", ["Zones blanches partout.", "Trop de zones blanches."],
           custom="les zones blanches doivent disparaître: vite")
    _point(congress, "acces", "a3", ["Fibre 1.", "Fibre 2.", "Fibre 3."],
           statement="La fibre doit arriver dans tous les hameaux.")
    _point(congress, "acces", "a1", ["Une idée restée seule dans son coin."],
           statement="Une idée restée seule dans son coin.")
    _point(congress, "formation", "f1", ["Former les secrétaires de mairie."])
    page = client.get(f"/motion/{congress.join_code}/releve")
    assert page.status_code == 200
    body = text_of(page)
    first = body.index("La fibre doit arriver dans tous les hameaux. — 3 contributions")
    second = body.index("Les zones blanches doivent disparaître : vite. — 2 contributions")
    assert first < second  # largest first, statements normalised
    assert "restée seule" not in body and "mots, clés" not in body
    assert "1 proposition isolée." in body  # once per theme, in one line
    assert body.index("1 proposition isolée") > second  # after the theme's points
    data = publication.report(congress)
    assert [t["points"] for t in data["themes"]][:2] == [
        [("La fibre doit arriver dans tous les hameaux.", 3),
         (f"Les zones blanches doivent disparaître{NB}: vite.", 2)], []]
    assert data["isolated"] == 2
