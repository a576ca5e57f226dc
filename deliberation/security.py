"""Identity and access: sessions, roles and the HTTP headers every page carries.

Identity is established in HTTP routes (invite link, join code, password);
socket handlers and later requests only read it.
"""

from __future__ import annotations

import unicodedata
from functools import wraps
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, flash, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_user

from .extensions import db, login_manager
from .links import socket_origin
from .models import Participant

#: Sockets and fetches go to this site only: 'self' (which covers ws:/wss: on the same
#: host in current browsers) and, behind PUBLIC_URL, its ws:// or wss:// origin spelled
#: out for older ones; never any ws: host as before (issue 13).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src {connect}; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: Served over https (PUBLIC_URL): browsers keep to https for a year.
HSTS = "max-age=31536000"


def content_security_policy(public_url: str | None) -> str:
    connect = " ".join(filter(None, ("'self'", socket_origin(public_url))))
    return CSP.format(connect=connect)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, less two costs that every socket event paid
    (issue 17: a fifth of the server's time in a 2,000-vote burst).

    The signing serializer is built once per set of keys, not once per request (Flask
    builds a new one, and itsdangerous tries it out, on every open and save). And a
    socket event never re-signs the session: its response goes nowhere, the cookie is
    the one the socket connected with, so the signature was work for nothing.
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple, object] = {}

    def get_signing_serializer(self, app: Flask):
        if not app.secret_key:
            return None
        keys = (*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key)
        found = self._serializers.get(keys)
        if found is None:
            if len(self._serializers) >= 8:  # tests build many apps; a server, one
                self._serializers.clear()
            found = self._serializers[keys] = super().get_signing_serializer(app)
        return found

    def save_session(self, app: Flask, session, response) -> None:
        if getattr(request, "sid", None) is not None:  # a Socket.IO event
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    login_manager.login_view = "participant.join"
    login_manager.login_message = "Rejoignez le congrès pour accéder à cette page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_participant(session_id: str) -> Participant | None:
        try:
            pid, epoch = (int(part) for part in session_id.split(":"))
        except ValueError:
            return None
        participant = db.session.get(Participant, pid)
        if participant is None or participant.session_epoch != epoch:
            return None
        return participant if participant.is_active else None

    csp = content_security_policy(app.config.get("PUBLIC_URL"))
    https = (app.config.get("PUBLIC_URL") or "").startswith("https://")

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        if https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


def session_claim() -> tuple[int, int | None] | None:
    """(participant id, session epoch) as this request's signed session names them, read
    without the database: the epoch and the revocation are checked later, where the work
    reads the participant's row anyway (issue 17: a vote burst checks 2,000 sessions in
    the batch's one query instead of 2,000 queries on the event loop).

    The epoch is None when the identity was already checked here (a remember-me cookie:
    `current_user` loaded it). None when nobody is logged in or the session is malformed.
    """
    raw = session.get("_user_id")
    if raw is None:
        return (current_user.id, None) if current_user.is_authenticated else None
    try:
        pid, epoch = (int(part) for part in str(raw).split(":"))
    except ValueError:
        return None
    return pid, epoch


def start_session(participant: Participant, remember: bool = True) -> None:
    """Log a participant in on a fresh session (no data from before the login survives)."""

    session.clear()
    login_user(participant, remember=remember)


def safe_next(target: str | None, fallback: str, prefix: str = "/") -> str:
    """`target` when it is a plain same-origin path under `prefix`, else `fallback`.

    Browsers drop tabs and newlines and read a backslash as a slash, so "/%09/evil" or
    "/%5Cevil" would leave the site: any control character, whitespace or backslash,
    before or after percent-decoding, refuses the target (and CRLF never reaches a header).
    """
    if not isinstance(target, str) or len(target) > 2000:
        return fallback
    for form in (target, unquote(target)):
        if not form.startswith(prefix) or form.startswith("//") or "\\" in form:
            return fallback
        if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in form):
            return fallback
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return fallback
    return target


def roles_required(*roles: str):
    """Restrict a view to logged-in participants holding one of `roles`."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if "facilitator" in roles or "scribe" in roles:
                    flash("Connectez-vous avec votre compte d'animation.", "info")
                    return redirect(url_for("facilitator.login", next=request.path))
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
