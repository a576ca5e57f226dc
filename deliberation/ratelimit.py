"""Rate limits on every write path: staff login, joining, invitation links, contributing,
"+1", voting, the live debate's actions, and every other form post.

Flask-Limiter, storage `memory-lazy://` in one process (ratelimit_storage.py: `limits`'
memory storage without the expiry timer that stalled a burst of votes under gevent) and
Redis (`REDIS_URL`) when several processes serve the same congress, so a limit holds
whichever process a request reaches. A Redis outage never blocks anyone: errors are
swallowed and limits fall back to the same memory storage until Redis is back. A
refused request gets a 429 with the French message of `errorpages` (JSON under `/api`)
and a `Retry-After` header.

Limits are keyed per person where one is known (a logged-in participant, a bearer
token) and per address otherwise: 220 officials behind the venue's Wi-Fi share one
address, so the per-address limits are generous and the per-person ones strict.
Every limit is a config value (`RATELIMIT_LOGIN`, ...) so an operator can tune it.

The doors with a name below have their own decorator; every other POST (amendments,
edits, withdrawals, presence, data erasure, staff forms...) falls under the default
`RATELIMIT_WRITE`, per person and per page, so a new form is never left unlimited.
Socket.IO handlers, which have no HTTP request to decorate, call `socket_allowed`.
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, request
from flask_limiter import Limit, Limiter
from flask_login import current_user
from limits import parse_many

from .ratelimit_storage import SCHEME, LazyMemoryStorage

DEFAULTS = {
    # Staff password login, per address: stops guessing, not a busy team.
    "RATELIMIT_LOGIN": "10 per minute; 60 per hour",
    # Joining with the congress code, per address (a whole room may share one address).
    "RATELIMIT_JOIN": "120 per minute",
    # Contributions, per participant (web form) or per invite token (API).
    "RATELIMIT_CONTRIBUTE": "10 per minute; 120 per hour",
    # Votes, per participant: retries over a flaky connection are fine, scripts are not.
    "RATELIMIT_VOTE": "30 per minute",
    # "+1" on an idea, per participant, over HTTP and over Socket.IO.
    "RATELIMIT_SUPPORT": "60 per minute; 600 per hour",
    # Invitation links `/i/<token>`, per address: a whole room may open its links at once.
    "RATELIMIT_INVITE": "300 per minute; 3000 per hour",
    # Each live-debate action (move, confirm, hide, merge, capture...), per person, over
    # Socket.IO and the board's HTTP twin: a facilitator sorting fast is never blocked.
    "RATELIMIT_LIVE_ACTION": "240 per minute",
    # Every other POST, per person and per page (amendments, edits, withdrawals, presence,
    # data erasure, the facilitator's and the scribe's forms).
    "RATELIMIT_WRITE": "120 per minute; 2000 per hour",
    # The staff API (issue 18), per token, reads and writes alike: a script, not a room.
    "RATELIMIT_STAFF_API": "120 per minute; 3000 per hour",
}

#: Methods that write; reads are never limited by the default limit.
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


def client_address() -> str:
    """The caller's address (nginx's X-Forwarded-For is applied by ProxyFix in wsgi.py)."""
    return request.remote_addr or "inconnu"


def _digest(value: str) -> str:
    # Limiter keys live in Redis: store a digest, never a token or an e-mail address.
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def person_or_address() -> str:
    """The logged-in participant, or the address for anonymous callers."""
    try:
        if current_user.is_authenticated:
            return f"participant:{current_user.id}"
    except Exception:  # noqa: BLE001 - no database: fall back to the address
        pass
    return f"ip:{client_address()}"


def bearer_or_address() -> str:
    """The API's bearer token (as a digest), or the address."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and header[7:].strip():
        return f"token:{_digest(header[7:].strip())}"
    return person_or_address()


def _limit(name: str):
    return lambda: current_app.config.get(name) or DEFAULTS[name]


limiter = Limiter(
    key_func=client_address,
    default_limits=[Limit(_limit("RATELIMIT_WRITE"), key_function=person_or_address,
                          methods=WRITE_METHODS)],
    swallow_errors=True,
    in_memory_fallback_enabled=True,
    headers_enabled=True,
)

#: Decorators applied on the views (facilitator.login, participant.join/invite/contribute,
#: board.live_contribute/support/board_action/scribe, drafting.preview,
#: api.create_contribution, the vote).
login_limit = limiter.limit(_limit("RATELIMIT_LOGIN"), methods=["POST"],
                            key_func=client_address)
join_limit = limiter.limit(_limit("RATELIMIT_JOIN"), methods=["POST"], key_func=client_address)
invite_limit = limiter.limit(_limit("RATELIMIT_INVITE"), methods=["GET"],
                             key_func=client_address)
# One allowance for both contribution forms (the consultation and the live board).
contribute_limit = limiter.shared_limit(_limit("RATELIMIT_CONTRIBUTE"), scope="contribute",
                                        methods=["POST"], key_func=person_or_address)
support_limit = limiter.limit(_limit("RATELIMIT_SUPPORT"), methods=["POST"],
                              key_func=person_or_address)
live_action_limit = limiter.limit(_limit("RATELIMIT_LIVE_ACTION"), methods=["POST"],
                                  key_func=person_or_address)
api_contribute_limit = limiter.limit(_limit("RATELIMIT_CONTRIBUTE"), methods=["POST"],
                                     key_func=bearer_or_address)
staff_api_limit = limiter.limit(_limit("RATELIMIT_STAFF_API"), key_func=bearer_or_address)
vote_limit = limiter.limit(_limit("RATELIMIT_VOTE"), methods=["POST"], key_func=person_or_address)


def socket_allowed(action: str, key: str, limit_name: str = "RATELIMIT_VOTE") -> bool:
    """For Socket.IO handlers (no HTTP request to decorate): count one hit of `action`
    by `key` and say whether it is within the limit. Never raises."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    try:
        strategy = limiter.limiter
        items = parse_many(current_app.config.get(limit_name) or DEFAULTS[limit_name])
        # Under the deployment's prefix, like the HTTP limits: two deployments (or two
        # test runs) sharing one Redis never count each other's participant 1.
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or "motion"
        return all(strategy.hit(item, prefix, "socket", action, _digest(key))
                   for item in items)
    except Exception:  # noqa: BLE001 - storage down: never block a vote for that
        return True


def init_app(app: Flask) -> None:
    for name, value in DEFAULTS.items():
        if not app.config.get(name):
            app.config[name] = value
        _check(name, app.config[name])
    # Off in tests unless a test switches it on (tests post fast, from one address).
    app.config.setdefault("RATELIMIT_ENABLED", not app.testing)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "motion")
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or f"{SCHEME}://"
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {
            "socket_timeout": 1, "socket_connect_timeout": 1})
    limiter.init_app(app)
    _lazy_fallback()


def _check(name: str, value: str) -> None:
    """A limit set by the operator is read at start-up: a typo stops the server with a
    French message instead of leaving that door unlimited (Flask-Limiter swallows it)."""
    try:
        if parse_many(value):
            return
    except ValueError:
        pass
    raise ValueError(f"{name} : « {value} » n'est pas une limite lisible "
                     "(exemple : « 10 per minute; 60 per hour »).")


def _lazy_fallback() -> None:
    """Flask-Limiter builds its fallback (used while Redis is down) on `limits`'
    `MemoryStorage`, whose expiry timers pile up under gevent: put the lazy one there."""
    fallback = getattr(limiter, "_fallback_limiter", None)
    if fallback is not None and not isinstance(fallback.storage, LazyMemoryStorage):
        limiter._fallback_storage = LazyMemoryStorage()
        limiter._fallback_limiter = type(fallback)(limiter._fallback_storage)
