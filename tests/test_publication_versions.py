"""Publication that stays true (issue 14): a published motion never changes, a correction
is a new numbered version with its history, a rejected text is published as rejected or
not at all (the facilitator's choice), and every article shows its results."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from deliberation import ballots, derivation, drafting, publication, publishing
from deliberation.errors import InputError
from deliberation.extensions import db
from deliberation.models import Amendment, Article, AuditEvent, Ballot, Publication

from .conftest import login, make_person, text_of

DOWNLOADS = ("", "/motion.md", "/motion.html", "/motion.pdf", "/resultats.csv",
             "/resultats.json")


def _vote(ballot_id, people, plan):
    ballots.open_ballot(ballot_id)
    for person, choice in zip(people, plan, strict=True):
        ballots.cast_vote(ballot_id, person.id, choice)
    ballots.close_ballot(ballot_id)


@pytest.fixture
def room(congress, facilitator):
    """A congress in the vote phase: three present officials, one article with an
    amendment put to the vote, and the article's own ballot, all voted and closed."""
    congress.phase = "vote"
    db.session.commit()
    people = [make_person(congress, f"Élu·e {n}", present=True) for n in range(3)]
    article = next(a for a in drafting.articles(congress) if a.kind == "theme")
    drafting.save_version(article, "La fibre partout", "Le très haut débit dans chaque "
                          "hameau, sans coquille.", facilitator)
    drafting.set_title(congress, "Motion pour un numérique de proximité", facilitator)
    drafting.set_amendments_open(congress, True, facilitator)
    db.session.commit()
    amendment, _ = drafting.propose_amendment(congress, article.id, people[0],
                                              "Le très haut débit dans chaque hameau, "
                                              "d'ici 2030.")
    db.session.commit()
    on_amendment = ballots.put_to_vote(amendment, facilitator)
    db.session.commit()
    _vote(on_amendment.id, people, ["pour", "pour", "contre"])
    on_article = ballots.create(congress, "Article 1", article=article)
    db.session.commit()
    _vote(on_article.id, people, ["pour", "contre", "abstention"])
    return {"congress": congress, "people": people, "article": article,
            "amendment": amendment, "on_article": on_article, "on_amendment": on_amendment}


def _whole(room, plan):
    whole = ballots.create(room["congress"], "Ensemble du texte")
    db.session.commit()
    _vote(whole.id, room["people"], plan)
    return whole


def _publish(client, ballot, **form):
    return client.post(f"/animation/scrutins/{ballot.id}/publier", data=form)


def _logout(client):
    """Log out and read the page it leads to (its flash message shown and gone)."""
    client.post("/deconnexion", follow_redirects=True)


def _copies(client, code: str, prefix: str = "") -> dict[str, bytes]:
    return {path: client.get(f"/motion/{code}{prefix}{path}").data for path in DOWNLOADS}


def _adopted(room, client, facilitator):
    whole = _whole(room, ["pour", "pour", "abstention"])
    login(client, facilitator)
    answer = _publish(client, whole)
    assert answer.status_code == 302
    assert "la motion est publiée (version 1)" in text_of(client.get(answer.location))
    _logout(client)
    return whole


# --- 1. a published motion never changes -------------------------------------------------

def test_publishing_the_text_publishes_every_result_and_freezes_version_one(
        room, client, facilitator, runner):
    whole = _adopted(room, client, facilitator)
    congress = room["congress"]
    for ballot in (room["on_article"], room["on_amendment"], whole):
        assert db.session.get(Ballot, ballot.id).state == "published"
    (first,) = publishing.versions(congress)
    assert (first.number, first.kind, first.reason) == (1, "published", "")
    assert first.document["anchor"] == publishing.audit.published_anchor(whole.id)
    entry = db.session.scalar(select(AuditEvent).filter_by(action="motion.published"))
    assert entry.payload["version"] == 1 and entry.payload["digest"] == first.digest
    assert publishing.verify_versions() == []
    assert ballots.verify_report()[1] == []
    assert "1 version enregistrée, conforme au journal" in runner.invoke(args=["verify"]).output


def test_a_published_motion_never_changes_whatever_changes_underneath(
        room, client, facilitator):
    _adopted(room, client, facilitator)
    code = room["congress"].join_code
    before = _copies(client, code)
    page = before[""].decode()
    assert "d'ici 2030" in page and "Résultats article par article" in page
    assert before["/motion.pdf"].startswith(b"%PDF")

    # Underneath, directly in the database: what the application itself refuses now.
    article, amendment = room["article"], room["amendment"]
    article.body_md, article.title = "Un texte falsifié après coup.", "Titre falsifié"
    db.session.get(Amendment, amendment.id).body_md = "Amendement falsifié."
    drafting.motion_for(room["congress"]).title = "Motion falsifiée"
    db.session.commit()
    db.session.execute(text("UPDATE ballot SET results = :r WHERE id = :id"), {
        "r": '{"counts": {"pour": 0, "contre": 3, "abstention": 0}, "adopted": false, '
             '"outcome": "rejeté", "percent_expressed": {}, "percent_cast": {}}',
        "id": room["on_article"].id})
    db.session.execute(text("UPDATE article SET position = 99"))
    db.session.commit()
    db.session.expire_all()
    time.sleep(1.1)  # a second later: nothing in the PDF may carry the time of its render

    after = _copies(client, code)
    for path in DOWNLOADS:
        assert after[path] == before[path], path  # byte-identical, the PDF included
    assert "falsifi" not in after[""].decode()


def test_the_database_refuses_to_rewrite_a_version(room, client, facilitator):
    _adopted(room, client, facilitator)
    for statement in ("UPDATE publication SET document = '{}'",
                      "UPDATE publication SET reason = 'autre'",
                      "UPDATE publication SET number = 7"):
        with pytest.raises(DBAPIError), db.engine.begin() as connection:
            connection.execute(text(statement))
    with db.engine.begin() as connection:  # erasing who published still works
        connection.execute(text("UPDATE publication SET actor_id = NULL"))


def test_a_rewritten_version_is_caught_by_verification(room, client, facilitator, runner):
    _adopted(room, client, facilitator)
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the trigger is dropped the SQLite way")
    with db.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER publication_immutable"))
        connection.execute(text("UPDATE publication SET document = "
                                "json_set(document, '$.title', 'Falsifiée')"))
    db.session.expire_all()
    (problem,) = publishing.verify_versions()
    assert "version 1" in problem and "diffère" in problem
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1 and "version 1 : son texte diffère" in result.output


# --- 2. corrections: new numbered versions, with their history ----------------------------

def _correction_form(client) -> dict[str, str]:
    page = client.get("/animation/motion/corriger").get_data(as_text=True)
    form = dict(re.findall(r'<input id="[^"]+" name="([^"]+)"[^>]*value="([^"]*)"', page))
    form.update({name: body.strip("\n") for name, body in re.findall(
        r'<textarea id="[^"]+" name="(texte-\d+)"[^>]*>(.*?)</textarea>', page, re.S)})
    return {k: v.replace("&#39;", "'") for k, v in form.items()}


def test_a_correction_is_a_new_version_with_its_reason_and_history(room, client,
                                                                   facilitator):
    whole = _adopted(room, client, facilitator)
    congress, article = room["congress"], room["article"]
    code = congress.join_code
    first = _copies(client, code)
    login(client, facilitator)
    form = _correction_form(client)
    key = f"texte-{article.id}"
    assert form[key] == "Le très haut débit dans chaque hameau, d'ici 2030."  # prefilled
    assert form["title"] == "Motion pour un numérique de proximité"

    form[key] = "Le très haut débit dans chaque hameau, d'ici à 2030."
    refused = client.post("/animation/motion/corriger", data={**form, "reason": "  "})
    assert refused.status_code == 422
    assert "Indiquez la raison de la correction" in text_of(refused)
    assert "d&#39;ici à 2030" in refused.get_data(as_text=True)  # nothing lost
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert len(publishing.versions(congress)) == 1

    same = client.post("/animation/motion/corriger",
                       data={**_correction_form(client), "reason": "Rien"})
    assert same.status_code == 422 and "identique à la version 1" in text_of(same)

    done = client.post("/animation/motion/corriger",
                       data={**form, "reason": "Coquille : « d'ici à 2030 »."})
    assert done.status_code == 302 and done.location.endswith(f"/motion/{code}")
    _logout(client)

    page = client.get(f"/motion/{code}")
    body = text_of(page)
    assert "Version 2 du" in body and "Historique des versions" in body
    assert "d'ici à 2030" in body and "Coquille : « d'ici à 2030 »" in body
    assert "Une correction ne modifie pas les résultats" in body
    assert f'href="/motion/{code}/version/1"' in page.get_data(as_text=True)
    old = client.get(f"/motion/{code}/version/1")
    assert old.status_code == 200
    old_body = text_of(old)
    assert "Version remplacée" in old_body and "d'ici 2030" in old_body
    assert "d'ici à 2030" not in old_body.split("Historique des versions")[0]
    assert f'href="/motion/{code}"' in old.get_data(as_text=True)
    assert client.get(f"/motion/{code}/version/2").status_code == 302  # the current one
    assert client.get(f"/motion/{code}/version/3").status_code == 404
    assert client.get(f"/motion/{code}/version/99999999999999999999").status_code == 404
    assert client.get(f"/motion/{code}/version/1/motion.md").data == first["/motion.md"]
    assert client.get(f"/motion/{code}/version/1/motion.pdf").data == first["/motion.pdf"]
    assert "d'ici à 2030" in client.get(f"/motion/{code}/motion.md").get_data(as_text=True)

    one, two = publishing.versions(congress)
    assert two.document["results"] == one.document["results"]  # not re-voted
    assert [a["results"] for a in two.document["articles"]] == \
        [a["results"] for a in one.document["articles"]]
    assert client.get(f"/motion/{code}/resultats.json").json["version"]["number"] == 2
    entry = db.session.scalar(select(AuditEvent).filter_by(action="motion.corrected"))
    assert entry.payload["version"] == 2 and entry.payload["digest"] == two.digest
    assert entry.payload["reason"] == "Coquille : « d'ici à 2030 »."
    assert publishing.verify_versions() == []
    assert db.session.get(Ballot, whole.id).state == "published"
    assert db.session.get(Article, article.id).body_md.endswith("d'ici 2030.")  # live: as voted


def test_only_the_facilitator_corrects(room, client, facilitator, scribe):
    _adopted(room, client, facilitator)
    login(client, room["people"][0])
    assert client.post("/animation/motion/corriger",
                       data={"reason": "x", "title": "Autre"}).status_code in (302, 403)
    _logout(client)
    login(client, scribe)
    assert client.post("/animation/motion/corriger",
                       data={"reason": "x", "title": "Autre"}).status_code == 403
    assert len(publishing.versions(room["congress"])) == 1


# --- 3. a rejected text: the facilitator's choice -------------------------------------------

def test_a_rejected_text_waits_for_the_choice_then_is_published_as_rejected(
        room, client, facilitator):
    whole = _whole(room, ["contre", "contre", "pour"])
    code = room["congress"].join_code
    login(client, facilitator)
    ballots_page = client.get("/animation/scrutins").get_data(as_text=True)
    assert "Publier comme texte rejeté" in ballots_page
    assert "Ne pas publier de motion" in ballots_page
    _publish(client, whole)
    assert "choisissez de le publier comme texte rejeté" in text_of(
        client.get("/animation/scrutins"))
    assert db.session.get(Ballot, whole.id).state == "closed"  # nothing done
    assert _publish(client, whole, texte_rejete="publier").status_code == 302
    page = client.get(f"/motion/{code}")
    assert page.status_code == 200
    body = text_of(page)
    assert body.count("Texte rejeté —") >= 1 and "pas une motion adoptée" in body
    assert "adoptent" not in body
    md = client.get(f"/motion/{code}/motion.md").get_data(as_text=True)
    assert md.startswith("# Texte rejeté — ") and "adoptent" not in md
    assert client.get(f"/motion/{code}/motion.pdf").status_code == 200
    (version,) = publishing.versions(room["congress"])
    assert version.kind == "published" and version.document["rejected"]


def test_a_rejected_text_the_facilitator_chose_not_to_publish(room, client, facilitator):
    whole = _whole(room, ["contre", "contre", "pour"])
    code = room["congress"].join_code
    login(client, facilitator)
    assert _publish(client, whole, texte_rejete="retenir").status_code == 302
    _logout(client)
    page = client.get(f"/motion/{code}")
    assert page.status_code == 200
    body = text_of(page)
    assert "Le congrès n'a pas adopté de motion" in body
    assert "aucun texte n'est publié" in body
    assert re.search(r"Décision enregistrée le \d+ \w+ 20\d\d", body)
    assert "Le très haut débit" not in body and ".pdf" not in page.get_data(as_text=True)
    for path in ("/motion.pdf", "/motion.md", "/motion.html", "/resultats.csv"):
        refused = client.get(f"/motion/{code}{path}")
        assert refused.status_code == 404, path
        assert "n'a pas adopté de motion" in refused.get_data(as_text=True)
    assert client.get(f"/motion/{code}/resultats.json").status_code == 404
    (version,) = publishing.versions(room["congress"])
    assert version.kind == "withheld" and version.document["articles"] == []
    login(client, facilitator)
    room["congress"].phase = "closed"
    db.session.commit()
    assert "aucune motion n'est publiée" in text_of(client.get("/animation/"))
    assert "pas de texte à corriger" in text_of(client.get("/animation/motion/corriger"))
    refused = client.post("/animation/motion/corriger", data={"reason": "x", "title": "y"})
    assert refused.status_code == 422
    assert len(publishing.versions(room["congress"])) == 1
    again = _publish(client, whole, texte_rejete="publier")
    assert again.status_code == 302
    assert "déjà publiée" in text_of(client.get("/animation/scrutins"))


# --- 4. per-article results -------------------------------------------------------------

def test_every_article_shows_its_results_on_the_page_and_the_printed_copy(
        room, client, facilitator):
    _adopted(room, client, facilitator)
    code = room["congress"].join_code
    for path in ("", "/motion.html"):  # the PDF prints motion.html
        page = client.get(f"/motion/{code}{path}").get_data(as_text=True)
        summary = re.search(r'<table class="results results-summary">.*?</caption>(.*?)'
                            r'</table>', page, re.S).group(1)
        cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", summary)).split()
        assert cells[:5] == ["Article", "Pour", "Contre", "Abstention", "Résultat"]
        assert cells[5:] == ["Article", "1", "1", "1", "1", "Rejeté"]
        assert "Vote sur : Article 1" in page
        assert "Amendement n° " in page and "— <strong>adopté</strong>" in page
    md = client.get(f"/motion/{code}/motion.md").get_data(as_text=True)
    assert "*Vote : 1 pour, 1 contre, 1 abstention — rejeté.*" in md


def test_results_print_french_numbers(app):
    results = {"counts": {"pour": 1234, "contre": 56, "abstention": 2},
               "percent_expressed": {"pour": 95.7, "contre": 4.3}, "adopted": True,
               "reason": "Majorité simple.", "eligible": 2000, "voters": 1292}
    assert publication.result_sentence({**results, "outcome": "adopté"}) == \
        "Vote : 1\u202f234 pour, 56 contre, 2 abstentions — adopté."
    with app.test_request_context():
        macros = app.jinja_env.get_template("publication/_macros.html").module
        table = str(macros.results_table(results, "Article 1"))
    assert "<td>1\u202f234</td>" in table and "95,7\u00a0%" in table
    assert "1\u202f292 votant·es sur 2\u202f000 inscrit·es" in table
    assert "<strong>Adopté</strong>" in table


def test_a_motion_published_before_versions_is_frozen_on_first_reading(
        room, client, facilitator):
    whole = _whole(room, ["pour", "pour", "pour"])
    ballots.publish_ballot(room["on_article"].id)
    ballots.publish_ballot(whole.id)  # no version yet: an older database
    assert publishing.versions(room["congress"]) == []
    assert client.get(f"/motion/{room['congress'].join_code}").status_code == 200
    (version,) = db.session.scalars(select(Publication)).all()
    assert version.number == 1 and version.actor_id is None
    assert publishing.verify_versions() == []


def test_a_derived_congress_starts_from_the_text_as_published_and_corrected(
        room, client, facilitator):
    _adopted(room, client, facilitator)
    congress, article = room["congress"], room["article"]
    doc = publishing.latest(congress).document
    bodies = {a["id"]: (a["title"], a["body_md"]) for a in doc["articles"]}
    bodies[article.id] = ("La fibre partout", "Le très haut débit, corrigé.")
    publishing.correct(congress, facilitator, title=doc["title"], articles=bodies,
                       reason="Coquille.")
    db.session.commit()
    article.body_md = "Un texte falsifié après coup."  # underneath: not what was published
    db.session.commit()
    new = derivation.derive_congress(congress, "Ruralitic 2027", "RURAL27", actor=facilitator)
    db.session.commit()
    copied = next(a for a in drafting.articles(new) if a.theme_id is not None
                  and a.title == "La fibre partout")
    assert copied.inherited_md == "Le très haut débit, corrigé."


def test_a_withheld_text_cannot_found_a_new_congress(room, client, facilitator):
    whole = _whole(room, ["contre", "contre", "pour"])
    publishing.publish(whole.id, facilitator.id, "retenir")
    assert not derivation.is_published(room["congress"])
    with pytest.raises(InputError, match="pas encore publiée"):
        derivation.derive_congress(room["congress"], "Autre", "AUTRE27", actor=facilitator)


def test_a_refused_correction_marks_its_field(room, client, facilitator):
    _adopted(room, client, facilitator)
    login(client, facilitator)
    form = {**_correction_form(client), "reason": "Coquille."}
    key = f"titre-{room['article'].id}"
    refused = client.post("/animation/motion/corriger", data={**form, key: "  "})
    assert refused.status_code == 422 and "est obligatoire" in text_of(refused)
    assert re.search(rf'id="{key}"[^>]*aria-invalid="true"', refused.get_data(as_text=True))
