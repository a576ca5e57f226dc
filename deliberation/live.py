"""Socket.IO: rooms per congress and audience, and the one push helper.

Every push goes through `push()`, called after the database commit, so a client
never hears about something that a rollback later undid. Identity comes from the
HTTP session established by the participant and facilitator routes; handlers only
read it.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user
from flask_socketio import join_room
from sqlalchemy import select

from .extensions import db, socketio
from .models import Congress, Contribution
from .rendering import plain_excerpt

AUDIENCES = ("projector", "facilitator", "participants")
STAFF_AUDIENCES = ("facilitator",)


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
        "x": contribution.map_x,
        "y": contribution.map_y,
        "created_at": contribution.created_at.isoformat(timespec="seconds"),
    }


def contribution_created(contribution: Contribution) -> None:
    push("contribution.created", contribution_payload(contribution), contribution.congress_id)
    _after_change(contribution.congress_id)


def contribution_changed(contribution: Contribution) -> None:
    push("contribution.updated", contribution_payload(contribution), contribution.congress_id)
    _after_change(contribution.congress_id)


def phase_changed(congress: Congress) -> None:
    push("phase.changed", {"phase": congress.phase, "label": congress.phase_label}, congress.id)


def points_updated(congress_id: int, run) -> None:
    """After a refit: tell every screen to refresh its picture of themes and points."""
    push("points.updated", {"run": run.id, "contributions": run.n_contributions,
                            "changes": {k: v for k, v in run.changes.items()
                                        if not isinstance(v, list)}}, congress_id)


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
        return True
