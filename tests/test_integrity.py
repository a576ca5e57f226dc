"""Every input gets a French 4xx or a refusing ack (issue 13): ids beyond 64 bits,
Unicode digits, lone surrogates, deep nesting, bidi controls; idempotency keys scoped
to their author; a retried vote after the close; `verify` on a database without tables."""

from __future__ import annotations

import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select, text

from deliberation import ballots, contributions
from deliberation.errors import InputError
from deliberation.extensions import db, socketio
from deliberation.models import Ballot, Congress, Contribution, Participant

from . import test_ballots
from .conftest import login, make_person, new_congress, staff_login, text_of
from .test_ballots import new_ballot

ROOT = Path(__file__).resolve().parent.parent
hall = test_ballots.hall  # the vote-phase congress fixture, shared
HUGE = 2**63
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def _phone(app, person):
    """A logged-in HTTP client and its socket in the participants' room."""
    client = app.test_client()
    login(client, person)
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"congress": "TEST26", "audience": "participants"})
    assert sock.is_connected()
    return client, sock


def _refused(ack) -> str:
    assert isinstance(ack, dict) and ack["ok"] is False, ack
    assert ack["error"][0].isupper() and ack["error"].rstrip()[-1] in ".!?»", ack
    return ack["code"]


# --- numbers beyond 64 bits and Unicode digits --------------------------------------------

def test_ballot_vote_with_huge_ids_gets_a_refusing_ack(app, hall):
    bid = new_ballot(hall["congress"])
    _, sock = _phone(app, hall["people"][0])
    try:
        for payload, code in (({"ballot": HUGE, "choice": "pour"}, "unknown_ballot"),
                              ({"ballot": 2**64 + 1, "choice": "pour"}, "unknown_ballot"),
                              ({"ballot": -HUGE, "choice": "pour"}, "unknown_ballot"),
                              ({"ballot": 0, "choice": "pour"}, "unknown_ballot"),
                              ({"ballot": bid, "choice": "pour", "for": HUGE}, "no_proxy"),
                              ({"ballot": bid, "choice": "pour", "for": -1}, "no_proxy")):
            assert _refused(sock.emit("ballot.vote", payload, callback=True)) == code
    finally:
        sock.disconnect()
    assert ballots.cast_count(bid, False) == 0


def test_socket_actions_with_huge_ids_get_a_refusing_ack(app, congress, facilitator, official):
    staff = app.test_client()
    staff_login(staff, facilitator.email)
    sock = socketio.test_client(app, flask_test_client=staff,
                                auth={"congress": "TEST26", "audience": "facilitator"})
    try:
        for event, payload in (("contribution.hide", {"id": HUGE}),
                               ("contribution.move", {"id": HUGE, "theme": "acces"}),
                               ("contribution.duplicate", {"id": 1, "of": 2**70}),
                               ("scribe.capture", {"text": "Une idée", "participant_id": HUGE}),
                               ("point.merge", {"into": HUGE, "from": [HUGE]})):
            ack = sock.emit(event, {**payload, "key": f"k-{event}-x"}, callback=True)
            assert ack["ok"] is False and ack["error"][0].isupper(), (event, ack)
    finally:
        sock.disconnect()


@pytest.mark.parametrize("giver", ["²", "٣", "9" * 25, str(HUGE), "-1", "1e3"])
def test_vote_form_refuses_odd_proxy_values_in_french(app, hall, giver):
    bid = new_ballot(hall["congress"])
    client = app.test_client()
    login(client, hall["people"][0])
    url = f"/c/TEST26/vote/{bid}"
    answer = client.post(url, data={"choice": "pour", "for": giver},
                         headers={"Accept": "application/json"})
    assert answer.status_code == 422 and answer.json["code"] == "no_proxy", answer.json
    page = client.post(url, data={"choice": "pour", "for": giver}, follow_redirects=True)
    assert page.status_code == 200 and "Procuration inconnue." in text_of(page)
    assert ballots.cast_count(bid, False) == 0


@pytest.mark.parametrize("path", ["/c/TEST26/vote/" + "9" * 25, "/c/TEST26/vote/²",
                                  "/c/TEST26/vote/٣", f"/c/TEST26/vote/{HUGE}",
                                  "/contributions/" + "9" * 25 + "/modifier"])
def test_urls_with_huge_or_unicode_ids_are_french_404s(app, hall, path):
    client = app.test_client()
    login(client, hall["people"][0])
    answer = client.post(path, data={"choice": "pour"})
    assert answer.status_code == 404 and "Page introuvable" in text_of(answer)
    assert client.get(path).status_code in (404, 405)


@pytest.mark.parametrize("value", ["²", "٣", "9" * 25, "12³"])
def test_facilitator_number_fields_refuse_unicode_and_huge_digits(app, congress, facilitator,
                                                                  value):
    client = app.test_client()
    staff_login(client, facilitator.email)
    quorum = client.post("/animation/scrutins", data={"title": "Texte", "quorum": value})
    assert quorum.status_code == 422 and "Le quorum doit être un nombre entier" in \
        text_of(quorum)
    article = client.post("/animation/scrutins", data={"title": "Texte", "article": value})
    assert article.status_code == 422 and "Article inconnu." in text_of(article)
    person = client.post("/animation/participants", data={"display_name": "Anne",
                                                          "population": value})
    assert person.status_code == 422 and "La population doit être un nombre entier" in \
        text_of(person)
    days = client.post("/animation/donnees", data={"retention_days": value})
    assert days.status_code == 422 and "durée de conservation" in text_of(days)
    proxies = client.post("/animation/procurations", data={"giver": value, "holder": "1"})
    assert proxies.status_code == 422 and "Choisissez la personne absente" in text_of(proxies)
    limit = client.post("/animation/procurations/limite", data={"limit": value})
    assert limit.status_code == 422
    assert db.session.scalar(select(Ballot.id)) is None
    assert db.session.get(Congress, congress.id).retention_days == 365


def test_number_fields_still_take_french_thousands(app, congress, facilitator):
    client = app.test_client()
    staff_login(client, facilitator.email)
    client.post("/animation/participants", data={"display_name": "Anne",
                                                 "population": "12\u202f500"})
    anne = db.session.scalar(select(Participant).filter_by(display_name="Anne"))
    assert anne.population == 12500
    assert contributions.clean_int(" 1 234 ", what="x", maximum=10**6) == 1234
    assert contributions.clean_int("", what="x", maximum=10) is None
    with pytest.raises(InputError):
        contributions.clean_int("11", what="Le nombre", maximum=10)


@pytest.mark.parametrize("population", ["²", "٣", "9" * 25])
def test_participants_csv_with_unicode_digits_is_refused_in_french(app, congress, facilitator,
                                                                   population):
    client = app.test_client()
    staff_login(client, facilitator.email)
    body = f"nom,commune,population\nAnne,Murat,{population}\n".encode()
    client.post("/animation/participants/import",
                data={"file": (BytesIO(body), "elus.csv")})
    with client.session_transaction() as session:
        category, message = session["_flashes"][-1]
    assert category == "error" and "Ligne 2 : " in message and "population" in message, message
    assert db.session.scalar(select(Participant).filter_by(display_name="Anne")) is None


# --- JSON bodies that no contribution is made of ------------------------------------------

def _api_post(client, official, raw: bytes):
    return client.post("/api/congresses/TEST26/contributions", data=raw, headers={
        "Authorization": f"Bearer {official.invite_token}",
        "Content-Type": "application/json"})


@pytest.mark.parametrize("raw", [
    b'{"text": "Une id\\ud800e"}', b'{"text": "ok ok ok", "client_key": "cle-\\udfff-12345"}',
    b'{"\\ud800": 1, "text": "Une idee"}', b"[" * 50_000 + b"]" * 50_000,
    b'{"text": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", b'{"text": "a", "x": ' + b"[" * 40
    + b"]" * 40 + b"}"])
def test_api_refuses_lone_surrogates_and_deep_nesting_in_french(client, congress, official,
                                                                raw):
    answer = _api_post(client, official, raw)
    assert answer.status_code == 400, answer.status_code
    message = answer.json["error"]
    assert message.startswith("Corps JSON") and message.endswith("."), message
    assert db.session.scalar(select(Contribution.id)) is None


# --- bidi and control characters ----------------------------------------------------------

def test_bidi_and_control_characters_are_stripped_from_names_and_texts():
    raw = f"Vive{BIDI} la\x85 fibre\x07\ud800 !"
    assert contributions.clean_text(raw) == "Vive la fibre !"
    assert contributions.clean_line(f"Mar{BIDI}ie\x9b Durand", limit=120,
                                    what="Le nom") == "Marie Durand"
    # Line breaks (CRLF too) and ordinary Unicode survive, emoji joiners included.
    kept = "Ligne 1\r\nLigne 2 — « été » 👩\u200d🌾"
    assert contributions.clean_text(kept) == "Ligne 1\nLigne 2 — « été » 👩\u200d🌾"


def test_forms_store_names_and_ideas_without_bidi_controls(app, congress, official,
                                                           facilitator):
    client = app.test_client()
    staff_login(client, facilitator.email)
    client.post("/animation/participants", data={"display_name": "\u202eEnna\u202c",
                                                 "commune": "Mur\u2066at"})
    assert db.session.scalar(select(Participant).filter_by(display_name="Enna")).commune == \
        "Murat"
    phone = app.test_client()
    login(phone, official)
    phone.post("/c/TEST26/contribuer", data={"text": "La fibre\u202e au hameau\u200f"})
    assert db.session.scalar(select(Contribution.text)) == "La fibre au hameau"


def test_csv_import_strips_control_and_bidi_characters_from_names(app, congress, facilitator):
    client = app.test_client()
    staff_login(client, facilitator.email)
    body = ("nom,commune,mandat\n\"Jean\u202e\x07 Ma\u2067rtin\",\"Saint\x1b-Flour\","
            "Maire\u061c\n").encode()
    client.post("/animation/participants/import", data={"file": (BytesIO(body), "e.csv")})
    person = db.session.scalar(select(Participant).filter_by(display_name="Jean Martin"))
    assert person is not None and person.commune == "Saint-Flour" and person.mandate == "Maire"
    ideas = "texte,auteur,commune\nLa fibre,\"Paul\u202e Roux\",\"Ay\u200frens\"\n".encode()
    client.post("/animation/contributions/import", data={"file": (BytesIO(ideas), "c.csv")})
    idea = db.session.scalar(select(Contribution))
    assert idea.speaker_name == "Paul Roux" and idea.speaker_commune == "Ayrens"


# --- idempotency keys: (author, congress) -------------------------------------------------

def _post_idea(client, text: str, key: str):
    return client.post("/c/TEST26/contribuer", data={"text": text, "client_key": key})


def test_another_persons_key_does_not_return_their_contribution(app, congress, official):
    other = make_person(congress, "Paul Roux")
    # One person at a time: the tests' app context (and Flask-Login's `g`) is shared.
    first, second = app.test_client(), app.test_client()
    login(first, official)
    assert _post_idea(first, "La fibre au hameau", "cle-partagee-1").status_code == 302
    mine = db.session.scalar(select(Contribution))
    mine.status = "hidden"
    db.session.commit()
    login(second, other)
    assert _post_idea(second, "Des ateliers pour les aînés", "cle-partagee-1").status_code == 302
    stored = db.session.scalars(select(Contribution).order_by(Contribution.id)).all()
    assert [(c.author_id, c.text) for c in stored] == [
        (official.id, "La fibre au hameau"), (other.id, "Des ateliers pour les aînés")]
    # The author's own retry still gets their first contribution back, stored once.
    login(first, official)
    assert _post_idea(first, "La fibre au hameau", "cle-partagee-1").status_code == 302
    assert len(db.session.scalars(select(Contribution)).all()) == 2


def test_api_key_of_another_author_or_congress(app, congress, official):
    other = make_person(congress, "Paul Roux")
    elsewhere = new_congress("Autre congrès", "AUTRE26")
    db.session.commit()
    stranger = make_person(elsewhere, "Léa Vidal")

    def post(person, code, text):
        return app.test_client().post(
            f"/api/congresses/{code}/contributions",
            json={"text": text, "client_key": "cle-commune-42"},
            headers={"Authorization": f"Bearer {person.invite_token}"})

    first = post(official, "TEST26", "La fibre au hameau")
    assert first.status_code == 201
    db.session.get(Contribution, first.json["id"]).status = "hidden"
    db.session.commit()
    theirs = post(other, "TEST26", "Des ateliers numériques")
    assert theirs.status_code == 201 and theirs.json["id"] != first.json["id"]
    assert theirs.json["text"] == "Des ateliers numériques"
    away = post(stranger, "AUTRE26", "Un guichet France services")
    assert away.status_code == 201, away.json
    again = post(official, "TEST26", "La fibre au hameau")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]


SCHEMA_0002_ROWS = [
    "INSERT INTO congress (id, title, place, description, join_code, phase, projector_mode,"
    " created_at, max_proxies, presence_open, keep_contributions_on_erasure, retention_days)"
    " VALUES (1, 'Congrès migré', 'Aurillac', '', 'MIGRE26', 'debate', 'overview',"
    " CURRENT_TIMESTAMP, 1, false, true, 365)",
    "INSERT INTO participant (id, congress_id, display_name, commune, department_code,"
    " mandate, role, invite_token, present, created_at, session_epoch)"
    " VALUES (1, 1, 'Anne', 'Murat', '15', 'Maire', 'participant', 'jeton-anne', false,"
    " CURRENT_TIMESTAMP, 0)",
    "INSERT INTO participant (id, congress_id, display_name, commune, department_code,"
    " mandate, role, invite_token, present, created_at, session_epoch)"
    " VALUES (2, 1, 'Paul', 'Vic', '15', 'Adjoint', 'participant', 'jeton-paul', false,"
    " CURRENT_TIMESTAMP, 0)",
    # Ids past what the sequences will hand out to the rows the test adds afterwards.
    "INSERT INTO contribution (id, congress_id, author_id, channel, text, status, supports,"
    " off_topic, confirmed, cluster_locked, created_at, updated_at, client_key)"
    " VALUES (101, 1, 1, 'online', 'La fibre', 'visible', 1, false, false, false,"
    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'cle-commune-1')",
    "INSERT INTO contribution (id, congress_id, author_id, channel, text, status, supports,"
    " off_topic, confirmed, cluster_locked, created_at, updated_at, duplicate_of_id)"
    " VALUES (102, 1, 2, 'online', 'La fibre !', 'duplicate', 0, false, false, false,"
    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 101)",
    "INSERT INTO support (id, contribution_id, participant_id, created_at)"
    " VALUES (1, 101, 2, CURRENT_TIMESTAMP)",
]


def test_the_key_scope_migration_keeps_every_row(database):
    """0003 rebuilds `contribution` on SQLite: supports, duplicate links and article
    sources pointing at it survive (with foreign keys on, SQLite's DROP TABLE would have
    deleted or cleared them), and afterwards a key is unique per author and congress."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import func
    from sqlalchemy.exc import IntegrityError

    from deliberation import create_app
    from deliberation.config import TestConfig
    from deliberation.models import Support

    uri, options = database
    migrated = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig)
                              if k.isupper()},
                           "SQLALCHEMY_DATABASE_URI": uri, "SQLALCHEMY_ENGINE_OPTIONS": options})
    with migrated.app_context():
        upgrade(revision="0002")
        # Rows written as the 0002 schema holds them (today's models have later columns).
        for statement in SCHEMA_0002_ROWS:
            db.session.execute(text(statement))
        db.session.commit()
        congress_id, anne_id, paul_id, first_id = 1, 1, 2, 101
        db.session.remove()

        def count(model) -> int:
            return db.session.scalar(select(func.count()).select_from(model))

        for step in (lambda: upgrade(), lambda: downgrade(revision="0002"), lambda: upgrade()):
            step()
            assert count(Support) == 1 and count(Contribution) == 2
            assert db.session.scalar(select(Contribution.duplicate_of_id).where(
                Contribution.status == "duplicate")) == first_id
            db.session.remove()
        db.session.add(Contribution(congress_id=congress_id, author_id=paul_id,
                                    text="Autre idée", client_key="cle-commune-1"))
        db.session.commit()
        db.session.add(Contribution(congress_id=congress_id, author_id=anne_id,
                                    text="Encore", client_key="cle-commune-1"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_an_over_long_form_key_is_refused_in_french(app, congress, official):
    client = app.test_client()
    login(client, official)
    answer = _post_idea(client, "La fibre au hameau", "k" * 65)
    assert answer.status_code == 422 and "Clé de renvoi invalide" in text_of(answer)


# --- a retried vote after the close -------------------------------------------------------

@pytest.mark.parametrize("secret", [False, True])
def test_a_retried_vote_after_the_close_answers_repeat_with_its_receipt(app, hall, secret):
    bid = new_ballot(hall["congress"], secret=secret)
    voter, other = hall["people"][0], hall["people"][1]
    _, sock = _phone(app, voter)
    try:
        vote = {"ballot": bid, "choice": "contre", "key": "vote-cle-0001"}
        first = sock.emit("ballot.vote", vote, callback=True)
        assert first["ok"] and first["status"] == "counted"
        ballots.close_ballot(bid)
        again = sock.emit("ballot.vote", vote, callback=True)
        assert again["ok"] and again["status"] == "repeat", again
        assert again["receipt"] == first["receipt"]
        assert again.get("choice") == (None if secret else "contre")
        # Another key, or no key, after the close: refused, nothing written.
        assert _refused(sock.emit("ballot.vote", {**vote, "key": "vote-cle-0002"},
                                  callback=True)) == "closed"
    finally:
        sock.disconnect()
    # Someone else presenting this key gets no receipt of it.
    _, theirs = _phone(app, other)
    try:
        assert _refused(theirs.emit("ballot.vote", vote, callback=True)) == "closed"
    finally:
        theirs.disconnect()
    assert ballots.cast_count(bid, secret) == 1


def test_a_retried_vote_form_after_the_close_answers_repeat(app, hall):
    bid = new_ballot(hall["congress"])
    client = app.test_client()
    login(client, hall["people"][0])
    data = {"choice": "pour", "key": "form-cle-0001"}
    first = client.post(f"/c/TEST26/vote/{bid}", data=data,
                        headers={"Accept": "application/json"})
    ballots.close_ballot(bid)
    again = client.post(f"/c/TEST26/vote/{bid}", data=data,
                        headers={"Accept": "application/json"})
    assert again.status_code == 200 and again.json["status"] == "repeat"
    assert again.json["receipt"] == first.json["receipt"]


def test_a_proxy_retry_after_the_close_is_the_holders_alone(app, hall):
    congress, holder = hall["congress"], hall["people"][0]
    absent = hall["absent"]
    ballots.grant_proxy(absent, holder, None)
    bid = new_ballot(congress)
    first = ballots.cast_vote(bid, absent.id, "pour", holder_id=holder.id,
                              client_key="proxy-cle-01")
    ballots.close_ballot(bid)
    again = ballots.cast_vote(bid, absent.id, "pour", holder_id=holder.id,
                              client_key="proxy-cle-01")
    assert again["status"] == "repeat" and again["receipt"] == first["receipt"]
    with pytest.raises(InputError):  # the giver themself, or anyone else, with that key
        ballots.cast_vote(bid, absent.id, "pour", client_key="proxy-cle-01")
    db.session.rollback()


# --- verify on a database without tables ---------------------------------------------------

def test_verify_on_a_database_without_tables_says_so_in_one_french_line(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'vide.db'}",
           "SECRET_KEY": "x", "MOTION_INSTANCE": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "deliberation", "verify"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Vérification impossible"), run.stderr
    assert "init-db" in lines[0] and "Traceback" not in run.stderr


def test_verify_on_a_partial_schema_exits_2(runner, app):
    db.session.execute(db.text("DROP TABLE ballot_box"))
    db.session.commit()
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 2 and "ballot_box" in result.output

