"""Append-only, hash-chained audit log.

Each entry's hash covers its content and the previous entry's hash, so editing
or deleting any row breaks the chain from that point on (`verify` finds it).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import insert, select, text

from .extensions import db
from .models import AuditEvent, utcnow


def _digest(event: AuditEvent) -> str:
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
    return hashlib.sha256(body.encode()).hexdigest()


_LAST_HASH = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
_INSERT = insert(AuditEvent.__table__)


def record(action: str, congress_id: int | None, actor_id: int | None = None,
           **payload: Any) -> AuditEvent:
    """Add an audit entry to the current transaction (committed with the change it records).

    A Core insert, not an ORM add: it sits on the vote's hot path (bench/votes.py).
    Pending ORM changes are flushed first, so the entry always follows what it records.
    """
    db.session.flush()
    if db.session.get_bind().dialect.name == "postgresql":
        # Serialise writers so two transactions never chain onto the same entry.
        db.session.execute(text("SELECT pg_advisory_xact_lock(7410001)"))
    prev = db.session.scalar(_LAST_HASH)
    event = AuditEvent(congress_id=congress_id, actor_id=actor_id, action=action,
                       payload=payload, at=utcnow(), prev_hash=prev or "")
    event.hash = _digest(event)
    db.session.execute(_INSERT, {
        "congress_id": congress_id, "actor_id": actor_id, "action": action,
        "payload": payload, "at": event.at, "prev_hash": event.prev_hash, "hash": event.hash})
    return event


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
