"""Structured logs: one JSON object per line, and no personal data in them.

Switched on by `LOG_FORMAT=json` (the production setup sets it; `make run` keeps
Flask's plain logs). What is never written: names, e-mail addresses, invite or
bearer tokens, contribution or vote content, full IP addresses, query strings.
Requests are logged by their route *pattern* (`/i/<token>`, never the token), an
IPv4 address is cut to its /16 and an IPv6 one to its /32, and every message
goes through `scrub()` in case some library puts an address or a token in it.
Exceptions are logged by type and stack frames only: their messages can quote
SQL parameters, so they are left out.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # flask is imported lazily: gunicorn's master loads JsonFormatter early
    from flask import Flask

#: Extra fields a log call may attach (`logger.info("...", extra={...})`); others are dropped.
SAFE_FIELDS = (
    "event", "method", "route", "endpoint", "status", "duration_ms", "request_id",
    "ip_prefix", "role", "database", "redis", "congress_id", "count", "worker", "port",
    "error_type",
)

#: Fields built by this module from safe parts (route patterns, generated ids): not scrubbed.
_TRUSTED = ("method", "route", "endpoint", "request_id", "ip_prefix")
_REQUEST_ID = re.compile(r"[\w-]{1,64}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_INVITE_PATH = re.compile(r"/i/[\w-]+")
_BEARER = re.compile(r"(?i)bearer\s+[\w.-]+")
_TOKEN = re.compile(r"\b[A-Za-z0-9_-]{24,}\b")
_IPV4 = re.compile(r"\b(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}\b")
_SECRET_URL = re.compile(r"(\w+://[^:/\s]*:)[^@\s]*@")


def scrub(message: str) -> str:
    """Remove what could identify a person or open a door from a free-text message."""
    message = _SECRET_URL.sub(r"\1***@", message)
    message = _EMAIL.sub("[courriel]", message)
    message = _INVITE_PATH.sub("/i/[jeton]", message)
    message = _BEARER.sub("Bearer [jeton]", message)
    message = _TOKEN.sub("[jeton]", message)
    return _IPV4.sub(r"\1.\2.0.0", message)


def ip_prefix(address: str | None) -> str | None:
    """The network part of an address (IPv4 /16, IPv6 /32): enough for abuse, not a person."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 16 if ip.version == 4 else 32
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, scrubbed message, safe extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
            "pid": record.process,
        }
        for field in SAFE_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                if isinstance(value, int | float | bool) or field in _TRUSTED:
                    entry[field] = value
                else:
                    entry[field] = scrub(str(value))
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, tb = record.exc_info
            entry["error_type"] = kind.__name__
            frames = traceback.extract_tb(tb)
            # Motion's own frames say where it happened; the last few say how it failed.
            ours = [f for f in frames if "/deliberation/" in f.filename][-8:]
            tail = [f for f in frames[-3:] if f not in ours]
            entry["frames"] = [f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno} "
                               f"{frame.name}" for frame in ours + tail]
        return json.dumps(entry, ensure_ascii=False)


def json_enabled(app: Flask | None = None) -> bool:
    value = (app.config.get("LOG_FORMAT") if app is not None else None) \
        or os.environ.get("LOG_FORMAT", "text")
    return str(value).lower() == "json"


def configure_root(level: str | None = None) -> None:
    """Send every logger of this process to stdout as JSON (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler.formatter, JsonFormatter):
            return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.handlers[:] = [handler]
    root.setLevel((level or os.environ.get("LOG_LEVEL", "INFO")).upper())
    # Library loggers that would otherwise repeat what the request log says.
    for noisy in ("werkzeug", "engineio.server", "socketio.server", "geventwebsocket.handler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    if not json_enabled(app):
        return
    from flask import g, request

    configure_root(app.config.get("LOG_LEVEL"))
    # Flask's own handler would print a second, plain-text copy.
    app.logger.handlers.clear()
    app.logger.propagate = True
    request_log = logging.getLogger("motion.request")

    @app.before_request
    def _start_timer():
        g.log_started = time.perf_counter()
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def _log_request(response):
        if request.path.startswith("/static/"):
            return response
        started = g.get("log_started")
        rule = request.url_rule.rule if request.url_rule is not None else "(inconnue)"
        from flask_login import current_user

        try:
            role = current_user.role if current_user.is_authenticated else "anonyme"
        except Exception:  # noqa: BLE001 - the database may be down: log anyway
            role = "inconnu"
        request_log.info("request", extra={
            "event": "request", "method": request.method, "route": rule,
            "endpoint": request.endpoint, "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "request_id": g.get("request_id"), "ip_prefix": ip_prefix(request.remote_addr),
            "role": role,
        })
        response.headers.setdefault("X-Request-Id", g.get("request_id", ""))
        return response
