"""The facilitator's board, the scribe's capture page and the officials' live board
over plain HTTP (what works without JavaScript)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from deliberation import sorting
from deliberation.extensions import db
from deliberation.models import Cluster, Contribution, Support

from .conftest import text_of
from .debate import build, http_client


@pytest.fixture
def debate(congress):
    return build(congress)


def _no_inline_script(page: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline <script>"
    assert not re.search(r"\son[a-z]+=", page), "inline event handler"
    assert ' style="' not in page, "inline style (CSP style-src 'self')"


@pytest.mark.parametrize("path", ["/animation/tableau", "/animation/tableau/contenu"])
def test_board_is_for_facilitators_only(app, debate, path):
    assert http_client(app, debate, "anonymous").get(path).status_code == 302
    for role in ("participant", "observer", "scribe"):
        assert http_client(app, debate, role).get(path).status_code == 403, role
    assert http_client(app, debate, "facilitator").get(path).status_code == 200


def test_board_shows_every_theme_point_and_idea(app, debate):
    debate.idea(9).review_rank = 0
    db.session.commit()
    response = http_client(app, debate, "facilitator").get("/animation/tableau")
    page = response.get_data(as_text=True)
    _no_inline_script(page)
    assert "&lt;span" not in page  # button labels are escaped once, not twice
    text = text_of(response)
    for label in ("Égalité d'accès", "Formation", "Données", "À vérifier", "Doublons probables",
                  "Idées masquées", "Corriger une idée", "Projecteur"):
        assert label in text, label
    for cid in debate.ideas:
        assert f'data-id="{cid}"' in page
    fibre = debate.point("fibre")
    assert f'data-cluster="{fibre.key}"' in page and f'value="point:{fibre.key}"' in page
    assert 'id="a-verifier"' in page and debate.idea(9).text[:30] in text
    assert "vendor/sortablejs/Sortable.min.js" in page and "js/board.js" in page


def test_board_actions_work_as_plain_forms(app, debate):
    staff = http_client(app, debate, "facilitator")
    fibre, antenne = debate.point("fibre"), debate.point("antenne")
    for form in (
        {"action": "contribution.move", "id": str(debate.ideas[9]), "target": "theme:formation"},
        {"action": "contribution.move", "id": str(debate.ideas[10]),
         "target": f"point:{debate.point('élus').key}"},
        {"action": "point.rename", "cluster": fibre.key, "label": "Fibre partout"},
        {"action": "point.merge", "into": fibre.key, "from": antenne.key},
        {"action": "contribution.hide", "id": str(debate.ideas[11])},
    ):
        response = staff.post("/animation/tableau/action",
                              data={**form, "key": f"form-{form['action']}-{len(form)}"
                                    f"-{form.get('id', '')}"})
        assert response.status_code == 302 and response.location.endswith("/animation/tableau")
        page = text_of(staff.get("/animation/tableau"))
        assert "C'est fait." in page, form
    db.session.expire_all()
    assert debate.idea(9).theme.code == "formation" and debate.idea(9).confirmed
    assert debate.idea(10).cluster.key == debate.point("élus").key
    assert db.session.get(Cluster, fibre.id).custom_label == "Fibre partout."
    assert debate.idea(3).cluster_id == fibre.id and debate.idea(11).status == "hidden"
    # split: the checked ideas come as a list
    response = staff.post("/animation/tableau/action", data={
        "action": "point.split", "cluster": fibre.key, "ids": [str(i) for i in
                                                               debate.ideas[3:5]],
        "label": "Zones blanches", "key": "form-split-0001"})
    assert response.status_code == 302
    db.session.expire_all()
    assert debate.idea(3).cluster.display_label == "Zones blanches."


def test_board_action_errors_in_french_as_json(app, debate):
    staff = http_client(app, debate, "facilitator")
    answer = staff.post("/animation/tableau/action", json={
        "action": "contribution.move", "id": debate.ideas[0], "theme": "cuisine",
        "key": "json-move-01"})
    assert answer.status_code == 422 and "n'existe pas" in answer.json["error"]
    assert staff.post("/animation/tableau/action", json={"action": "support", "id": 1,
                                                         "key": "json-sup-01"}).status_code == 422
    assert staff.post("/animation/tableau/action", json=[1]).status_code == 400
    ok = staff.post("/animation/tableau/action", json={
        "action": "contribution.confirm", "id": debate.ideas[0], "key": "json-conf-1"})
    assert ok.status_code == 200 and ok.json == {"ok": True, "id": debate.ideas[0],
                                                 "theme": "acces"}
    scribe = http_client(app, debate, "scribe")
    refused = scribe.post("/animation/tableau/action", json={
        "action": "contribution.hide", "id": debate.ideas[0], "key": "json-hide-1"},
        headers={"Accept": "application/json"})
    assert refused.status_code == 403 and "rôle" in refused.json["error"]


def test_scribe_page_captures_without_javascript(app, debate):
    scribe = http_client(app, debate, "scribe")
    response = scribe.get("/animation/releve")
    page = response.get_data(as_text=True)
    _no_inline_script(page)
    assert response.status_code == 200
    assert 'list="speakers"' in page and "Paul Participant (Vic-sur-Cère)" in page
    assert "Olga" not in page  # observers are not speakers
    assert "1 Égalité d'accès" in text_of(response) and "0 Hors thème" in text_of(response)
    official = debate.people["participant"]
    response = scribe.post("/animation/releve", data={
        "participant_id": str(official.id), "speaker": "", "text":
        "Des ateliers numériques à l'école pour les élèves.", "key": "scribe-form-1"})
    assert response.status_code == 302
    page = text_of(scribe.get("/animation/releve"))
    new = db.session.scalar(select(Contribution).order_by(Contribution.id.desc()).limit(1))
    assert f"Idée n° {new.id} enregistrée — thème : Formation." in page
    assert new.speaker_name == "Paul Participant" and new.speaker_commune == "Vic-sur-Cère"
    # One correction per recent idea, as a plain form.
    response = scribe.post("/animation/tableau/action", data={
        "action": "contribution.move", "id": str(new.id), "theme": "donnees",
        "next": "/animation/releve", "key": "scribe-fix-01"})
    assert response.status_code == 302 and response.location.endswith("/animation/releve")
    db.session.expire_all()
    assert db.session.get(Contribution, new.id).theme.code == "donnees"


def test_scribe_form_errors_keep_the_text(app, debate):
    scribe = http_client(app, debate, "scribe")
    response = scribe.post("/animation/releve", data={"speaker": "", "text": "Mon idée.",
                                                      "key": "scribe-form-2"})
    assert response.status_code == 422
    assert "Le nom de l'orateur" in text_of(response) and "Mon idée." in text_of(response)
    assert http_client(app, debate, "participant").get("/animation/releve").status_code == 403


def test_live_board_renders_for_everyone_and_contributes(app, debate):
    anonymous = http_client(app, debate, "anonymous").get("/c/TEST26/direct")
    assert anonymous.status_code == 200 and "rejoignez le congrès" in text_of(anonymous)
    assert "Je soutiens" not in text_of(anonymous)
    _no_inline_script(anonymous.get_data(as_text=True))
    phone = http_client(app, debate, "participant")
    page = text_of(phone.get("/c/TEST26/direct"))
    assert "Proposer une idée" in page and "Je soutiens" in page
    assert debate.idea(11).text in page
    observer = text_of(http_client(app, debate, "observer").get("/c/TEST26/direct"))
    assert "Je soutiens" not in observer and "Proposer une idée" not in observer
    response = phone.post("/c/TEST26/direct/contribuer", data={
        "text": "Un guichet numérique dans chaque mairie.", "client_key": "direct-01"})
    assert response.status_code == 302
    assert "Un guichet numérique" in text_of(phone.get("/c/TEST26/direct"))
    response = phone.post("/c/TEST26/direct/contribuer", data={"text": " "})
    assert response.status_code == 422 and "vide" in text_of(response)
    assert http_client(app, debate, "observer").post(
        "/c/TEST26/direct/contribuer", data={"text": "x"}).status_code == 403


def test_similar_ideas_and_support_over_http(app, debate):
    phone = http_client(app, debate, "participant")
    sorting.refit(debate.congress.id)  # this process holds the model of the last run
    found = phone.get("/c/TEST26/similaires?texte=la fibre optique dans les villages").json
    assert found["items"] and found["items"][0]["id"] in debate.ideas[:3]
    assert phone.get("/c/TEST26/similaires?texte=court").json == {"items": []}
    target = found["items"][0]["id"]
    response = phone.post(f"/c/TEST26/soutenir/{target}", data={"key": "http-support-1"})
    assert response.status_code == 302
    assert "Merci, votre soutien est compté." in text_of(phone.get("/c/TEST26/direct"))
    again = phone.post(f"/c/TEST26/soutenir/{target}", data={"key": "http-support-2"},
                       headers={"Accept": "application/json"})
    assert again.status_code == 422 and "déjà" in again.json["error"]
    assert db.session.scalar(select(func.count()).select_from(Support)) == 1
    found = phone.get("/c/TEST26/similaires?texte=la fibre optique dans les villages").json
    assert next(i for i in found["items"] if i["id"] == target)["supported"] is True
    assert "Vous soutenez cette idée." in text_of(phone.get("/c/TEST26/direct"))
    anonymous = http_client(app, debate, "anonymous").post(
        f"/c/TEST26/soutenir/{target}", headers={"Accept": "application/json"})
    assert anonymous.status_code == 422 and "Rejoignez" in anonymous.json["error"]
