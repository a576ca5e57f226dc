"""Events → rooms: the one way anything reaches a screen, always after the commit.

Only this module knows how events travel (Socket.IO rooms, the Redis message queue
between processes, which sockets a person holds). The domain decides *what* happened
and builds the payload; it hands the events here once its transaction has committed,
so a client never hears of something a rollback later undid.

May import: the extensions, the models and `coalesce`. Imports nothing of the domain,
of the screens or of the socket handlers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from . import frames
from .coalesce import Scheduler
from .extensions import db, socketio
from .models import SocketConnection

AUDIENCES = ("projector", "facilitator", "participants")
STAFF_AUDIENCES = ("facilitator",)
PUBLIC_AUDIENCES = ("projector", "participants")
SCREENS = ("projector", "facilitator")
PHONES = ("participants",)


def room(congress_id: int, audience: str) -> str:
    return f"congress:{congress_id}:{audience}"


# -- what a connecting screen may reuse: a congress's pushes counted per process ---------

_emits: dict[int, int] = {}


def _count_emit(name: str) -> None:
    parts = name.split(":")
    if len(parts) == 3 and parts[0] == "congress" and parts[1].isdigit():
        congress_id = int(parts[1])
        _emits[congress_id] = _emits.get(congress_id, 0) + 1


frames.on_emit.append(_count_emit)


def emits(congress_id: int) -> int:
    """How many pushes this process delivered to the rooms of a congress so far, from
    any process: a snapshot built before the count moved may miss what was pushed."""
    return _emits.get(congress_id, 0)


@dataclass(frozen=True)
class Event:
    """Something that happened in a congress, for some of its audiences."""

    name: str
    payload: dict
    congress_id: int
    audiences: tuple[str, ...] = AUDIENCES


def send(name: str, payload: dict, congress_id: int,
         audiences: tuple[str, ...] = AUDIENCES) -> None:
    """Send one event to the given audiences of one congress (call after commit)."""
    for audience in audiences:
        socketio.emit(name, payload, to=room(congress_id, audience))


def publish(events: Iterable[Event]) -> None:
    """Send events, in order (call after commit)."""
    for event in events:
        send(event.name, event.payload, event.congress_id, event.audiences)


@contextlib.contextmanager
def _app_context(app):
    """What a coalesced send runs in, outside any request: the app's context, and a
    session that is rolled back on failure and always handed back to the pool."""
    with app.app_context():
        try:
            yield
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


#: The process's one scheduler of coalesced pushes (pictures, phone batches, ballot
#: progress, the refit debounce). Its tasks are Flask-SocketIO's: greenlets under gevent.
scheduler = Scheduler(start_task=socketio.start_background_task, sleep=socketio.sleep,
                      around=_app_context)


# -- sockets of one person: a revoked or erased session also closes its sockets ----------

def remember_socket(sid: str, participant_id: int) -> None:
    """Remember the sid of a logged-in person's socket (from the connect handler)."""
    db.session.merge(SocketConnection(sid=sid, participant_id=participant_id))
    db.session.commit()


def close_participant_sockets(participant_id: int) -> int:
    """Disconnect every socket of one person, in whichever process holds it (after commit)."""
    rows = list(db.session.scalars(select(SocketConnection)
                                   .filter_by(participant_id=participant_id)))
    for row in rows:
        # Through the message queue, the process that holds this sid disconnects it;
        # an sid that already left is a no-op.
        socketio.server.disconnect(row.sid, namespace="/")
        db.session.delete(row)
    db.session.commit()
    return len(rows)


def send_to_participants(participant_ids: Iterable[int], name: str, payload: dict) -> None:
    """Send one event to every open socket of these people only (after commit): their
    phone hears that their own registration or presence changed."""
    ids = list(participant_ids)
    if not ids:
        return
    for sid in db.session.scalars(select(SocketConnection.sid)
                                  .where(SocketConnection.participant_id.in_(ids))):
        socketio.emit(name, payload, to=sid)
