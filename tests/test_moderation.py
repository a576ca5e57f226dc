"""Pre-moderation (issue 14): with the switch on, an official's idea waits in the
facilitator's queue; nothing but the facilitator's screens hears of it until it is
approved (then it goes out, sorted, as any new idea), and a rejected one never does."""

from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import select

from deliberation import moderation, screens
from deliberation.extensions import db
from deliberation.models import MODERATION_REASON_MAX, AuditEvent, Contribution

from .conftest import login, make_person, text_of
from .debate import build, connect, emit, http_client, received

IDEA = "Un guichet numérique itinérant dans chaque canton rural du département."


@pytest.fixture
def debate(congress):
    debate = build(congress)
    congress.premoderation = True
    db.session.commit()
    return debate


@pytest.fixture
def facilitator_http(app, debate):
    return http_client(app, debate, "facilitator")


@pytest.fixture
def official_http(app, debate):
    return http_client(app, debate, "participant")


def _post_idea(client, text: str = IDEA) -> Contribution:
    response = client.post("/c/TEST26/contribuer", data={"text": text})
    assert response.status_code == 302, text_of(response)[:400]
    return db.session.scalar(select(Contribution).filter_by(text=text))


def _names(messages) -> list[str]:
    return [name for name, _ in messages]


def _ids(messages, event: str) -> list[int]:
    found = []
    for name, payload in messages:
        if name == event:
            found.append(payload["id"])
        elif name == "contributions.created" and event == "contribution.created":
            found.extend(item["id"] for item in payload["items"])
    return found


@pytest.fixture
def sockets(app, debate, facilitator_http, official_http):
    """The projector, another official's phone, the facilitator's screen and the author's
    own phone, each emptied of its connection snapshot."""
    other = make_person(debate.congress, "Autre Élue", commune="Arpajon")
    phone = connect(app, http_client(app, debate, "anonymous"))
    other_client = http_client(app, debate, "anonymous")
    other_client.get(f"/i/{other.invite_token}")
    socks = {"projector": connect(app, audience="projector"), "phone": phone,
             "other": connect(app, other_client),
             "facilitator": connect(app, facilitator_http, audience="facilitator"),
             "author": connect(app, official_http)}
    for sock in socks.values():
        received(sock)
    return socks


# -- the queue keeps an idea off every screen --------------------------------------------

def test_a_pending_idea_reaches_no_screen_and_is_not_sorted(debate, official_http, sockets):
    idea = _post_idea(official_http)
    assert idea.status == "pending"
    assert idea.theme_id is None and idea.cluster_id is None and idea.map_x is None
    for name in ("projector", "phone", "other", "author"):
        heard = received(sockets[name])
        assert idea.id not in _ids(heard, "contribution.created"), (name, heard)
        assert "moderation.queued" not in _names(heard), name
    staff = received(sockets["facilitator"])
    assert _ids(staff, "moderation.queued") == [idea.id]
    assert idea.id not in _ids(staff, "contribution.created")
    queued = next(p for n, p in staff if n == "moderation.queued")
    assert queued["text"] == IDEA and queued["pending"] == 1
    for audience in ("projector", "participants", "facilitator"):
        state = screens.snapshot(debate.congress, audience)
        assert idea.id not in [item["id"] for item in state["latest"]]
        assert state["picture"]["total"] == len(debate.ideas)
        assert idea.id not in [row[0] for row in state.get("map", [])]
    api = official_http.get("/api/congresses/TEST26/contributions").get_json()
    assert idea.id not in [c["id"] for c in api["contributions"]]
    board = official_http.get("/c/TEST26/contributions")
    assert IDEA not in text_of(board)


def test_approval_sorts_the_idea_and_pushes_it_as_a_new_idea(debate, facilitator_http,
                                                               official_http, sockets):
    idea = _post_idea(official_http)
    for sock in sockets.values():
        received(sock)
    response = facilitator_http.post(f"/animation/moderation/{idea.id}/approuver")
    assert response.status_code == 302
    db.session.refresh(idea)
    assert idea.status == "visible" and idea.moderated_at is not None
    assert idea.map_x is not None and (idea.theme_id is not None or idea.off_topic)
    assert idea.id in _ids(received(sockets["projector"]), "contribution.created")
    assert idea.id in _ids(received(sockets["other"]), "contribution.created")
    author = received(sockets["author"])
    assert ("contribution.moderated", {"id": idea.id, "status": "visible", "reason": None}) \
        in author
    staff = received(sockets["facilitator"])
    assert ("moderation.decided", {"id": idea.id, "status": "visible", "reason": None,
                                   "pending": 0}) in staff
    assert idea.id in _ids(staff, "contribution.created")
    state = screens.snapshot(debate.congress, "projector")
    assert idea.id in [item["id"] for item in state["latest"]]
    assert db.session.scalar(select(AuditEvent).filter_by(action="moderation.approved")) \
        is not None


def test_a_rejected_idea_stays_off_the_screens_and_is_kept(debate, facilitator_http,
                                                           official_http, sockets):
    idea = _post_idea(official_http)
    for sock in sockets.values():
        received(sock)
    response = facilitator_http.post(f"/animation/moderation/{idea.id}/rejeter",
                                     data={"reason": "Déjà proposé au point 3"})
    assert response.status_code == 302
    db.session.refresh(idea)
    assert (idea.status, idea.moderation_reason) == ("rejected", "Déjà proposé au point 3")
    for name in ("projector", "phone", "other"):
        assert received(sockets[name]) == [], name
    assert ("contribution.moderated", {"id": idea.id, "status": "rejected",
                                       "reason": "Déjà proposé au point 3"}) \
        in received(sockets["author"])
    assert idea.id not in [item["id"] for item in
                           screens.snapshot(debate.congress, "projector")["latest"]]
    page = text_of(facilitator_http.get("/animation/moderation"))
    assert "Idées non retenues (1)" in page and "Déjà proposé au point 3" in page
    again = facilitator_http.post(f"/animation/moderation/{idea.id}/approuver")
    assert again.status_code == 422
    assert "n'attend plus de modération" in text_of(again)
    db.session.refresh(idea)
    assert idea.status == "rejected"


# -- the author ----------------------------------------------------------------------------

def test_the_author_sees_waiting_then_the_outcome_and_may_withdraw(debate, facilitator_http,
                                                                   official_http):
    response = official_http.post("/c/TEST26/contribuer", data={"text": IDEA},
                                  follow_redirects=True)
    page = text_of(response)
    assert "attend la validation de l'animation" in page
    assert "En attente de modération" in page
    first = db.session.scalar(select(Contribution).filter_by(text=IDEA))
    second = _post_idea(official_http, "Une seconde idée : des bornes wifi dans les mairies.")
    facilitator_http.post(f"/animation/moderation/{first.id}/rejeter",
                          data={"reason": "Hors du sujet du congrès"})
    page = text_of(official_http.get("/c/TEST26"))
    assert "Non retenue par l'animation : Hors du sujet du congrès" in page
    assert "En attente de modération" in page  # the second one still waits
    edit = official_http.post(f"/contributions/{first.id}/modifier",
                              data={"text": "Un autre texte, bien plus long."})
    assert edit.status_code == 422 and "n'a pas été retenue" in text_of(edit)
    withdrawn = official_http.post(f"/contributions/{second.id}/retirer",
                                   data={"confirm": "oui"})
    assert withdrawn.status_code == 302
    db.session.refresh(second)
    assert second.status == "withdrawn"
    assert moderation.queue(debate.congress) == []
    facilitator_http.post(f"/animation/moderation/{first.id}/approuver")
    approved = _post_idea(official_http, "Une troisième idée : un tiers-lieu par bourg-centre.")
    facilitator_http.post(f"/animation/moderation/{approved.id}/approuver")
    page = text_of(official_http.get("/c/TEST26"))
    assert "En attente de modération" not in page


def test_an_edited_pending_idea_stays_in_the_queue_with_its_new_text(debate, official_http,
                                                                    sockets):
    idea = _post_idea(official_http)
    received(sockets["facilitator"])
    new = "Un guichet numérique itinérant, une fois par semaine, dans chaque canton."
    assert official_http.post(f"/contributions/{idea.id}/modifier",
                              data={"text": new}).status_code == 302
    db.session.refresh(idea)
    assert idea.status == "pending"
    staff = received(sockets["facilitator"])
    assert [p["text"] for n, p in staff if n == "moderation.queued"] == [new]
    assert received(sockets["projector"]) == []


# -- who skips the queue, and the switch ---------------------------------------------------

def test_staff_captures_skip_the_queue(app, debate, sockets):
    scribe = connect(app, http_client(app, debate, "scribe"), audience="facilitator")
    ack = emit(scribe, "scribe.capture", {"key": "capture-0001", "speaker": "Jean Dupont",
                                          "text": "Un conseiller numérique par canton."})
    assert ack["ok"], ack
    assert db.session.get(Contribution, ack["id"]).status == "visible"
    assert ack["id"] in _ids(received(sockets["projector"]), "contribution.created")


def test_the_api_queues_an_official_idea_too(debate):
    person = debate.people["participant"]
    client = current_app.test_client()
    response = client.post("/api/congresses/TEST26/contributions", json={"text": IDEA},
                           headers={"Authorization": f"Bearer {person.invite_token}"})
    assert response.status_code == 201
    assert response.get_json()["status"] == "pending"
    listed = client.get("/api/congresses/TEST26/contributions").get_json()
    assert response.get_json()["id"] not in [c["id"] for c in listed["contributions"]]


def test_the_switch_toggles_is_audited_and_releases_nothing(debate, facilitator_http,
                                                           official_http):
    congress = debate.congress
    idea = _post_idea(official_http)
    off = facilitator_http.post("/animation/moderation/reglage", data={"from": "file"},
                                follow_redirects=True)
    assert "Modération désactivée" in text_of(off)
    db.session.refresh(congress)
    db.session.refresh(idea)
    assert congress.premoderation is False and idea.status == "pending"
    page = text_of(facilitator_http.get("/animation/moderation"))
    assert "elles restent en attente jusqu'à votre décision" in page
    assert "1 idée en attente" in page
    later = _post_idea(official_http, "Une idée publiée aussitôt : la fibre dans les écoles.")
    assert later.status == "visible"
    on = facilitator_http.post("/animation/moderation/reglage", data={"premoderation": "1"},
                               follow_redirects=True)
    assert "Modération activée" in text_of(on)
    db.session.refresh(congress)
    assert congress.premoderation is True
    same = facilitator_http.post("/animation/moderation/reglage",
                                 data={"premoderation": "1"}, follow_redirects=True)
    assert "inchangé" in text_of(same)
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("moderation.%")).order_by(AuditEvent.id)))
    assert actions == ["moderation.disabled", "moderation.enabled"]


def test_the_switch_is_off_by_default_and_on_the_dashboard(app, congress, facilitator):
    assert congress.premoderation is False
    client = app.test_client()
    login(client, facilitator)
    page = client.get("/animation/").get_data(as_text=True)
    assert 'id="premoderation"' in page and "Modération des idées" in page


# -- staff only, and bad input -------------------------------------------------------------

@pytest.mark.parametrize("method, url", [
    ("get", "/animation/moderation"),
    ("post", "/animation/moderation/reglage"),
    ("post", "/animation/moderation/1/approuver"),
    ("post", "/animation/moderation/1/rejeter"),
])
def test_an_official_or_the_scribe_gets_a_french_403(app, debate, method, url):
    for role in ("participant", "scribe"):
        response = getattr(http_client(app, debate, role), method)(url)
        assert response.status_code == 403, (role, url)
        assert "Accès refusé" in text_of(response)
    assert debate.congress.premoderation is True


def test_bad_decisions_get_french_errors_and_lose_nothing(debate, facilitator_http,
                                                         official_http):
    idea = _post_idea(official_http)
    too_long = "x" * (MODERATION_REASON_MAX + 1)
    response = facilitator_http.post(f"/animation/moderation/{idea.id}/rejeter",
                                     data={"reason": too_long})
    assert response.status_code == 422
    assert f"Le motif du rejet dépasse {MODERATION_REASON_MAX} caractères" in text_of(response)
    assert f'value="{too_long}"' in response.get_data(as_text=True)  # the typed reason stays
    db.session.refresh(idea)
    assert idea.status == "pending"
    unknown = facilitator_http.post("/animation/moderation/999999/approuver")
    assert unknown.status_code == 422 and "n'existe pas dans ce congrès" in text_of(unknown)
    visible = facilitator_http.post(f"/animation/moderation/{debate.ideas[0]}/rejeter")
    assert visible.status_code == 422 and "n'attend plus de modération" in text_of(visible)
    assert db.session.get(Contribution, debate.ideas[0]).status == "visible"


def test_corrections_refuse_a_waiting_idea(app, debate, official_http):
    idea = _post_idea(official_http)
    sock = connect(app, http_client(app, debate, "facilitator"), audience="facilitator")
    ack = emit(sock, "contribution.unhide", {"key": "unhide-00001", "id": idea.id})
    assert not ack["ok"] and "attend la modération" in ack["error"]
    ack = emit(sock, "contribution.hide", {"key": "hide-000001", "id": idea.id})
    assert not ack["ok"] and "attend la modération" in ack["error"]
    db.session.refresh(idea)
    assert idea.status == "pending"


def test_editing_a_shown_idea_sends_it_back_to_the_queue(debate, facilitator_http,
                                                        official_http, sockets):
    """Approved text then edited into something else never reaches the projector unseen."""
    idea = _post_idea(official_http)
    facilitator_http.post(f"/animation/moderation/{idea.id}/approuver")
    for sock in sockets.values():
        received(sock)
    new = "Un texte bien différent de celui que l'animation a approuvé."
    response = official_http.post(f"/contributions/{idea.id}/modifier", data={"text": new},
                                  follow_redirects=True)
    assert "attend la validation de l'animation" in text_of(response)
    db.session.refresh(idea)
    assert idea.status == "pending" and idea.moderated_at is None
    for name in ("projector", "other"):
        heard = received(sockets[name])
        assert ("contribution.updated", {"id": idea.id, "status": "pending",
                                         "change": "held"}) in heard, (name, heard)
        assert new not in repr(heard)
    assert [p["text"] for n, p in received(sockets["facilitator"])
            if n == "moderation.queued"] == [new]
    assert idea.id not in [item["id"] for item in
                           screens.snapshot(debate.congress, "projector")["latest"]]
