"""Integration fixtures: the machine's PostgreSQL and Redis, and the production stack.

Every test here is marked `integration`. Without TEST_DATABASE_URL / TEST_REDIS_URL the
tests skip; with MOTION_REQUIRE_SERVICES=1 (`.ci/run`) a missing or unreachable service
fails them instead.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from . import services
from .stack import Stack


def pytest_collection_modifyitems(config, items):  # noqa: ARG001
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def pg_url():
    return services.require_postgresql()


@pytest.fixture
def redis_url():
    return services.require_redis()


@pytest.fixture
def nginx_binary():
    """nginx must be installed where the stack is tested (`make test` installs it)."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if shutil.which(p)), None)
    if found is None:
        message = "nginx is not installed (apt-get install -y nginx-light)"
        if services.strict():
            pytest.fail(message + "; MOTION_REQUIRE_SERVICES=1 makes this an error",
                        pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture
def database_url(pg_url):
    with services.fresh_database(pg_url) as url:
        yield url


@pytest.fixture
def stack(database_url, redis_url, tmp_path):
    """A migrated, empty PostgreSQL database and a private Socket.IO channel on Redis;
    servers are started by the test (`stack.start(2)`) and stopped here."""
    built = Stack(database_url, redis_url, tmp_path)
    built.migrate()
    yield built
    built.close()


@pytest.fixture
def db_app(database_url, stack):  # noqa: ARG001 - the schema must exist first
    """An in-process app on the stack's database, to seed it and to check what was stored."""
    from deliberation import create_app
    from deliberation.config import TestConfig, normalise_database_url
    from deliberation.extensions import db

    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 2},
                      "SECRET_KEY": stack.env()["SECRET_KEY"]})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def seed(app, *, voters: int = 4, phase: str = "consultation", ballot: bool = False,
         secret: bool = False) -> dict:
    """A congress with themes, `voters` present participants, one facilitator, and an
    open ballot when asked. Returns plain data (codes, ids, invite tokens)."""
    from deliberation import ballots
    from deliberation.corpus import add_themes
    from deliberation.extensions import db
    from deliberation.models import Congress, Participant

    from ..conftest import SMALL_THEMES

    with app.app_context():
        congress = Congress(title="Congrès d'intégration", place="Aurillac",
                            join_code="INTEG26", phase=phase, starts_on=date(2026, 12, 10),
                            ends_on=date(2026, 12, 11))
        db.session.add(congress)
        db.session.flush()
        add_themes(congress, SMALL_THEMES)
        people = [Participant(congress_id=congress.id, display_name=f"Élu·e {i}",
                              commune="Polminhac", department_code="15", present=True)
                  for i in range(voters)]
        staff = Participant(congress_id=congress.id, display_name="Animation",
                            role="facilitator", email="anim@example.org", present=True)
        staff.set_password("motdepasse-solide")
        db.session.add_all([*people, staff])
        db.session.commit()
        found = {"code": congress.join_code, "congress_id": congress.id,
                 "voters": [(p.id, p.invite_token) for p in people],
                 "facilitator": (staff.id, staff.invite_token)}
        if ballot:
            created = ballots.create(congress, "Texte entier", secret=secret)
            db.session.commit()
            ballots.open_ballot(created.id)
            found["ballot"] = created.id
        return found
