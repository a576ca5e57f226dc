"""The health endpoint, the outage page, and logs without personal data."""

from __future__ import annotations

import json
import logging

from deliberation import create_app, logging_setup
from deliberation.config import TestConfig
from deliberation.extensions import db

from .conftest import login


def _app(tmp_path, **extra):
    return create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.db'}", **extra})


def test_health_ok_without_redis(client):
    response = client.get("/sante")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "absent"}


def test_health_reports_an_unreachable_redis(app, client):
    from tests.integration.stack import free_port

    # Set after create_app: an app built with REDIS_URL would leave Flask-SocketIO's
    # (process-wide) message queue behind for the next tests' apps.
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/sante")
    assert response.status_code == 503
    assert response.json == {"status": "degraded", "database": "ok", "redis": "error"}


def test_unreachable_database_gives_503_and_a_french_page(tmp_path):
    # A directory cannot be opened as a SQLite database: every query fails.
    (tmp_path / "absent").mkdir()
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'absent'}"})
    client = app.test_client()
    health = client.get("/sante")
    assert health.status_code == 503 and health.json["database"] == "error"
    page = client.get("/")
    assert page.status_code == 503
    assert "La base de données ne répond pas" in page.get_data(as_text=True)
    api = client.get("/api/congresses/TEST26")
    assert api.status_code == 503 and "base de données" in api.json["error"]


def test_json_logs_carry_no_personal_data(app, congress, official, facilitator):
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(logging_setup.JsonFormatter().format(record))

    app.config["LOG_FORMAT"] = "json"
    json_app = create_app({**app.config, "LOG_FORMAT": "json"})
    handler = Capture()
    logging.getLogger().addHandler(handler)
    try:
        client = json_app.test_client()
        login(client, official)
        client.post(f"/c/{congress.join_code}/contribuer",
                    data={"text": "Mon idée très personnelle sur la fibre"})
        client.get("/api/me", headers={"Authorization": f"Bearer {official.invite_token}"})
        client.post("/animation/connexion", data={"email": "anim@example.org",
                                                  "password": "mauvais"})
        logging.getLogger("motion.test").warning(
            "contact marie@example.org depuis 192.168.12.34 avec /i/%s",
            official.invite_token)
    finally:
        logging.getLogger().removeHandler(handler)
    text = "\n".join(records)
    assert records and all(json.loads(line) for line in records)
    routes = [json.loads(r).get("route") for r in records]
    assert "/i/<token>" in routes
    for secret in (official.invite_token, "Marie Durand", "marie@example.org",
                   "anim@example.org", "192.168.12.34", "très personnelle", "mauvais"):
        assert secret not in text, secret
    assert "192.168.0.0" in text and "[courriel]" in text


def test_scrub_and_ip_prefix():
    assert logging_setup.ip_prefix("203.0.113.77") == "203.0.0.0/16"
    assert logging_setup.ip_prefix("2001:db8:1234::1") == "2001:db8::/32"
    assert logging_setup.ip_prefix("pas une adresse") is None
    assert "secret" not in logging_setup.scrub("postgresql://motion:secret@db/motion")
    assert "Bearer [jeton]" in logging_setup.scrub("Authorization: Bearer abc.def")


def test_outage_page_for_a_logged_in_visitor(app, congress, official, monkeypatch):
    """Even the layout cannot read the current user: still a French 503, never a 500."""
    from sqlalchemy.exc import OperationalError

    client = app.test_client()
    login(client, official)

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "get", down)
        monkeypatch.setattr(db.session, "scalar", down)
        page = client.get(f"/c/{congress.join_code}")
    assert page.status_code == 503
    assert "La base de données ne répond pas" in page.get_data(as_text=True)
