"""The JSON API documented in docs/api.md."""

from __future__ import annotations

import pytest

from deliberation.extensions import db
from deliberation.models import Contribution


def _auth(person):
    return {"Authorization": f"Bearer {person.invite_token}"}


def test_congress_and_themes(client, congress):
    body = client.get("/api/congresses/test26").get_json()
    assert body["code"] == "TEST26" and body["phase"] == "consultation"
    assert [t["code"] for t in body["themes"]] == ["acces", "formation", "donnees"]
    assert body["accepts_contributions"] is True
    themes = client.get("/api/congresses/TEST26/themes").get_json()["themes"]
    assert themes[0]["title"].startswith("Pour une égalité")
    missing = client.get("/api/congresses/NOPE00")
    assert missing.status_code == 404 and missing.get_json()["error"]


def test_create_and_list_contributions(client, congress, official):
    response = client.post("/api/congresses/TEST26/contributions", headers=_auth(official),
                           json={"text": "Des conseillers numériques dans chaque canton",
                                 "client_key": "abcdef123456"})
    assert response.status_code == 201
    created = response.get_json()
    assert created["speaker"] == "Marie Durand" and created["channel"] == "online"
    again = client.post("/api/congresses/TEST26/contributions", headers=_auth(official),
                        json={"text": "Des conseillers numériques dans chaque canton",
                              "client_key": "abcdef123456"})
    assert again.status_code == 200 and again.get_json()["id"] == created["id"]
    listing = client.get("/api/congresses/TEST26/contributions").get_json()
    assert listing["count"] == 1
    assert client.get("/api/congresses/TEST26/contributions?theme=zzz").status_code == 404


@pytest.mark.parametrize("headers, body, status, message", [
    ({}, {"text": "x"}, 401, "Jeton"),
    ({"Authorization": "Bearer faux"}, {"text": "x"}, 401, "Jeton"),
    (None, "pas du json", 400, "JSON"),
    (None, {"text": 42}, 422, "text"),
    (None, {"text": "   "}, 422, "vide"),
    (None, {"text": "x" * 2001}, 422, "2 000"),
    (None, {"text": "ok", "client_key": "court"}, 422, "client_key"),
    (None, ["liste"], 400, "JSON"),
])
def test_create_refuses_bad_requests(client, congress, official, headers, body, status, message):
    headers = _auth(official) if headers is None else headers
    if isinstance(body, str):
        response = client.post("/api/congresses/TEST26/contributions", headers=headers,
                               data=body, content_type="application/json")
    else:
        response = client.post("/api/congresses/TEST26/contributions", headers=headers, json=body)
    assert response.status_code == status
    assert message in response.get_json()["error"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Contribution)) == 0


def test_create_refused_outside_contribution_phases(client, congress, official):
    congress.phase = "vote"
    db.session.commit()
    response = client.post("/api/congresses/TEST26/contributions", headers=_auth(official),
                           json={"text": "Trop tard"})
    assert response.status_code == 409 and "consultation" in response.get_json()["error"]


def test_observer_cannot_contribute(client, congress):
    from .conftest import make_person

    observer = make_person(congress, "Presse locale", role="observer")
    response = client.post("/api/congresses/TEST26/contributions", headers=_auth(observer),
                           json={"text": "Je regarde"})
    assert response.status_code == 403


def test_me(client, congress, official):
    me = client.get("/api/me", headers=_auth(official)).get_json()
    assert me["display_name"] == "Marie Durand" and me["congress"] == "TEST26"
    assert client.get("/api/me").status_code == 401


def test_unknown_api_route_answers_json(client, congress):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and "error" in response.get_json()
