"""`GET /sante`: is this process able to serve? For load balancers and operators.

Answers `{"database": "ok"|"error", "redis": "ok"|"error"|"absent"}` with 200 when
every configured service answers, 503 otherwise. It never raises and never waits
long: the database check is one `SELECT 1`, the Redis check one PING with a
one-second timeout. It says nothing about any person.
"""

from __future__ import annotations

import threading

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from ..extensions import db

bp = Blueprint("health", __name__)

_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def database_state() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means "not able to serve"
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001, S110 - the connection may be gone for good
            pass
        return "error"


def _redis_client(url: str):
    import redis

    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1,
                                          retry_on_timeout=False)
            _clients[url] = client
        return client


def redis_state(url: str | None) -> str:
    if not url:
        return "absent"
    try:
        return "ok" if _redis_client(url).ping() else "error"
    except Exception:  # noqa: BLE001 - connection refused, timeout, bad URL: all "error"
        return "error"


@bp.get("/sante")
def health():
    """Database and Redis state, 200 when both can serve, 503 otherwise."""
    database = database_state()
    redis = redis_state(current_app.config.get("REDIS_URL"))
    healthy = database == "ok" and redis in ("ok", "absent")
    if not healthy:
        current_app.logger.warning("health check failed", extra={
            "event": "health.failed", "database": database, "redis": redis})
    response = jsonify(status="ok" if healthy else "degraded", database=database, redis=redis)
    response.headers["Cache-Control"] = "no-store"
    return response, (200 if healthy else 503)
