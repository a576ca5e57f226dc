"""Sessions that end (issue 13): logout, a password change or a revocation ends every copy
of the cookie and the remember token and closes the account's sockets; staff log in by
password only; redirects after login stay on the site."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote, urlsplit

import pytest
from flask import g

from deliberation.extensions import db, socketio
from deliberation.models import Participant
from deliberation.security import safe_next

from .conftest import login, make_person, staff_login, text_of
from .debate import FreshClient

PASSWORD = "motdepasse-solide"


def fresh(app):
    return FreshClient(app, app.response_class, use_cookies=True)


def cookies_of(client) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")
            if client.get_cookie(name) is not None}


def replay(app, cookies: dict[str, str]):
    """A brand-new browser carrying copies of cookies captured earlier."""
    client = fresh(app)
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def logged_in(client, person):
    """The client, logged in as `person` the way their role does (conftest.login)."""
    login(client, person)
    return client


def no_access(client, url: str) -> bool:
    response = client.get(url)
    location = response.headers.get("Location", "")
    return response.status_code == 302 and (
        "/rejoindre" in location or "/animation/connexion" in location)


def sock_for(app, client, congress, audience="participants"):
    g.pop("_login_user", None)  # the test's app context outlives each request
    return socketio.test_client(app, flask_test_client=client,
                                auth={"congress": congress.join_code, "audience": audience})


def emit(sock, event, data):
    g.pop("_login_user", None)
    return sock.emit(event, data, callback=True)


# --- logout ends every copy of the session ------------------------------------------------

@pytest.mark.parametrize("who, page", [("official", "/mes-donnees"),
                                       ("facilitator", "/animation/"),
                                       ("facilitator", "/mes-donnees"),
                                       ("scribe", "/animation/")])
def test_cookies_replayed_after_logout_get_no_access(app, congress, who, page, request):
    person = request.getfixturevalue(who)
    client = logged_in(fresh(app), person)
    assert client.get(page).status_code == 200
    stolen = cookies_of(client)
    assert set(stolen) == {"session", "remember_token"}
    assert client.post("/deconnexion").status_code == 302
    assert no_access(client, page)
    # Every copy: the whole pair, the session alone, the remember token alone.
    assert no_access(replay(app, stolen), page)
    assert no_access(replay(app, {"session": stolen["session"]}), page)
    assert no_access(replay(app, {"remember_token": stolen["remember_token"]}), page)


def test_logout_ends_the_sessions_of_the_other_devices(app, official):
    phone, laptop = logged_in(fresh(app), official), logged_in(fresh(app), official)
    assert laptop.get("/mes-donnees").status_code == 200
    phone.post("/deconnexion")
    assert no_access(laptop, "/mes-donnees")
    again = logged_in(fresh(app), official)  # logging in again works, on a fresh session
    assert again.get("/mes-donnees").status_code == 200


def test_a_socket_opened_before_logout_is_closed_and_a_replayed_one_refused(
        app, congress, official):
    client = logged_in(fresh(app), official)
    stolen = cookies_of(client)
    sock = sock_for(app, client, congress)
    assert sock.is_connected()
    assert emit(sock, "support", {"key": "avant-deconnexion", "cluster": "p1"}).get(
        "error", "") != "Connectez-vous pour effectuer cette action."
    client.post("/deconnexion")
    assert not sock.is_connected()
    # Someone holding a copy of the old cookies opens a new socket: it may listen like
    # the public, but every action is refused with a French error.
    thief = sock_for(app, replay(app, stolen), congress)
    assert thief.is_connected()
    ack = emit(thief, "support", {"key": "apres-deconnexion", "cluster": "p1"})
    assert ack["ok"] is False and ack["error"] == "Connectez-vous pour effectuer cette action."
    ack = emit(thief, "ballot.vote", {"ballot": 1, "choice": "pour", "key": "k" * 16})
    assert ack["ok"] is False and ack["code"] == "login" and "Connectez-vous" in ack["error"]
    thief.disconnect()


def test_a_staff_socket_is_closed_at_logout_and_cannot_reopen(app, congress, facilitator):
    client = logged_in(fresh(app), facilitator)
    stolen = cookies_of(client)
    sock = sock_for(app, client, congress, "facilitator")
    assert sock.is_connected()
    client.post("/deconnexion")
    assert not sock.is_connected()
    assert not sock_for(app, replay(app, stolen), congress, "facilitator").is_connected()
    listener = sock_for(app, replay(app, stolen), congress, "participants")
    ack = emit(listener, "projector.mode", {"key": "mode-apres-sortie", "mode": "overview"})
    assert ack["ok"] is False and "Connectez-vous" in ack["error"]
    listener.disconnect()


def test_a_password_change_ends_sessions_and_sockets(app, congress, facilitator, runner):
    client = logged_in(fresh(app), facilitator)
    stolen = cookies_of(client)
    sock = sock_for(app, client, congress, "facilitator")
    assert sock.is_connected()
    result = runner.invoke(args=["set-password", "--email", facilitator.email,
                                 "--password", "un-autre-secret", "--congress",
                                 congress.join_code])
    assert result.exit_code == 0, result.output
    assert "sessions ouvertes sont fermées" in result.output
    assert not sock.is_connected()
    assert no_access(replay(app, stolen), "/animation/")
    assert no_access(client, "/animation/")
    staff_login(fresh(app), facilitator.email, "un-autre-secret")
    refused = fresh(app).post("/animation/connexion",
                              data={"email": facilitator.email, "password": PASSWORD})
    assert refused.status_code == 401


def test_set_password_refuses_unknown_accounts_and_short_passwords(runner, congress, official):
    short = runner.invoke(args=["set-password", "--email", "anim@example.org",
                                "--password", "court"])
    assert short.exit_code != 0 and "8 caractères" in short.output
    unknown = runner.invoke(args=["set-password", "--email", "personne@example.org",
                                  "--password", "assez-long-secret"])
    assert unknown.exit_code != 0 and "Aucun compte d'animation" in unknown.output


def test_revocation_ends_the_remember_token_too(app, congress, official, facilitator):
    stolen = cookies_of(logged_in(fresh(app), official))
    staff = logged_in(fresh(app), facilitator)
    assert staff.post(f"/animation/participants/{official.id}/revoquer").status_code == 302
    assert no_access(replay(app, {"remember_token": stolen["remember_token"]}), "/mes-donnees")


# --- staff log in by password only -----------------------------------------------------------

@pytest.mark.parametrize("who", ["facilitator", "scribe"])
def test_a_staff_invite_link_does_not_log_in(app, who, request):
    person = request.getfixturevalue(who)
    client = fresh(app)
    response = client.get(f"/i/{person.invite_token}")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/animation/connexion"
    page = text_of(client.get("/animation/connexion"))
    assert "se connectent avec leur adresse électronique et leur mot de passe" in page
    assert no_access(client, "/animation/")
    assert no_access(client, "/mes-donnees")


def test_a_staff_token_is_refused_by_the_api(app, congress, facilitator):
    response = fresh(app).get("/api/me",
                              headers={"Authorization": f"Bearer {facilitator.invite_token}"})
    assert response.status_code == 401 and "mot de passe" in response.json["error"]


def test_staff_tokens_appear_in_no_export_or_sheet(app, congress, official, facilitator,
                                                   scribe):
    client = logged_in(fresh(app), facilitator)
    export = client.get("/animation/export/participants.csv").get_data(as_text=True)
    rows = {row["role"]: row for row in csv.DictReader(io.StringIO(export.lstrip("\ufeff")),
                                                       delimiter=";")}
    assert rows["participant"]["lien_invitation"].endswith(official.invite_token)
    assert rows["facilitator"]["lien_invitation"] == rows["scribe"]["lien_invitation"] == ""
    for url in ("/animation/invitations", "/animation/participants"):
        page = client.get(url).get_data(as_text=True)
        assert official.invite_token in page
        assert facilitator.invite_token not in page and scribe.invite_token not in page


# --- redirects stay on the site ---------------------------------------------------------------

VECTORS = ["/%09/evil.example/phish", "//evil.example", "/\\evil.example", "/%5Cevil.example",
           "/%2F/evil.example", "https://evil.example/", "javascript:alert(1)",
           "/\t/evil.example", "/ /evil.example", "/%0d%0aSet-Cookie:%20x=1",
           "/\r\nSet-Cookie: x=1", "%2F%2Fevil.example", "/\u2028/evil.example",
           "evil.example", "", "/%E2%80%AE/evil"]


@pytest.mark.parametrize("target", VECTORS)
def test_login_never_redirects_off_site(app, facilitator, target):
    response = fresh(app).post(f"/animation/connexion?next={quote(target, safe='/%:')}",
                               data={"email": facilitator.email, "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location == "/animation/", location


def test_login_keeps_a_plain_next_path(app, facilitator):
    response = fresh(app).post("/animation/connexion?next=/animation/participants",
                               data={"email": facilitator.email, "password": PASSWORD})
    assert response.headers["Location"] == "/animation/participants"


def test_board_actions_only_go_back_to_staff_pages(app, congress, facilitator):
    client = logged_in(fresh(app), facilitator)
    for target in ("/animation/%0d%0a/x", "/animation/\r\nX: y", "//evil.example/animation/"):
        response = client.post("/animation/tableau/action",
                               data={"action": "hide", "id": "0", "next": target})
        assert response.status_code < 500
        assert not urlsplit(response.headers.get("Location", "")).netloc


@pytest.mark.parametrize("target, expected", [
    ("/animation/", "/animation/"), ("/c/TEST26?x=1#a", "/c/TEST26?x=1#a"),
    (None, "F"), (42, "F"), ("/" + "a" * 3000, "F"), ("/%00", "F"), ("/\x7f", "F"),
    ("/a\u00a0b", "F"), ("/%5c", "F"), ("//", "F"), ("/\\", "F")])
def test_safe_next(target, expected):
    assert safe_next(target, "F") == expected


def test_safe_next_with_a_prefix():
    assert safe_next("/animation/tableau", "F", prefix="/animation/") == "/animation/tableau"
    assert safe_next("/c/TEST26", "F", prefix="/animation/") == "F"


def test_end_sessions_moves_the_epoch_and_a_new_password_too(congress):
    person = make_person(congress, "Anim", role="facilitator", email="x@example.org",
                         password=PASSWORD)
    before = person.session_epoch
    person.end_sessions()
    person.set_password("nouveau-secret")
    db.session.commit()
    assert db.session.get(Participant, person.id).session_epoch == before + 2


def test_a_staff_account_added_by_the_facilitator_gets_a_password(app, congress,
                                                                   facilitator):
    client = logged_in(fresh(app), facilitator)
    form = {"display_name": "Nouveau scribe", "role": "scribe"}
    refused = client.post("/animation/participants", data=form)
    assert refused.status_code == 422 and "adresse électronique valide" in text_of(refused)
    short = client.post("/animation/participants",
                        data={**form, "email": "releve@example.org", "password": "court"})
    assert short.status_code == 422 and "de 8 à 200 caractères" in text_of(short)
    taken = client.post("/animation/participants",
                        data={**form, "email": facilitator.email, "password": "assez-long"})
    assert taken.status_code == 422 and "a déjà un compte" in text_of(taken)
    added = client.post("/animation/participants", follow_redirects=True,
                        data={**form, "email": "Releve@Example.org ", "password": "assez-long"})
    assert "se connecte par mot de passe" in text_of(added)
    scribe = db.session.scalar(db.select(Participant).filter_by(email="releve@example.org"))
    assert scribe.role == "scribe" and scribe.invite_token not in added.get_data(as_text=True)
    assert fresh(app).get(f"/i/{scribe.invite_token}").headers["Location"].endswith(
        "/animation/connexion")
    own = fresh(app)
    staff_login(own, scribe.email, "assez-long")
    assert own.get("/animation/").status_code == 200


def test_the_session_signer_is_reused_until_the_key_changes(app):
    """Built once per set of keys (issue 17), yet a new key still signs with the new key."""
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    old_key = app.secret_key
    app.secret_key = "une-autre-clef-de-signature"
    try:
        rotated = interface.get_signing_serializer(app)
        assert rotated is not first
        assert rotated.loads(rotated.dumps({"a": 1})) == {"a": 1}
    finally:
        app.secret_key = old_key


def test_a_socket_event_reads_the_session_and_never_rewrites_it(app, congress, client):
    person = make_person(congress, "Élue du bourg", present=True)
    login(client, person)
    before = cookies_of(client)["session"]
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"congress": congress.join_code,
                                      "audience": "participants"})
    assert sock.is_connected()
    answer = sock.emit("ballot.vote", {"ballot": 999_999, "choice": "pour",
                                       "key": "sess-0001"}, callback=True)
    sock.disconnect()
    assert answer["code"] == "unknown_ballot"  # identified by its session, then refused
    assert cookies_of(client)["session"] == before
    assert client.get("/").status_code in (200, 302)  # HTTP sessions still signed
