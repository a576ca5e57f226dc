"""Data protection (RGPD): the policy page, download, erasure, retention and purge."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from deliberation import privacy
from deliberation.extensions import db, socketio
from deliberation.models import AuditEvent, Ballot, Contribution, Participant, Vote

from .conftest import login, make_person, text_of


def _contribute(congress, person, text="Fibre optique dans toutes les écoles"):
    contribution = Contribution(congress_id=congress.id, author_id=person.id, text=text)
    db.session.add(contribution)
    db.session.commit()
    return contribution


def test_policy_page_says_what_is_stored_and_why(client, congress):
    page = text_of(client.get("/donnees-personnelles"))
    for words in ("Ce que Motion enregistre", "Pendant combien de temps", "Vos droits",
                  "effacer"):
        assert words in page
    assert "href=\"/donnees-personnelles\"" in client.get("/").get_data(as_text=True)


def test_download_contains_my_data_and_nobody_else(app, congress, official):
    other = make_person(congress, "Jean Autre", email="jean@example.org")
    _contribute(congress, official, "Former les secrétaires de mairie")
    _contribute(congress, other, "Texte de quelqu'un d'autre")
    ballot = Ballot(congress_id=congress.id, title="Article 1", state="open")
    db.session.add(ballot)
    db.session.commit()
    db.session.add(Vote(ballot_id=ballot.id, voter_id=official.id, choice="pour"))
    db.session.commit()
    client = app.test_client()
    login(client, official)
    response = client.get("/mes-donnees/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["person"]["display_name"] == "Marie Durand"
    assert [c["text"] for c in data["contributions"]] == ["Former les secrétaires de mairie"]
    assert data["votes"][0]["choice"] == "pour"
    assert "Jean Autre" not in response.get_data(as_text=True)
    assert "jean@example.org" not in response.get_data(as_text=True)
    with app.app_context():  # a fresh `g`: Flask-Login caches the user there
        assert app.test_client().get("/mes-donnees/export.json").status_code == 302


def test_erasure_anonymises_and_keeps_contributions_when_the_congress_requires_it(
        app, congress, official):
    assert congress.keep_contributions_on_erasure
    contribution = _contribute(congress, official)
    client = app.test_client()
    login(client, official)
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"congress": congress.join_code})
    assert sock.is_connected()
    # Nothing happens without the explicit confirmation.
    refused = client.post("/mes-donnees/effacer", data={})
    assert refused.status_code == 422 and "rien n'a été effacé" in text_of(refused)
    token = official.invite_token
    response = client.post("/mes-donnees/effacer", data={"confirm": "oui"})
    assert response.status_code == 302
    with app.app_context():
        person = db.session.get(Participant, official.id)
        assert person.display_name == privacy.ERASED_NAME
        assert (person.commune, person.email, person.mandate) == ("", None, "")
        assert person.erased_at is not None and person.token_revoked_at is not None
        kept = db.session.get(Contribution, contribution.id)
        assert kept.text == "Fibre optique dans toutes les écoles"
        assert kept.speaker == privacy.ERASED_NAME
        assert db.session.scalar(select(AuditEvent).filter_by(action="participant.erased"))
    assert not sock.is_connected()
    with app.app_context():
        assert app.test_client().get(f"/i/{token}").status_code == 404
    with app.app_context():
        # Public pages no longer show the name.
        page = app.test_client().get(f"/c/{congress.join_code}/contributions")
        assert "Marie Durand" not in page.get_data(as_text=True)


def test_erasure_removes_contribution_texts_when_the_congress_does_not_keep_them(
        app, congress, official):
    congress.keep_contributions_on_erasure = False
    db.session.commit()
    contribution = _contribute(congress, official)
    result = privacy.erase(official, official.id, reason="test")
    db.session.commit()
    assert result["texts_erased"] == 1
    erased = db.session.get(Contribution, contribution.id)
    assert erased.text == privacy.ERASED_TEXT and erased.status == "withdrawn"
    # Idempotent.
    assert privacy.erase(official, official.id, reason="test")["already"] is True


def test_facilitator_sets_the_retention_period(app, congress, facilitator, official):
    client = app.test_client()
    login(client, facilitator)
    page = client.get("/animation/donnees")
    assert page.status_code == 200 and "Durée de conservation" in text_of(page)
    bad = client.post("/animation/donnees", data={"retention_days": "0"})
    assert bad.status_code == 422 and "entre 1 et 3650" in text_of(bad)
    good = client.post("/animation/donnees", data={"retention_days": "30"})
    assert good.status_code == 302
    db.session.refresh(congress)
    assert congress.retention_days == 30 and congress.keep_contributions_on_erasure is False
    participant = app.test_client()
    login(participant, official)
    assert participant.get("/animation/donnees").status_code == 403


def test_purge_erases_congresses_past_their_retention(app, congress, official, runner):
    congress.retention_days = 30
    db.session.commit()
    assert privacy.expiry_date(congress) == date(2027, 1, 10)
    result = runner.invoke(args=["purge-expired", "--today", "2027-01-09"])
    assert "0 personne dans" in result.output
    result = runner.invoke(args=["purge-expired", "--today", "2027-01-10"])
    assert result.exit_code == 0 and "1 personne dans" in result.output
    db.session.expire_all()
    assert db.session.get(Participant, official.id).display_name == privacy.ERASED_NAME
    bad = runner.invoke(args=["purge-expired", "--today", "demain"])
    assert bad.exit_code != 0 and "AAAA-MM-JJ" in bad.output
