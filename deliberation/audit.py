"""Append-only, hash-chained audit log, sealed with a key kept outside the database.

Each entry's hash covers its content and the previous entry's hash, so editing or
deleting any row breaks the chain from that point on (`verify` finds it). Since issue
13 the chain is keyed: an entry's hash is

    sha256(previous hash + HMAC-SHA256(audit key, the entry's canonical JSON))

so someone who can write to the database but does not hold the key (`AUDIT_KEY`, or
the key file created on first use, see `audit_key`) cannot forge an entry, nor
recompute the chain after a change. Whoever holds both can; what they cannot do is
rewrite what a publication already printed: every published result carries the hash
and position of one entry (`published_anchor`), and `verify --against` checks the
database against it (docs/security.md).

Entries written before the key existed are plain sha256 of their canonical JSON,
previous hash included (`_digest`). The first keyed write into such a database first
records an `audit.keyed` entry: unkeyed entries are accepted before it and never
after it, and a chain with no keyed entry at all is reported, since a downgrade (the
whole chain recomputed without the key) would look exactly like that (`init-db`
seals an old database at once).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditEvent, is_row_id, utcnow

#: The entry the first keyed write adds after unkeyed history (« scellé à partir d'ici »).
KEYED_MARKER = "audit.keyed"
#: The entry whose hash a published motion prints (the whole-text ballot's publication).
ANCHOR_ACTION = "ballot.published"


# --- the key -----------------------------------------------------------------------------

class AuditKeyError(RuntimeError):
    """The audit key cannot be read or created (French message)."""


@dataclass
class _State:
    """Per app: the key, whether the chain is known to be keyed at its tail, and the
    last (entry id, position) this process saw committed (positions are counted from
    there, never from the start of the table on every write)."""

    key: bytes | None = None
    sealed: bool = False
    position: tuple[int, int] = (0, 0)


def _state() -> _State:
    return current_app.extensions.setdefault("motion_audit", _State())


def audit_key(create: bool = True) -> bytes | None:
    """The key of the chain: config `AUDIT_KEY`, else the file `AUDIT_KEY_FILE`
    (instance/audit_key by default), created with mode 0600 on first use.

    `create=False` (verification) never creates one: a new key would only make every
    sealed entry look forged. Returns None then when there is none.
    """
    state = _state()
    if state.key is not None:
        return state.key
    configured = current_app.config.get("AUDIT_KEY")
    if configured:
        if len(configured) < 32:
            raise AuditKeyError("AUDIT_KEY trop courte : 32 caractères au moins.")
        state.key = configured.encode() if isinstance(configured, str) else bytes(configured)
        return state.key
    path = Path(current_app.config.get("AUDIT_KEY_FILE")
                or Path(current_app.instance_path) / "audit_key")
    try:
        if not path.exists():
            if not create:
                return None
            _create_key_file(path)
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError) as exc:
        raise AuditKeyError(f"Clé d'audit illisible : {path} "
                            f"({getattr(exc, 'strerror', None) or exc}).") from None
    if len(text) < 32:
        raise AuditKeyError(f"Clé d'audit trop courte ou vide dans {path} : "
                            "32 caractères au moins.")
    state.key = text.encode()
    return state.key


def _create_key_file(path: Path) -> None:
    """Write a new random key, readable by its owner only; several processes starting at
    once end up with the same one (written aside, then linked into place: first wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".audit_key-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


# --- digests ----------------------------------------------------------------------------

def _fields(event: AuditEvent | dict) -> dict[str, Any]:
    get = event.get if isinstance(event, dict) else (lambda name: getattr(event, name))
    return {"congress_id": get("congress_id"),
            "at": get("at").isoformat(timespec="microseconds"),
            "actor_id": get("actor_id"), "action": get("action"), "payload": get("payload")}


def _canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)


def _digest(event: AuditEvent, raw: bool = False) -> str:
    """The unkeyed digest (entries written before the key): sha256 of the entry's
    canonical JSON, previous hash included (raw: the JSON itself)."""
    body = _canonical({**_fields(event), "prev": event.prev_hash})
    return body if raw else hashlib.sha256(body.encode()).hexdigest()


def _seal(key: bytes, event: AuditEvent | dict) -> str:
    """HMAC-SHA256 of the entry's canonical JSON (without the previous hash)."""
    return hmac.new(key, _canonical(_fields(event)).encode(), hashlib.sha256).hexdigest()


def _chain(prev: str, seal: str) -> str:
    """The keyed hash: the previous hash and this entry's seal, hashed together."""
    return hashlib.sha256((prev + seal).encode()).hexdigest()


def _keyed_digest(key: bytes, event: AuditEvent) -> str:
    return _chain(event.prev_hash, _seal(key, event))


# --- writing -------------------------------------------------------------------------------

_INSERT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id,
                                                 sort_by_parameter_order=True)
_LAST = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)
_LAST_HASH = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
# PostgreSQL: the keyed hash chained by the database (the seal is computed here, in
# Python, before the lock; the database only hashes it with the previous hash).
_PG_LOCK = "SELECT pg_advisory_xact_lock(7410001)"
# psycopg.sql template (braces doubled); the values are quoted client-side as literals
# so that the lock, the INSERTs and the COMMIT travel as one message (see below).
_PG_APPEND = """
    INSERT INTO audit_event (congress_id, at, actor_id, action, payload, prev_hash, hash)
    SELECT CAST({congress_id} AS INTEGER), CAST({at} AS TIMESTAMP),
           CAST({actor_id} AS INTEGER), CAST({action} AS VARCHAR),
           CAST({payload} AS JSON), last.hash,
           encode(sha256(convert_to(last.hash || CAST({seal} AS TEXT), 'UTF8')), 'hex')
    FROM (SELECT coalesce((SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1), '')
          AS hash) AS last
    RETURNING id, hash
"""
# The new head's position, counted from the last one this process knows (not from the
# start of the table), after the COMMIT: the lock is already released.
_PG_POSITION = """
    SELECT CAST({known_position} AS BIGINT) + count(*) AS position FROM audit_event
    WHERE id > CAST({known_id} AS BIGINT) AND id <= lastval()
"""

_PENDING = "motion_audit_pending"
_HEAD = "motion_audit_head"
_ENTRIES = "motion_audit_entries"
_NEXT_STATE = "motion_audit_next_state"


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


def head() -> dict[str, Any] | None:
    """The last entry this session wrote: {"entry", "entries", "hash"}, the chain's head
    as of that commit (a vote's receipt prints it: read it right after the commit that
    recorded the vote), or None when the session wrote none."""
    return db.session.info.get(_HEAD)


def heads() -> list[dict[str, Any]]:
    """Every entry the session's last commit wrote, in the order they were recorded, as
    `head` gives the last one: a batch of votes (ballots.cast_votes) gives each voter's
    receipt its own vote's entry, not the batch's last."""
    return list(db.session.info.get(_ENTRIES) or ())


def receipt_line(anchor: dict[str, Any]) -> str:
    """The anchor as a receipt prints it (French)."""
    n = anchor["entries"]
    return (f"Journal d'audit à ce vote\u00a0: entrée n°\u00a0{anchor['entry']}, "
            f"{n} entrée{'s' if n > 1 else ''}, empreinte {anchor['hash']}.")


def _write_pending(session) -> None:
    """Seal, chain and insert the transaction's queued entries, in order, as its last
    writes; remember the new head (`head`)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # pending ORM changes first: an entry always follows what it records
    key = audit_key()
    state = _state()
    if not state.sealed and pending[0]["action"] != KEYED_MARKER:
        # Once per app: does the chain end on unkeyed entries (a database older than
        # the key)? Then it is keyed from here, and says so first.
        last = session.scalar(_LAST)
        if last is not None and last.hash != _keyed_digest(key, last):
            pending.insert(0, _marker(last.id))
    nested = session.in_nested_transaction()
    if session.get_bind().dialect.name == "postgresql":
        written, position = _append_postgresql(session, pending, key, state, nested)
    else:
        written, position = _append_sqlite(session, pending, key, state)
    # One transaction's entries are consecutive in the chain (one writer holds the lock).
    entries = [{"entry": entry_id, "entries": position - len(written) + 1 + i, "hash": hash_}
               for i, (entry_id, hash_) in enumerate(written)]
    entry = written[-1][0]
    session.info[_ENTRIES] = entries
    session.info[_HEAD] = entries[-1]
    if not nested:  # what this process knows becomes true once the commit is done
        session.info[_NEXT_STATE] = (entry, position)


def _append_sqlite(session, pending: list[dict], key: bytes,
                   state: _State) -> tuple[list[tuple[int, str]], int]:
    prev = session.scalar(_LAST_HASH) or ""
    rows = []
    for entry in pending:
        hash_ = _chain(prev, _seal(key, entry))
        rows.append({**entry, "prev_hash": prev, "hash": hash_})
        prev = hash_
    ids = session.scalars(_INSERT, rows).all()
    known_id, known_position = state.position
    position = known_position + session.scalar(
        select(func.count()).select_from(AuditEvent)
        .where(AuditEvent.id > known_id, AuditEvent.id <= ids[-1]))
    return [(entry_id, row["hash"]) for entry_id, row in zip(ids, rows, strict=True)], position


def _append_postgresql(session, pending: list[dict], key: bytes, state: _State,
                       nested: bool) -> tuple[list[tuple[int, str]], int]:
    """Serialise writers on one lock and chain in the database, holding the lock for no
    client round trip.

    Each INSERT reads the last hash and hashes itself with its seal in one statement (its
    snapshot is taken once the lock is ours, so two transactions never chain onto the
    same entry). The lock, the INSERTs and — for a top-level transaction — the COMMIT
    reach the server as one message, so the lock is held only while the server runs
    them. Sent one by one, every round trip under the lock also waited for this
    greenlet's turn on a busy event loop, and the whole room's writes queued behind it
    (`make load`: 500 votes in 5 s, up to a second each). One message allows no bound
    parameters: the values are quoted by psycopg as literals. The new head's position
    is counted in the same message, after the COMMIT. SQLAlchemy's own COMMIT that
    follows finds the connection idle and does nothing.

    The key never reaches the database: only each entry's seal does (an HMAC that is
    good for that entry's content alone). pgcrypto's `hmac()` would have put the key
    itself in every statement, in the server's logs, and needs the extension.
    """
    from psycopg import sql

    raw = session.connection().connection.driver_connection
    statements = [sql.SQL(_PG_LOCK)]
    for entry in pending:
        values = {name: entry[name] for name in ("congress_id", "at", "actor_id", "action")}
        values["payload"] = json.dumps(entry["payload"], default=str)
        values["seal"] = _seal(key, entry)
        statements.append(sql.SQL(_PG_APPEND).format(
            **{name: sql.Literal(value) for name, value in values.items()}))
    if not nested:
        statements.append(sql.SQL("COMMIT"))
    known_id, known_position = state.position
    statements.append(sql.SQL(_PG_POSITION).format(known_id=sql.Literal(known_id),
                                                   known_position=sql.Literal(known_position)))
    cursor = raw.execute(sql.SQL("; ").join(statements))
    written, position = [], 0
    while True:
        names = [column.name for column in cursor.description or ()]
        if names == ["id", "hash"]:
            entry_id, hash_ = cursor.fetchone()
            written.append((entry_id, hash_))
        elif names == ["position"]:
            position = int(cursor.fetchone()[0])
        if not cursor.nextset():
            break
    return written, position


def _marker(unkeyed_until: int) -> dict[str, Any]:
    return {"congress_id": None, "actor_id": None, "action": KEYED_MARKER,
            "payload": {"unkeyed_until": unkeyed_until}, "at": utcnow()}


def _committed(session) -> None:
    """After a commit: the chain is keyed at its tail; remember the head's position."""
    known = session.info.pop(_NEXT_STATE, None)
    if known is None:
        return
    state = _state()
    state.sealed = True
    if known[0] > state.position[0]:
        state.position = known


def _drop_pending(session, *args) -> None:  # noqa: ARG001
    for name in (_PENDING, _NEXT_STATE):
        session.info.pop(name, None)


sa_event.listen(Session, "before_commit", _write_pending)
sa_event.listen(Session, "after_commit", _committed)
sa_event.listen(Session, "after_soft_rollback", _drop_pending)


def seal_history() -> bool:
    """Record the « keyed from here » entry now if the chain ends on unkeyed entries
    (`init-db` on a database older than the key). Commits; True when one was written."""
    last = db.session.scalar(_LAST)
    if last is None or last.hash == _keyed_digest(audit_key(), last):
        return False
    db.session.info.setdefault(_PENDING, []).insert(0, _marker(last.id))
    db.session.commit()
    return True


# --- reading and checking ---------------------------------------------------------------------

def position_of(entry_id: int) -> int:
    """How many entries the chain holds up to and including `entry_id`."""
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.id <= entry_id)) or 0


def published_anchor(ballot_id: int) -> dict[str, Any] | None:
    """The anchor a publication prints: the audit entry that recorded the publication of
    `ballot_id` (stable, unlike the moving head), its position and its hash."""
    for entry_id, hash_, payload, at in db.session.execute(
            select(AuditEvent.id, AuditEvent.hash, AuditEvent.payload, AuditEvent.at)
            .where(AuditEvent.action == ANCHOR_ACTION).order_by(AuditEvent.id.desc())):
        if (payload or {}).get("ballot") == ballot_id:
            return {"entry": entry_id, "entries": position_of(entry_id), "hash": hash_,
                    "event": ANCHOR_ACTION, "ballot": ballot_id,
                    "recorded_at": at.isoformat(timespec="seconds") + "Z"}
    return None


@dataclass
class ChainReport:
    """What `chain_report` found: problems (French), entry counts, the keyed start."""

    problems: list[str]
    entries: int = 0
    unkeyed: int = 0
    keyed_from: int | None = None


def chain_report() -> ChainReport:
    """Walk the whole chain: links, keyed hashes, and where unkeyed history ends.

    Rules: an entry's previous hash is the hash of the entry before it; its hash is
    its keyed digest, or — only before the first keyed entry — its unkeyed digest; the
    first keyed entry after unkeyed ones is the `audit.keyed` marker; a non-empty chain
    has at least one keyed entry.
    """
    key = audit_key(create=False)
    report = ChainReport(problems=[])
    problems = report.problems
    prev = ""
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        report.entries += 1
        if event.prev_hash != prev:
            problems.append(f"Entrée {event.id} : le maillon précédent ne correspond pas.")
        if key is not None and event.hash == _keyed_digest(key, event):
            if report.keyed_from is None:
                report.keyed_from = event.id
                if report.unkeyed and event.action != KEYED_MARKER:
                    problems.append(f"Entrée {event.id} : scellée sans marque de début de "
                                    "scellement après des entrées non scellées.")
        elif event.hash == _digest(event):
            if report.keyed_from is not None:
                problems.append(f"Entrée {event.id} : non scellée par la clé alors que la "
                                f"chaîne l'est depuis l'entrée {report.keyed_from} "
                                "(réécrite sans la clé ?).")
            else:
                report.unkeyed += 1
        else:
            problems.append(f"Entrée {event.id} : contenu modifié après coup.")
        prev = event.hash
    if report.entries and report.keyed_from is None:
        problems.append("Aucune entrée du journal n'est scellée par la clé d'audit : une "
                        "réécriture complète ne serait pas détectée. Base antérieure au "
                        "scellement : « python -m deliberation init-db » la scelle.")
    return report


def verify_chain() -> list[str]:
    """Return a French description of every break in the chain (empty when intact)."""
    return chain_report().problems


def parse_anchor(document: Any) -> dict[str, Any] | None:
    """The anchor of a published JSON (`resultats.json`: its "audit" object; a bare
    {"entry", "entries", "hash"} object, as on a receipt, is accepted too), or None."""
    if isinstance(document, dict) and isinstance(document.get("audit"), dict):
        document = document["audit"]
    if not isinstance(document, dict):
        return None
    entry, entries, hash_ = (document.get(name) for name in ("entry", "entries", "hash"))
    if not (is_row_id(entry) and is_row_id(entries) and isinstance(hash_, str)
            and len(hash_) == 64 and all(c in "0123456789abcdef" for c in hash_)):
        return None
    return {"entry": entry, "entries": entries, "hash": hash_}


def check_anchor(anchor: dict[str, Any]) -> list[str]:
    """Problems (French) between the database and a published anchor: the entry at the
    published position must exist, hold the published hash, and have as many entries
    up to it as published (the chain up to it is checked by `chain_report`)."""
    entry = anchor["entry"]
    event = db.session.get(AuditEvent, entry)
    if event is None:
        return [f"Entrée n° {entry} publiée absente du journal : le journal a été tronqué "
                "ou réécrit depuis la publication."]
    problems = []
    if event.hash != anchor["hash"]:
        problems.append(f"Entrée n° {entry} : son empreinte diffère de celle publiée : le "
                        "journal a été réécrit jusqu'à ce point depuis la publication.")
    position = position_of(entry)
    if position != anchor["entries"]:
        problems.append(f"Le journal compte {position} entrée{'s' if position > 1 else ''} "
                        f"jusqu'à l'entrée n° {entry}, la publication en annonçait "
                        f"{anchor['entries']} : des entrées ont été supprimées ou ajoutées.")
    return problems
