"""Rate limits on every write path (issue 13): the live board's contributions, "+1" over
HTTP and Socket.IO, the debate's actions, invitation links, and every other POST; each
refusal a French 429 (page or JSON) or a refusing ack with code "rate_limited"."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select

from deliberation import create_app
from deliberation.config import TestConfig
from deliberation.extensions import db, socketio
from deliberation.models import Contribution

from .conftest import login, make_person, new_congress, text_of
from .integration import services

CODE = "LIMI26"


def _config(uri: str, **extra) -> dict:
    return {**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
            "SQLALCHEMY_DATABASE_URI": uri, "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory-lazy://", "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex,
            **extra}


@pytest.fixture
def make_app(tmp_path):
    """Build the app with limits on (the lazy memory storage unless given), a congress."""
    built = []

    def build(**limits):
        app = create_app(_config(f"sqlite:///{tmp_path / 'limits.db'}", **limits))
        context = app.app_context()
        context.push()
        built.append((app, context))
        db.create_all()
        if not db.session.scalar(select(Contribution.id).limit(1)):
            congress = new_congress("Congrès limité", CODE, phase="debate")
            db.session.commit()
            author = make_person(congress, "Autrice")
            db.session.add(Contribution(congress_id=congress.id, author_id=author.id,
                                        text="La fibre optique dans chaque commune rurale"))
            db.session.commit()
        return app

    yield build
    for _app, context in reversed(built):
        db.session.remove()
        db.engine.dispose()
        context.pop()


def _congress():
    from deliberation.models import Congress

    return db.session.scalar(select(Congress).filter_by(join_code=CODE))


def _idea() -> int:
    return db.session.scalar(select(Contribution.id).order_by(Contribution.id))


def _is_french_429(response) -> bool:
    return (response.status_code == 429 and "Trop de demandes" in text_of(response)
            and bool(response.headers.get("Retry-After")))


def test_both_contribution_forms_share_one_allowance(make_app):
    app = make_app(RATELIMIT_CONTRIBUTE="2 per minute")
    client = app.test_client()
    login(client, make_person(_congress(), "Élue pressée"))
    assert client.post(f"/c/{CODE}/contribuer", data={"text": "Une idée du formulaire"}
                       ).status_code == 302
    assert client.post(f"/c/{CODE}/direct/contribuer", data={"text": "Une idée du direct"}
                       ).status_code == 302
    refused = client.post(f"/c/{CODE}/direct/contribuer", data={"text": "Une de trop ici"})
    assert _is_french_429(refused)
    assert db.session.scalar(select(db.func.count()).select_from(Contribution)) == 3
    # Another official is not held back by the first one's allowance.
    other = app.test_client()
    login(other, make_person(_congress(), "Élu patient"))
    assert other.post(f"/c/{CODE}/direct/contribuer", data={"text": "Mon idée à moi"}
                      ).status_code == 302


def test_support_is_limited_over_http_and_over_the_socket(make_app):
    app = make_app(RATELIMIT_SUPPORT="2 per minute")
    client = app.test_client()
    login(client, make_person(_congress(), "Élue enthousiaste"))
    url = f"/c/{CODE}/soutenir/{_idea()}"
    codes = [client.post(url, data={"key": uuid.uuid4().hex}).status_code for _ in range(2)]
    assert codes == [302, 302]
    assert _is_french_429(client.post(url, data={"key": uuid.uuid4().hex}))
    answer = client.post(url, data={"key": uuid.uuid4().hex},
                         headers={"Accept": "application/json"})
    assert answer.status_code == 429 and "Trop de demandes" in answer.json["error"]

    sock = socketio.test_client(app, flask_test_client=client, auth={"congress": CODE})
    acks = [sock.emit("support", {"id": _idea(), "key": uuid.uuid4().hex}, callback=True)
            for _ in range(3)]
    assert [a.get("code") for a in acks[:2]] != ["rate_limited"] * 2
    assert acks[-1]["ok"] is False and acks[-1]["code"] == "rate_limited"
    assert "Trop d'actions" in acks[-1]["error"]
    sock.disconnect()


def test_debate_actions_over_the_socket_are_limited_per_person(make_app):
    app = make_app(RATELIMIT_LIVE_ACTION="3 per minute")
    congress = _congress()
    staff = app.test_client()
    login(staff, make_person(congress, "Animatrice", role="facilitator",
                             email="anim@example.org", password="motdepasse-solide"))
    sock = socketio.test_client(app, flask_test_client=staff,
                                auth={"congress": CODE, "audience": "facilitator"})
    modes = ["overview", "vote", "overview", "vote"]
    acks = [sock.emit("projector.mode", {"mode": mode, "key": uuid.uuid4().hex}, callback=True)
            for mode in modes]
    assert [a["ok"] for a in acks[:3]] == [True, True, True], acks
    assert acks[3] == {"ok": False, "code": "rate_limited",
                       "error": "Trop d'actions en peu de temps\u00a0: patientez un instant "
                                "puis réessayez."}
    # Each action has its own allowance: a hide is still accepted.
    ack = sock.emit("contribution.hide", {"id": _idea(), "key": uuid.uuid4().hex},
                    callback=True)
    assert ack["ok"] is True, ack
    sock.disconnect()


def test_invitation_links_are_limited_per_address(make_app):
    app = make_app(RATELIMIT_INVITE="2 per minute")
    person = make_person(_congress(), "Élu invité")
    codes = [app.test_client().get(f"/i/{person.invite_token}").status_code for _ in range(2)]
    assert codes == [302, 302]
    guessed = app.test_client().get("/i/" + "x" * 43)
    assert _is_french_429(guessed)
    # Another address is not held back.
    other = app.test_client().get(f"/i/{person.invite_token}",
                                  environ_overrides={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 302


def test_other_posts_fall_under_the_default_write_limit(make_app):
    app = make_app(RATELIMIT_WRITE="2 per minute", RATELIMIT_VOTE="5 per minute")
    congress = _congress()
    congress.presence_open = True
    db.session.commit()
    client = app.test_client()
    login(client, make_person(congress, "Élue présente"))
    url = f"/c/{CODE}/presence"
    assert [client.post(url).status_code for _ in range(2)] == [302, 302]
    assert _is_french_429(client.post(url))
    # The erasure form is another page: its own allowance, refused on the third post too.
    for _ in range(2):
        assert client.post("/mes-donnees/effacer", data={"confirm": ""}).status_code != 429
    assert client.post("/mes-donnees/effacer",
                       data={"confirm": ""}).status_code == 429
    # A path with its own limit is not also held to the default one.
    from deliberation import ballots

    ballot = ballots.create(congress, "Texte entier")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    codes = [client.post(f"/c/{CODE}/vote/{ballot.id}", data={"choice": "pour"}).status_code
             for _ in range(4)]
    assert 429 not in codes, codes


def test_every_post_route_has_a_limit(make_app):
    """Anonymous posts everywhere, every limit at one a minute: the second post to any
    route is refused with a 429, whatever the route does with the first."""
    names = ("LOGIN", "JOIN", "CONTRIBUTE", "VOTE", "SUPPORT", "INVITE", "LIVE_ACTION",
             "WRITE", "STAFF_API")
    app = make_app(**{f"RATELIMIT_{name}": "1 per minute" for name in names})
    int_converter = app.url_map.converters["int"]
    unlimited = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        values = {name: 1 if isinstance(rule._converters[name], int_converter) else "x"
                  for name in rule.arguments}
        values.update({"code": CODE} if "code" in rule.arguments else {})
        url = app.url_map.bind("localhost").build(rule.endpoint, values)
        client = app.test_client()
        client.post(url, data={"key": uuid.uuid4().hex})
        second = client.post(url, data={"key": uuid.uuid4().hex})
        if second.status_code != 429:
            unlimited.append(f"{rule.endpoint} {url} → {second.status_code}")
    assert unlimited == []


def test_limits_are_shared_across_processes_through_redis(make_app):
    """Two apps on one Redis (two server processes): hits on one count on the other."""
    redis_url = services.require_redis()
    prefix = uuid.uuid4().hex
    first = make_app(RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix,
                     RATELIMIT_INVITE="2 per minute", RATELIMIT_SUPPORT="2 per minute")
    person = make_person(_congress(), "Élue partagée")
    assert first.test_client().get(f"/i/{person.invite_token}").status_code == 302
    second = make_app(RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix,
                      RATELIMIT_INVITE="2 per minute", RATELIMIT_SUPPORT="2 per minute")
    client = second.test_client()
    assert client.get(f"/i/{person.invite_token}").status_code == 302
    assert _is_french_429(client.get(f"/i/{person.invite_token}"))
    # The socket limits use the same storage.
    sock = socketio.test_client(second, flask_test_client=client, auth={"congress": CODE})
    acks = [sock.emit("support", {"id": _idea(), "key": uuid.uuid4().hex}, callback=True)
            for _ in range(3)]
    assert [a.get("code") for a in acks] == [None, None, "rate_limited"], acks
    sock.disconnect()


def test_an_operator_sets_a_limit_in_the_environment(tmp_path):
    """RATELIMIT_LOGIN=... in the environment reaches the app's config (docs/security.md)."""
    env = {"PATH": "/usr/bin:/bin", "MOTION_INSTANCE": str(tmp_path),
           "RATELIMIT_LOGIN": "3 per minute"}
    shown = subprocess.run([sys.executable, "-c", "from deliberation.config import Config; "
                            "print(Config.RATELIMIT_LOGIN, Config.RATELIMIT_JOIN)"],
                           env=env, capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["3", "per", "minute", "None"]


def test_an_unreadable_limit_stops_the_start_in_french(tmp_path):
    with pytest.raises(ValueError, match="RATELIMIT_LOGIN : « beaucoup » n'est pas une limite"):
        create_app(_config(f"sqlite:///{tmp_path / 'x.db'}", RATELIMIT_LOGIN="beaucoup"))
