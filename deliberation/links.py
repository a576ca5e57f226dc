"""Absolute links (join URL and its QR code, invitation links and sheets, exports, the
demo's addresses, the CSP's socket origin): built from `PUBLIC_URL`, never from the Host
header a visitor sends.

In production (`wsgi.py`) the server refuses to start without `PUBLIC_URL`. In development
and tests, when it is unset, the request's own host is used, and outside a request
`http://HOST:PORT`.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request, url_for

MISSING = ("PUBLIC_URL manquant : en production, Motion construit les liens d'invitation, "
           "le lien pour rejoindre et son code QR avec l'adresse publique du site, jamais "
           "avec l'en-tête Host d'une requête. Indiquez-la, par exemple "
           "PUBLIC_URL=https://motion.example.fr")


class PublicUrlError(ValueError):
    """PUBLIC_URL is not an http(s) origin; the message is French, for the operator."""


def parse_public_url(value: str | None) -> str | None:
    """`value` as a bare origin (`https://host[:port]`, no trailing slash), or None when
    unset. Raises PublicUrlError for anything else (a path, credentials, another scheme):
    links are the origin followed by the app's own paths."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or parts.username or parts.password or parts.path not in ("", "/")
            or parts.query or parts.fragment):
        raise PublicUrlError(
            f"PUBLIC_URL invalide ({value!r}) : indiquez l'adresse publique du site, sans "
            "chemin, par exemple https://motion.example.fr")
    return f"{parts.scheme}://{parts.netloc}".lower()


#: gunicorn's APP_LOAD_ERROR: its master stops (« App failed to load ») instead of
#: starting worker after worker that would each stop the same way.
APP_LOAD_ERROR = 4


def require_public_url(environ) -> None:
    """For the production entry point: stop with a French message when PUBLIC_URL is
    missing or malformed, before any worker serves a request."""
    try:
        message = None if parse_public_url(environ.get("PUBLIC_URL")) else MISSING
    except PublicUrlError as exc:
        message = str(exc)
    if message:
        print(message, file=sys.stderr)
        raise SystemExit(APP_LOAD_ERROR)


def socket_origin(public_url: str | None) -> str | None:
    """The ws:// or wss:// origin matching PUBLIC_URL (for the CSP's connect-src)."""
    if not public_url:
        return None
    parts = urlsplit(public_url)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"


def base_url() -> str:
    """The site's public origin: PUBLIC_URL, else (development, tests) the request's host,
    else the configured HOST:PORT."""
    public = current_app.config.get("PUBLIC_URL")
    if public:
        return public.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return f"http://{current_app.config['HOST']}:{current_app.config['PORT']}"


def absolute_url(endpoint: str, **values) -> str:
    """`url_for(endpoint, **values)` as an absolute link on the public origin."""
    return base_url() + url_for(endpoint, **values)


def init_app(app: Flask) -> None:
    """Normalise PUBLIC_URL once (a malformed one stops the app with a French message) and
    offer `absolute_url` to templates."""
    app.config["PUBLIC_URL"] = parse_public_url(app.config.get("PUBLIC_URL"))
    app.add_template_global(absolute_url)
