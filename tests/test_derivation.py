"""Congresses derived from a published motion (deliberation/derivation.py, web/derivation.py,
the derive-congress command) and the inherited-text panel of their drafting screen."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from deliberation import ballots, contributions, corpus, derivation, drafting, sorting
from deliberation.errors import InputError
from deliberation.extensions import db
from deliberation.models import (
    Article,
    ArticleVersion,
    AuditEvent,
    Cluster,
    Congress,
    Contribution,
    Participant,
)

from .conftest import make_person, staff_login, text_of, theme
from .test_inheritance import FORMATION

ACCES = "- La **fibre** partout, et vite.\n- Aucune zone blanche ne doit subsister."
PASSWORD = "motdepasse-solide"


def publish_motion(congress: Congress, bodies: dict[str, str], actor: Participant) -> None:
    """Write the articles (theme code → text), then vote and publish the whole text."""
    congress.phase = "vote"
    for article in drafting.articles(congress):
        if article.theme is not None and article.theme.code in bodies:
            drafting.save_version(article, None, bodies[article.theme.code], actor)
    voters = [make_person(congress, f"Votant {i}", present=True) for i in range(3)]
    whole = ballots.create(congress, "Ensemble du texte")
    db.session.commit()
    ballots.open_ballot(whole.id)
    for person in voters:
        ballots.cast_vote(whole.id, person.id, "pour")
    ballots.close_ballot(whole.id)
    ballots.publish_ballot(whole.id)


@pytest.fixture
def published(congress, facilitator):
    publish_motion(congress, {"acces": ACCES, "formation": FORMATION}, facilitator)
    return congress


def _article(congress: Congress, code: str) -> Article:
    return next(a for a in drafting.articles(congress) if a.theme and a.theme.code == code)


# --- the domain ------------------------------------------------------------------------

def test_derive_copies_themes_and_articles_with_their_text(published, facilitator):
    new = derivation.derive_congress(published, " Ruralitic 2027 ", "rural27",
                                     place="Polminhac", actor=facilitator)
    db.session.commit()
    assert (new.title, new.join_code, new.place, new.phase) == (
        "Ruralitic 2027", "RURAL27", "Polminhac", "preparation")
    assert new.derived_from_id == published.id
    assert [(t.code, t.title, t.short_title, t.description, t.subpoints, t.keywords,
             t.position) for t in new.themes] == \
        [(t.code, t.title, t.short_title, t.description, t.subpoints, t.keywords, t.position)
         for t in published.themes]
    old_articles, new_articles = drafting.articles(published), drafting.articles(new)
    assert [(a.kind, a.title, a.position, a.body_md) for a in new_articles] == \
        [(a.kind, a.title, a.position, a.body_md) for a in old_articles]
    acces = _article(new, "acces")
    assert acces.inherited_md == ACCES and acces.theme.congress_id == new.id
    [version] = drafting.versions(acces)
    assert (version.number, version.body_md, version.note) == (
        1, ACCES, "Texte de la motion d'origine")
    empty = _article(new, "donnees")  # nothing written there: no version, nothing inherited
    assert empty.body_md == "" and empty.inherited_md == "" and not drafting.versions(empty)
    account = derivation.facilitator_of(new, facilitator.email)
    assert account.role == "facilitator" and account.check_password(PASSWORD)
    assert version.author_id == account.id
    entry = db.session.scalar(select(AuditEvent).filter_by(congress_id=new.id,
                                                           action="congress.derived"))
    assert entry.payload["source_code"] == "TEST26" and entry.payload["articles"] == 4
    assert published.themes and _article(published, "acces").inherited_md == ""  # untouched


def test_derive_refuses_what_it_cannot_copy(congress, facilitator):
    with pytest.raises(InputError, match="pas encore publiée"):
        derivation.derive_congress(congress, "Ruralitic", "RURAL27", actor=facilitator)
    publish_motion(congress, {"acces": ACCES}, facilitator)
    for code, message in (("", "obligatoire"), ("ab", "4 à 16 lettres"),
                          ("RURAL 27", "4 à 16 lettres"), ("ÉTÉ2027", "4 à 16 lettres"),
                          ("test26", "déjà celui d'un autre congrès")):
        with pytest.raises(InputError, match=message):
            derivation.derive_congress(congress, "Ruralitic", code, actor=facilitator)
    with pytest.raises(InputError, match="titre du congrès est obligatoire"):
        derivation.derive_congress(congress, "  ", "RURAL27", actor=facilitator)
    db.session.rollback()
    assert db.session.scalar(select(Congress).filter_by(join_code="RURAL27")) is None


# --- the facilitator's form ---------------------------------------------------------------

def test_form_refuses_an_unpublished_motion(client, congress, facilitator):
    staff_login(client, facilitator.email)
    page = client.get("/animation/deriver")
    assert page.status_code == 200 and "pas encore publiée" in text_of(page)
    assert 'name="join_code"' not in page.get_data(as_text=True)
    refused = client.post("/animation/deriver", data={"title": "Ruralitic", "join_code": "R27A"})
    assert refused.status_code == 422 and "n'est pas encore publiée" in text_of(refused)
    assert "Créer un congrès à partir de cette motion" in text_of(client.get("/animation/"))


def test_form_errors_in_french_then_creation(client, published, facilitator, scribe):
    staff_login(client, scribe.email)
    assert client.get("/animation/deriver").status_code == 403
    staff_login(client, facilitator.email)
    for data, message in (
            ({"title": "Ruralitic", "join_code": "ab"}, "4 à 16 lettres sans accent ou chiffres"),
            ({"title": "Ruralitic", "join_code": "TEST26"}, "« TEST26 » est déjà celui d'un "
                                                            "autre congrès"),
            ({"title": "", "join_code": "RURAL27"}, "Le titre du congrès est obligatoire"),
            ({"title": "x" * 201, "join_code": "RURAL27"}, "dépasse 200 caractères")):
        page = client.post("/animation/deriver", data=data)
        assert page.status_code == 422, data
        body = text_of(page)
        assert message in body and "Impossible d'enregistrer" in body
        assert f'value="{data["join_code"]}"' in page.get_data(as_text=True)  # kept
    done = client.post("/animation/deriver", data={"title": "Ruralitic 2027",
                                                   "join_code": "rural27"})
    assert done.status_code == 302 and done.location.endswith("/animation/")
    dashboard = text_of(client.get("/animation/"))
    assert "Ruralitic 2027" in dashboard and "RURAL27" in dashboard
    assert "créé à partir de la motion de « Congrès de test »" in dashboard
    assert "Ce congrès décline la motion de « Congrès de test »" in dashboard
    new = db.session.scalar(select(Congress).filter_by(join_code="RURAL27"))
    assert new.derived_from_id == published.id and len(new.themes) == 3


def test_cli_derive_congress(runner, published, facilitator):
    result = runner.invoke(args=["derive-congress", "--from", "test26", "--code", "RURAL27",
                                 "--title", "Ruralitic 2027", "--facilitator", facilitator.email])
    assert result.exit_code == 0, result.output
    assert "code RURAL27, 3 thèmes" in result.output
    new = db.session.scalar(select(Congress).filter_by(join_code="RURAL27"))
    assert derivation.facilitator_of(new, facilitator.email) is not None
    again = runner.invoke(args=["derive-congress", "--from", "TEST26", "--code", "RURAL27",
                                "--title", "Encore"])
    assert again.exit_code == 1 and "déjà celui d'un autre congrès" in again.output
    nobody = runner.invoke(args=["derive-congress", "--from", "TEST26", "--code", "RURAL28",
                                 "--title", "Encore", "--facilitator", "x@example.org"])
    assert nobody.exit_code == 1 and "Aucun compte d'animation" in nobody.output
    bare = runner.invoke(args=["derive-congress", "--from", "TEST26", "--code", "RURAL29",
                               "--title", "Sans animation"])
    assert bare.exit_code == 0 and "create-facilitator --congress RURAL29" in bare.output
    unpublished = runner.invoke(args=["derive-congress", "--from", "RURAL27", "--code",
                                      "RURAL30", "--title", "Trop tôt"])
    assert unpublished.exit_code == 1 and "pas encore publiée" in unpublished.output


# --- the drafting screen ----------------------------------------------------------------

def add_point(congress, code, key, texts, author, statement=""):
    cluster = Cluster(congress_id=congress.id, theme_id=theme(congress, code).id, key=key,
                      label=key, size=len(texts), statement=statement)
    db.session.add(cluster)
    db.session.flush()
    db.session.add_all(Contribution(congress_id=congress.id, author_id=author.id, text=t,
                                    theme_id=cluster.theme_id, cluster_id=cluster.id)
                       for t in texts)
    db.session.commit()
    return cluster


@pytest.fixture
def derived(published, facilitator):
    new = derivation.derive_congress(published, "Ruralitic 2027", "RURAL27", actor=facilitator)
    new.phase = "drafting"
    db.session.commit()
    author = make_person(new, "Élue de Murat")
    confirming = add_point(new, "formation", "f1", [
        "Former les élus et les agents aux enjeux du numérique.",
        "Des formations au numérique pour les élus.",
        "Former les agents territoriaux."],
        author, statement="Former les élus, les agents et les habitants aux enjeux du numérique.")
    fresh = add_point(new, "formation", "f2", [
        "Des ordinateurs neufs pour l'école du village.",
        "Équiper les classes en tableaux numériques."],
        author, statement="Il faut équiper les écoles rurales en tablettes et ordinateurs.")
    return {"congress": new, "confirming": confirming, "fresh": fresh,
            "account": derivation.facilitator_of(new, facilitator.email)}


def test_inherited_view_marks_confirmed_sentences_and_new_points(derived):
    view = derivation.inherited_view(_article(derived["congress"], "formation"))
    assert view.source.title == "Congrès de test"
    assert len(view.sentences) == 4
    confirmed = view.sentences[2]
    assert [p.cluster.id for p in confirmed.points] == [derived["confirming"].id]
    assert confirmed.contributions == 3
    assert not any(s.points for i, s in enumerate(view.sentences) if i != 2)
    assert [(p.cluster.id, p.size, p.in_text) for p in view.new] == \
        [(derived["fresh"].id, 2, False)]
    assert derivation.inherited_view(_article(derived["congress"], "donnees")) is None


def test_drafting_screen_marks_and_appends_a_new_point(client, derived, facilitator):
    staff_login(client, facilitator.email)  # the newest account: the derived congress's
    article = _article(derived["congress"], "formation")
    url = f"/animation/redaction/article/{article.id}"
    body = text_of(client.get(url))
    assert "Texte de la motion d'origine : « Congrès de test »" in body
    assert "Confirmé par 1 point (3 contributions)" in body
    assert "Nouveau Il faut équiper les écoles rurales en tablettes et ordinateurs." in body
    assert "Aucun point de ce congrès ne la reprend pour l'instant." in body
    added = client.post(f"{url}/ajouter", data={"cluster_id": derived["fresh"].id})
    assert added.status_code == 302
    db.session.expire_all()
    assert article.body_md.endswith("\n- Il faut équiper les écoles rurales en tablettes et "
                                    "ordinateurs.")
    assert article.inherited_md == FORMATION  # the earlier text stays as it was
    assert drafting.versions(article)[0].number == 2
    assert len(drafting.source_ids(article)) == 2
    after = text_of(client.get(url))
    assert "2 contributions — déjà dans le texte de l'article" in after


def test_the_draft_of_a_derived_article_keeps_the_earlier_text_and_adds_new_points(
        client, derived, facilitator):
    staff_login(client, facilitator.email)
    article = _article(derived["congress"], "formation")
    answer = client.post(f"/animation/redaction/article/{article.id}/brouillon")
    assert answer.status_code == 302
    db.session.expire_all()
    assert article.body_md.startswith(FORMATION.rstrip())  # the earlier motion, whole
    assert article.body_md.endswith(
        "\n\n- Il faut équiper les écoles rurales en tablettes et ordinateurs.")
    assert article.body_md.count("Former les élus") == FORMATION.count("Former les élus")
    # The confirming point's ideas and the new point's are the draft's sources.
    assert len(drafting.source_ids(article)) == 5
    assert "confirmé par 1 point, et 1 point nouveau" in drafting.versions(article)[0].note


def test_a_congress_that_was_not_derived_shows_no_inherited_panel(client, congress,
                                                                  facilitator):
    staff_login(client, facilitator.email)
    page = client.get(f"/animation/redaction/article/{_article(congress, 'acces').id}")
    assert page.status_code == 200 and "motion d'origine" not in text_of(page)


# --- end to end, from the demo congress ---------------------------------------------------

DEMO_MOTION = {  # the national motion's sentences (corpus/themes.json), as voted
    code: "\n".join(f"- {s}." for s in subpoints) for code, subpoints in (
        (t["code"], t["subpoints"]) for t in corpus.read_themes())}
NEW_IDEAS = [
    # paraphrases of « Les mairies doivent rester le point d'entrée local »
    "La mairie doit rester le premier point d'accueil des habitants pour leurs démarches.",
    "Les habitants viennent en mairie pour leurs démarches en ligne, la mairie doit rester "
    "leur point d'entrée.",
    "Garder la mairie comme point d'entrée local pour les démarches administratives.",
    # something the national motion did not say
    "Un bus France Services itinérant doit passer chaque mois dans les villages.",
    "Le bus itinérant France Services doit venir chaque mois dans nos villages.",
    "Faire passer un bus France Services itinérant dans chaque village tous les mois.",
]


def test_derived_congress_end_to_end_from_the_demo(app, client):
    demo = corpus.load_demo()
    db.session.commit()
    animation = db.session.scalar(select(Participant).filter_by(
        congress_id=demo.id, email=corpus.DEMO_FACILITATOR[0]))
    publish_motion(demo, DEMO_MOTION, animation)
    staff_login(client, corpus.DEMO_FACILITATOR[0], corpus.DEMO_FACILITATOR[1])
    created = client.post("/animation/deriver", data={
        "title": "Ruralitic — déclinaison rurale", "join_code": "RURALITIC", "place": "Polminhac"})
    assert created.status_code == 302
    new = db.session.scalar(select(Congress).filter_by(join_code="RURALITIC"))
    assert new.derived_from_id == demo.id and len(new.themes) == len(demo.themes)
    new.phase = "consultation"
    db.session.commit()
    officials = [make_person(new, f"Élu·e {i}") for i in range(len(NEW_IDEAS))]
    for person, text in zip(officials, NEW_IDEAS, strict=True):
        contributions.create(new, text, author=person)
    db.session.commit()
    sorting.refit(new.id)
    new.phase = "drafting"
    db.session.commit()
    article = _article(new, "proximite")
    assert db.session.scalar(select(ArticleVersion.note).filter_by(article_id=article.id)) == \
        derivation.INHERITED_NOTE
    view = derivation.inherited_view(article)
    mairie = next(s for s in view.sentences if s.text.startswith("Les mairies doivent"))
    assert mairie.points and mairie.contributions >= 2
    assert any("bus" in p.statement.lower() for p in view.new)
    page = text_of(client.get(f"/animation/redaction/article/{article.id}"))
    assert "Confirmé par" in page and "Nouveau" in page and "France Services" in page


def test_the_facilitator_goes_back_and_forth_between_the_two_congresses(
        client, published, facilitator, scribe):
    other = make_person(published, "Autre animation", role="facilitator",
                        email="autre@example.org", password=PASSWORD)
    staff_login(client, facilitator.email)
    client.post("/animation/deriver", data={"title": "Ruralitic 2027", "join_code": "RURAL27"})
    new = db.session.scalar(select(Congress).filter_by(join_code="RURAL27"))
    dashboard = text_of(client.get("/animation/"))
    assert "Vos autres congrès" in dashboard and "Animer « Congrès de test »" in dashboard
    back = client.post(f"/animation/congres/{facilitator.id}", follow_redirects=True)
    body = text_of(back)
    assert "Vous animez maintenant « Congrès de test »" in body
    assert "Animer « Ruralitic 2027 »" in body
    for stranger in (other, scribe):  # another person's account, or not a facilitator's
        refused = client.post(f"/animation/congres/{stranger.id}", follow_redirects=True)
        assert "Vous n'animez pas ce congrès avec ce compte." in text_of(refused)
    account = derivation.facilitator_of(new, facilitator.email)
    again = client.post(f"/animation/congres/{account.id}", follow_redirects=True)
    assert "Vous animez maintenant « Ruralitic 2027 »" in text_of(again)
    actions = set(db.session.scalars(select(AuditEvent.action).filter_by(congress_id=new.id)))
    assert {"congress.derived", "staff.switched", "staff.login"} <= actions


def test_form_lists_every_error_each_tied_to_its_field(client, published, facilitator):
    """RGAA 11.10 (issue 14): a title and a code both wrong are both listed at the top."""
    staff_login(client, facilitator.email)
    page = client.post("/animation/deriver", data={"title": "", "join_code": "ab"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert re.findall(r'<a href="#(derive-[a-z]+)">', html) == ["derive-title", "derive-code"]
    for field in ("derive-title", "derive-code"):
        tag = re.search(rf'<input id="{field}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag and f"{field}-erreur" in tag
