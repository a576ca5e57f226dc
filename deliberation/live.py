"""Socket.IO: rooms per congress and audience, and the one push helper.

Every push goes through `push()`, called after the database commit, so a client
never hears about something that a rollback later undid. Identity comes from the
HTTP session established by the participant and facilitator routes; handlers only
read it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from engineio import json as engineio_json
from flask import Flask, request
from flask_login import current_user
from flask_socketio import join_room
from sqlalchemy import select

from .extensions import db, socketio
from .models import Congress, Contribution
from .rendering import plain_excerpt

AUDIENCES = ("projector", "facilitator", "participants")
STAFF_AUDIENCES = ("facilitator",)
PUBLIC_AUDIENCES = ("projector", "participants")


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


def room(congress_id: int, audience: str) -> str:
    return f"congress:{congress_id}:{audience}"


def push(event: str, payload: dict, congress_id: int,
         audiences: tuple[str, ...] = AUDIENCES) -> None:
    """Send `event` to the given audiences of one congress (call after commit)."""
    for audience in audiences:
        socketio.emit(event, payload, to=room(congress_id, audience))


def contribution_payload(contribution: Contribution) -> dict:
    theme = contribution.theme
    cluster = contribution.cluster
    return {
        "id": contribution.id,
        "text": plain_excerpt(contribution.text, 280),
        "speaker": contribution.speaker,
        "commune": contribution.commune,
        "channel": contribution.channel,
        "status": contribution.status,
        "theme": theme.code if theme else ("hors_theme" if contribution.off_topic else None),
        "alt_theme": contribution.alt_theme.code if contribution.alt_theme else None,
        "confidence": contribution.confidence,
        "confirmed": contribution.confirmed,
        "cluster": cluster.key if cluster else None,
        "cluster_label": cluster.display_label if cluster else None,
        "supports": contribution.supports,
        "duplicate_of": contribution.duplicate_of_id,
        "review": contribution.review_rank is not None and not contribution.confirmed,
        "x": contribution.map_x,
        "y": contribution.map_y,
        "created_at": contribution.created_at.isoformat(timespec="seconds"),
    }


def contribution_created(contribution: Contribution, payload: dict | None = None,
                         congress_id: int | None = None) -> dict:
    """Push a new idea (after commit). `payload` and `congress_id` may have been taken
    before the commit, while the rows were loaded, which spares reading them again."""
    payload = payload or contribution_payload(contribution)
    congress_id = congress_id or contribution.congress_id
    push("contribution.created", payload, congress_id, ("projector", "facilitator"))
    to_phones(congress_id, payload)
    refresh_soon(congress_id)
    _after_change(congress_id)
    return payload


# -- phones: a new idea at once, a burst of ideas as one batch ------------------------
#
# Every phone in the room hears of every idea. At a debate's pace (an idea every few
# seconds) each goes out at once. In a burst (500 officials posting at the end of a
# session: 500 ideas x 500 phones = 250,000 messages, the 16 s the vote issue
# measured for per-vote tallies) the ideas that arrive within LIVE_PHONE_BATCH_S of
# the last send wait, and go out together as one `contributions.created` {items}.
# Projector and facilitator screens always get each idea at once.

class PhoneWindow:
    """Per congress: something for the phones goes out at once when nothing is held
    and the last send is at least `window` seconds old; otherwise it is held (merged
    into what is already held) until `take_due` hands it over."""

    def __init__(self, empty):
        self.empty = empty                 # what a congress holds at first: list, set
        self.last: dict[int, float] = {}   # congress → when phones last got a send
        self.held: dict[int, Any] = {}     # congress → what waits for the next send

    def offer(self, congress_id: int, window: float, hold) -> bool:
        """True: send now. False: `hold(held)` added it to what waits."""
        now = time.monotonic()
        with _dirty_lock:
            if congress_id not in self.held and \
                    now - self.last.get(congress_id, -1e9) >= window:
                self.last[congress_id] = now
                return True
            hold(self.held.setdefault(congress_id, self.empty()))
            return False

    def take_due(self, window: float) -> dict[int, Any]:
        """What is held for each congress whose window has passed (now counted as sent)."""
        now = time.monotonic()
        with _dirty_lock:
            due = {cid: held for cid, held in self.held.items()
                   if now - self.last.get(cid, -1e9) >= window}
            for cid in due:
                del self.held[cid]
                self.last[cid] = now
        return due


_phone_ideas = PhoneWindow(list)


def to_phones(congress_id: int, payload: dict) -> None:
    """Send one new idea to the phones now, or queue it when one went out just before."""
    from flask import current_app

    app = current_app._get_current_object()
    window = float(app.config.get("LIVE_PHONE_BATCH_S", 0.0 if app.testing else 0.5))
    if _phone_ideas.offer(congress_id, window, lambda queue: queue.append(payload)):
        push("contribution.created", payload, congress_id, ("participants",))
    else:
        _ensure_flusher(app)


def flush_phones(window: float) -> None:
    """Send each congress's queued ideas as one batch once its window has passed."""
    for congress_id, queue in _phone_ideas.take_due(window).items():
        shown = LATEST["participants"]
        push("contributions.created", {"items": queue[-shown:],
                                       "more": max(0, len(queue) - shown)},
             congress_id, ("participants",))


def contribution_changed(contribution: Contribution, change: str = "edited",
                         refit: bool = True) -> None:
    """Push a changed contribution; a hidden or withdrawn one reaches the public screens
    without its text (they only need to drop it)."""
    payload = {**contribution_payload(contribution), "change": change}
    if contribution.status in ("visible", "duplicate"):
        push("contribution.updated", payload, contribution.congress_id)
    else:
        push("contribution.updated", payload, contribution.congress_id, STAFF_AUDIENCES)
        push("contribution.updated", {"id": contribution.id, "status": contribution.status,
                                      "change": change}, contribution.congress_id,
             PUBLIC_AUDIENCES)
    refresh_soon(contribution.congress_id)
    if refit:
        _after_change(contribution.congress_id)


def phase_changed(congress: Congress) -> None:
    push("phase.changed", {"phase": congress.phase, "label": congress.phase_label}, congress.id)


def points_updated(congress_id: int, run) -> None:
    """After a refit: tell every screen to refresh its picture of themes and points
    (phones through the same window as the counts: they only redraw the picture)."""
    payload = {"reason": "refit", "run": run.id, "contributions": run.n_contributions,
               "changes": {k: v for k, v in run.changes.items() if not isinstance(v, list)},
               "picture": picture(congress_id)}
    push("points.updated", payload, congress_id, ("projector", "facilitator"))
    _picture_to_phones(congress_id, payload, set())


def _after_change(congress_id: int) -> None:
    """Ask for a debounced refit of the recurring points (never run here)."""
    from flask import current_app

    from . import sorting

    sorting.schedule_refit(current_app._get_current_object(), congress_id)


def init_app(app: Flask) -> None:
    @socketio.on("connect")
    def on_connect(auth=None):
        """Sent by every screen on (re)connection; it joins its room and gets a snapshot."""
        auth = auth if isinstance(auth, dict) else {}
        code = str(auth.get("congress") or request.args.get("congress") or "").upper()[:16]
        audience = str(auth.get("audience") or request.args.get("audience") or "participants")
        congress = db.session.scalar(select(Congress).filter_by(join_code=code))
        if congress is None or audience not in AUDIENCES:
            return False
        if audience in STAFF_AUDIENCES and not (
            current_user.is_authenticated
            and current_user.congress_id == congress.id
            and current_user.role in ("facilitator", "scribe")
        ):
            return False
        join_room(room(congress.id, audience))
        track_connection()  # production (issue 6): a revoked session closes this socket
        send_snapshot(congress, audience)  # live debate (issue 4): no update lost on reconnect
        return True

    init_ballot_events()  # --- ballots --- (handlers defined at the end of this module)
    init_debate_events()  # --- live debate (issue 4) --- (handlers at the end of this module)


# --- ballots ------------------------------------------------------------------------
# Owned by the vote feature. Events pushed to every audience of the congress:
#   ballot.opened / ballot.closed / ballot.published   {ballot payload, results when closed}
#   ballot.progress {ballot, state, cast, eligible}   coalesced by ballots.flush_progress
# Events a client sends (ack answers, never an exception):
#   ballot.vote  {ballot, choice, key, for?}  → {ok, status, receipt, ...} | {ok: false, error}
#   ballot.state {}                           → {ok, ballots: [payload, ...]}

BALLOT_EVENT_BY_STATE = {"open": "ballot.opened", "closed": "ballot.closed",
                         "published": "ballot.published"}


def ballot_payload(ballot) -> dict:
    """What screens need to show a ballot; results only once it is closed."""
    from . import voting

    payload = {
        "id": ballot.id,
        "title": ballot.title,
        "state": ballot.state,
        "state_label": voting.STATE_LABELS[ballot.state],
        "kind": ballot.kind,
        "secret": ballot.secret,
        "allow_change": ballot.allow_change,
        "majority": ballot.majority,
        "quorum": ballot.quorum,
    }
    if ballot.results is not None:
        payload["results"] = ballot.results
    return payload


def ballot_changed(ballot) -> None:
    """Push a ballot's new state to every screen of its congress (call after commit)."""
    from . import ballots

    event = BALLOT_EVENT_BY_STATE.get(ballot.state)
    if event is None:
        return
    payload = ballot_payload(ballot)
    if ballot.state == "open":
        payload.update(cast=ballots.cast_count(ballot.id, ballot.secret),
                       eligible=ballots.eligible(ballot.congress_id))
    push(event, payload, ballot.congress_id)


def ballot_progress(congress_id: int, payload: dict,
                    audiences: tuple[str, ...] = AUDIENCES) -> None:
    push("ballot.progress", payload, congress_id, audiences)


def _joined_congress_id() -> int | None:
    """The congress whose room this socket joined on connect."""
    from flask_socketio import rooms

    for name in rooms():
        parts = str(name).split(":")
        if len(parts) == 3 and parts[0] == "congress" and parts[1].isdigit():
            return int(parts[1])
    return None


def init_ballot_events() -> None:
    from flask import current_app
    from sqlalchemy.exc import SQLAlchemyError

    from . import ballots
    from .models import Ballot, is_row_id
    from .ratelimit import socket_allowed  # production (issue 6): same limit as HTTP
    from .security import session_participant_id
    from .voting import VoteRefused

    @socketio.on("ballot.vote")
    def on_ballot_vote(data=None):
        """Sent by a voter's phone; only the sender hears the ack (counts go out coalesced)."""
        me = session_participant_id()
        if me is None:
            return {"ok": False, "error": "Connectez-vous au congrès pour voter.",
                    "code": "login"}
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
        try:
            outcome = ballots.cast_vote(ballot_id, giver if giver is not None else me, choice,
                                        holder_id=me if giver is not None else None,
                                        client_key=data.get("key"))
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
        return {"ok": True, **outcome}

    @socketio.on("ballot.state")
    def on_ballot_state(data=None):  # noqa: ARG001
        """Sent by any screen on (re)connection; only the sender hears its congress's ballots."""
        congress_id = _joined_congress_id()
        if congress_id is None:
            return {"ok": False, "error": "Rejoignez d'abord un congrès.", "code": "no_room"}
        found = db.session.scalars(select(Ballot).where(
            Ballot.congress_id == congress_id, Ballot.state != "draft")
            .order_by(Ballot.id)).all()
        items = []
        for ballot in found:
            payload = ballot_payload(ballot)
            if ballot.state == "open":
                payload.update(cast=ballots.cast_count(ballot.id, ballot.secret),
                               eligible=ballots.eligible(congress_id))
            items.append(payload)
        return {"ok": True, "ballots": items}


# -- Production (issue 6): a revoked or erased session also closes its sockets ------------

def track_connection() -> None:
    """Remember the sid of a logged-in person's socket (called from `on_connect`)."""
    if not current_user.is_authenticated:
        return
    from .models import SocketConnection

    db.session.merge(SocketConnection(sid=request.sid, participant_id=current_user.id))
    db.session.commit()


def close_participant_sockets(participant_id: int) -> int:
    """Disconnect every socket of one person, in whichever process holds it (after commit)."""
    from .models import SocketConnection

    rows = list(db.session.scalars(select(SocketConnection)
                                   .filter_by(participant_id=participant_id)))
    for row in rows:
        # Through the message queue, the process that holds this sid disconnects it;
        # an sid that already left is a no-op.
        socketio.server.disconnect(row.sid, namespace="/")
        db.session.delete(row)
    db.session.commit()
    return len(rows)



# -- Live debate (issue 4): the picture, snapshots, coalesced pushes, corrections ----------
#
# Server → client (docs/api.md, "Socket.IO"):
#   snapshot            the whole current state, sent on every (re)connection
#   contribution.created / contribution.updated   one idea (updated carries `change`)
#   points.updated      {reason, picture, changed?, supports?, run?}: counts and points
#   phase.changed, projector.mode
# Client → server, each acked {ok: true, ...} or {ok: false, error: "<français>"}:
#   snapshot; contribution.move/hide/unhide/duplicate/confirm; point.merge/split/rename;
#   theme.granularity; projector.mode; scribe.capture; support.
# Every client action carries `key` (8–64 characters): the first answer is stored in
# AppliedAction, so a retry (lost ack, reconnection) is applied once and answered the same.

TOP_POINTS = 5
FOCUS_POINTS = 10
LATEST = {"projector": 12, "participants": 30, "facilitator": 30}
MAX_EVENT_BYTES = 16 * 1024
KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
STAFF = ("facilitator", "scribe")
FACILITATOR = ("facilitator",)
PARTICIPANT = ("participant",)
PROJECTOR_MODES = ("overview", "theme", "vote")


def _sorted_statuses():
    from .corrections import SORTED

    return SORTED


def picture(congress_id: int) -> dict:
    """Counts per theme and the largest recurring points: one read, sent to every screen."""
    from sqlalchemy import desc, func

    from .models import Cluster, Theme

    themes = db.session.execute(
        select(Theme.id, Theme.code, Theme.short_title).filter_by(congress_id=congress_id)
        .order_by(Theme.position, Theme.code)).all()
    counts: dict = {}
    for theme_id, off_topic, n in db.session.execute(
            select(Contribution.theme_id, Contribution.off_topic, func.count())
            .filter_by(congress_id=congress_id, status="visible")
            .group_by(Contribution.theme_id, Contribution.off_topic)):
        slot = theme_id if theme_id is not None else ("hors" if off_topic else None)
        counts[slot] = counts.get(slot, 0) + n
    size = func.count(Contribution.id).label("size")
    points: dict[int | None, list] = {}
    point_counts: dict[int | None, int] = {}  # all points of 2+, for « + N autres points »
    for key, label, statement, custom, theme_id, n in db.session.execute(
            select(Cluster.key, Cluster.label, Cluster.statement, Cluster.custom_label,
                   Cluster.theme_id, size)
            .join(Contribution, Contribution.cluster_id == Cluster.id)
            .where(Cluster.congress_id == congress_id,
                   Contribution.status.in_(_sorted_statuses()))
            .group_by(Cluster.id).having(size >= 2).order_by(desc(size), Cluster.key)):
        bucket = points.setdefault(theme_id, [])
        point_counts[theme_id] = point_counts.get(theme_id, 0) + 1
        if len(bucket) < FOCUS_POINTS:
            bucket.append(_point(key, label, statement, custom, n))
    return {
        "total": sum(counts.values()),
        "themes": [{"code": code, "label": label, "count": counts.get(theme_id, 0),
                    "points": points.get(theme_id, [])[:TOP_POINTS],
                    "point_count": point_counts.get(theme_id, 0)}
                   for theme_id, code, label in themes],
        "hors_theme": counts.get("hors", 0),
        "non_classe": counts.get(None, 0),
    }


def _point(key: str, tag: str, statement: str | None, custom: str | None, size: int) -> dict:
    """A recurring point as screens show it: `label` is its name (the pinned statement,
    else the engine's, as `Cluster.display_label`), `tag` the secondary keyword label."""
    return {"key": key, "label": custom or statement or tag, "tag": tag, "size": size}


def _latest(congress_id: int, n: int, theme_id: int | None = None) -> list[dict]:
    from sqlalchemy.orm import selectinload

    query = (select(Contribution).filter_by(congress_id=congress_id, status="visible")
             .options(selectinload(Contribution.theme), selectinload(Contribution.alt_theme),
                      selectinload(Contribution.cluster), selectinload(Contribution.author))
             # Arrival order (ids), as the live pushes show them: imported or demo ideas
             # may carry any created_at.
             .order_by(Contribution.id.desc()).limit(n))
    if theme_id is not None:
        query = query.filter_by(theme_id=theme_id)
    return [contribution_payload(c) for c in db.session.scalars(query)]


def idea_map(congress_id: int) -> list[list]:
    """Every visible idea as [id, x, y, theme code] (compact: the projector draws them)."""
    from .models import OFF_TOPIC, Theme

    codes = dict(db.session.execute(select(Theme.id, Theme.code).filter_by(
        congress_id=congress_id)).all())
    rows = db.session.execute(
        select(Contribution.id, Contribution.map_x, Contribution.map_y, Contribution.theme_id,
               Contribution.off_topic)
        .filter_by(congress_id=congress_id, status="visible")
        .where(Contribution.map_x.is_not(None), Contribution.map_y.is_not(None))
        .order_by(Contribution.id))
    return [[cid, round(x, 4), round(y, 4),
             codes.get(theme_id) or (OFF_TOPIC if off else None)]
            for cid, x, y, theme_id, off in rows]


def focus(congress: Congress) -> dict | None:
    """The theme the projector shows in detail: its larger points, biggest first (the room's
    latest ideas stay in the projector's ticker)."""
    from .models import Theme

    if congress.projector_mode != "theme" or not congress.projector_theme_code:
        return None
    theme = db.session.scalar(select(Theme).filter_by(congress_id=congress.id,
                                                      code=congress.projector_theme_code))
    if theme is None:
        return None
    shown = next((t for t in picture(congress.id)["themes"] if t["code"] == theme.code), None)
    return {"theme": theme.code, "label": theme.short_title, "title": theme.title,
            "count": shown["count"] if shown else 0,
            "points": _focus_points(congress.id, theme.id),
            "point_count": shown["point_count"] if shown else 0}


def _focus_points(congress_id: int, theme_id: int) -> list[dict]:
    from sqlalchemy import desc, func

    from .models import Cluster

    size = func.count(Contribution.id).label("size")
    return [_point(key, label, statement, custom, n)
            for key, label, statement, custom, n in db.session.execute(
                select(Cluster.key, Cluster.label, Cluster.statement, Cluster.custom_label,
                       size)
                .join(Contribution, Contribution.cluster_id == Cluster.id)
                .where(Cluster.congress_id == congress_id, Cluster.theme_id == theme_id,
                       Contribution.status.in_(_sorted_statuses()))
                .group_by(Cluster.id).having(size >= 2).order_by(desc(size), Cluster.key)
                .limit(FOCUS_POINTS))]


def snapshot(congress: Congress, audience: str = "participants") -> dict:
    """The full current state for one screen, read from the database (a restart or a
    dropped connection loses nothing)."""
    from .models import SortRun

    run = db.session.scalar(select(SortRun).filter_by(congress_id=congress.id)
                            .order_by(SortRun.id.desc()).limit(1))
    state = {
        "congress": {"code": congress.join_code, "title": congress.title,
                     "phase": congress.phase, "phase_label": congress.phase_label,
                     "accepts_contributions": congress.accepts_contributions},
        "projector": {"mode": congress.projector_mode or "overview",
                      "theme": congress.projector_theme_code},
        "picture": picture(congress.id),
        "latest": _latest(congress.id, LATEST.get(audience, 12)),
        "run": ({"id": run.id, "contributions": run.n_contributions,
                 "at": run.finished_at.isoformat(timespec="seconds")
                 if run.finished_at else None} if run else None),
    }
    if audience in ("projector", "facilitator"):
        state["map"] = idea_map(congress.id)
        state["focus"] = focus(congress)
    return state


def send_snapshot(congress: Congress, audience: str) -> None:
    """Inside the connect handler: the connecting client alone receives the snapshot."""
    from flask_socketio import emit

    emit("snapshot", snapshot(congress, audience))


# -- coalesced picture pushes (never one broadcast per "+1") ------------------------------

_dirty: dict[int, set[int]] = {}
_dirty_lock = threading.Lock()
_flusher_started = False


def refresh_soon(congress_id: int, supported: tuple[int, ...] | list[int] = ()) -> None:
    """Push the new picture (and changed "+1" counts) soon: many changes, one push."""
    from flask import current_app

    app = current_app._get_current_object()
    delay = float(app.config.get("LIVE_COALESCE_S", 0.0 if app.testing else 0.25))
    if delay <= 0:
        flush_picture(congress_id, set(supported))
        return
    with _dirty_lock:
        _dirty.setdefault(congress_id, set()).update(supported)
    _ensure_flusher(app)


def _ensure_flusher(app: Flask) -> None:
    global _flusher_started
    with _dirty_lock:
        if _flusher_started:
            return
        _flusher_started = True
    delay = float(app.config.get("LIVE_COALESCE_S", 0.0 if app.testing else 0.25)) or 0.1
    socketio.start_background_task(_flusher, app, delay)


def flush_picture(congress_id: int, supported: set[int] | None = None) -> None:
    """One `points.updated` with the picture and the "+1" counts that moved (after commit).

    Projector and facilitator get it at once; phones at most every LIVE_PHONE_PICTURE_S
    (the rest of a burst follows as one fresher picture, see `flush_phone_pictures`)."""
    payload = _picture_payload(congress_id, supported)
    push("points.updated", payload, congress_id, ("projector", "facilitator"))
    _picture_to_phones(congress_id, payload, supported or set())


def _picture_payload(congress_id: int, supported: set[int] | None) -> dict:
    payload: dict = {"reason": "counts", "picture": picture(congress_id)}
    if supported:
        payload["supports"] = {str(cid): n for cid, n in db.session.execute(
            select(Contribution.id, Contribution.supports)
            .where(Contribution.id.in_(sorted(supported))))}
    return payload


# Phones and the picture: during a burst (500 ideas in a few seconds, each process
# flushing every 0.25 s) a picture per flush to every phone was thousands of frames a
# second per process, the largest share of the servers' CPU under `make load`. A phone's
# live board is read, not watched: one picture every LIVE_PHONE_PICTURE_S is enough,
# and the last one of a burst always goes out.
_phone_pictures = PhoneWindow(set)  # holds the "+1" counts that moved meanwhile


def _phone_picture_window() -> float:
    from flask import current_app

    return float(current_app.config.get("LIVE_PHONE_PICTURE_S",
                                        0.0 if current_app.testing else 2.0))


def _picture_to_phones(congress_id: int, payload: dict, supported: set[int]) -> None:
    if _phone_pictures.offer(congress_id, _phone_picture_window(),
                             lambda held: held.update(supported)):
        push("points.updated", payload, congress_id, ("participants",))
    else:
        from flask import current_app

        _ensure_flusher(current_app._get_current_object())


def flush_phone_pictures() -> None:
    """Send each congress's held-back picture to the phones once its window has passed."""
    for congress_id, supported in _phone_pictures.take_due(_phone_picture_window()).items():
        push("points.updated", _picture_payload(congress_id, supported), congress_id,
             ("participants",))


def _flusher(app: Flask, delay: float) -> None:
    """Background loop: every `delay` seconds, one push per congress that changed."""
    window = float(app.config.get("LIVE_PHONE_BATCH_S", 0.5))
    while True:
        socketio.sleep(delay)
        try:
            flush_phones(window)
        except Exception:  # keep the loop alive; phones resync on their next snapshot
            app.logger.exception("live phone batch push failed")
        with _dirty_lock:
            due = dict(_dirty)
            _dirty.clear()
            phones_waiting = bool(_phone_pictures.held)
        for congress_id, supported in due.items():
            with app.app_context():
                try:
                    flush_picture(congress_id, supported)
                except Exception:  # keep the loop alive; the next change pushes again
                    db.session.rollback()
                    app.logger.exception("live picture push failed")
                finally:
                    db.session.remove()
        if phones_waiting:
            with app.app_context():
                try:
                    flush_phone_pictures()
                except Exception:  # keep the loop alive; phones resync on their next snapshot
                    db.session.rollback()
                    app.logger.exception("live phone picture push failed")
                finally:
                    db.session.remove()


# -- client actions: role check, validation, idempotency, commit, then push ---------------

def _fail(message: str) -> dict:
    return {"ok": False, "error": message}


def _sender(roles: tuple[str, ...]):
    from .errors import PermissionDenied

    if not current_user.is_authenticated:
        raise PermissionDenied("Connectez-vous pour effectuer cette action.")
    if current_user.role not in roles:
        raise PermissionDenied("Votre rôle ne permet pas cette action.")
    return current_user._get_current_object()


def _apply_move(congress, actor, data):
    from . import corrections

    return corrections.move(congress, actor, data.get("id"), theme=data.get("theme"),
                            cluster=data.get("cluster"))


def _apply_one(function_name: str):
    def apply(congress, actor, data):
        from . import corrections

        return getattr(corrections, function_name)(congress, actor, data.get("id"))

    return apply


def _apply_duplicate(congress, actor, data):
    from . import corrections

    return corrections.mark_duplicate(congress, actor, data.get("id"), data.get("of"))


def _apply_merge(congress, actor, data):
    from . import corrections

    return corrections.merge_points(congress, actor, data.get("into"), data.get("from"))


def _apply_split(congress, actor, data):
    from . import corrections

    return corrections.split_point(congress, actor, data.get("cluster"), data.get("ids"),
                                   data.get("label"))


def _apply_rename(congress, actor, data):
    from . import corrections

    return corrections.rename_point(congress, actor, data.get("cluster"), data.get("label"))


def _apply_granularity(congress, actor, data):
    from . import corrections

    return corrections.set_granularity(congress, actor, data.get("theme"), data.get("step"))


def _apply_mode(congress, actor, data):
    from . import corrections

    return corrections.set_projector_mode(congress, actor, data.get("mode"), data.get("theme"))


def _apply_capture(congress, actor, data):
    from . import board

    return board.capture(congress, actor, data)


def _apply_support(congress, actor, data):
    from .corrections import Outcome, add_support, parse_id

    count = add_support(congress, actor, data.get("id"))
    return Outcome("supported", result={"id": parse_id(data.get("id")), "supports": count})


#: name → (roles allowed to send it, function applying it). The HTTP fallbacks use it too.
ACTIONS = {
    "contribution.move": (STAFF, _apply_move),
    "contribution.confirm": (STAFF, _apply_one("confirm")),
    "contribution.hide": (FACILITATOR, _apply_one("hide")),
    "contribution.unhide": (FACILITATOR, _apply_one("unhide")),
    "contribution.duplicate": (FACILITATOR, _apply_duplicate),
    "point.merge": (FACILITATOR, _apply_merge),
    "point.split": (FACILITATOR, _apply_split),
    "point.rename": (FACILITATOR, _apply_rename),
    "theme.granularity": (FACILITATOR, _apply_granularity),
    "projector.mode": (FACILITATOR, _apply_mode),
    "scribe.capture": (STAFF, _apply_capture),
    "support": (PARTICIPANT, _apply_support),
}


def perform(name: str, data) -> dict:
    """Run one client action for the current user; always answers, never raises."""
    from flask import current_app
    from sqlalchemy.exc import IntegrityError

    from .errors import InputError
    from .models import AppliedAction

    roles, apply = ACTIONS[name]
    if not isinstance(data, dict):
        return _fail("Message illisible : un objet JSON est attendu.")
    try:
        if len(json.dumps(data, default=str)) > MAX_EVENT_BYTES:
            return _fail("Message trop volumineux.")
        actor = _sender(roles)
        key = data.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            raise InputError("Clé d'action manquante ou invalide (8 à 64 caractères).")
        done = db.session.scalar(select(AppliedAction).filter_by(key=key))
        if done is not None:
            if done.actor_id != actor.id or done.action != name:
                raise InputError("Cette clé d'action a déjà servi pour une autre action.")
            return done.result
        congress = db.session.get(Congress, actor.congress_id)
        outcome = apply(congress, actor, data)
        ack = {"ok": True, **outcome.result}
        db.session.add(AppliedAction(key=key, congress_id=congress.id, actor_id=actor.id,
                                     action=name, result=ack))
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        return _fail(exc.message)
    except IntegrityError:
        # The same key applied at the same moment elsewhere: answer as the first one did.
        db.session.rollback()
        done = db.session.scalar(select(AppliedAction).filter_by(key=data.get("key")))
        if done is not None and done.action == name:
            return done.result
        return _fail("Action refusée par la base de données : rechargez la page.")
    except Exception:
        db.session.rollback()
        current_app.logger.exception("live action %s failed", name)
        return _fail("Une erreur est survenue ; rien n'a été enregistré. Réessayez.")
    try:
        _announce(outcome, congress.id)
    except Exception:  # the change is stored; screens catch up with their next snapshot
        current_app.logger.exception("live push after %s failed", name)
    return ack


def _compact(contribution: Contribution) -> dict:
    payload = contribution_payload(contribution)
    return {k: payload[k] for k in ("id", "theme", "cluster", "cluster_label", "status",
                                    "confirmed", "x", "y")}


def _announce(outcome, congress_id: int) -> None:
    """The push that follows a committed action (one per action, never one per client)."""
    change = outcome.change
    if change == "created":
        contribution_created(outcome.contributions[0])
    elif change in ("moved", "confirmed", "hidden", "unhidden", "duplicate"):
        contribution_changed(outcome.contributions[0], change, refit=change != "confirmed")
    elif change in ("merged", "split", "renamed", "granularity"):
        # Granularity: the setting shows at once; the regrouping follows with the refit.
        push("points.updated", {"reason": change, "result": outcome.result,
                                "changed": [_compact(c) for c in outcome.contributions],
                                "picture": picture(congress_id)}, congress_id)
        if change != "renamed":
            _after_change(congress_id)
    elif change == "supported":
        refresh_soon(congress_id, [outcome.result["id"]])
    elif change == "mode":
        push("projector.mode", outcome.result, congress_id)


def _joined() -> tuple[int, str] | None:
    """(congress id, audience) of the room this socket joined on connect."""
    from flask_socketio import rooms

    for name in rooms():
        parts = str(name).split(":")
        if len(parts) == 3 and parts[0] == "congress" and parts[1].isdigit() \
                and parts[2] in AUDIENCES:
            return int(parts[1]), parts[2]
    return None


def init_debate_events() -> None:
    @socketio.on("snapshot")
    def on_snapshot(data=None):  # noqa: ARG001
        """Sent by any screen that wants to resync; only the sender hears the snapshot."""
        joined = _joined()
        congress = db.session.get(Congress, joined[0]) if joined else None
        if congress is None:
            return _fail("Rejoignez d'abord un congrès.")
        return {"ok": True, "snapshot": snapshot(congress, joined[1])}

    @socketio.on("contribution.move")
    def on_move(data=None):
        """Sent by a facilitator or the scribe; all screens of the congress hear the move."""
        return perform("contribution.move", data)

    @socketio.on("contribution.confirm")
    def on_confirm(data=None):
        """Sent by a facilitator or the scribe; all screens hear the confirmed theme."""
        return perform("contribution.confirm", data)

    @socketio.on("contribution.hide")
    def on_hide(data=None):
        """Sent by a facilitator; every screen drops the idea (staff keep it, marked hidden)."""
        return perform("contribution.hide", data)

    @socketio.on("contribution.unhide")
    def on_unhide(data=None):
        """Sent by a facilitator; every screen shows the idea again."""
        return perform("contribution.unhide", data)

    @socketio.on("contribution.duplicate")
    def on_duplicate(data=None):
        """Sent by a facilitator; all screens hear that the idea is a duplicate of another."""
        return perform("contribution.duplicate", data)

    @socketio.on("point.merge")
    def on_merge(data=None):
        """Sent by a facilitator; all screens hear points.updated with the merged point."""
        return perform("point.merge", data)

    @socketio.on("point.split")
    def on_split(data=None):
        """Sent by a facilitator; all screens hear points.updated with the new point."""
        return perform("point.split", data)

    @socketio.on("point.rename")
    def on_rename(data=None):
        """Sent by a facilitator; all screens hear points.updated with the new name."""
        return perform("point.rename", data)

    @socketio.on("theme.granularity")
    def on_granularity(data=None):
        """Sent by a facilitator (« plus / moins de points »); all screens hear
        points.updated now, and again with the regrouped points after the refit."""
        return perform("theme.granularity", data)

    @socketio.on("projector.mode")
    def on_projector_mode(data=None):
        """Sent by a facilitator; all screens of the congress hear the projector's new mode."""
        return perform("projector.mode", data)

    @socketio.on("scribe.capture")
    def on_capture(data=None):
        """Sent by the scribe (or a facilitator); all screens hear contribution.created."""
        return perform("scribe.capture", data)

    @socketio.on("support")
    def on_support(data=None):
        """Sent by an official ("+1"); all screens hear the new count in the next
        coalesced points.updated."""
        return perform("support", data)
