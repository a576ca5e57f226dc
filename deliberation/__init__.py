"""Motion: a few hundred ideas of elected officials turned into a voted congress motion."""

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
    """SQLite enforces foreign keys only when asked; WAL lets readers run beside a writer."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_app(config: type | dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
    )
    from .queries import RowIdConverter

    # Before any blueprint adds a rule: ids in URLs are bounded digits (queries.py).
    app.url_map.converters["int"] = RowIdConverter
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    _size_pool(app)

    from . import cli, errorpages, filters, live, security
    from .extensions import csrf, db, login_manager, migrate, socketio

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    login_manager.init_app(app)
    # The socketio object is shared by every app built in this process: forget a message
    # queue an earlier app configured (tests build many apps, one with a REDIS_URL).
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE") or _socketio_async_mode(),
        message_queue=app.config.get("REDIS_URL"),
        cors_allowed_origins=_socket_origins(app),  # production (issue 6)
        channel=app.config.get("SOCKETIO_CHANNEL") or "flask-socketio",
        max_http_buffer_size=64 * 1024,
        manage_session=False,
        json=live.PacketJSON,  # issue 13: a too-deep payload still gets its refusing ack
    )
    security.init_app(app)
    filters.init_app(app)
    errorpages.init_app(app)
    live.init_app(app)
    cli.init_app(app)

    from .api import bp as api_bp
    from .facilitator import bp as facilitator_bp
    from .participant import bp as participant_bp

    app.register_blueprint(participant_bp)
    app.register_blueprint(facilitator_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    # --- ballots ---
    from .vote_views import bp as vote_bp

    app.register_blueprint(vote_bp)
    # --- drafting and publication (issue 5, parts 1, 2, 5) ---
    from .drafting_views import bp as drafting_bp
    from .publication import bp as publication_bp

    app.register_blueprint(drafting_bp)
    app.register_blueprint(publication_bp)
    # --- synthesis (issue 12): congresses derived from a published motion ---
    from .derivation_views import bp as derivation_bp

    app.register_blueprint(derivation_bp)
    # --- live debate (issue 4): projector, facilitator board and scribe, live board ---
    from .board import bp as board_bp
    from .board import live_bp as live_board_bp
    from .projector import bp as projector_bp

    app.register_blueprint(projector_bp)
    app.register_blueprint(board_bp)
    app.register_blueprint(live_board_bp)
    # --- production (issue 6): structured logs, rate limits, health, data protection ---
    from . import health, logging_setup, privacy, ratelimit

    logging_setup.init_app(app)
    ratelimit.init_app(app)
    app.register_blueprint(health.bp)
    privacy.init_app(app)
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
    public = app.config.get("PUBLIC_URL")
    if public:
        from urllib.parse import urlsplit

        parts = urlsplit(public)
        return [f"{parts.scheme}://{parts.netloc}"]
    return None
