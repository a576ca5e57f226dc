"""The roster (issue 13): who joins with the code waits for the facilitator; only accepted
members marked present vote; the home page lists a congress only when asked to.

Over HTTP and Socket.IO, on SQLite and PostgreSQL (conftest.POSTGRESQL_MODULES).
"""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from flask import g
from sqlalchemy import func, select

from deliberation import ballots, drafting, roster
from deliberation.errors import PermissionDenied
from deliberation.extensions import db, socketio
from deliberation.models import AuditEvent, Congress, Contribution, Participant, Vote

from .conftest import login, make_person, staff_login, text_of
from .debate import FreshClient

NOTICE = "Votre inscription attend la validation de l'animation"


def fresh(app):
    return FreshClient(app, app.response_class, use_cookies=True)


def join(app, code: str = "TEST26", name: str = "Visiteur Inconnu"):
    """A new browser joins with the code, as anyone can: (client, the person created)."""
    client = fresh(app)
    response = client.post("/rejoindre", data={"code": code, "display_name": name,
                                               "commune": "Vic-sur-Cère"})
    assert response.status_code == 302, text_of(response)
    db.session.expire_all()
    person = db.session.scalar(select(Participant).filter_by(display_name=name))
    return client, person


def staff(app, facilitator):
    client = fresh(app)
    staff_login(client, facilitator.email)
    return client


def sock_for(app, client, congress):
    g.pop("_login_user", None)  # the test's app context outlives each request
    return socketio.test_client(app, flask_test_client=client,
                                auth={"congress": congress.join_code, "audience": "participants"})


def emit(sock, event, data):
    g.pop("_login_user", None)
    return sock.emit(event, data, callback=True)


def heard(sock, event: str) -> list[dict]:
    """The payloads of `event` this socket received since the last look."""
    return [m["args"][0] for m in sock.get_received() if m["name"] == event]


def actions(name: str) -> list[dict]:
    return [e.payload for e in db.session.scalars(
        select(AuditEvent).filter_by(action=name).order_by(AuditEvent.id))]


def fresh_person(pid: int) -> Participant:
    db.session.expire_all()
    return db.session.get(Participant, pid)


@pytest.fixture
def room(congress, facilitator):
    """The congress in its vote phase, listed on the home page, two present officials
    on the roster and an open ballot."""
    congress.phase = "vote"
    congress.listed = True
    db.session.commit()
    voters = [make_person(congress, f"Élue {i}", present=True) for i in range(2)]
    ballot = ballots.create(congress, "Ensemble de la motion")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    return {"congress": congress, "voters": voters, "ballot": ballot.id,
            "facilitator": facilitator}


def tally(congress: Congress, ballot_id: int) -> tuple[dict, int, int]:
    """(counts per choice, voters, eligible) of a nominal ballot, read afresh."""
    db.session.expire_all()
    return (ballots.counts(ballot_id, False), ballots.cast_count(ballot_id, False),
            ballots.eligible(congress.id))


# --- the acceptance test -----------------------------------------------------------------

def test_an_outsider_who_reads_the_code_on_home_cannot_cast_a_counted_vote(app, room):
    congress, bid = room["congress"], room["ballot"]
    before = tally(congress, bid)
    assert before == ({"pour": 0, "contre": 0, "abstention": 0}, 0, 2)

    # The code is on the home page, and joining with it works.
    home = fresh(app).get("/").get_data(as_text=True)
    code = re.search(r'href="/c/([A-Z0-9]+)"', home).group(1)
    assert code == congress.join_code
    outsider, person = join(app, code)
    assert person.roster_status == "pending" and not person.present
    assert actions("participant.joined")[-1] == {"via": "code", "roster": "pending"}

    # The phone says so, and offers no vote.
    page = outsider.get(f"/c/{code}/vote")
    assert NOTICE in text_of(page) and 'class="vote-form"' not in page.get_data(as_text=True)
    assert "Je suis présent·e" not in text_of(page)

    # « Je suis présent·e »: refused, with self-declaration closed and open alike.
    for opened in (False, True):
        ballots.set_presence_open(db.session.get(Congress, congress.id), opened, None)
        answer = outsider.post(f"/c/{code}/presence")
        assert answer.status_code == 302
        assert NOTICE in text_of(outsider.get(answer.headers["Location"]))
        assert not fresh_person(person.id).present
    ballots.set_presence_open(db.session.get(Congress, congress.id), False, None)

    # ballot.vote over Socket.IO: refused with its own code.
    sock = sock_for(app, outsider, congress)
    assert sock.is_connected()
    ack = emit(sock, "ballot.vote", {"ballot": bid, "choice": "pour", "key": "intrus-0001"})
    assert ack["ok"] is False and ack["code"] == "not_accepted" and NOTICE in ack["error"]
    # …for someone else's vote (a procuration) too.
    ack = emit(sock, "ballot.vote", {"ballot": bid, "choice": "pour", "key": "intrus-0002",
                                     "for": room["voters"][0].id})
    assert ack["ok"] is False and ack["code"] == "not_accepted"

    # The HTTP vote form: refused, in JSON and without JavaScript.
    url = f"/c/{code}/vote/{bid}"
    answer = outsider.post(url, data={"choice": "pour", "key": "intrus-0003"},
                           headers={"Accept": "application/json"})
    assert answer.status_code == 422 and answer.json["code"] == "not_accepted"
    answer = outsider.post(url, data={"choice": "pour", "key": "intrus-0004"})
    assert answer.status_code == 302
    assert NOTICE in text_of(outsider.get(answer.headers["Location"]))

    # Nothing moved: counts, voters, eligible.
    assert tally(congress, bid) == before
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0

    # The facilitator accepts them in one click and marks them present: now it counts.
    desk = staff(app, room["facilitator"])
    queue = desk.get("/animation/participants")
    assert "Visiteur Inconnu" in text_of(queue) and "Inscriptions en attente (1)" in text_of(queue)
    sock.get_received()
    assert desk.post(f"/animation/participants/{person.id}/accepter").status_code == 302
    assert fresh_person(person.id).roster_status == "accepted"
    # Their phone hears it at once (their sockets only), and reloads its vote screen.
    assert heard(sock, "voter.changed") == [{"roster": "accepted"}]
    assert actions("roster.accepted") == [{"participant": person.id, "previous": "pending"}]
    assert tally(congress, bid)[2] == 2  # accepted, not present yet: not counted
    assert desk.post(f"/animation/presence/{person.id}", data={"present": "1"}
                     ).status_code == 302
    assert fresh_person(person.id).present
    assert heard(sock, "voter.changed") == [{"present": True}]
    assert tally(congress, bid)[2] == 3

    assert NOTICE not in text_of(outsider.get(f"/c/{code}/vote"))
    ack = emit(sock, "ballot.vote", {"ballot": bid, "choice": "pour", "key": "accepte-0001"})
    assert ack["ok"] is True and ack["status"] == "counted"
    assert tally(congress, bid) == ({"pour": 1, "contre": 0, "abstention": 0}, 1, 3)
    sock.disconnect()


# --- the queue: accept, accept all, refuse ---------------------------------------------

def test_tout_accepter_and_refuser(app, room):
    congress = room["congress"]
    anne_client, anne = join(app, name="Anne Joignante")
    room_listener = sock_for(app, fresh(app), congress)  # an anonymous phone of the room
    _, paul = join(app, name="Paul Joignant")
    intruder_client, intruder = join(app, name="Intrus Refusé")
    sock = sock_for(app, intruder_client, congress)
    assert sock.is_connected()
    desk = staff(app, room["facilitator"])

    assert desk.post(f"/animation/participants/{intruder.id}/refuser").status_code == 302
    refused = fresh_person(intruder.id)
    assert refused.roster_status == "refused" and not refused.is_active
    assert actions("roster.refused") == [{"participant": intruder.id}]
    # Their session and socket end: they cannot come back with the same cookie.
    assert not sock.is_connected()
    g.pop("_login_user", None)
    page = intruder_client.get(f"/c/{congress.join_code}/vote")
    assert page.status_code == 302 and "/rejoindre" in page.headers["Location"]

    anne_phone = sock_for(app, anne_client, congress)
    anne_phone.get_received()
    answer = desk.post("/animation/participants/tout-accepter")
    assert answer.status_code == 302
    assert heard(anne_phone, "voter.changed") == [{"roster": "accepted"}]
    assert heard(room_listener, "voter.changed") == []  # nobody else hears it
    assert "2 inscriptions acceptées." in text_of(desk.get(answer.headers["Location"]))
    assert {fresh_person(p.id).roster_status for p in (anne, paul)} == {"accepted"}
    assert fresh_person(intruder.id).roster_status == "refused"  # not in the queue
    assert actions("roster.accepted_all") == [{"participants": sorted([anne.id, paul.id])}]
    # A second click changes nothing and records nothing.
    desk.post("/animation/participants/tout-accepter")
    assert len(actions("roster.accepted_all")) == 1
    assert "Aucune inscription en attente." in text_of(desk.get("/animation/participants"))
    # Refusing someone already on the roster is refused, in French.
    answer = desk.post(f"/animation/participants/{anne.id}/refuser")
    assert "n'est pas en attente de validation" in text_of(desk.get(answer.headers["Location"]))
    assert fresh_person(anne.id).roster_status == "accepted"
    # Changing one's mind about a refusal: on the roster again, access given by a new link.
    answer = desk.post(f"/animation/participants/{intruder.id}/accepter")
    assert "son accès reste fermé" in text_of(desk.get(answer.headers["Location"]))
    assert fresh_person(intruder.id).roster_status == "accepted"
    desk.post(f"/animation/participants/{intruder.id}/nouveau-lien")
    assert fresh_person(intruder.id).is_active


def test_the_dashboard_reminds_the_facilitator_of_the_queue(app, room):
    desk = staff(app, room["facilitator"])
    assert "en attente de validation" not in text_of(desk.get("/animation/"))
    join(app, name="Première")
    join(app, name="Seconde")
    page = text_of(desk.get("/animation/"))
    assert "2 inscriptions en attente de validation" in page
    assert "ces personnes ne votent pas" in page
    desk.post("/animation/participants/tout-accepter")
    assert "en attente de validation" not in text_of(desk.get("/animation/"))


def test_the_queue_is_the_facilitators_only(app, room, congress):
    _, person = join(app)
    official = fresh(app)
    login(official, room["voters"][0])
    for url in (f"/animation/participants/{person.id}/accepter",
                "/animation/participants/tout-accepter",
                f"/animation/participants/{person.id}/refuser",
                "/animation/participants/reglages"):
        answer = official.post(url, data={"registration_open": "1", "listed": "1"})
        assert answer.status_code == 403
    assert fresh_person(person.id).roster_status == "pending"
    assert not db.session.get(Congress, congress.id).registration_open
    assert actions("roster.accepted") == actions("roster.refused") == []
    # An id that names nobody of this congress: 404, as everywhere.
    assert staff(app, room["facilitator"]).post(
        "/animation/participants/999999/accepter").status_code == 404


# --- open registration, home listing -----------------------------------------------------

def test_open_registration_accepts_joiners_at_once(app, room):
    congress = room["congress"]
    desk = staff(app, room["facilitator"])
    assert desk.post("/animation/participants/reglages",
                     data={"registration_open": "1", "listed": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Congress, congress.id).registration_open
    assert len(actions("roster.registration_opened")) == 1
    _, early = join(app, name="Arrivée Libre")
    assert early.roster_status == "accepted"
    desk.post("/animation/participants/reglages", data={"listed": "1"})  # box unticked
    assert len(actions("roster.registration_closed")) == 1
    _, late = join(app, name="Arrivée Tardive")
    assert late.roster_status == "pending"


def test_home_lists_a_congress_only_when_the_facilitator_chooses(app, congress, facilitator):
    assert congress.listed is False and congress.registration_open is False  # defaults
    visitor = fresh(app)
    assert "Congrès de test" not in text_of(visitor.get("/"))
    assert "TEST26" not in visitor.get("/").get_data(as_text=True)
    # Typing the code still works for an unlisted congress.
    _, person = join(app)
    assert person.roster_status == "pending"
    desk = staff(app, facilitator)
    page = desk.get("/animation/participants")
    assert "Afficher sur la page d'accueil" in text_of(page)
    assert "Inscriptions ouvertes" in text_of(page)
    desk.post("/animation/participants/reglages", data={"listed": "1"})
    assert "Congrès de test" in text_of(fresh(app).get("/"))
    assert len(actions("congress.listed")) == 1
    desk.post("/animation/participants/reglages", data={})
    assert "Congrès de test" not in text_of(fresh(app).get("/"))
    assert len(actions("congress.unlisted")) == 1


# --- what a pending person may do --------------------------------------------------------

def test_a_pending_person_contributes_but_never_supports_nor_amends(app, congress, official):
    client, person = join(app)
    page = client.get("/c/TEST26")
    assert NOTICE in text_of(page)
    assert NOTICE not in text_of(fresh(app).get("/c/TEST26"))  # visitors: no notice
    answer = client.post("/c/TEST26/contribuer", data={"text": "La fibre jusqu'au hameau."})
    assert answer.status_code == 302
    idea = Contribution(congress_id=congress.id, author_id=official.id,
                        text="Un guichet numérique dans chaque mairie.")
    db.session.add(idea)
    db.session.commit()
    sock = sock_for(app, client, congress)
    ack = emit(sock, "support", {"key": "soutien-attente-1", "id": idea.id})
    assert ack["ok"] is False and NOTICE in ack["error"]
    answer = client.post(f"/c/TEST26/soutenir/{idea.id}", data={"key": "soutien-attente-2"},
                         headers={"Accept": "application/json"})
    assert answer.status_code == 422 and NOTICE in answer.json["error"]
    db.session.expire_all()
    assert db.session.get(Contribution, idea.id).supports == 0
    with pytest.raises(PermissionDenied, match="validation de l'animation"):
        drafting.propose_amendment(congress, None, fresh_person(person.id), "Texte")
    db.session.rollback()
    # Accepted, the same person may.
    roster.accept(fresh_person(person.id), None)
    ack = emit(sock, "support", {"key": "soutien-accepte-1", "id": idea.id})
    assert ack["ok"] is True and ack["supports"] == 1
    sock.disconnect()


def test_pending_people_are_never_present_nor_hold_or_give_proxies(app, room):
    congress = room["congress"]
    _, person = join(app)
    desk = staff(app, room["facilitator"])
    answer = desk.post(f"/animation/presence/{person.id}", data={"present": "1"})
    assert "attend la validation" in text_of(desk.get(answer.headers["Location"]))
    assert not fresh_person(person.id).present
    absent = make_person(congress, "Élue absente")
    holder = room["voters"][0]
    for giver, carrier in ((person.id, holder.id), (absent.id, person.id)):
        answer = desk.post("/animation/procurations",
                           data={"giver": str(giver), "holder": str(carrier)})
        assert answer.status_code == 422 and "inscriptions en attente" in text_of(answer)
    assert fresh_person(person.id).proxy_for_id is None
    assert fresh_person(absent.id).proxy_for_id is None
    page = text_of(desk.get("/animation/presence"))
    assert "en attente de validation (ne vote pas)" in page


# --- presence: the facilitator marks it; self-declaration only when opened -------------------

def test_self_declaration_is_off_by_default_even_in_the_vote_phase(app, room):
    congress = room["congress"]
    assert congress.presence_open is False
    official = make_person(congress, "Élu sur la liste")
    client = fresh(app)
    login(client, official)
    page = client.get(f"/c/{congress.join_code}/vote")
    assert "Je suis présent·e" not in text_of(page)
    answer = client.post(f"/c/{congress.join_code}/presence")
    assert "ne peut pas être signalée maintenant" in text_of(client.get(answer.headers["Location"]))
    assert not fresh_person(official.id).present
    desk = staff(app, room["facilitator"])
    desk.post("/animation/presence/ouverture", data={"open": "1"})
    assert "Je suis présent·e" in text_of(client.get(f"/c/{congress.join_code}/vote"))
    client.post(f"/c/{congress.join_code}/presence")
    assert fresh_person(official.id).present
    assert actions("presence.marked")[-1] == {"participant": official.id, "via": "self"}


def test_imported_and_added_people_are_on_the_roster(app, congress, facilitator):
    desk = staff(app, facilitator)
    csv = "nom,commune\nImportée Une,Aurillac\n".encode()
    assert desk.post("/animation/participants/import", data={
        "file": (BytesIO(csv), "liste.csv")}, content_type="multipart/form-data"
    ).status_code == 302
    assert desk.post("/animation/participants", data={"display_name": "Ajouté Deux",
                                                      "role": "participant"}).status_code == 302
    db.session.expire_all()
    statuses = dict(db.session.execute(select(Participant.display_name,
                                              Participant.roster_status)).all())
    assert statuses["Importée Une"] == statuses["Ajouté Deux"] == "accepted"
    assert statuses["Équipe d'animation"] == "accepted"
