"""Security: role checks on every route and socket event, CSRF, socket origins, CSP,
cookies, rate limits, size limits, invite tokens and sessions."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid

import pytest
from sqlalchemy import inspect, select, text

from deliberation import create_app
from deliberation.config import TestConfig
from deliberation.extensions import db, socketio
from deliberation.models import Ballot, Congress, Contribution, Participant

from .conftest import login, make_person, new_congress, text_of

ROLES = ("anonymous", "participant", "observer", "scribe", "facilitator")
LOGGED = {"participant", "observer", "scribe", "facilitator"}
STAFF = {"scribe", "facilitator"}
FACILITATOR = {"facilitator"}
VOTERS = {"participant", "scribe", "facilitator"}
EVERYONE = set(ROLES)

#: Who may use each endpoint (by its own rules; a refusal must change nothing). A new
#: route makes test_every_route_is_in_the_policy fail until it is listed here.
POLICY: dict[str, set[str]] = {
    "participant.home": EVERYONE, "participant.join": EVERYONE,
    "participant.invite": EVERYONE, "participant.logout": EVERYONE,
    "participant.congress": EVERYONE, "participant.contributions": EVERYONE,
    "participant.contribute": {"participant", "scribe", "facilitator"},
    "participant.edit": {"participant"}, "participant.withdraw": {"participant"},
    "live_board.live_board": EVERYONE, "live_board.similar": EVERYONE,
    "live_board.live_contribute": {"participant"}, "live_board.support": {"participant"},
    "vote.phone": LOGGED, "vote.cast": VOTERS, "vote.declare_presence": LOGGED,
    "vote.receipt": EVERYONE, "vote.projector": EVERYONE,
    "drafting.participant_amendments": EVERYONE, "drafting.propose_amendment": {"participant"},
    "privacy.policy": EVERYONE, "privacy.mine": LOGGED, "privacy.download": LOGGED,
    "privacy.erase_mine": LOGGED, "privacy.settings": FACILITATOR,
    "projector.screen": EVERYONE, "projector.state": EVERYONE, "health.health": EVERYONE,
    "facilitator.login": EVERYONE, "facilitator.dashboard": STAFF,
    "board.scribe": STAFF, "board.board_action": STAFF, "board.board": FACILITATOR,
    "board.board_content": FACILITATOR,
    "drafting.index": STAFF, "drafting.preview": STAFF, "drafting.preview_motion": STAFF,
    "drafting.article": STAFF, "drafting.versions": STAFF, "drafting.amendments": STAFF,
    # The JSON API authenticates with a bearer token, never the cookie (test_api.py).
    "api.congress": EVERYONE, "api.themes": EVERYONE, "api.list_contributions": EVERYONE,
    "api.create_contribution": set(), "api.me": set(),
}
for _name in ("publication.motion_page", "publication.export_html",
              "publication.export_markdown", "publication.export_pdf",
              "publication.report_page", "publication.export_results_csv",
              "publication.export_results_json", "publication.motion_version"):
    POLICY[_name] = EVERYONE
POLICY["publication.correct"] = POLICY["publication.correct_post"] = FACILITATOR
POLICY["privacy.accessibility"] = EVERYONE
POLICY["board.scribe_correct"] = STAFF
for _name in ("room.room_list", "room.room_record", "room.room_confirm", "room.room_discard"):
    POLICY[_name] = STAFF  # the two-person rule needs a second staff account (issue 18)
for _name in ("imports.upload", "imports.confirm", "sorting_report.page",
              "sorting_report.export_csv", "sorting_report.export_json",
              "staff_tokens.tokens", "staff_tokens.token_create", "staff_tokens.token_revoke"):
    POLICY[_name] = FACILITATOR
# The staff API authenticates with a bearer token, never the cookie (test_staff_api.py).
for _name in ("staff_api.phase", "staff_api.set_phase", "staff_api.presence",
              "staff_api.mark_presence", "staff_api.grant_proxy", "staff_api.revoke_proxy",
              "staff_api.ballot_list", "staff_api.ballot_create", "staff_api.ballot_step",
              "staff_api.ballot_results", "staff_api.room_count_record",
              "staff_api.room_count_confirm", "staff_api.room_count_discard",
              "staff_api.export"):
    POLICY[_name] = set()
FACILITATOR_PREFIXES = ("facilitator.", "vote.ballot_", "vote.mark_presence", "vote.presence",
                        "vote.proxy_", "drafting.", "derivation.")

SOCKET_POLICY: dict[str, set[str]] = {
    "snapshot": EVERYONE, "ballot.state": EVERYONE, "ballot.vote": VOTERS,
    "*": EVERYONE,  # any event no handler knows: refused for everyone, never unanswered
    "contribution.move": STAFF, "contribution.confirm": STAFF, "scribe.capture": STAFF,
    "contribution.hide": FACILITATOR, "contribution.unhide": FACILITATOR,
    "contribution.duplicate": FACILITATOR, "point.merge": FACILITATOR,
    "point.split": FACILITATOR, "point.rename": FACILITATOR, "projector.mode": FACILITATOR,
    "theme.granularity": FACILITATOR, "contribution.correct": STAFF,
    "support": {"participant"},
}
#: Events that only read: any role may send them, and they never change anything.
READ_ONLY_EVENTS = {"snapshot", "ballot.state"}


def allowed(endpoint: str) -> set[str]:
    if endpoint in POLICY:
        return POLICY[endpoint]
    if endpoint.startswith(FACILITATOR_PREFIXES):
        return FACILITATOR
    raise KeyError(endpoint)


def _config(uri: str, **extra) -> dict:
    return {**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
            "SQLALCHEMY_DATABASE_URI": uri, **extra}


def fingerprint() -> str:
    """A digest of every row of every table: equal digests, nothing changed."""
    digest = hashlib.sha256()
    for table in sorted(inspect(db.engine).get_table_names()):
        rows = db.session.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')).all()
        digest.update(f"{table}:{json.dumps([list(r) for r in rows], default=str)}".encode())
    db.session.rollback()
    return digest.hexdigest()


def _seed_world() -> dict:
    from deliberation import ballots
    from deliberation.models import Article

    congress = new_congress("Congrès", "SECU26")
    db.session.commit()
    people = {"participant": make_person(congress, "Élue", present=True),
              "observer": make_person(congress, "Observateur", role="observer"),
              "scribe": make_person(congress, "Scribe", role="scribe", email="s@example.org",
                                    password="motdepasse-solide", present=True),
              "facilitator": make_person(congress, "Anim", role="facilitator",
                                         email="a@example.org", password="motdepasse-solide",
                                         present=True)}
    contribution = Contribution(congress_id=congress.id, author_id=people["participant"].id,
                                text="Fibre optique dans chaque commune rurale")
    db.session.add(contribution)
    ballot = ballots.create(congress, "Texte entier")
    from deliberation import drafting

    drafting.motion_for(congress)  # created on first view otherwise (a read that writes)
    db.session.commit()
    article = db.session.scalar(select(Article).filter_by(congress_id=congress.id)
                                .order_by(Article.id))
    return {"code": congress.join_code, "tokens": {r: p.invite_token for r, p in people.items()},
            "emails": {r: p.email for r, p in people.items()},
            "ids": {r: p.id for r, p in people.items()}, "contribution": contribution.id,
            "ballot": ballot.id, "article": article.id}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One seeded SQLite file, copied afresh for every route (allowed calls change it)."""
    tmp = tmp_path_factory.mktemp("security")
    template = tmp / "template.db"
    app = create_app(_config(f"sqlite:///{template}"))
    with app.app_context():
        db.create_all()
        data = _seed_world()
        db.session.remove()
        db.engine.dispose()
    return tmp, template, data


def _values(rule, data) -> dict:
    values = {"code": data["code"], "token": "x" * 32, "pid": data["ids"]["participant"],
              "contribution_id": data["contribution"], "ballot_id": data["ballot"],
              "article_id": data["article"], "number": 1, "amendment_id": 1,
              "what": "contributions", "account_id": data["ids"]["facilitator"],
              "token_id": 1, "step": "open", "name": "contributions.csv", "giver_id": 1}
    if rule.endpoint == "vote.ballot_action":
        values["action"] = "open"
    elif rule.endpoint == "drafting.decide":
        values["action"] = "accept"
    return {name: values[name] for name in rule.arguments}


def _url(app, rule, data) -> str:
    return app.url_map.bind("localhost").build(rule.endpoint, _values(rule, data))


FORM = {"text": "Une idée de test sur la fibre", "choice": "pour", "phase": "debate",
        "display_name": "Quelqu'un", "commune": "Vic", "code": "SECU26", "email": "a@b.fr",
        "password": "mauvais", "title": "Titre", "body_md": "Texte", "retention_days": "30",
        "mode": "overview", "action": "confirm", "id": "1", "theme": "acces"}


def _call(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={**FORM, "key": uuid.uuid4().hex})


def test_every_route_is_in_the_policy(app):
    missing = [r.endpoint for r in app.url_map.iter_rules()
               if r.endpoint != "static" and not _known(r.endpoint)]
    assert missing == [], "declare who may use these routes in POLICY"
    assert set(socketio.server.handlers["/"]) - {"connect"} == set(SOCKET_POLICY)


def _known(endpoint: str) -> bool:
    try:
        allowed(endpoint)
    except KeyError:
        return False
    return True


def test_every_route_as_every_role(world):
    """Each route, as each role: never a 500; a refused role gets a refusal (login
    redirect, 401, 403, 404) and changes nothing; an allowed role is not refused."""
    tmp, template, data = world
    live_db = tmp / "live.db"
    app = create_app(_config(f"sqlite:///{live_db}"))
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"),
                   key=lambda r: r.rule)
    problems = []
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            shutil.copy(template, live_db)
            with app.app_context():
                url = _url(app, rule, data)
                who = allowed(rule.endpoint)
                # Refused roles first, on the pristine copy; allowed ones may change it.
                for role in sorted(ROLES, key=lambda r: r in who):
                    client = app.test_client()
                    if role != "anonymous":
                        login(client, _Person(data, role))
                    before = fingerprint() if role not in who else None
                    response = _call(client, method, url)
                    status = response.status_code
                    where = f"{method} {rule.rule} as {role}: {status}"
                    if status >= 500:
                        problems.append(where + " (server error)")
                    elif role in who:
                        if status == 403 or _to_login(response) or (
                                status == 401 and rule.endpoint != "facilitator.login"):
                            problems.append(where + " (refused an allowed role)")
                    else:
                        if status not in (302, 303, 400, 401, 403, 404, 405, 409, 422) or (
                                status in (302, 303) and not _to_login(response)
                                and method == "GET"):
                            problems.append(where + " (not refused)")
                        if fingerprint() != before:
                            problems.append(where + " (changed the database)")
                db.session.remove()
                db.engine.dispose()
    assert not problems, "\n".join(problems)


class _Person:
    """What `login` needs of a seeded person, readable outside its database session."""

    def __init__(self, data: dict, role: str):
        self.invite_token = data["tokens"][role]
        self.role, self.email = role, data["emails"][role]


def _to_login(response) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code in (302, 303) and (
        "/rejoindre" in location or "/animation/connexion" in location)


def _payload(event: str, data: dict) -> dict:
    return {"key": uuid.uuid4().hex, "id": data["contribution"], "ballot": data["ballot"],
            "choice": "pour", "theme": "acces", "of": data["contribution"], "into": "p1",
            "from": "p2", "cluster": "p1", "ids": [data["contribution"]], "label": "Nom",
            "mode": "overview", "text": "Une idée captée en séance",
            "speaker_name": "Orateur", "speaker_commune": "Vic"}


def test_every_socket_event_as_every_role(world):
    """Each socket event, as each role: a refused role gets {ok: false, error} in French
    and changes nothing; an allowed role is not refused for its role."""
    tmp, template, data = world
    live_db = tmp / "socket.db"
    app = create_app(_config(f"sqlite:///{live_db}"))
    problems = []
    events = sorted(set(socketio.server.handlers["/"]) - {"connect"})
    for event in events:
        who = SOCKET_POLICY[event]
        shutil.copy(template, live_db)
        with app.app_context():
            for role in sorted(ROLES, key=lambda r: r in who):
                client = app.test_client()
                if role != "anonymous":
                    login(client, _Person(data, role))
                sock = socketio.test_client(app, flask_test_client=client, auth={
                    "congress": data["code"],
                    "audience": "facilitator" if role in STAFF else "participants"})
                assert sock.is_connected(), role
                before = fingerprint()
                ack = sock.emit(event, _payload(event, data), callback=True)
                where = f"{event} as {role}: {ack!r:.200}"
                if not isinstance(ack, dict) or "ok" not in ack:
                    problems.append(where + " (no acknowledgement)")
                elif role in who:
                    if not ack["ok"] and re.search(r"rôle|Connectez-vous", ack.get("error", "")):
                        problems.append(where + " (refused an allowed role)")
                else:
                    if ack["ok"] or not ack.get("error"):
                        problems.append(where + " (not refused)")
                    if fingerprint() != before:
                        problems.append(where + " (changed the database)")
                if event in READ_ONLY_EVENTS and fingerprint() != before:
                    problems.append(where + " (a read changed the database)")
                sock.disconnect()
            db.session.remove()
            db.engine.dispose()
    assert not problems, "\n".join(problems)


def test_staff_rooms_refuse_other_roles(app, congress, official):
    anonymous = socketio.test_client(app, auth={"congress": congress.join_code,
                                                "audience": "facilitator"})
    assert not anonymous.is_connected()
    client = app.test_client()
    login(client, official)
    member = socketio.test_client(app, flask_test_client=client,
                                  auth={"congress": congress.join_code, "audience": "facilitator"})
    assert not member.is_connected()


# --- CSRF -----------------------------------------------------------------------------

@pytest.fixture
def csrf_app(tmp_path):
    app = create_app(_config(f"sqlite:///{tmp_path / 'csrf.db'}", WTF_CSRF_ENABLED=True))
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_every_state_changing_route_requires_a_csrf_token(csrf_app):
    with csrf_app.app_context():
        data = _seed_world()
        client = csrf_app.test_client()
        login(client, _Person(data, "facilitator"))
        refused = []
        for rule in csrf_app.url_map.iter_rules():
            writes = rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
            if rule.endpoint.startswith(("api.", "staff_api.")) or not writes:
                continue
            before = fingerprint()
            url = _url(csrf_app, rule, data)
            response = client.post(url, data=FORM)
            if response.status_code != 400 or fingerprint() != before:
                refused.append(f"{rule.rule}: {response.status_code}")
            assert "Le formulaire a expiré" in text_of(response)
        assert refused == []


def test_a_form_with_its_token_goes_through(csrf_app):
    with csrf_app.app_context():
        data = _seed_world()
        client = csrf_app.test_client()
        login(client, _Person(data, "participant"))
        page = client.get(f"/c/{data['code']}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post(f"/c/{data['code']}/contribuer",
                               data={"text": "Une idée avec jeton", "csrf_token": token})
        assert response.status_code == 302


def test_the_json_api_needs_a_bearer_token_not_a_cookie(csrf_app):
    with csrf_app.app_context():
        data = _seed_world()
        client = csrf_app.test_client()
        login(client, _Person(data, "participant"))
        response = client.post(f"/api/congresses/{data['code']}/contributions",
                               json={"text": "Par cookie seulement"})
        assert response.status_code == 401


# --- Socket.IO origins ------------------------------------------------------------------

def _handshake(client, origin: str | None, host: str = "localhost"):
    headers = {"Host": host}
    if origin:
        headers["Origin"] = origin
    return client.get("/socket.io/?EIO=4&transport=polling", headers=headers)


def test_socket_connections_from_a_foreign_origin_are_refused(client):
    assert _handshake(client, "https://pirate.example").status_code == 400
    assert _handshake(client, "http://localhost.pirate.example").status_code == 400
    assert _handshake(client, "http://localhost").status_code == 200
    assert _handshake(client, None).status_code == 200


def test_public_url_sets_the_allowed_origin(tmp_path):
    app = create_app(_config(f"sqlite:///{tmp_path / 'o.db'}",
                             PUBLIC_URL="https://motion.example.fr"))
    client = app.test_client()
    assert _handshake(client, "https://motion.example.fr", "motion.example.fr"
                      ).status_code == 200
    assert _handshake(client, "https://pirate.example", "motion.example.fr").status_code == 400
    assert socketio.server.eio.cors_allowed_origins != "*"


# --- headers, cookies ------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=", re.I)


def test_content_security_policy_is_strict_and_pages_have_no_inline_script(
        app, congress, official, facilitator):
    response = app.test_client().get("/")
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    pages = {None: ["/", "/rejoindre", "/animation/connexion", "/donnees-personnelles",
                    f"/c/{congress.join_code}", f"/projecteur/{congress.join_code}",
                    f"/c/{congress.join_code}/direct"],
             official: [f"/c/{congress.join_code}", "/mes-donnees",
                        f"/c/{congress.join_code}/vote"],
             facilitator: ["/animation/", "/animation/participants", "/animation/tableau",
                           "/animation/scrutins", "/animation/donnees", "/animation/releve"]}
    found = []
    for person, urls in pages.items():
        client = app.test_client()
        if person is not None:
            login(client, person)
        for url in urls:
            page = client.get(url)
            assert page.status_code == 200, url
            body = page.get_data(as_text=True)
            for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE):
                found += [f"{url}: {m.group(0)[:80]}" for m in pattern.finditer(body)]
    assert found == []


def test_session_cookies_are_http_only_same_site_and_secure_when_asked(tmp_path, monkeypatch):
    app = create_app(_config(f"sqlite:///{tmp_path / 'c.db'}", SESSION_COOKIE_SECURE=True,
                             REMEMBER_COOKIE_SECURE=True))
    with app.app_context():
        db.create_all()
        data = _seed_world()
        response = app.test_client().get(f"/i/{data['tokens']['participant']}")
        cookies = response.headers.getlist("Set-Cookie")
        assert cookies
        for cookie in cookies:
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
        db.session.remove()
        db.engine.dispose()


def test_wsgi_makes_cookies_secure_behind_https(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PUBLIC_URL": "https://motion.example.fr", "MOTION_INSTANCE":
           str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "LOG_FORMAT": "text"}
    env.pop("REDIS_URL", None)
    run = subprocess.run([sys.executable, "-c", "import wsgi; c = wsgi.app.config; "
                          "print(c['SESSION_COOKIE_SECURE'], c['REMEMBER_COOKIE_SECURE'], "
                          "c['SESSION_COOKIE_HTTPONLY'], c['SESSION_COOKIE_SAMESITE'])"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.stdout.split() == ["True", "True", "True", "Lax"], run.stderr[-1000:]


# --- sessions and invite tokens --------------------------------------------------------

def test_login_starts_a_fresh_session(app, official):
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "par un tiers"
    login(client, official)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{official.id}:{official.session_epoch}"


def test_revoked_invite_closes_session_and_socket(app, congress, official, facilitator):
    client = app.test_client()
    login(client, official)
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"congress": congress.join_code})
    assert sock.is_connected()
    staff = app.test_client()
    login(staff, facilitator)
    assert staff.post(f"/animation/participants/{official.id}/revoquer").status_code == 302
    assert not sock.is_connected()
    old = official.invite_token
    # Fresh app contexts: Flask-Login caches the user in `g`, which the fixture's
    # long-lived context would otherwise share between requests.
    with app.app_context():
        assert client.get("/mes-donnees").status_code == 302  # the session is gone too
    with app.app_context():
        assert client.get(f"/i/{old}").status_code == 404
    with app.app_context():
        staff.post(f"/animation/participants/{official.id}/nouveau-lien")
    with app.app_context():
        fresh = db.session.get(Participant, official.id).invite_token
    assert fresh != old and len(fresh) >= 32
    with app.app_context():
        assert client.get(f"/i/{old}").status_code == 404
    with app.app_context():
        assert app.test_client().get(f"/i/{fresh}").status_code == 302


def test_invite_tokens_are_unguessable(congress):
    tokens = [make_person(congress, f"Élu {i}").invite_token for i in range(30)]
    assert len(set(tokens)) == 30
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32,}", t) for t in tokens)  # ≥ 192 bits


# --- rate limits ------------------------------------------------------------------------

@pytest.fixture
def limited(tmp_path):
    app = create_app(_config(f"sqlite:///{tmp_path / 'r.db'}", RATELIMIT_ENABLED=True,
                             RATELIMIT_STORAGE_URI="memory-lazy://",
                             RATELIMIT_KEY_PREFIX=uuid.uuid4().hex,
                             RATELIMIT_LOGIN="3 per minute", RATELIMIT_CONTRIBUTE="2 per minute",
                             RATELIMIT_VOTE="2 per minute"))
    with app.app_context():
        db.create_all()
        yield app, _seed_world()
        db.session.remove()
        db.engine.dispose()


def _is_429_in_french(response) -> bool:
    return response.status_code == 429 and "Trop de demandes" in response.get_data(as_text=True)


def test_login_is_rate_limited(limited):
    app, _ = limited
    client = app.test_client()
    codes = [client.post("/animation/connexion", data={"email": "a@example.org",
                                                        "password": "faux"}).status_code
             for _ in range(3)]
    assert codes == [401, 401, 401]
    response = client.post("/animation/connexion", data={"email": "a@example.org",
                                                          "password": "motdepasse-solide"})
    assert _is_429_in_french(response)
    assert response.headers.get("Retry-After")


def test_contributions_are_rate_limited_on_the_form_and_the_api(limited):
    app, data = limited
    client = app.test_client()
    login(client, _Person(data, "participant"))
    url = f"/c/{data['code']}/contribuer"
    assert [client.post(url, data={"text": f"Idée numéro {i}"}).status_code
            for i in range(2)] == [302, 302]
    assert _is_429_in_french(client.post(url, data={"text": "Une de trop"}))
    api = f"/api/congresses/{data['code']}/contributions"
    congress = db.session.scalar(select(Congress).filter_by(join_code=data["code"]))
    headers = {"Authorization": f"Bearer {make_person(congress, 'Autre élue').invite_token}"}
    for i in range(2):
        assert app.test_client().post(api, json={"text": f"Idée par l'API n° {i}"},
                                      headers=headers).status_code == 201
    response = app.test_client().post(api, json={"text": "API de trop"}, headers=headers)
    assert response.status_code == 429 and "Trop de demandes" in response.json["error"]


def test_votes_are_rate_limited_over_http_and_sockets(limited):
    from deliberation import ballots

    app, data = limited
    ballots.open_ballot(data["ballot"])
    client = app.test_client()
    login(client, _Person(data, "participant"))
    url = f"/c/{data['code']}/vote/{data['ballot']}"
    codes = [client.post(url, data={"choice": "pour"}).status_code for _ in range(3)]
    assert codes[-1] == 429
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"congress": data["code"]})
    acks = [sock.emit("ballot.vote", {"ballot": data["ballot"], "choice": "pour",
                                      "key": uuid.uuid4().hex}, callback=True)
            for _ in range(3)]
    assert acks[-1]["ok"] is False and "Trop de" in acks[-1]["error"]


# --- size limits ------------------------------------------------------------------------

def test_size_limits_on_text_uploads_and_socket_messages(app, congress, official, facilitator):
    client = app.test_client()
    login(client, official)
    response = client.post(f"/c/{congress.join_code}/contribuer", data={"text": "a" * 2001})
    assert response.status_code == 422 and re.search(r"2\s?000", text_of(response))
    staff = app.test_client()
    login(staff, facilitator)
    big = b"nom;commune\n" + b"x" * (3 * 1024 * 1024)
    import gc
    import warnings
    from io import BytesIO

    with warnings.catch_warnings():
        # The test client spools a body this large to a temporary file it never closes.
        warnings.simplefilter("ignore", ResourceWarning)
        response = staff.post("/animation/participants/import",
                              data={"file": (BytesIO(big), "gros.csv")})
        refused = response.status_code, text_of(response)
        response.request.input_stream.close()
        del response
        gc.collect()
    assert refused[0] == 413 and "Envoi trop volumineux" in refused[1]
    assert socketio.server.eio.max_http_buffer_size <= 64 * 1024
    sock = socketio.test_client(app, flask_test_client=staff,
                                auth={"congress": congress.join_code, "audience": "facilitator"})
    ack = sock.emit("scribe.capture", {"key": uuid.uuid4().hex, "text": "x" * 40000},
                    callback=True)
    assert ack["ok"] is False and "volumineux" in ack["error"]
    assert db.session.scalar(select(db.func.count()).select_from(Contribution)) == 0
    assert db.session.scalar(select(db.func.count()).select_from(Ballot)) == 0
    assert db.session.get(Participant, official.id) is not None
