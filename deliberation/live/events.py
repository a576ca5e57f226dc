"""Socket.IO handlers: every event a screen or a phone sends, in one module.

Each handler checks the sender (identity comes from the HTTP session the participant and
facilitator routes established; handlers only read it), hands the work to the domain and
answers with an ack: `{ok: true, ...}` or `{ok: false, error: "<français>"}`, never an
exception and never silence. What the other screens hear goes out through `push`, after
the commit, from the domain's `announce`.

May import: the domain, `push`, the models and the bottom floor. Never a blueprint.
"""

from __future__ import annotations

import json
import re
import time

from engineio import json as engineio_json
from flask import Flask, current_app, request
from flask_login import current_user
from flask_socketio import emit, join_room, rooms
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .. import actions, ballots, push
from ..extensions import db, socketio
from ..models import Ballot, Congress, is_row_id
from ..push import AUDIENCES, STAFF_AUDIENCES, room
from ..ratelimit import socket_allowed  # production (issue 6): same limit as HTTP
from ..screens import snapshot
from ..security import session_claim
from ..voting import VoteRefused


class PacketJSON:
    """How Socket.IO packets are read: engine.io's JSON (integers of at most 100 digits),
    except that a payload nested past Python's recursion limit (« [[[[… » 50,000 deep)
    reads as `[event, None]`. The handler then answers « message illisible »; before, the
    packet raised inside the server and its sender waited for an ack that never came."""

    dumps = staticmethod(engineio_json.dumps)
    _EVENT = re.compile(r'\s*\[\s*("(?:[^"\\]|\\.){1,64}")\s*,')

    @classmethod
    def loads(cls, text, *args, **kwargs):
        try:
            return engineio_json.loads(text, *args, **kwargs)
        except RecursionError:
            event = cls._EVENT.match(text) if isinstance(text, str) else None
            if event is None:
                raise ValueError("Socket.IO packet nested too deeply") from None
            return [json.loads(event.group(1)), None]


UNKNOWN_EVENT = {"ok": False, "error": "Événement inconnu : rechargez la page.",
                 "code": "unknown_event"}


def _refuse_unknown_event(*args) -> dict:  # noqa: ARG001 - (event, sid, data...) or (sid, ...)
    return dict(UNKNOWN_EVENT)


#: (app, congress id, audience) → (pushes counted when it was read, monotonic time, snapshot)
_SNAPSHOTS: dict[tuple[int, int, str], tuple[int, float, dict]] = {}


def _snapshot(congress: Congress, audience: str) -> dict:
    """The snapshot a connecting phone gets, read once for a whole room (issue 17: 5,000
    phones connecting computed 5,000 identical snapshots). Reused while no push reached
    the congress's rooms since it was read (in this process or, through Redis, from
    another) and for at most SNAPSHOT_CACHE_S seconds, for what changes unpushed. The
    count is read before the snapshot: a push during the read makes it stale at once.
    Staff screens are few and read theirs fresh."""
    ttl = float(current_app.config.get("SNAPSHOT_CACHE_S", 0.0 if current_app.testing
                                       else 2.0))
    if audience != "participants" or ttl <= 0:
        return snapshot(congress, audience)
    key = (id(current_app._get_current_object()), congress.id, audience)
    count, now = push.emits(congress.id), time.monotonic()
    found = _SNAPSHOTS.get(key)
    if found is not None and found[0] == count and now - found[1] < ttl:
        return found[2]
    state = snapshot(congress, audience)
    _SNAPSHOTS[key] = (count, now, state)
    return state


def init_app(app: Flask) -> None:
    @socketio.on("connect")
    def on_connect(auth=None):
        """Sent by every screen on (re)connection; it joins its room and gets a snapshot."""
        auth = auth if isinstance(auth, dict) else {}
        code = str(auth.get("congress") or request.args.get("congress") or "").upper()[:16]
        audience = str(auth.get("audience") or request.args.get("audience") or "participants")
        # A NUL or a lone surrogate never reaches the query (PostgreSQL refuses a NUL in a
        # text, SQLite cannot encode a surrogate): no code holds either.
        congress = db.session.scalar(select(Congress).filter_by(join_code=code)) \
            if code.isprintable() else None
        if congress is None or audience not in AUDIENCES:
            return False
        if audience in STAFF_AUDIENCES and not (
            current_user.is_authenticated
            and current_user.congress_id == congress.id
            and current_user.role in ("facilitator", "scribe")
        ):
            return False
        join_room(room(congress.id, audience))
        if current_user.is_authenticated:  # production (issue 6): revocation closes it
            push.remember_socket(request.sid, current_user.id)
        # live debate (issue 4): the connecting client alone gets the snapshot, so no
        # update is lost on reconnection
        emit("snapshot", _snapshot(congress, audience))
        return True

    @socketio.on_error_default
    def on_error(exc: Exception):
        """Any event whose handler raised, or that came with more arguments than it takes:
        the sender still hears a refusal (a connection is refused), never silence."""
        db.session.rollback()
        extra_arguments = isinstance(exc, TypeError) and exc.__traceback__ is not None \
            and exc.__traceback__.tb_next is None  # raised by the call, not inside it
        if request.event.get("message") == "connect":
            if not extra_arguments:
                current_app.logger.error("socket connect failed", exc_info=exc)
            return False
        if extra_arguments:
            return {"ok": False, "error": "Message illisible : un seul objet JSON est attendu.",
                    "code": "invalid"}
        current_app.logger.error("socket event %s failed", request.event.get("message"),
                                 exc_info=exc)
        return {"ok": False, "error": "Une erreur est survenue ; rien n'a été enregistré. "
                                      "Réessayez.", "code": "retry"}

    # Any event no handler knows (a typo, « contribution.mvoe », or another protocol):
    # only the sender hears a refusal, never silence (python-socketio drops it else).
    # Registered on python-socketio itself: Flask-SocketIO's wrapper of « * » breaks on
    # a client that sends the literal event « * »; a refusal needs no Flask context.
    socketio.server.on("*", _refuse_unknown_event, namespace="/")

    init_ballot_events()  # --- ballots --- (handlers defined at the end of this module)
    init_debate_events()  # --- live debate (issue 4) --- (handlers at the end of this module)


# --- ballots ------------------------------------------------------------------------
# Owned by the vote feature. Events pushed to every audience of the congress:
#   ballot.opened / ballot.closed / ballot.published   {ballot payload, results when closed}
#   ballot.progress {ballot, state, cast, eligible, present, proxies, quorum_met, texts, ...}
#                   coalesced by ballots.flush_progress
# Events a client sends (ack answers, never an exception):
#   ballot.vote  {ballot, choice, key, for?}  → {ok, status, receipt, ...} | {ok: false, error}
#   ballot.state {}                           → {ok, ballots: [payload, ...]}

def _joined_congress_id() -> int | None:
    """The congress whose room this socket joined on connect."""
    for name in rooms():
        parts = str(name).split(":")
        if len(parts) == 3 and parts[0] == "congress" and parts[1].isdigit():
            return int(parts[1])
    return None


def init_ballot_events() -> None:
    @socketio.on("ballot.vote")
    def on_ballot_vote(data=None):
        """Sent by a voter's phone; only the sender hears the ack (counts go out coalesced)."""
        # issue 17: the session is read, not checked: its epoch travels with the vote and
        # is checked in the batch's one read of the voters (no query per vote here).
        claim = session_claim()
        # Hold no pooled connection past this point (a remember-me login reads one; the
        # rate limiter may yield to the event loop, the vote waits for its batch).
        db.session.rollback()
        if claim is None:
            return {"ok": False, "error": ballots.LOGIN_REFUSAL[0], "code": "login"}
        me, epoch = claim
        if not isinstance(data, dict) or len(data) > 8:
            return {"ok": False, "error": "Demande de vote illisible.", "code": "invalid"}
        ballot_id, giver = data.get("ballot"), data.get("for")
        # Ids beyond 64 bits name no row (SQLite cannot even bind them: no ack was sent).
        if not is_row_id(ballot_id):
            return {"ok": False, "error": "Scrutin inconnu.", "code": "unknown_ballot"}
        if giver is not None and not is_row_id(giver):
            return {"ok": False, "error": "Procuration inconnue.", "code": "no_proxy"}
        choice = data.get("choice")
        if not isinstance(choice, str) or len(choice) > 20:
            choice = None
        if not socket_allowed("ballot.vote", f"participant:{me}"):
            return {"ok": False, "error": "Trop de votes en peu de temps : patientez une "
                                          "minute puis réessayez.", "code": "rate_limited"}
        try:  # issue 17: written with the other votes waiting, acked once committed
            outcome = ballots.submit_vote(ballots.VoteRequest(
                ballot_id, giver if giver is not None else me, choice,
                holder_id=me if giver is not None else None, client_key=data.get("key"),
                session_epoch=epoch))
        except VoteRefused as exc:
            db.session.rollback()
            return {"ok": False, "error": exc.message, "code": exc.code}
        except SQLAlchemyError:
            db.session.rollback()
            return {"ok": False, "error": "Vote non enregistré (serveur occupé) : "
                                          "réessayez.", "code": "retry"}
        except Exception:  # every vote gets an answer; a silent socket looks like a hang
            db.session.rollback()
            current_app.logger.exception("ballot.vote failed")
            return {"ok": False, "error": "Vote non enregistré : une erreur est survenue. "
                                          "Réessayez.", "code": "retry"}
        return {"ok": True, **outcome}  # issue 13: `audit`, the receipt's anchor

    @socketio.on("ballot.state")
    def on_ballot_state(data=None):  # noqa: ARG001
        """Sent by any screen on (re)connection; only the sender hears its congress's ballots."""
        congress_id = _joined_congress_id()
        if congress_id is None:
            return {"ok": False, "error": "Rejoignez d'abord un congrès.", "code": "no_room"}
        found = db.session.scalars(select(Ballot).where(
            Ballot.congress_id == congress_id, Ballot.state != "draft")
            .order_by(Ballot.id)).all()
        return {"ok": True, "ballots": [ballots.screen_payload(ballot) for ballot in found]}


# -- Live debate (issue 4): the picture, snapshots, coalesced pushes, corrections ----------
#
# Server → client (docs/api.md, "Socket.IO"):
#   snapshot            the whole current state, sent on every (re)connection
#   contribution.created / contribution.updated   one idea (updated carries `change`)
#   points.updated      {reason, picture, changed?, supports?, run?}: counts and points
#   phase.changed, projector.mode
# Client → server, each acked {ok: true, ...} or {ok: false, error: "<français>"}:
#   snapshot; contribution.move/hide/unhide/duplicate/confirm; point.merge/split/rename;
#   theme.granularity; projector.mode; scribe.capture; contribution.correct; support.
# Every client action carries `key` (8–64 characters): the first answer is stored in
# AppliedAction, so a retry (lost ack, reconnection) is applied once and answered the same.

def _joined() -> tuple[int, str] | None:
    """(congress id, audience) of the room this socket joined on connect."""
    for name in rooms():
        parts = str(name).split(":")
        if len(parts) == 3 and parts[0] == "congress" and parts[1].isdigit() \
                and parts[2] in AUDIENCES:
            return int(parts[1]), parts[2]
    return None


#: Each action's limit, per person (generous: a facilitator sorting fast is never blocked).
_LIMITS = {"support": "RATELIMIT_SUPPORT"}
RATE_LIMITED = {"ok": False, "code": "rate_limited",
                "error": "Trop d'actions en peu de temps\u00a0: patientez un instant puis "
                         "réessayez."}


def _act(name: str, data) -> dict:
    """Apply one debate action for the sender, within its rate limit (shared across
    processes through Redis, like the HTTP limits)."""
    user = current_user._get_current_object()
    who = f"participant:{user.id}" if user.is_authenticated else f"ip:{request.remote_addr}"
    if not socket_allowed(f"live:{name}", who, _LIMITS.get(name, "RATELIMIT_LIVE_ACTION")):
        return dict(RATE_LIMITED)
    return actions.perform(name, data, user)


def init_debate_events() -> None:
    @socketio.on("snapshot")
    def on_snapshot(data=None):  # noqa: ARG001
        """Sent by any screen that wants to resync; only the sender hears the snapshot."""
        joined = _joined()
        congress = db.session.get(Congress, joined[0]) if joined else None
        if congress is None:
            return {"ok": False, "error": "Rejoignez d'abord un congrès."}
        return {"ok": True, "snapshot": snapshot(congress, joined[1])}

    @socketio.on("contribution.move")
    def on_move(data=None):
        """Sent by a facilitator or the scribe; all screens of the congress hear the move."""
        return _act("contribution.move", data)

    @socketio.on("contribution.confirm")
    def on_confirm(data=None):
        """Sent by a facilitator or the scribe; all screens hear the confirmed theme."""
        return _act("contribution.confirm", data)

    @socketio.on("contribution.hide")
    def on_hide(data=None):
        """Sent by a facilitator; every screen drops the idea (staff keep it, marked hidden)."""
        return _act("contribution.hide", data)

    @socketio.on("contribution.unhide")
    def on_unhide(data=None):
        """Sent by a facilitator; every screen shows the idea again."""
        return _act("contribution.unhide", data)

    @socketio.on("contribution.duplicate")
    def on_duplicate(data=None):
        """Sent by a facilitator; all screens hear that the idea is a duplicate of another."""
        return _act("contribution.duplicate", data)

    @socketio.on("point.merge")
    def on_merge(data=None):
        """Sent by a facilitator; all screens hear points.updated with the merged point."""
        return _act("point.merge", data)

    @socketio.on("point.split")
    def on_split(data=None):
        """Sent by a facilitator; all screens hear points.updated with the new point."""
        return _act("point.split", data)

    @socketio.on("point.rename")
    def on_rename(data=None):
        """Sent by a facilitator; all screens hear points.updated with the new name."""
        return _act("point.rename", data)

    @socketio.on("theme.granularity")
    def on_granularity(data=None):
        """Sent by a facilitator (« plus / moins de points »); all screens hear
        points.updated now, and again with the regrouped points after the refit."""
        return _act("theme.granularity", data)

    @socketio.on("projector.mode")
    def on_projector_mode(data=None):
        """Sent by a facilitator; all screens of the congress hear the projector's new mode."""
        return _act("projector.mode", data)

    @socketio.on("scribe.capture")
    def on_capture(data=None):
        """Sent by the scribe (or a facilitator); all screens hear contribution.created."""
        return _act("scribe.capture", data)

    @socketio.on("contribution.correct")
    def on_correct(data=None):
        """Sent by the scribe (or a facilitator) correcting a captured idea's text or
        speaker; all screens hear contribution.updated (`edited`)."""
        return _act("contribution.correct", data)

    @socketio.on("support")
    def on_support(data=None):
        """Sent by an official ("+1"); all screens hear the new count in the next
        coalesced points.updated."""
        return _act("support", data)
