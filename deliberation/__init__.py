"""Motion: a few hundred ideas of elected officials turned into a voted congress motion.

The package is built in floors; a module imports only its own floor and those below
(import-linter, `make lint`; the README's "Where things live" draws them):

- programs: `__main__`, `refit_worker`;
- `web` (blueprints) and `live` (Socket.IO handlers), `cli`, `warmup`;
- the domain, flat modules here: contributions, corrections, actions, ballots, ballot_box,
  voting, drafting, derivation, publication, sorting, refit_process, screens, pictures,
  announce, privacy, audit, transfer, corpus. It commits, then returns or records what
  happened; it never imports a screen or a socket handler;
- `push` (events → rooms) and `coalesce` (the one scheduler of coalesced pushes);
- the bottom floor: config, extensions, models, queries, rendering, security, ...;
- apart: `clustering`, the sorting engine, with no Flask and no models.

`create_app` below is the composition root, the one place that imports every floor.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .config import Config


def _socketio_async_mode() -> str:
    """gevent when the process was monkey-patched (app.py, gunicorn), threads otherwise (tests)."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is pinned
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):  # noqa: ARG001
    """SQLite enforces foreign keys only when asked; WAL lets readers run beside a writer;
    secure_delete zeroes deleted rows, so no old image of a secret ballot's papers stays in
    the files (ballot_box.py)."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def create_app(config: type | dict[str, Any] | None = None) -> Flask:
    """The composition root: the one place that imports every floor and wires them.

    Its imports sit inside the function on purpose (flaskr's factory): importing any
    module of the package (the engine in a child process, a CLI helper) must not load
    every blueprint.
    """
    from . import cli
    from .extensions import csrf, db, login_manager, migrate, socketio
    from .queries import RowIdConverter
    from .web import (
        api,
        board,
        derivation,
        drafting,
        errorpages,
        facilitator,
        filters,
        health,
        imports,
        participant,
        privacy,
        projector,
        publication,
        room_counts,
        sorting_report,
        staff_api,
        votes,
    )

    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
    )
    # Before any blueprint adds a rule: ids in URLs are bounded digits (queries.py).
    app.url_map.converters["int"] = RowIdConverter
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    _size_pool(app)

    from . import frames, links, live, logging_setup, ratelimit, security

    links.init_app(app)  # issue 13: PUBLIC_URL checked and normalised before anyone reads it
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    login_manager.init_app(app)
    # The socketio object is shared by every app built in this process: forget a message
    # queue an earlier app configured (tests build many apps, one with a REDIS_URL).
    socketio.server_options.pop("client_manager", None)
    channel = app.config.get("SOCKETIO_CHANNEL") or "flask-socketio"
    socketio.init_app(
        app,
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE") or _socketio_async_mode(),
        message_queue=app.config.get("REDIS_URL"),
        # issue 17: one encoded frame per push, shared by every socket of the room
        client_manager=frames.client_manager(app.config.get("REDIS_URL"), channel),
        cors_allowed_origins=_socket_origins(app),  # production (issue 6)
        channel=channel,
        max_http_buffer_size=64 * 1024,
        manage_session=False,
        json=live.PacketJSON,  # issue 13: a too-deep payload still gets its refusing ack
    )
    security.init_app(app)
    filters.init_app(app)
    errorpages.init_app(app)
    live.init_app(app)
    cli.init_app(app)

    for blueprint in (participant.bp, facilitator.bp, api.bp, votes.bp, drafting.bp,
                      publication.bp, derivation.bp, projector.bp, board.bp, board.live_bp,
                      health.bp, privacy.bp, sorting_report.bp, imports.bp,
                      room_counts.bp, staff_api.bp, staff_api.pages):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)
    csrf.exempt(staff_api.bp)  # bearer tokens, no cookie: no CSRF to forge
    # production (issue 6): structured logs, rate limits
    logging_setup.init_app(app)
    ratelimit.init_app(app)
    return app


def _size_pool(app: Flask) -> None:
    """Give server databases a pool that fits a burst of clients; SQLite needs none."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("postgresql"):
        # Two processes x (15 + 25) stay under PostgreSQL's default max_connections of
        # 100; 20 + 30 each made the load run fail with "too many clients already".
        options.setdefault("pool_size", 15)
        options.setdefault("max_overflow", 25)
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_timeout", 10)
        # production (issue 6): an unreachable server fails fast (503), never hangs
        options.setdefault("connect_args", {"connect_timeout": 5})
    elif uri.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 15})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _migrations_dir():
    from .config import ROOT

    return ROOT / "migrations"


# --- production (issue 6) ---
def _socket_origins(app: Flask):
    """Origins allowed to open a socket: SOCKETIO_ORIGINS, else PUBLIC_URL's, else same-origin.

    None makes python-engineio accept only the page's own origin (Host header, and
    X-Forwarded-Host/Proto behind nginx); never "*".
    """
    origins = app.config.get("SOCKETIO_ORIGINS")
    if origins:
        return origins
    public = app.config.get("PUBLIC_URL")  # already a bare origin (links.init_app)
    return [public] if public else None
