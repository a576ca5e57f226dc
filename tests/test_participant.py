"""The officials' flow: join, contribute, edit, withdraw, browse; phase rules; bad input."""

from __future__ import annotations

import pytest

from deliberation.extensions import db
from deliberation.models import AuditEvent, Contribution, Participant

from .conftest import login, make_person, text_of


def _contributions(congress):
    return list(db.session.scalars(db.select(Contribution).filter_by(congress_id=congress.id)))


def test_home_lists_open_congresses(client, congress):
    congress.listed = True  # the facilitator's choice (test_roster.py: off by default)
    db.session.commit()
    page = client.get("/")
    assert page.status_code == 200
    assert "Congrès de test" in text_of(page)
    assert 'lang="fr"' in page.get_data(as_text=True)


def test_join_with_the_congress_code_then_contribute(client, congress):
    page = client.get("/rejoindre?code=TEST26")
    assert 'value="TEST26"' in page.get_data(as_text=True)
    response = client.post("/rejoindre", data={
        "code": "test26", "display_name": "Jeanne Martin", "commune": "Saint-Flour",
        "department_code": "15", "mandate": "maire", "population": "6 600"})
    assert response.status_code == 302
    person = db.session.scalar(db.select(Participant).filter_by(display_name="Jeanne Martin"))
    assert person.population == 6600 and person.role == "participant"
    response = client.post("/c/TEST26/contribuer",
                           data={"text": "La fibre doit arriver dans les hameaux."})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Merci" in text_of(page)
    assert "La fibre doit arriver dans les hameaux." in text_of(page)
    assert [c.author_id for c in _contributions(congress)] == [person.id]


def test_a_phone_sent_from_the_vote_address_joins_and_comes_back_to_it(client, congress):
    """The projector shows the vote page's address; a phone that has not joined yet is
    sent to the join form with the congress code filled in, and back to the vote after."""
    sent = client.get("/c/TEST26/vote")
    assert sent.status_code == 302 and "/rejoindre?next=" in sent.headers["Location"]
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'value="TEST26"' in page and 'name="next" value="/c/TEST26/vote"' in page
    back = client.post("/rejoindre", data={"code": "TEST26", "display_name": "Jeanne Martin",
                                           "commune": "Murat", "next": "/c/TEST26/vote"})
    assert back.status_code == 302 and back.headers["Location"] == "/c/TEST26/vote"


@pytest.mark.parametrize("then", ["https://example.org/c/TEST26", "//example.org/c/TEST26",
                                  "/c/AUTRE26/vote", "/animation/", "/c/TEST26/../../x"])
def test_joining_never_goes_back_elsewhere_than_this_congress(client, congress, then):
    back = client.post("/rejoindre", data={"code": "TEST26", "display_name": "Jeanne Martin",
                                           "commune": "Murat", "next": then})
    assert back.status_code == 302 and back.headers["Location"] == "/c/TEST26"


@pytest.mark.parametrize("form, message", [
    ({"code": "NOPE99", "display_name": "A", "commune": "B"}, "Aucun congrès"),
    ({"code": "TEST26", "display_name": "  ", "commune": "B"}, "Votre nom est obligatoire"),
    ({"code": "TEST26", "display_name": "A", "commune": ""}, "Votre commune est obligatoire"),
    ({"code": "TEST26", "display_name": "A", "commune": "B", "population": "beaucoup"},
     "nombre entier"),
    ({"code": "TEST26", "display_name": "A" * 121, "commune": "B"}, "dépasse 120"),
])
def test_join_refuses_bad_input_and_keeps_what_was_typed(client, congress, form, message):
    response = client.post("/rejoindre", data=form)
    assert response.status_code == 422
    assert message in text_of(response)
    if form.get("commune"):
        assert f'value="{form["commune"]}"' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 0


def test_invite_link_logs_in_and_revoked_link_does_not(client, congress, official):
    login(client, official)
    assert "Mon congrès" in text_of(client.get("/c/TEST26"))
    official.token_revoked_at = official.created_at
    official.session_epoch += 1
    db.session.commit()
    assert client.get(f"/i/{official.invite_token}").status_code == 404
    # The session opened before the revocation is closed too.
    response = client.post("/c/TEST26/contribuer", data={"text": "encore moi"})
    assert response.status_code == 302 and "/rejoindre" in response.headers["Location"]
    assert client.get("/i/not-a-token").status_code == 404


def test_visitor_sees_congress_but_must_join_to_contribute(client, congress):
    page = client.get("/c/TEST26")
    assert page.status_code == 200
    assert "rejoignez d'abord le congrès" in text_of(page)
    response = client.post("/c/TEST26/contribuer", data={"text": "Une idée"})
    assert response.status_code == 302
    assert _contributions(congress) == []
    assert client.get("/c/NOPE99").status_code == 404


def test_cannot_contribute_to_another_congress(client, congress, official):
    from deliberation.models import Congress

    other = Congress(title="Autre", join_code="AUTRE1", phase="consultation")
    db.session.add(other)
    db.session.commit()
    login(client, official)
    assert client.post("/c/AUTRE1/contribuer", data={"text": "x"}).status_code == 403


@pytest.mark.parametrize("phase", ["preparation", "drafting", "vote", "closed"])
def test_no_contribution_outside_consultation_and_debate(client, congress, official, phase):
    congress.phase = phase
    db.session.commit()
    login(client, official)
    response = client.post("/c/TEST26/contribuer", data={"text": "Hors délai"})
    assert response.status_code == 422
    assert "ne sont ouvertes que pendant la consultation et le débat" in text_of(response)
    assert _contributions(congress) == []


@pytest.mark.parametrize("phase", ["consultation", "debate"])
def test_contribution_open_in_consultation_and_debate(client, congress, official, phase):
    congress.phase = phase
    db.session.commit()
    login(client, official)
    assert client.post("/c/TEST26/contribuer", data={"text": "Ouvert"}).status_code == 302
    assert len(_contributions(congress)) == 1


@pytest.mark.parametrize("text, message", [
    ("", "est vide"),
    ("   \n\t  ", "est vide"),
    ("x" * 2001, "2 001 caractères ; la limite est de 2 000"),
])
def test_bad_contribution_is_refused_and_text_kept(client, congress, official, text, message):
    login(client, official)
    response = client.post("/c/TEST26/contribuer", data={"text": text})
    assert response.status_code == 422
    assert message in text_of(response)
    if text.strip():
        assert text in response.get_data(as_text=True)
    assert _contributions(congress) == []


def test_nul_bytes_and_control_characters_are_removed(client, congress, official):
    login(client, official)
    client.post("/c/TEST26/contribuer", data={"text": "Fi\x00bre\x07 pour tous"})
    assert _contributions(congress)[0].text == "Fibre pour tous"


@pytest.mark.parametrize("payload, forbidden", [
    ("<script>alert('x')</script>Bonjour", "<script>alert"),
    ("<img src=x onerror=alert(1)>", "onerror"),
    ("[cliquez](javascript:alert(1))", "javascript:"),
    ('<a href="javascript:alert(1)">lien</a>', "javascript:"),
    ("<iframe src=//evil></iframe>", "<iframe"),
])
def test_raw_html_and_javascript_links_come_out_inert(client, congress, official, payload,
                                                      forbidden):
    login(client, official)
    client.post("/c/TEST26/contribuer", data={"text": payload})
    for url in ("/c/TEST26", "/c/TEST26/contributions"):
        html = client.get(url).get_data(as_text=True)
        assert forbidden not in html


def test_markdown_is_rendered(client, congress, official):
    login(client, official)
    client.post("/c/TEST26/contribuer", data={"text": "Deux idées :\n\n- **fibre**\n- *4G*"})
    html = client.get("/c/TEST26/contributions").get_data(as_text=True)
    assert "<strong>fibre</strong>" in html and "<em>4G</em>" in html and "<li>" in html


def test_double_submission_with_same_key_is_stored_once(client, congress, official):
    login(client, official)
    for _ in range(3):
        client.post("/c/TEST26/contribuer", data={"text": "Une fois", "client_key": "k" * 32})
    assert len(_contributions(congress)) == 1


def test_edit_and_withdraw_own_contribution(client, congress, official):
    login(client, official)
    client.post("/c/TEST26/contribuer", data={"text": "Première version"})
    contribution = _contributions(congress)[0]
    page = client.get(f"/contributions/{contribution.id}/modifier")
    assert "Première version" in page.get_data(as_text=True)
    bad = client.post(f"/contributions/{contribution.id}/modifier", data={"text": " "})
    assert bad.status_code == 422
    client.post(f"/contributions/{contribution.id}/modifier", data={"text": "Seconde version"})
    db.session.refresh(contribution)
    assert contribution.text == "Seconde version"
    asked = client.post(f"/contributions/{contribution.id}/retirer")
    assert "Retirer cette contribution" in text_of(asked)  # confirmation first
    db.session.refresh(contribution)
    assert contribution.status == "visible"
    client.post(f"/contributions/{contribution.id}/retirer", data={"confirm": "oui"})
    db.session.refresh(contribution)
    assert contribution.status == "withdrawn"
    assert "Seconde version" not in text_of(client.get("/c/TEST26/contributions"))
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent))]
    assert {"contribution.created", "contribution.edited", "contribution.withdrawn"} <= set(
        actions)


def test_cannot_edit_or_withdraw_someone_elses(client, congress, official):
    other = make_person(congress, "Paul Autre")
    contribution = Contribution(congress_id=congress.id, author_id=other.id, text="À Paul")
    db.session.add(contribution)
    db.session.commit()
    login(client, official)
    assert client.get(f"/contributions/{contribution.id}/modifier").status_code == 403
    assert client.post(f"/contributions/{contribution.id}/retirer").status_code == 403
    assert client.post("/contributions/99999/retirer").status_code == 404


def test_edit_refused_once_the_phase_is_over(client, congress, official):
    login(client, official)
    client.post("/c/TEST26/contribuer", data={"text": "Avant la clôture"})
    contribution = _contributions(congress)[0]
    congress.phase = "vote"
    db.session.commit()
    response = client.post(f"/contributions/{contribution.id}/modifier", data={"text": "Après"})
    assert response.status_code == 422
    db.session.refresh(contribution)
    assert contribution.text == "Avant la clôture"


def test_browse_contributions_by_theme(client, congress, official):
    acces = congress.themes[0]
    db.session.add_all([
        Contribution(congress_id=congress.id, author_id=official.id, text="Fibre !",
                     theme_id=acces.id),
        Contribution(congress_id=congress.id, author_id=official.id, text="Former les élus",
                     theme_id=congress.themes[1].id),
        Contribution(congress_id=congress.id, author_id=official.id, text="Masquée",
                     theme_id=acces.id, status="hidden"),
    ])
    db.session.commit()
    everything = text_of(client.get("/c/TEST26/contributions"))
    assert "Fibre !" in everything and "Former les élus" in everything
    assert "Masquée" not in everything
    one = text_of(client.get("/c/TEST26/contributions?theme=acces"))
    assert "Fibre !" in one and "Former les élus" not in one
    assert client.get("/c/TEST26/contributions?theme=inconnu").status_code == 404


def test_logout(client, congress, official):
    login(client, official)
    client.post("/deconnexion")
    assert "rejoignez d'abord le congrès" in text_of(client.get("/c/TEST26"))
