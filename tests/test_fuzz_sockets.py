"""Every Socket.IO event, as every role, with odd payloads (issue 13, item 5): each one
gets an ack, `{ok: true, ...}` or `{ok: false, error: "<français>"}`, and nothing raises or
is logged as an error in the server. Debate action keys are their sender's: another
person's key neither returns that person's answer nor is refused in a confusing way."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from deliberation import actions, create_app
from deliberation.extensions import db, socketio
from deliberation.models import AppliedAction, Congress, Contribution, Participant

from .conftest import make_person, new_congress
from .test_fuzz import (
    _CONFIG,
    FAST_HASH,
    FUZZ,
    SCREEN_HOSTILE,
    Clients,
    _clear,
    big_ints,
    fresh_world,
    json_texts,
    json_values,
    logged_errors_of,
    mostly,
    odd_numbers,
    shared_database,
    stored_hostile_text,
    texts,
    values,
)

STAFF = ("facilitator", "scribe")
ROLES = ("anonymous", "participant", "facilitator", "scribe")


def _events() -> list[str]:
    """Every event the server handles (but the connection itself, and « * », the refusal
    of unknown events, tested apart), from a throwaway app."""
    create_app({**_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(set(socketio.server.handlers["/"]) - {"connect", "*"})


EVENTS = _events()


@pytest.fixture(scope="module", params=[
    "sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def shared_app(request, tmp_path_factory):
    with shared_database(request.param, tmp_path_factory) as app:
        yield app


@pytest.fixture
def world(shared_app):
    with fresh_world(shared_app, sorted_ideas=True) as data:
        yield data


@pytest.fixture
def logged_errors(shared_app):
    with logged_errors_of(shared_app) as records:
        yield records


class Sockets:
    """One socket per role, in the room its screen joins, connected on first use."""

    def __init__(self, app, world: dict):
        self.app, self.world, self.clients, self.open = app, world, Clients(app, world), {}

    def get(self, role: str):
        sock = self.open.get(role)
        if sock is None or not sock.is_connected():
            with self.app.app_context():
                sock = socketio.test_client(
                    self.app, flask_test_client=self.clients.get(role),
                    auth={"congress": self.world["code"],
                          "audience": "facilitator" if role in STAFF else "participants"})
            assert sock.is_connected(), role
            self.open[role] = sock
        return sock

    def emit(self, role: str, event: str, *args):
        sock = self.get(role)
        with self.app.app_context():
            return sock.emit(event, *args, callback=True)

    def close(self) -> None:
        with self.app.app_context():
            for sock in self.open.values():
                if sock.is_connected():
                    sock.disconnect()


@pytest.fixture
def sockets(shared_app, world):
    found = Sockets(shared_app, world)
    yield found
    found.close()


def _meaningful(world: dict) -> dict[str, list]:
    """Values each payload name means something with in the seeded congress."""
    ideas, points, ids = world["ideas"], world["points"] or ["p-inconnu"], world["ids"]
    return {"id": ideas, "of": ideas, "ids": [ideas[1:3], ideas[3:]],
            "ballot": [ids["ballot"]], "for": [ids["participant"]],
            "choice": ["pour", "contre", "abstention"],
            "theme": ["acces", "formation", "donnees", "hors_theme"],
            "cluster": points, "into": points, "from": [points, points[:1]],
            "label": ["Un nom plus clair pour ce point."], "step": [1, -1],
            "mode": ["overview", "theme", "vote"],
            "text": ["Une idée captée en séance sur la fibre au hameau"],
            "speaker": ["Orateur"], "commune": ["Vic-sur-Cère"],
            "participant_id": [ids["participant"]], "key": ["cle-0123456789"]}


def _payloads(world: dict):
    """Mostly an object with a fresh key and the names the handlers read, holding
    meaningful or odd values (so the fuzz reaches the domain, not only the envelope
    checks); else any JSON value at all."""
    odd = (big_ints | json_texts | odd_numbers | values | json_values
           | st.sampled_from([None, True, 1.5, -1, 0, [], {}]))
    odd = odd | st.lists(odd, max_size=3)
    fields = {name: mostly(st.sampled_from(known), odd)
              for name, known in _meaningful(world).items()}
    keyed = st.fixed_dictionaries({}, optional=fields)
    fresh_key = keyed.map(lambda d: {**d, "key": uuid.uuid4().hex})
    return mostly(fresh_key, keyed | json_values, 4)


def _senders(event: str) -> tuple[str, ...]:
    """The roles that may send `event` (actions.ACTIONS says so), drawn more often."""
    allowed = {"ballot.vote": ("participant",)}.get(event) or actions.ACTIONS.get(
        event, (ROLES,))[0]
    return tuple(allowed) * 3 + ROLES


def check_ack(ack, where: str) -> None:
    """An ack came, `ok` or a French refusal meant for a person."""
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), f"{where}: {ack!r:.300}"
    if not ack["ok"]:
        assert _clear(ack.get("error", "")), f"{where}: {ack!r:.300}"


@pytest.mark.parametrize("event", EVENTS)
@settings(FUZZ, max_examples=50)
@given(data=st.data())
def test_every_socket_event_always_acks_in_french(world, sockets, logged_errors, event, data):
    """Each event, as each role, with 0, 1 or 2 arguments drawn from ids past 64 bits,
    other scripts' digits, lone surrogates, deep nesting, CRLF, NUL and bidi controls."""
    logged_errors.clear()  # this example's own
    role = data.draw(st.sampled_from(_senders(event)), label="role")
    one = _payloads(world).map(lambda payload: [payload])
    args = data.draw(mostly(one, st.lists(_payloads(world), max_size=2), 4), label="args")
    check_ack(sockets.emit(role, event, *args), f"{event} as {role}")
    assert not logged_errors, [r.getMessage() for r in logged_errors]


@settings(FUZZ, max_examples=20)
@given(event=st.sampled_from(EVENTS), depth=st.integers(1_000, 30_000),
       role=st.sampled_from(ROLES))
def test_socket_payloads_nested_past_the_recursion_limit_get_an_ack(shared_app, world,
                                                                     sockets, event, depth,
                                                                     role):
    """Sent as raw packets: the test client's own encoder would give up first."""
    sock = sockets.get(role)
    raw = f'21["{event}",' + "[" * depth + "]" * depth + "]"
    with shared_app.app_context():
        socketio.server._handle_eio_message(sock.eio_sid, raw)
    ack = (sock.acks or {}).get("args", [None])[0]
    sock.acks = None
    check_ack(ack, f"{event} nested {depth} deep as {role}")


@FUZZ
@given(ballot=big_ints | json_texts, giver=st.none() | big_ints | json_texts,
       choice=st.sampled_from(["pour", "contre", "abstention"]) | json_texts,
       key=st.none() | json_texts)
def test_ballot_vote_event_always_acks(shared_app, world, sockets, ballot, giver, choice,
                                       key):
    with shared_app.app_context():
        db.session.get(Congress, world["ids"]["congress"]).phase = "vote"
        db.session.commit()
    check_ack(sockets.emit("participant", "ballot.vote", {
        "ballot": ballot, "for": giver, "choice": choice, "key": key}), "ballot.vote")


# The Socket.IO protocol's CONNECT payload is an object (or absent): a bare scalar such as
# 0.0 cannot even be encoded by python-socketio's test client, so it is not a server case.
connect_auth = st.none() | st.dictionaries(st.text(max_size=20) | st.sampled_from(
    ["congress", "audience"]), json_values | texts, max_size=6)


@FUZZ
@given(auth=connect_auth, query=texts)
def test_socket_connect_payloads(shared_app, world, logged_errors, auth, query):
    logged_errors.clear()  # this example's own
    with shared_app.app_context():
        sock = socketio.test_client(shared_app, auth=auth,
                                    query_string=f"congress={query[:50]}")
        if sock.is_connected():
            sock.disconnect()
    assert not logged_errors, [r.getMessage() for r in logged_errors]


# --- debate action keys are their sender's (issue 13) ------------------------------------

def _move(sockets, role: str, world: dict, key: str, theme: str = "formation"):
    return sockets.emit(role, "contribution.move", {
        "key": key, "id": world["ids"]["contribution"], "theme": theme})


def test_another_persons_action_key_gets_neither_their_answer_nor_a_riddle(shared_app, world,
                                                                          sockets):
    key = "cle-partagee-" + uuid.uuid4().hex[:8]
    first = _move(sockets, "facilitator", world, key)
    assert first["ok"], first
    other = sockets.emit("scribe", "contribution.confirm", {
        "key": key, "id": world["ids"]["contribution"]})
    check_ack(other, "the scribe reusing the facilitator's key")
    assert not other["ok"] and "autre personne" in other["error"], other
    # The owner's own retry still gets the first answer, and the action is stored once.
    assert _move(sockets, "facilitator", world, key) == first
    with shared_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AppliedAction)
                                 .filter_by(key=key)) == 1
    # The scribe, with a key of their own, is served as usual.
    assert _move(sockets, "scribe", world, uuid.uuid4().hex, theme="acces")["ok"]


def test_an_action_key_from_another_congress_is_refused_in_french(shared_app, world,
                                                                 sockets):
    with shared_app.app_context():
        elsewhere = new_congress("Autre congrès", "AUTRE26", phase="debate")
        db.session.commit()
        make_person(elsewhere, "Autre animation", role="facilitator",
                    email="b@example.org").password_hash = FAST_HASH
        db.session.commit()
    key = uuid.uuid4().hex
    assert _move(sockets, "facilitator", world, key)["ok"]
    other = Sockets(shared_app, {**world, "code": "AUTRE26",
                                 "emails": {"facilitator": "b@example.org"}})
    try:
        ack = other.emit("facilitator", "scribe.capture", {
            "key": key, "text": "Une idée captée ailleurs"})
    finally:
        other.close()
    check_ack(ack, "a key from another congress")
    assert not ack["ok"] and "autre personne" in ack["error"], ack
    with shared_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contribution)
                                 .filter_by(text="Une idée captée ailleurs")) == 0
        assert db.session.scalar(select(Participant.id).filter_by(
            email="b@example.org")) is not None


# --- what the fuzz found, kept as explicit examples ---------------------------------------

@pytest.mark.parametrize("event", EVENTS)
def test_an_event_sent_with_two_arguments_is_refused_not_left_unanswered(world, sockets,
                                                                         logged_errors,
                                                                         event):
    """Found by the fuzz: `emit(event, {}, {})` raised TypeError in the server (the
    handlers take one argument) and the sender never heard back."""
    for role in ("anonymous", "facilitator"):
        ack = sockets.emit(role, event, {}, {})
        check_ack(ack, f"{event} with two arguments as {role}")
        assert not ack["ok"] and "un seul objet JSON" in ack["error"], ack
    assert not logged_errors


@pytest.mark.parametrize("code", ["\x00", "TEST26\x00", "\ud800", "TE\u202eST26"])
def test_a_connection_with_an_unreadable_code_is_refused_quietly(shared_app, world,
                                                                  logged_errors, code):
    """Found by the fuzz on PostgreSQL: a NUL in the congress code raised DataError while
    connecting; the connection is now refused like any unknown code."""
    with shared_app.app_context():
        sock = socketio.test_client(shared_app, auth={"congress": code})
    assert not sock.is_connected()
    assert not logged_errors


@pytest.mark.parametrize("key", ["\ud800", "p\x00", "a\udfffb"])
def test_a_point_key_no_database_can_read_is_refused_in_french(world, sockets, logged_errors,
                                                               key):
    """Found by the fuzz: a lone surrogate (or, on PostgreSQL, a NUL) in a point's key
    reached the query and the action failed with a logged error."""
    for event, payload in (("point.split", {"cluster": key, "ids": world["ideas"][1:3]}),
                           ("point.rename", {"cluster": key, "label": "Un nom."}),
                           ("contribution.move", {"id": world["ideas"][1], "cluster": key})):
        ack = sockets.emit("facilitator", event, {**payload, "key": uuid.uuid4().hex})
        check_ack(ack, event)
        assert not ack["ok"], ack
    assert not logged_errors


@pytest.mark.parametrize("ident", ["1²", "٣", "99999999999", str(2**31)])
def test_an_idea_id_of_odd_digits_is_refused_in_french(world, sockets, logged_errors, ident):
    """Found by the fuzz: « 1² » passed str.isdigit and int() raised (a logged failure);
    ids past 2**31 - 1 reached PostgreSQL's INTEGER."""
    ack = sockets.emit("facilitator", "contribution.move", {
        "key": uuid.uuid4().hex, "id": ident, "theme": "acces"})
    check_ack(ack, "contribution.move")
    assert not ack["ok"] and "nombre entier positif" in ack["error"], ack
    assert not logged_errors


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_bidi_controls_sent_over_sockets_never_reach_a_screen(shared_app, world, sockets):
    """The scribe's capture (text, speaker, commune) and a point's new name or split label
    lose their bidi controls, like the forms' fields."""
    point = world["points"][0]
    hostile = f"La fi{BIDI}bre\u202e au hameau"
    sent = [("scribe", "scribe.capture", {"text": hostile, "speaker": f"Ma{BIDI}rie",
                                          "commune": f"Vi{BIDI}c"}),
            ("facilitator", "point.rename", {"cluster": point, "label": hostile}),
            ("facilitator", "point.split", {"cluster": point, "ids": world["point_ideas"][:1],
                                            "label": f"Un aut{BIDI}re point."})]
    for role, event, payload in sent:
        ack = sockets.emit(role, event, {**payload, "key": uuid.uuid4().hex})
        assert ack["ok"], (event, ack)
        assert not SCREEN_HOSTILE.search(json.dumps(ack, ensure_ascii=False)), ack
    with shared_app.app_context():
        assert stored_hostile_text() == []
        assert db.session.scalar(select(Contribution.speaker_name).filter_by(
            speaker_name="Marie")) == "Marie"


def test_an_unknown_event_is_refused_not_left_unanswered(world, sockets):
    check_ack(sockets.emit("facilitator", "contribution.mvoe", {"key": uuid.uuid4().hex}),
              "an unknown event")
