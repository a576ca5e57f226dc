"""Shared fixtures: every test gets its own app on a throwaway SQLite database."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from deliberation import create_app, push
from deliberation.config import TestConfig
from deliberation.extensions import db
from deliberation.models import Congress, Participant, Theme

SMALL_THEMES = [
    {"code": "acces", "title": "Pour une égalité d'accès des citoyens au numérique",
     "short_title": "Égalité d'accès", "description": "Très haut débit, fibre, zones blanches.",
     "subpoints": ["Accès au très haut débit au plus tôt"],
     "keywords": ["fibre", "très haut débit", "zone blanche", "antenne", "4G", "réseau mobile"]},
    {"code": "formation", "title": "Pour un accompagnement et une formation de tous les publics",
     "short_title": "Formation", "description": "Former les citoyens, les agents et les élus.",
     "subpoints": ["Former aux enjeux du numérique"],
     "keywords": ["formation", "former", "école", "atelier", "apprendre", "élèves"]},
    {"code": "donnees", "title": "Pour une stratégie publique de la donnée",
     "short_title": "Données", "description": "Données personnelles, RGPD, open data.",
     "subpoints": ["Les données doivent être traitées dans le respect des droits des usagers"],
     "keywords": ["données", "RGPD", "open data", "cybersécurité", "hébergement", "CNIL"]},
]


# --- database selection (production, issue 6) ---
#: Modules whose database tests run twice when TEST_DATABASE_URL is set: on SQLite and on
#: a fresh PostgreSQL schema (marked `integration`, so `make test-fast` leaves them out).
POSTGRESQL_MODULES = {"test_models", "test_voting", "test_ballots", "test_ballot_box",
                      "test_audit", "test_sessions", "test_integrity", "test_migrations",
                      "test_roster", "test_moderation", "test_publication_versions",
                      "test_vote_batches", "test_vote_progress", "test_sorting_report",
                      "test_proxy_import", "test_csv_import", "test_room_counts",
                      "test_staff_api"}


def pytest_generate_tests(metafunc):
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if module in POSTGRESQL_MODULES and "database" in metafunc.fixturenames:
        metafunc.parametrize("database", [
            "sqlite", pytest.param("postgresql", marks=pytest.mark.integration)],
            indirect=True)


@pytest.fixture
def database(request, tmp_path):
    """(SQLAlchemy URI, engine options): SQLite in tmp_path, or a throwaway PostgreSQL
    schema (skipped without TEST_DATABASE_URL, an error under MOTION_REQUIRE_SERVICES=1)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}", {}
        return
    from .integration import services

    with services.fresh_schema(services.require_postgresql()) as selected:
        yield selected


@pytest.fixture(autouse=True)
def _fresh_push_scheduler():
    """Each test starts with nothing waiting in the push scheduler and no send history
    (congress ids start again at 1 in every test database)."""
    push.scheduler.forget()


@pytest.fixture
def app(database):
    uri, engine_options = database
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": uri,
                      "SQLALCHEMY_ENGINE_OPTIONS": engine_options})
    with app.app_context():
        db.create_all()
        yield app
        # No coalesced push may still be reading this database once it goes: a send left
        # running would hold a connection past dispose() (collected open, a ResourceWarning)
        # and locks that deadlock the PostgreSQL schema's DROP.
        assert push.scheduler.settle(), "a coalesced push outlived its test"
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def new_congress(title: str, join_code: str, phase: str = "consultation") -> Congress:
    """A congress at Aurillac with the small test themes, flushed (the caller commits)."""
    from deliberation.corpus import add_themes

    congress = Congress(title=title, place="Aurillac", join_code=join_code, phase=phase,
                        starts_on=date(2026, 12, 10), ends_on=date(2026, 12, 11))
    db.session.add(congress)
    db.session.flush()
    add_themes(congress, SMALL_THEMES)
    return congress


@pytest.fixture
def congress(app):
    congress = new_congress("Congrès de test", "TEST26")
    db.session.commit()
    return congress


def make_person(congress: Congress, name: str = "Marie Durand", role: str = "participant",
                email: str | None = None, password: str | None = None, **extra) -> Participant:
    person = Participant(congress_id=congress.id, display_name=name, role=role, email=email,
                         commune=extra.pop("commune", "Polminhac"),
                         department_code=extra.pop("department_code", "15"), **extra)
    if password:
        person.set_password(password)
    db.session.add(person)
    db.session.commit()
    return person


@pytest.fixture
def official(congress):
    return make_person(congress)


@pytest.fixture
def facilitator(congress):
    return make_person(congress, "Équipe d'animation", role="facilitator",
                       email="anim@example.org", password="motdepasse-solide")


@pytest.fixture
def scribe(congress):
    return make_person(congress, "Garant du relevé", role="scribe",
                       email="scribe@example.org", password="motdepasse-solide")


def login(client, participant: Participant):
    """Log in the way each role does: officials by opening their personal invite link,
    staff (who log in by password only) through the login form."""
    if getattr(participant, "role", None) in ("facilitator", "scribe"):
        return staff_login(client, participant.email)
    response = client.get(f"/i/{participant.invite_token}")
    assert response.status_code == 302, response.status_code
    return response


def staff_login(client, email: str, password: str = "motdepasse-solide"):
    form = {"email": email, "password": password}
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/animation/connexion").get_data(as_text=True))
    if token:  # apps built with CSRF protection on (test_security.py)
        form["csrf_token"] = token.group(1)
    response = client.post("/animation/connexion", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def theme(congress: Congress, code: str) -> Theme:
    return next(t for t in congress.themes if t.code == code)


def text_of(response) -> str:
    """Visible text of an HTML response, whitespace collapsed (for French message checks);
    a line-break opportunity (<wbr>) adds no space."""
    page = re.sub(r"<wbr>", "", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
