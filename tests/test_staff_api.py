"""The staff API (web/staff_api.py, docs/api.md « API de l'équipe »): bearer tokens
scoped to one congress, expiring, revocable; each endpoint calls the domain."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from deliberation import ballots, create_app, staff_tokens
from deliberation.config import TestConfig
from deliberation.errors import InputError
from deliberation.extensions import db
from deliberation.models import AuditEvent, Ballot, StaffToken, utcnow

from .conftest import make_person, new_congress, staff_login, text_of


@pytest.fixture
def team(congress, facilitator):
    congress.phase = "vote"
    db.session.commit()
    people = [make_person(congress, f"Élu {i}") for i in range(4)]
    _, raw = staff_tokens.create(congress.id, facilitator, "Script du congrès", 7)
    return {"congress": congress, "facilitator": facilitator, "people": people, "raw": raw}


def auth(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    message = response.get_json()["error"]
    assert message and message[0].isupper()  # a French sentence, never a stack
    return message


def test_the_token_is_stored_hashed_and_shown_once(team):
    row = db.session.scalar(select(StaffToken))
    assert team["raw"] not in (row.token_hash, row.label)
    assert row.token_hash == staff_tokens.digest(team["raw"])
    assert row.expires_at - row.created_at == timedelta(days=7)


def test_refused_tokens(client, team):
    assert "absent" in error_of(client.get("/api/staff/TEST26/phase"), 401)
    assert "inconnu" in error_of(client.get("/api/staff/TEST26/phase",
                                            headers=auth("mst_faux")), 401)
    other = new_congress("Autre congrès", "AUTRE26")
    db.session.commit()
    boss = make_person(other, "Autre animation", role="facilitator", email="b@example.org",
                       password="motdepasse-solide")
    _, foreign = staff_tokens.create(other.id, boss, "Autre", 1)
    assert "pas à ce congrès" in error_of(
        client.get("/api/staff/TEST26/phase", headers=auth(foreign)), 403)
    assert "pas à ce congrès" in error_of(
        client.post("/api/staff/TEST26/phase", headers=auth(foreign), json={"phase": "closed"}),
        403)
    assert team["congress"].phase == "vote"
    # expired
    row = db.session.scalar(select(StaffToken).where(
        StaffToken.token_hash == staff_tokens.digest(team["raw"])))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert "expiré" in error_of(client.get("/api/staff/TEST26/phase",
                                           headers=auth(team["raw"])), 401)
    # revoked
    row.expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    staff_tokens.revoke(row, team["facilitator"])
    assert "révoqué" in error_of(client.get("/api/staff/TEST26/phase",
                                            headers=auth(team["raw"])), 401)


def test_token_rules(team):
    with pytest.raises(InputError):
        staff_tokens.create(team["congress"].id, team["people"][0], "Officiel", 7)
    with pytest.raises(InputError):
        staff_tokens.create(team["congress"].id, team["facilitator"], "Trop long", 365)
    with pytest.raises(InputError):
        staff_tokens.create(team["congress"].id, team["facilitator"], "  ", 7)


def test_phase(client, team):
    h = auth(team["raw"])
    assert client.get("/api/staff/TEST26/phase", headers=h).get_json()["phase"] == "vote"
    assert "Phase inconnue" in error_of(
        client.post("/api/staff/TEST26/phase", headers=h, json={"phase": "fin"}), 422)
    moved = client.post("/api/staff/test26/phase", headers=h, json={"phase": "closed"})
    assert moved.status_code == 200 and moved.get_json()["changed"] is True
    db.session.refresh(team["congress"])
    assert team["congress"].phase == "closed"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "congress.phase"))
    assert event.actor_id == team["facilitator"].id


def test_presence_and_proxies(client, team):
    h = auth(team["raw"])
    a, b, c = team["people"][:3]
    base = "/api/staff/TEST26"
    assert error_of(client.post(f"{base}/presence/{a.id}", headers=h, json={}), 422)
    marked = client.post(f"{base}/presence/{a.id}", headers=h, json={"present": True})
    assert marked.status_code == 200 and marked.get_json()["present"] is True
    listing = client.get(f"{base}/presence", headers=h).get_json()
    assert listing["present"] == 1 and listing["eligible"] == ballots.eligible(a.congress_id)
    granted = client.post(f"{base}/proxies", headers=h, json={"giver": b.id, "holder": a.id})
    assert granted.status_code == 201 and granted.get_json()["eligible"] == 2
    # the same rules as the form: one proxy per person by default
    assert "maximum" in error_of(client.post(f"{base}/proxies", headers=h,
                                             json={"giver": c.id, "holder": a.id}), 422)
    assert error_of(client.post(f"{base}/proxies", headers=h,
                                json={"giver": "x", "holder": a.id}), 422)
    assert client.delete(f"{base}/proxies/{b.id}", headers=h).get_json()["holder"] is None
    db.session.refresh(b)
    assert b.proxy_for_id is None
    assert error_of(client.post(f"{base}/presence/999999", headers=h,
                                json={"present": True}), 404)


def test_ballots_from_creation_to_results(client, team):
    h = auth(team["raw"])
    base = "/api/staff/TEST26"
    for p in team["people"]:
        ballots.set_present(p, True, None)
    assert "intitulé" in error_of(client.post(f"{base}/ballots", headers=h, json={}), 422).lower()
    assert error_of(client.post(f"{base}/ballots", headers=h,
                                json={"title": "X", "majority": "unanime"}), 422)
    created = client.post(f"{base}/ballots", headers=h,
                          json={"title": "Ensemble de la motion", "quorum": 2})
    assert created.status_code == 201
    ballot_id = created.get_json()["id"]
    assert created.get_json()["state"] == "draft"
    assert error_of(client.get(f"{base}/ballots/{ballot_id}/results", headers=h), 409)
    assert error_of(client.post(f"{base}/ballots/{ballot_id}/close", headers=h), 422)
    assert client.post(f"{base}/ballots/{ballot_id}/open", headers=h).get_json()["state"] \
        == "open"
    for p, choice in zip(team["people"], ("pour", "pour", "contre"), strict=False):
        ballots.cast_vote(ballot_id, p.id, choice)
    live = client.get(f"{base}/ballots/{ballot_id}/results", headers=h).get_json()
    assert live["final"] is False and live["counts"]["pour"] == 2
    closed = client.post(f"{base}/ballots/{ballot_id}/close", headers=h).get_json()
    assert closed["results"]["adopted"] is True
    assert client.post(f"{base}/ballots/{ballot_id}/publish", headers=h).get_json()["state"] \
        == "published"
    final = client.get(f"{base}/ballots/{ballot_id}/results", headers=h).get_json()
    assert final["final"] is True and final["counts"] == {"pour": 2, "contre": 1,
                                                           "abstention": 0}
    assert [b["id"] for b in client.get(f"{base}/ballots", headers=h).get_json()["ballots"]] \
        == [ballot_id]
    assert error_of(client.post(f"{base}/ballots/{ballot_id}/rouvrir", headers=h), 404)
    assert db.session.get(Ballot, ballot_id).state == "published"


def test_room_counts_by_two_tokens_of_two_people(client, team):
    """A show of hands entered with one person's token, confirmed with another's: the
    results become the sum; the same token cannot confirm its own entry."""
    h = auth(team["raw"])
    base = "/api/staff/TEST26"
    team["people"].append(make_person(team["congress"], "Élue sans téléphone"))
    for p in team["people"]:
        ballots.set_present(p, True, None)
    ballot = ballots.create(team["congress"], "Ensemble de la motion")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    for p, choice in zip(team["people"], ("pour", "contre"), strict=False):
        ballots.cast_vote(ballot.id, p.id, choice)
    url = f"{base}/ballots/{ballot.id}/room-count"
    assert "clos" in error_of(client.post(url, headers=h, json={"method": "hands",
                                                                  "people": 1, "pour": 1}), 422)
    ballots.close_ballot(ballot.id)
    assert "seconde fois" in error_of(client.post(url, headers=h, json={
        "method": "hands", "people": 4, "pour": 4}), 422)
    assert "nombre entier" in error_of(client.post(url, headers=h, json={
        "method": "paper", "people": "trois", "pour": 1}), 422)
    entered = client.post(url, headers=h, json={"method": "hands", "people": 3, "pour": 2,
                                                "abstention": 1})
    assert entered.status_code == 201, entered.get_data(as_text=True)
    body = entered.get_json()
    assert body["room_count"]["confirmed"] is False
    assert body["results"]["counts"] == {"pour": 1, "contre": 1, "abstention": 0}
    assert "autre personne" in error_of(client.post(f"{url}/confirm", headers=h), 422)

    partner = make_person(team["congress"], "Co-animation", role="facilitator",
                          email="co@example.org", password="motdepasse-solide")
    _, second = staff_tokens.create(team["congress"].id, partner, "Co-animation", 1)
    confirmed = client.post(f"{url}/confirm", headers=auth(second)).get_json()
    assert confirmed["room_count"]["confirmed"] is True
    assert confirmed["results"]["counts"] == {"pour": 3, "contre": 1, "abstention": 1}
    assert "en attente" in error_of(client.delete(url, headers=h), 422)
    assert db.session.scalar(select(AuditEvent).filter_by(action="room_count.confirmed"))


def test_a_pending_room_count_is_discarded(client, team):
    h = auth(team["raw"])
    for p in team["people"]:
        ballots.set_present(p, True, None)
    ballot = ballots.create(team["congress"], "Article 1")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    ballots.close_ballot(ballot.id)
    url = f"/api/staff/TEST26/ballots/{ballot.id}/room-count"
    assert client.post(url, headers=h, json={"method": "paper", "people": 2,
                                             "contre": 2}).status_code == 201
    assert client.delete(url, headers=h).get_json()["room_count"] is None
    assert "Aucun décompte" in error_of(client.delete(url, headers=h), 422)


def test_exports(client, team, official):
    h = auth(team["raw"])
    base = "/api/staff/TEST26/exports"
    people = client.get(f"{base}/participants.csv", headers=h)
    assert people.status_code == 200 and people.mimetype == "text/csv"
    assert any("Élu 0" in ",".join(row)
               for row in csv.reader(io.StringIO(people.get_data(as_text=True))))
    assert client.get(f"{base}/contributions.csv", headers=h).status_code == 200
    assert "pas publiée" in error_of(client.get(f"{base}/resultats.csv", headers=h), 404)
    assert error_of(client.get(f"{base}/autre.csv", headers=h), 404)
    # Once the whole text is published through the API: the results as published.
    for p in team["people"]:
        ballots.set_present(p, True, None)
    ballot_id = client.post("/api/staff/TEST26/ballots", headers=h,
                            json={"title": "Ensemble de la motion"}).get_json()["id"]
    client.post(f"/api/staff/TEST26/ballots/{ballot_id}/open", headers=h)
    ballots.cast_vote(ballot_id, team["people"][0].id, "contre")
    client.post(f"/api/staff/TEST26/ballots/{ballot_id}/close", headers=h)
    # rejected: the facilitator says whether to publish it as rejected, as on the form
    assert error_of(client.post(f"/api/staff/TEST26/ballots/{ballot_id}/publish",
                                headers=h), 422)
    published = client.post(f"/api/staff/TEST26/ballots/{ballot_id}/publish", headers=h,
                            json={"rejected_text": "publier"}).get_json()
    assert published["state"] == "published" and published["motion_version"]["number"] == 1
    data = client.get(f"{base}/resultats.json", headers=h).get_json()
    assert [b["id"] for b in data["ballots"]] == [ballot_id]
    assert data["ballots"][0]["counts"]["contre"] == 1
    assert client.get(f"{base}/resultats.csv", headers=h).status_code == 200


def test_bad_bodies_get_a_french_error(client, team):
    h = auth(team["raw"])
    assert error_of(client.post("/api/staff/TEST26/phase", headers=h, json=[1, 2]), 400)
    assert error_of(client.post("/api/staff/TEST26/phase", headers=h,
                                data="{", content_type="application/json"), 422)


def test_the_staff_api_is_rate_limited(tmp_path):
    config = {**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'limits.db'}",
              "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
              "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex, "RATELIMIT_STAFF_API": "3 per minute"}
    app = create_app(config)
    with app.app_context():
        db.create_all()
        congress = new_congress("Congrès limité", "LIMIT26")
        db.session.commit()
        boss = make_person(congress, "Animation", role="facilitator", email="a@example.org",
                           password="motdepasse-solide")
        _, raw = staff_tokens.create(congress.id, boss, "Script", 1)
        client = app.test_client()
        codes = [client.get("/api/staff/LIMIT26/phase", headers=auth(raw)).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/api/staff/LIMIT26/phase", headers=auth(raw))
        assert "patientez" in refused.get_json()["error"]
        db.session.remove()
        db.engine.dispose()


def test_the_page_creates_shows_once_and_revokes(app, client, congress, facilitator):
    staff_login(client, "anim@example.org")
    page = client.get("/animation/api")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]
    bad = client.post("/animation/api", data={"csrf_token": token, "label": "Script",
                                              "days": "900"})
    assert bad.status_code == 422 and "entre 1 et 90" in text_of(bad)
    assert 'value="Script"' in bad.get_data(as_text=True)
    made = client.post("/animation/api", data={"csrf_token": token, "label": "Script",
                                               "days": "3"})
    raw = re.search(r'value="(mst_[^"]+)"', made.get_data(as_text=True))[1]
    assert "ne sera plus jamais affiché" in text_of(made)
    g.pop("_login_user", None)
    assert raw not in client.get("/animation/api").get_data(as_text=True)
    assert client.get("/api/staff/TEST26/phase", headers=auth(raw)).status_code == 200
    row = db.session.scalar(select(StaffToken))
    g.pop("_login_user", None)
    client.post(f"/animation/api/{row.id}/revoquer", data={"csrf_token": token})
    assert client.get("/api/staff/TEST26/phase", headers=auth(raw)).status_code == 401
