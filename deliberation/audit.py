"""Append-only, hash-chained audit log.

Each entry's hash covers its content and the previous entry's hash, so editing
or deleting any row breaks the chain from that point on (`verify` finds it).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditEvent, utcnow


def _digest(event: AuditEvent, raw: bool = False) -> str:
    """sha256 of the entry's canonical JSON (raw: the JSON itself)."""
    body = json.dumps(
        {
            "congress_id": event.congress_id,
            "at": event.at.isoformat(timespec="microseconds"),
            "actor_id": event.actor_id,
            "action": event.action,
            "payload": event.payload,
            "prev": event.prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return body if raw else hashlib.sha256(body.encode()).hexdigest()


_LAST_HASH = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
_INSERT = insert(AuditEvent.__table__)
_PREV_TAIL = '"prev": ""}'
# PostgreSQL: the same digest as _digest, computed by the database from the entry's
# canonical JSON up to its previous hash ("prev" sorts last among the keys).
_PG_LOCK = "SELECT pg_advisory_xact_lock(7410001)"
# psycopg.sql template (braces doubled); the values are quoted client-side as literals
# so that the lock, the INSERTs and the COMMIT travel as one message (see below).
_PG_APPEND = """
    INSERT INTO audit_event (congress_id, at, actor_id, action, payload, prev_hash, hash)
    SELECT CAST({congress_id} AS INTEGER), CAST({at} AS TIMESTAMP),
           CAST({actor_id} AS INTEGER), CAST({action} AS VARCHAR),
           CAST({payload} AS JSON), last.hash,
           encode(sha256(convert_to(CAST({prefix} AS TEXT) || last.hash || '"}}', 'UTF8')),
                  'hex')
    FROM (SELECT coalesce((SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1), '')
          AS hash) AS last
"""


def _digest_prefix(entry: dict) -> str:
    """The canonical JSON _digest hashes, cut just before the previous entry's hash."""
    body = _digest(AuditEvent(**entry, prev_hash=""), raw=True)
    if not body.endswith(_PREV_TAIL):  # pragma: no cover - a key sorting after "prev"
        raise ValueError("audit digest layout changed: 'prev' must sort last")
    return body[:-2]


_PENDING = "motion_audit_pending"


def record(action: str, congress_id: int | None, actor_id: int | None = None,
           **payload: Any) -> None:
    """Add an audit entry to the current transaction (committed with the change it records).

    The entry is written at the very end, just before the transaction commits
    (`_write_pending`): chaining it needs the previous entry's hash, so on PostgreSQL
    every writer of every server process waits for one lock, and that lock must be
    held for as little as possible — not while the caller still reads or renders
    (a room posting and voting at once, `make load`). A rolled-back transaction drops
    its entries with it.
    """
    db.session.info.setdefault(_PENDING, []).append({
        "congress_id": congress_id, "actor_id": actor_id, "action": action,
        "payload": payload, "at": utcnow()})


def _write_pending(session) -> None:
    """Chain and insert the transaction's queued entries, in order, as its last writes."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # pending ORM changes first: an entry always follows what it records
    if session.get_bind().dialect.name == "postgresql":
        _append_postgresql(session, pending)
        return
    prev = session.scalar(_LAST_HASH) or ""
    rows = []
    for entry in pending:
        event = AuditEvent(**entry, prev_hash=prev)
        event.hash = prev = _digest(event)
        rows.append({**entry, "prev_hash": event.prev_hash, "hash": event.hash})
    session.execute(_INSERT, rows)


def _append_postgresql(session, pending: list[dict]) -> None:
    """Serialise writers on one lock and chain in the database, holding the lock for no
    client round trip.

    Each INSERT reads the last hash and hashes itself in one statement (its snapshot is
    taken once the lock is ours, so two transactions never chain onto the same entry).
    The lock, the INSERTs and — for a top-level transaction — the COMMIT reach the
    server as one message, so the lock is held only while the server runs them. Sent
    one by one, every round trip under the lock also waited for this greenlet's turn on
    a busy event loop, and the whole room's writes queued behind it (`make load`: 500
    votes in 5 s, up to a second each). One message allows no bound parameters: the
    values are quoted by psycopg as literals. SQLAlchemy's own COMMIT that follows
    finds the connection idle and does nothing.
    """
    from psycopg import sql

    raw = session.connection().connection.driver_connection
    statements = [sql.SQL(_PG_LOCK)]
    for entry in pending:
        values = {**entry, "payload": json.dumps(entry["payload"], default=str),
                  "prefix": _digest_prefix(entry)}
        statements.append(sql.SQL(_PG_APPEND).format(
            **{name: sql.Literal(value) for name, value in values.items()}))
    if not session.in_nested_transaction():
        statements.append(sql.SQL("COMMIT"))
    raw.execute(sql.SQL("; ").join(statements))


def _drop_pending(session, *args) -> None:  # noqa: ARG001
    session.info.pop(_PENDING, None)


sa_event.listen(Session, "before_commit", _write_pending)
sa_event.listen(Session, "after_soft_rollback", _drop_pending)


def verify_chain() -> list[str]:
    """Return a French description of every break in the chain (empty when intact)."""
    problems: list[str] = []
    prev = ""
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != prev:
            problems.append(f"Entrée {event.id} : le maillon précédent ne correspond pas.")
        if _digest(event) != event.hash:
            problems.append(f"Entrée {event.id} : contenu modifié après coup.")
        prev = event.hash
    return problems
