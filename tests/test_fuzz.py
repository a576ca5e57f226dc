"""Property-based fuzzing (hypothesis): forms, CSV import, the JSON API and socket
payloads never produce a server error, and every refusal carries a French message."""

from __future__ import annotations

import html
import re
import uuid
from io import BytesIO
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliberation.extensions import db, socketio

from .conftest import login, text_of

FUZZ = settings(max_examples=30, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

texts = st.text(st.characters(codec="utf-8"), max_size=300) | st.sampled_from(
    ["", " ", "\x00", "<script>alert(1)</script>", "a" * 2001, "é" * 2000, "\r\n" * 50,
     "'; DROP TABLE contribution; --", "{{ 7*7 }}", "\u202e\u200b",
     # issue 13: digits that `str.isdigit` accepts and `int` or the database do not,
     # CRLF inside values, bidi controls
     "²", "1²", "٣", "١٢٣", "9" * 25, str(2**63), "-1", "12\u202f500", "1\r\n2", "a\rb",
     "\u202eabc\u202c", "\u2066x\u2069", "\u200f\u061c"])
#: Numbers beyond 64 bits (SQLite binds at most 2**63 - 1) beside ordinary ones.
big_ints = st.integers(-2**63, 2**63) | st.integers(-2**80, 2**80) | st.sampled_from(
    [2**63, 2**63 - 1, 2**64, -2**63 - 1, 10**25, 0, -1])
#: Lone surrogates: valid in JSON (« \ud800 »), never storable as UTF-8.
json_texts = texts | st.sampled_from(["\ud800", "a\udfffb", "\udc80" * 3, "\ud83d"])


def nested(depth: int):
    """A list nested `depth` levels deep, built without recursion."""
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


json_values = st.recursive(
    st.none() | st.booleans() | big_ints | st.floats(allow_nan=False) | json_texts,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10) | json_texts, children, max_size=5),
    max_leaves=12) | st.integers(40, 700).map(nested)
#: Raw bodies that a parser chokes on: 50,000 levels deep, lone surrogates escaped.
DEEP = b"[" * 50_000 + b"]" * 50_000
raw_bodies = st.binary(max_size=200) | st.sampled_from(
    [DEEP, b'{"text": ' + DEEP + b"}", b'{"text": "id\\ud800ee"}', b'{"text": "\\udfff"}',
     b'{"text": "ok ok ok", "client_key": "\\ud800abcdefgh"}', b'{"text": 1e999}',
     b'{"text": "x", "client_key": ' + str(10**30).encode() + b"}"])
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
@given(body=json_values, raw=st.none() | raw_bodies)
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


@FUZZ
@given(event=st.sampled_from(EVENTS), depth=st.integers(1_000, 30_000))
def test_socket_payloads_nested_past_the_recursion_limit_get_an_ack(app, congress,
                                                                     facilitator, event,
                                                                     depth):
    """Sent as raw packets: the test client's own encoder would give up first."""
    client = app.test_client()
    login(client, facilitator)
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"congress": congress.join_code,
                                      "audience": "facilitator"})
    try:
        raw = f'21["{event}",' + "[" * depth + "]" * depth + "]"
        socketio.server._handle_eio_message(sock.eio_sid, raw)
        ack = (sock.acks or {}).get("args", [None])[0]
        sock.acks = None
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (event, ack)
        if not ack["ok"]:
            assert _clear(ack.get("error", "")), ack
    finally:
        sock.disconnect()
        db.session.rollback()


ids = big_ints.map(str) | texts


@FUZZ
@given(ballot=big_ints | json_texts, giver=st.none() | big_ints | json_texts,
       choice=st.sampled_from(["pour", "contre", "abstention"]) | json_texts,
       key=st.none() | json_texts)
def test_ballot_vote_event_always_acks(app, congress, official, ballot, giver, choice, key):
    official.present = True
    congress.phase = "vote"
    db.session.commit()
    client = app.test_client()
    login(client, official)
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"congress": congress.join_code,
                                      "audience": "participants"})
    try:
        ack = sock.emit("ballot.vote", {"ballot": ballot, "for": giver, "choice": choice,
                                        "key": key}, callback=True)
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        if not ack["ok"]:
            assert _clear(ack.get("error", "")), ack
    finally:
        sock.disconnect()
        db.session.rollback()


@FUZZ
@given(ballot=ids, giver=st.none() | ids, choice=texts, key=st.none() | texts,
       as_json=st.booleans())
def test_vote_route_with_odd_numbers(app, congress, official, ballot, giver, choice, key,
                                     as_json):
    client = app.test_client()
    login(client, official)
    data = {"choice": choice} | ({"for": giver} if giver is not None else {}) \
        | ({"key": key} if key is not None else {})
    path = "/c/" + congress.join_code + "/vote/" + quote(ballot, safe="")
    response = client.post(path, data=data,
                           headers={"Accept": "application/json"} if as_json else {})
    assert response.status_code in (302, 404, 405, 422), response.status_code
    if response.status_code == 422:
        assert _clear(response.get_json()["error"]), response.get_json()
    if response.status_code == 404:  # JSON when asked for it, else the French page
        assert "Cette page n'existe pas ou plus." in text_of(response)


@FUZZ
@given(path=st.sampled_from(["/contributions/{}/modifier", "/contributions/{}/retirer",
                             "/animation/participants/{}/revoquer",
                             "/animation/presence/{}", "/animation/scrutins/{}/ouvrir"]),
       ident=ids)
def test_routes_with_odd_ids_are_404s(app, congress, facilitator, path, ident):
    client = app.test_client()
    login(client, facilitator)
    response = client.post(path.format(quote(ident, safe="")))
    assert response.status_code in (302, 400, 403, 404, 405, 422), response.status_code


@FUZZ
@given(quorum=texts, article=texts, retention=texts, population=texts, limit=texts,
       giver=texts)
def test_facilitator_number_fields(app, congress, facilitator, quorum, article, retention,
                                   population, limit, giver):
    client = app.test_client()
    login(client, facilitator)
    for url, data in (("/animation/scrutins", {"title": "Texte", "quorum": quorum,
                                               "article": article}),
                      ("/animation/donnees", {"retention_days": retention}),
                      ("/animation/participants", {"display_name": "Anne",
                                                   "population": population}),
                      ("/animation/procurations/limite", {"limit": limit}),
                      ("/animation/procurations", {"giver": giver, "holder": giver})):
        response = client.post(url, data=data)
        assert response.status_code in (302, 404, 422), (url, response.status_code)
        if response.status_code == 422:
            assert _clear(_alert(response)), (url, _alert(response))


# The Socket.IO protocol's CONNECT payload is an object (or absent): a bare scalar such as
# 0.0 cannot even be encoded by python-socketio's test client, so it is not a server case.
connect_auth = st.none() | st.dictionaries(st.text(max_size=20), json_values, max_size=6)


@FUZZ
@given(auth=connect_auth, query=texts)
def test_socket_connect_payloads(app, congress, auth, query):
    sock = socketio.test_client(app, auth=auth, query_string=f"congress={query[:50]}")
    if sock.is_connected():
        sock.disconnect()
