"""Property-based fuzzing (hypothesis): forms, CSV import, the JSON API and socket
payloads never produce a server error, and every refusal carries a French message."""

from __future__ import annotations

import html
import re
import uuid
from io import BytesIO

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliberation.extensions import db, socketio

from .conftest import login, text_of

FUZZ = settings(max_examples=30, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

texts = st.text(st.characters(codec="utf-8"), max_size=300) | st.sampled_from(
    ["", " ", "\x00", "<script>alert(1)</script>", "a" * 2001, "é" * 2000, "\r\n" * 50,
     "'; DROP TABLE contribution; --", "{{ 7*7 }}", "\u202e\u200b"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False)
    | texts, lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5), max_leaves=12)
NOT_FOR_PEOPLE = ("Traceback", "Exception", "Error", "None", "null", "KeyError", "sqlalchemy")


def _clear(message: str) -> bool:
    """A sentence meant for a person (the French messages of the app), not a stack trace,
    an exception name or a code."""
    return (isinstance(message, str) and 8 <= len(message) <= 600
            and (message[0].isupper() or message[0] in "«\"")
            and message.rstrip()[-1] in ".!?»)"
            and not any(w in message for w in NOT_FOR_PEOPLE))


def _alert(response) -> str:
    """The message of the page's error box (templates/_errors.html)."""
    found = re.search(r'role="alert"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    assert found, "a refused form shows an error box"
    message = text_of_html(found.group(1)).strip()
    return message.removeprefix("Impossible d'enregistrer :").strip()


def text_of_html(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


@FUZZ
@given(code=texts, name=texts, commune=texts, department=texts, population=texts)
def test_join_form(client, congress, code, name, commune, department, population):
    response = client.post("/rejoindre", data={
        "code": code, "display_name": name, "commune": commune,
        "department_code": department, "population": population})
    assert response.status_code in (200, 302, 422)
    if response.status_code == 422:
        assert _clear(_alert(response)), _alert(response)
    client.post("/deconnexion")


@FUZZ
@given(text=texts, key=st.none() | texts)
def test_contribution_and_edit_forms(app, congress, official, text, key):
    client = app.test_client()
    login(client, official)
    data = {"text": text} | ({"client_key": key} if key is not None else {})
    response = client.post(f"/c/{congress.join_code}/contribuer", data=data)
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 422:
        assert _clear(_alert(response)), _alert(response)


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(
    ["display_name", "role", "commune", "department_code", "mandate", "population"]),
    texts, max_size=6))
def test_facilitator_add_participant_form(app, congress, facilitator, fields):
    client = app.test_client()
    login(client, facilitator)
    response = client.post("/animation/participants", data=fields)
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 422:
        assert _clear(_alert(response)), _alert(response)


csv_bodies = st.one_of(
    st.binary(max_size=600),
    st.lists(st.lists(texts, max_size=6), max_size=8).map(
        lambda rows: "\n".join(";".join(r) for r in rows).encode("utf-8", "surrogatepass")),
    st.lists(st.lists(texts, max_size=4), max_size=6).map(
        lambda rows: ("nom;commune;departement;mandat;population;email\n"
                      + "\n".join(";".join(r) for r in rows)).encode("utf-8",
                                                                     "surrogatepass")),
    st.lists(st.lists(texts, max_size=4), max_size=6).map(
        lambda rows: ("texte;theme;orateur;commune\n"
                      + "\n".join(",".join(r) for r in rows)).encode("latin-1", "replace")))


@FUZZ
@given(body=csv_bodies, which=st.sampled_from(["/animation/participants/import",
                                               "/animation/contributions/import"]))
def test_csv_import(app, congress, facilitator, body, which):
    client = app.test_client()
    login(client, facilitator)
    response = client.post(which, data={"file": (BytesIO(body), "envoi.csv")})
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:  # the import page shows the message at once
        assert "Import refusé, rien n'a été ajouté." in text_of(response)
        return
    with client.session_transaction() as session:
        flashes = session.get("_flashes", [])
    assert flashes, "every import says what happened"
    category, message = flashes[-1]
    assert category in ("success", "error")
    assert message.startswith(("Import refusé, rien n'a été ajouté.", "0 ", "1", "2", "3", "4",
                               "5", "6", "7", "8", "9")), message


@FUZZ
@given(body=json_values, raw=st.none() | st.binary(max_size=200))
def test_json_api(app, congress, official, body, raw):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {official.invite_token}"}
    url = f"/api/congresses/{congress.join_code}/contributions"
    if raw is not None:
        response = client.post(url, data=raw, headers={**headers,
                                                        "Content-Type": "application/json"})
    else:
        response = client.post(url, json=body, headers=headers)
    assert response.status_code in (200, 201, 400, 409, 422), response.status_code
    payload = response.get_json(silent=True)
    assert isinstance(payload, dict), (response.status_code, response.get_data()[:200])
    if response.status_code >= 400:
        assert _clear(payload["error"]), payload


EVENTS = sorted(set(socketio.server.handlers.get("/", {}) if socketio.server else ()) -
                {"connect"}) or ["snapshot", "ballot.vote", "ballot.state", "support",
                                 "contribution.move", "scribe.capture", "point.rename"]


@FUZZ
@given(event=st.sampled_from(EVENTS), payload=json_values,
       keyed=st.booleans())
def test_socket_payloads(app, congress, facilitator, event, payload, keyed):
    client = app.test_client()
    login(client, facilitator)
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"congress": congress.join_code,
                                      "audience": "facilitator"})
    try:
        if keyed and isinstance(payload, dict):
            payload = {**payload, "key": uuid.uuid4().hex}
        ack = sock.emit(event, payload, callback=True)
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        if not ack["ok"]:
            assert _clear(ack.get("error", "")), ack
    finally:
        sock.disconnect()
        db.session.rollback()


# The Socket.IO protocol's CONNECT payload is an object (or absent): a bare scalar such as
# 0.0 cannot even be encoded by python-socketio's test client, so it is not a server case.
connect_auth = st.none() | st.dictionaries(st.text(max_size=20), json_values, max_size=6)


@FUZZ
@given(auth=connect_auth, query=texts)
def test_socket_connect_payloads(app, congress, auth, query):
    sock = socketio.test_client(app, auth=auth, query_string=f"congress={query[:50]}")
    if sock.is_connected():
        sock.disconnect()
