"""The ballot box of a secret ballot, kept apart from the register of voters in storage.

CNIL deliberation 2019-053 asks that the list of voters (the émargement, our
`ballot_voter`) be kept apart from the ballot box (`ballot_box`). The schema already
keeps them apart: a paper is a random id and a choice. This module makes sure the
*storage* does not join them again — row order, transaction ids, old row images in free
pages or in the write-ahead log (docs/security.md says exactly what remains).

A vote still writes its register row and its paper in one transaction: that is what
makes a vote counted or refused, never lost nor doubled, and an acknowledged vote
survive a crash. Everything here happens around that transaction, never inside it:

* `put` writes one paper with a fresh random id (inside the vote's transaction).
* While the ballot is open, `note_cast` asks for a re-draw of its box, at most every
  `BALLOT_BOX_REDRAW_S` seconds (2 s), by the process's one scheduler of coalesced work
  (never once per vote). `redraw_open` deletes the box's papers and inserts the same
  choices again, shuffled, with new ids, in a transaction of its own: on PostgreSQL the
  live papers then share one `xmin` and their physical order is random; on SQLite the
  cells of a page are no longer in casting order. Then the old images are cleared as
  far as a running server can afford: a `VACUUM` on PostgreSQL, a truncating WAL
  checkpoint on SQLite that gives up at once when the room is busy (tried again next
  time).
* At the close, `redraw` runs inside the close's transaction (the counts cannot move),
  and after its commit `scrub` erases what is left: on SQLite, `secure_delete` (set at
  connect, deliberation/__init__.py) has zeroed the deleted cells and freed pages, and a
  `wal_checkpoint(TRUNCATE)` writes them to the main file and empties the WAL; on
  PostgreSQL, `VACUUM FULL ballot_box` rewrites the table and its indexes into new
  files, so no dead version, old tuple header or stale index entry survives (plain
  `VACUUM` when the table's lock cannot be had quickly). What could not finish (a reader
  holding the WAL, a transaction holding the table, or one older than the close, which
  still sees the old papers so that VACUUM FULL would copy them) is retried by the
  scheduler every `BALLOT_BOX_SCRUB_RETRY_S` (5 s) until it does.

A re-draw never loses nor doubles a paper: `DELETE ... RETURNING choice` hands back
exactly the papers it deleted and the same transaction inserts exactly those again; it
runs only while the ballot is open (on PostgreSQL it holds the ballot row in share
mode, so the close waits for it; on SQLite the write lock orders them), and two
processes never re-draw one box at once (an advisory lock).
"""

from __future__ import annotations

import logging
import secrets
import uuid

from flask import current_app
from sqlalchemy import delete, exists, insert, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from .coalesce import Pace
from .extensions import db
from .models import Ballot, BallotBox
from .push import scheduler

log = logging.getLogger(__name__)

#: The scheduler channel of the open ballots' re-draws (key: the ballot id).
CHANNEL = "ballot.box.redraw"
#: The scheduler channel of the scrubs retried after a close (key: the ballot id).
SCRUB_CHANNEL = "ballot.box.scrub"
#: PostgreSQL advisory lock space of the re-draws (audit 7410001, refits 7410002).
REDRAW_LOCK = 7410003
#: How long the close's VACUUM FULL may wait for the table's lock before falling back.
FULL_VACUUM_LOCK_TIMEOUT = "500ms"
#: How long an open ballot's WAL checkpoint may wait for the room's readers and writers.
OPEN_CHECKPOINT_BUSY_MS = 20
#: The same for a retried scrub after a close (the close itself waits
#: BALLOT_BOX_SCRUB_WAIT_MS, 1 s by default: SQLite's wait blocks the whole process, a
#: gevent server's other greenlets included, so it stays short and the retry finishes).
RETRY_CHECKPOINT_BUSY_MS = 200

_BOX = BallotBox.__table__
_PUT = insert(_BOX)


def put(ballot_id: int, choice: str) -> None:
    """Drop one paper in the box, with a fresh random id (in the vote's transaction)."""
    db.session.execute(_PUT, {"id": uuid.uuid4().hex, "ballot_id": ballot_id,
                              "choice": choice})


def put_many(ballot_id: int, choices: list[str]) -> None:
    """Drop a batch's papers in the box, shuffled, each with a fresh random id (in the
    batch's transaction: ballots.cast_votes)."""
    choices = list(choices)
    secrets.SystemRandom().shuffle(choices)
    if choices:
        db.session.execute(_PUT, [{"id": uuid.uuid4().hex, "ballot_id": ballot_id,
                                   "choice": choice} for choice in choices])


def redraw(ballot_id: int, *, only_open: bool = False) -> int:
    """Re-draw the ballot's papers with fresh random ids, in random order, in the caller's
    transaction (which commits). Returns how many papers the box holds.

    `only_open`: touch the box only while the ballot is open (the guard is evaluated by
    the DELETE itself, under the write lock on SQLite).
    """
    taking = delete(_BOX).where(_BOX.c.ballot_id == ballot_id)
    if only_open:
        taking = taking.where(exists().where(Ballot.id == ballot_id, Ballot.state == "open"))
    choices = list(db.session.execute(taking.returning(_BOX.c.choice)).scalars())
    secrets.SystemRandom().shuffle(choices)
    if choices:
        db.session.execute(_PUT, [{"id": uuid.uuid4().hex, "ballot_id": ballot_id,
                                   "choice": choice} for choice in choices])
    return len(choices)


def redraw_open(ballot_id: int) -> int | None:
    """Re-draw an open ballot's box in a transaction of its own (commits), then clear the
    old images as far as a running room allows. Returns how many papers were re-drawn
    (0: closed meanwhile, or empty), or None when it could not be done now (another
    process is re-drawing this box, or the database refused): to be tried again."""
    postgresql = _dialect() == "postgresql"
    try:
        if postgresql and not _only_redrawer(ballot_id):
            db.session.rollback()
            return None
        if postgresql and not _hold_open_ballot(ballot_id):
            db.session.rollback()
            return 0
        drawn = redraw(ballot_id, only_open=True)
        db.session.commit()
    except SQLAlchemyError:
        # A failed re-draw changes nothing: the papers stay as the votes wrote them.
        db.session.rollback()
        log.exception("re-drawing the box of ballot %s failed", ballot_id)
        return None
    if drawn:
        _clear_old_images(full=False, busy_ms=OPEN_CHECKPOINT_BUSY_MS)
    return drawn


def _redraw_due(ballot_id: int) -> None:
    """The scheduler's re-draw; one that could not be done now is asked for again."""
    if redraw_open(ballot_id) is None:
        scheduler.offer(current_app._get_current_object(), CHANNEL, ballot_id)


def _only_redrawer(ballot_id: int) -> bool:
    """PostgreSQL: no other process is re-drawing this box (until this transaction ends)."""
    return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:space, :id)"),
                                  {"space": REDRAW_LOCK, "id": ballot_id % 2**31}))


def _hold_open_ballot(ballot_id: int) -> bool:
    """PostgreSQL: hold the ballot row in share mode while it is open (the close waits for
    this transaction; a ballot closed meanwhile: False)."""
    return db.session.scalar(select(Ballot.id).where(Ballot.id == ballot_id,
                                                     Ballot.state == "open")
                             .with_for_update(read=True)) is not None


def scrub(ballot_id: int) -> bool:
    """After a secret ballot's close has committed: erase the old images of its papers
    from the database's files. True when everything could be erased now; otherwise (a
    reader held the SQLite WAL; on PostgreSQL a transaction held ballot_box, or one older
    than the close could still see the old papers) it is tried again every
    `BALLOT_BOX_SCRUB_RETRY_S` until it succeeds."""
    config = current_app.config
    done = _clear_old_images(full=True, ballot_id=ballot_id,
                             busy_ms=int(config.get("BALLOT_BOX_SCRUB_WAIT_MS", 1000)))
    if not done:
        scheduler.offer(current_app._get_current_object(), SCRUB_CHANNEL, ballot_id)
    return done


def _retry_scrub(ballot_id: int) -> None:
    """The scheduler's retry of a scrub that could not finish (never waits long)."""
    if not _clear_old_images(full=True, ballot_id=ballot_id,
                             busy_ms=RETRY_CHECKPOINT_BUSY_MS):
        scheduler.offer(current_app._get_current_object(), SCRUB_CHANNEL, ballot_id)


def _clear_old_images(*, full: bool, busy_ms: int, ballot_id: int | None = None) -> bool:
    dialect = _dialect()
    try:
        if dialect == "sqlite":
            return _checkpoint_sqlite(busy_ms)
        if dialect == "postgresql":
            return _vacuum_postgresql(full=full, ballot_id=ballot_id)
    except SQLAlchemyError:
        log.exception("clearing the ballot box's old images failed")
        return False
    return True  # pragma: no cover - only SQLite and PostgreSQL are supported


def _checkpoint_sqlite(busy_ms: int) -> bool:
    """Copy the WAL into the main file and truncate it to zero bytes, waiting at most
    `busy_ms` for the readers and the writer of the moment (an open ballot: 20 ms, so a
    burst of votes is never held up; the close: 1 s; a retry: 200 ms)."""
    with db.engine.connect() as connection:
        previous = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        connection.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_ms)}")
        try:
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(previous)}")
    if busy and busy_ms > OPEN_CHECKPOINT_BUSY_MS:
        log.warning("WAL checkpoint after a secret ballot's close stayed busy: the WAL "
                    "holds the votes' transactions until a retry succeeds")
    return not busy


#: Sessions of this database whose snapshot or transaction is older than the close of
#: a ballot (the close wrote its papers: their xmin is the close's xid). While one runs,
#: the papers the close deleted are still visible to it, and VACUUM FULL would copy
#: them into the new file. Other roles' sessions are seen only with pg_read_all_stats.
_OLDER_SESSIONS = text("""
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND greatest(coalesce(age(backend_xmin), -1), coalesce(age(backend_xid), -1))
          >= (SELECT age(xmin) FROM ballot_box WHERE ballot_id = :ballot LIMIT 1)
""")


def _vacuum_postgresql(*, full: bool, ballot_id: int | None = None) -> bool:
    """VACUUM ballot_box on a connection of its own (VACUUM refuses a transaction).

    FULL rewrites the table and its indexes into new files: no dead version, old tuple
    header or stale index entry survives. Not while a session older than the ballot's
    close runs (it would keep the old papers alive: False, tried again later). It takes
    the table's exclusive lock, so it waits at most FULL_VACUUM_LOCK_TIMEOUT for the
    transactions of the moment, then falls back to a plain VACUUM (dead versions gone,
    their bytes left in free space).
    """
    name = db.engine.dialect.identifier_preparer.format_table(_BOX)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if full and ballot_id is not None and connection.execute(
                _OLDER_SESSIONS, {"ballot": ballot_id}).scalar():
            log.info("ballot %s closed: VACUUM FULL %s waits for older transactions",
                     ballot_id, name)
            return False
        if full:
            connection.exec_driver_sql(f"SET lock_timeout = '{FULL_VACUUM_LOCK_TIMEOUT}'")
            try:
                connection.exec_driver_sql(f"VACUUM (FULL) {name}")
                return True
            except OperationalError:
                log.warning("VACUUM FULL %s could not take the table's lock in %s: plain "
                            "VACUUM instead", name, FULL_VACUUM_LOCK_TIMEOUT)
            finally:
                connection.exec_driver_sql("RESET lock_timeout")
        connection.exec_driver_sql(f"VACUUM (SKIP_LOCKED) {name}")
    return not full


def _dialect() -> str:
    return db.engine.dialect.name


# --- while the ballot is open: re-drawn on a timer, never once per vote ---------------

def note_cast(ballot_id: int) -> None:
    """A paper was dropped in an open ballot's box: re-draw it soon (after the commit)."""
    scheduler.offer(current_app._get_current_object(), CHANNEL, ballot_id)


def _pace(config) -> Pace:
    every = float(config.get("BALLOT_BOX_REDRAW_S", 2.0))
    return Pace(delay=every, spacing=every, leading=False,
                background=bool(config.get("BALLOT_BOX_IN_BACKGROUND",
                                           not config.get("TESTING"))))


def _scrub_pace(config) -> Pace:
    every = float(config.get("BALLOT_BOX_SCRUB_RETRY_S", 5.0))
    return Pace(delay=every, spacing=every, leading=False,
                background=bool(config.get("BALLOT_BOX_IN_BACKGROUND",
                                           not config.get("TESTING"))))


scheduler.channel(CHANNEL, lambda ballot_id, _value: _redraw_due(ballot_id), pace=_pace)
scheduler.channel(SCRUB_CHANNEL, lambda ballot_id, _value: _retry_scrub(ballot_id),
                  pace=_scrub_pace)
