"""The machine's PostgreSQL and Redis for tests: found through TEST_DATABASE_URL and
TEST_REDIS_URL (`.ci/run` exports both), each test on its own schema, database or
Socket.IO channel so that nothing leaks between tests or into other users of the server.

Without the variables, tests that need a service skip (plain `make test` on a laptop).
With MOTION_REQUIRE_SERVICES=1 (CI), a missing variable or an unreachable service is a
failure, never a silent skip.
"""

from __future__ import annotations

import functools
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from deliberation.config import normalise_database_url

PG_ENV = "TEST_DATABASE_URL"
REDIS_ENV = "TEST_REDIS_URL"


def strict() -> bool:
    return os.environ.get("MOTION_REQUIRE_SERVICES") == "1"


def redact(url: str) -> str:
    return re.sub(r"(\w+://[^:/@\s]*:)[^@\s]*@", r"\1***@", url)


@functools.cache
def _pg_problem(url: str) -> str | None:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure: report it
        return f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    return None


@functools.cache
def _redis_problem(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    return None


def _require(name: str, variable: str, problem) -> str:
    url = os.environ.get(variable)
    if not url:
        message = f"{name}: {variable} is not set"
        if strict():
            pytest.fail(f"{message} but MOTION_REQUIRE_SERVICES=1", pytrace=False)
        pytest.skip(message)
    found = problem(url)
    if found:
        message = f"{name} unreachable at {redact(url)} ({found})"
        if strict():
            pytest.fail(f"{message}; MOTION_REQUIRE_SERVICES=1 makes this an error",
                        pytrace=False)
        pytest.skip(message)
    return url


def require_postgresql() -> str:
    """The PostgreSQL URL (libpq form), or skip/fail as described above."""
    url = _require("PostgreSQL", PG_ENV, lambda u: _pg_problem(_libpq(u)))
    return _libpq(url)


def require_redis() -> str:
    return _require("Redis", REDIS_ENV, _redis_problem)


def _libpq(url: str) -> str:
    """psycopg wants `postgresql://`; accept the SQLAlchemy and Heroku spellings too."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def with_database(url: str, name: str) -> str:
    """`url` pointing at another database of the same server."""
    base, _, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}" + (f"?{query}" if query else "")


@contextmanager
def fresh_schema(url: str) -> Iterator[tuple[str, dict]]:
    """A new, empty schema: yields the SQLAlchemy URI and engine options that use it."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    options = {"connect_args": {"options": f"-csearch_path={schema}", "connect_timeout": 5},
               "pool_size": 2, "max_overflow": 4, "pool_pre_ping": False}
    try:
        yield normalise_database_url(url), options
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new, empty database on the same server (for server processes): yields its URL."""
    import psycopg

    name = f"motion_it_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(url, name)
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
