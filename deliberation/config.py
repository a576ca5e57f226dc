"""Configuration read from the environment, with an embedded SQLite default.

The secret key is generated once and kept in `instance/` so sessions survive a
restart without anyone having to invent a secret before `make run`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("MOTION_INSTANCE", ROOT / "instance"))
CORPUS = ROOT / "corpus"


def _persistent_secret(instance: Path) -> str:
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgres://` spellings and route them to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    HOST = os.environ.get("HOST", "127.0.0.1")
    PORT = int(os.environ.get("PORT", "5000"))
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'motion.db'}")
    )
    REDIS_URL = os.environ.get("REDIS_URL") or None
    SECRET_KEY = os.environ.get("SECRET_KEY") or _persistent_secret(INSTANCE)
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None
    CORPUS_DIR = str(CORPUS)
    # The recurring points are refitted once submissions pause this long (a trailing
    # debounce: a brisk scribe does not trigger one refit per idea, each competing with
    # the live pushes), and at the latest SORT_MAX_WAIT_S after the first change.
    SORT_DEBOUNCE_S = float(os.environ.get("SORT_DEBOUNCE_S", "3.0"))
    SORT_MAX_WAIT_S = float(os.environ.get("SORT_MAX_WAIT_S", "10.0"))
    # Run the background refit at all (tests switch it off and call it directly).
    SORT_IN_BACKGROUND = True
    # ... in a child process beside the server (deliberation/refit_process.py), so the
    # refit never takes the event loop from the live pushes; in process when off.
    SORT_WORKER_PROCESS = os.environ.get("SORT_WORKER_PROCESS", "1") == "1"
    # issue 17: votes over Socket.IO are written in batches, one transaction each, by one
    # writer per process (ballots.submit_vote); 0 writes each vote alone (a comparison).
    VOTE_GROUP_COMMIT = os.environ.get("VOTE_GROUP_COMMIT", "1") == "1"
    VOTE_BATCH_MAX = int(os.environ.get("VOTE_BATCH_MAX", "500"))
    PUBLIC_URL = os.environ.get("PUBLIC_URL") or None
    # The audit chain's key (issue 13): kept outside the database. AUDIT_KEY (32
    # characters or more), else this file, created with mode 0600 on first use beside
    # the secret key (deliberation/audit.py, docs/security.md).
    AUDIT_KEY = os.environ.get("AUDIT_KEY") or None
    AUDIT_KEY_FILE = os.environ.get("AUDIT_KEY_FILE") or str(INSTANCE / "audit_key")
    # Who answers accessibility reports (RGAA's « Retour d'information et contact »): an
    # e-mail address or a web address of the organiser. Unset, the statement points to the
    # congress's organising team.
    ACCESSIBILITY_CONTACT = os.environ.get("ACCESSIBILITY_CONTACT") or None
    # The request limits of deliberation/ratelimit.py, each tunable by the operator in the
    # `limits` notation ("20 per minute; 100 per hour"); unset, that module's default holds.
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN") or None
    RATELIMIT_JOIN = os.environ.get("RATELIMIT_JOIN") or None
    RATELIMIT_CONTRIBUTE = os.environ.get("RATELIMIT_CONTRIBUTE") or None
    RATELIMIT_VOTE = os.environ.get("RATELIMIT_VOTE") or None
    RATELIMIT_SUPPORT = os.environ.get("RATELIMIT_SUPPORT") or None
    RATELIMIT_INVITE = os.environ.get("RATELIMIT_INVITE") or None
    RATELIMIT_LIVE_ACTION = os.environ.get("RATELIMIT_LIVE_ACTION") or None
    RATELIMIT_WRITE = os.environ.get("RATELIMIT_WRITE") or None
    RATELIMIT_STAFF_API = os.environ.get("RATELIMIT_STAFF_API") or None


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    AUDIT_KEY = "test-audit-key-0123456789abcdef0123"
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SORT_IN_BACKGROUND = False
    SORT_WORKER_PROCESS = False
    SORT_DEBOUNCE_S = 0.0
