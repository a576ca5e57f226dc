"""Absolute links come from PUBLIC_URL, never from the Host header; production refuses to
start without it; the CSP names the socket origin and HSTS follows https (issue 13)."""

from __future__ import annotations

import html
import os
import subprocess
import sys
from pathlib import Path

import pytest
import segno

from deliberation import create_app
from deliberation.config import TestConfig
from deliberation.extensions import db
from deliberation.links import (
    APP_LOAD_ERROR,
    PublicUrlError,
    parse_public_url,
    socket_origin,
)
from deliberation.web.projector import qr_data_uri

from .conftest import login, make_person, new_congress

ROOT = Path(__file__).resolve().parent.parent
EVIL = {"Host": "evil.example"}
PUBLIC = "https://motion.example.fr"


def _app(tmp_path, **extra):
    return create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'links.db'}",
                       **extra})


@pytest.fixture
def world(tmp_path):
    """An app with PUBLIC_URL set, a congress, an official and a facilitator logged in."""
    app = _app(tmp_path, PUBLIC_URL=PUBLIC + "/")
    with app.app_context():
        db.create_all()
        congress = new_congress("Congrès public", "PUBL26")
        db.session.commit()
        official = make_person(congress, "Élu invité")
        staff = app.test_client()
        login(staff, make_person(congress, "Animation", role="facilitator",
                                 email="anim@example.org", password="motdepasse-solide"))
        yield app, congress, official, staff
        db.session.remove()
        db.engine.dispose()


def test_public_url_is_parsed_as_a_bare_origin():
    assert parse_public_url(None) is None and parse_public_url("  ") is None
    assert parse_public_url("https://Motion.Example.fr/") == "https://motion.example.fr"
    assert parse_public_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    for bad in ("motion.example.fr", "ftp://motion.example.fr", "https://motion.example.fr/a",
                "https://u:p@motion.example.fr", "https://motion.example.fr/?x=1",
                "https://motion.example.fr:port", "javascript:alert(1)", "https://"):
        with pytest.raises(PublicUrlError, match="PUBLIC_URL invalide"):
            parse_public_url(bad)
    assert socket_origin("https://motion.example.fr") == "wss://motion.example.fr"
    assert socket_origin("http://127.0.0.1:8080") == "ws://127.0.0.1:8080"
    assert socket_origin(None) is None


def test_a_malformed_public_url_stops_the_app_with_a_french_message(tmp_path):
    with pytest.raises(PublicUrlError, match="indiquez l'adresse publique du site"):
        _app(tmp_path, PUBLIC_URL="motion.example.fr/chemin")


def test_a_forged_host_never_reaches_an_absolute_link(world):
    app, congress, official, staff = world
    join = f"{PUBLIC}/rejoindre?code=PUBL26"
    invite = f"{PUBLIC}/i/{official.invite_token}"
    pages = {
        "projector": app.test_client().get("/projecteur/PUBL26", headers=EVIL),
        "dashboard": staff.get("/animation/", headers=EVIL),
        "participants": staff.get("/animation/participants", headers=EVIL),
        "invitations": staff.get("/animation/invitations", headers=EVIL),
        "export": staff.get("/animation/export/participants.csv", headers=EVIL),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        body = response.get_data(as_text=True)
        assert "evil.example" not in body, name
    assert join in html.unescape(pages["dashboard"].get_data(as_text=True))
    projector = pages["projector"].get_data(as_text=True)
    assert "motion.example.fr/rejoindre" in projector
    assert qr_data_uri(join) in projector  # the QR code encodes the public link
    assert invite in pages["participants"].get_data(as_text=True)
    sheet = pages["invitations"].get_data(as_text=True)
    assert invite in sheet
    assert segno.make(invite, error="m").svg_data_uri(scale=3) in sheet  # its QR code too
    assert invite in pages["export"].get_data(as_text=True)
    # Redirects stay relative: the forged host is not echoed in a Location either. (A
    # fresh app context each: the fixture's would keep the last request's user in `g`.)
    for url in ("/animation/", f"/i/{official.invite_token}"):
        with app.app_context():
            response = app.test_client().get(url, headers=EVIL)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/"), response.headers["Location"]


def test_without_public_url_development_falls_back_to_the_request_host(tmp_path):
    app = _app(tmp_path)
    with app.app_context():
        db.create_all()
        new_congress("Congrès local", "LOCA26")
        db.session.commit()
        page = app.test_client().get("/projecteur/LOCA26",
                                     headers={"Host": "127.0.0.1:5000"}).get_data(as_text=True)
        assert "127.0.0.1:5000/rejoindre" in page
        db.session.remove()
        db.engine.dispose()


def test_demo_info_prints_the_public_url(world):
    app, *_ = world
    result = app.test_cli_runner().invoke(args=["demo-info"])
    assert result.exit_code == 0, result.output
    assert f"{PUBLIC}/rejoindre?code=PUBL26" in result.output
    assert "127.0.0.1" not in result.output


def _import_wsgi(tmp_path, **env):
    environment = {**os.environ, "MOTION_INSTANCE": str(tmp_path), "LOG_FORMAT": "text",
                   "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", **env}
    environment.pop("REDIS_URL", None)
    if "PUBLIC_URL" not in env:
        environment.pop("PUBLIC_URL", None)
    return subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_production_refuses_to_start_without_public_url(tmp_path):
    missing = _import_wsgi(tmp_path)
    assert missing.returncode == APP_LOAD_ERROR  # gunicorn's master stops too
    assert "PUBLIC_URL manquant : en production" in missing.stderr
    assert "Traceback" not in missing.stderr
    malformed = _import_wsgi(tmp_path, PUBLIC_URL="motion.example.fr")
    assert malformed.returncode == APP_LOAD_ERROR and "PUBLIC_URL invalide" in malformed.stderr


# --- headers ---------------------------------------------------------------------------

def _directives(response) -> dict[str, str]:
    csp = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in csp.split(";"))


@pytest.mark.parametrize(("public", "connect", "hsts"), [
    (None, "'self'", False),
    ("http://127.0.0.1:8080", "'self' ws://127.0.0.1:8080", False),
    (PUBLIC, "'self' wss://motion.example.fr", True),
])
def test_csp_names_the_socket_origin_and_hsts_follows_https(tmp_path, public, connect, hsts):
    app = _app(tmp_path, PUBLIC_URL=public)
    with app.app_context():
        db.create_all()
        for url in ("/", "/sante", "/static/js/vote.js", "/page-absente"):
            response = app.test_client().get(url, headers=EVIL)
            sources = _directives(response)["connect-src"]
            assert sources == connect, url
            assert not {"ws:", "wss:", "*"} & set(sources.split())  # never any host
            if hsts:
                assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
            else:
                assert "Strict-Transport-Security" not in response.headers
            response.close()  # the static file's handle
        db.session.remove()
        db.engine.dispose()
