"""The debate's picture on every screen, coalesced: never one broadcast per "+1".

A picture (counts per theme, the largest points) goes to the projector and the
facilitator at most every LIVE_COALESCE_S, carrying the "+1" counts that moved. The
phones read their live board rather than watch it: during a burst (500 ideas in a few
seconds) a picture per flush to every phone was thousands of frames a second per
process, the largest share of the servers' CPU under `make load`. They get one picture
every LIVE_PHONE_PICTURE_S, and always the last one of a burst.

May import: `screens` (what a picture holds), `push` (how it travels) and the models.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from .coalesce import Pace
from .extensions import db
from .models import Contribution
from .push import PHONES, SCREENS, scheduler, send
from .screens import picture

SCREENS_CHANNEL = "picture.screens"
PHONES_CHANNEL = "picture.phones"


def refresh_soon(congress_id: int, supported: tuple[int, ...] | list[int] = ()) -> None:
    """Push the new picture (and changed "+1" counts) soon: many changes, one push."""
    app = current_app._get_current_object()
    if scheduler.offer(app, SCREENS_CHANNEL, congress_id, set(supported)):
        flush_picture(congress_id, set(supported))


def flush_picture(congress_id: int, supported: set[int] | None = None) -> None:
    """One `points.updated` with the picture and the "+1" counts that moved (after commit).

    Projector and facilitator get it at once; phones at most every LIVE_PHONE_PICTURE_S
    (the rest of a burst follows as one fresher picture)."""
    payload = picture_payload(congress_id, supported)
    send("points.updated", payload, congress_id, SCREENS)
    to_phones(congress_id, payload, supported or set())


def picture_payload(congress_id: int, supported: set[int] | None) -> dict:
    payload: dict = {"reason": "counts", "picture": picture(congress_id)}
    if supported:
        payload["supports"] = {str(cid): n for cid, n in db.session.execute(
            select(Contribution.id, Contribution.supports)
            .where(Contribution.id.in_(sorted(supported))))}
    return payload


def to_phones(congress_id: int, payload: dict, supported: set[int]) -> None:
    """The picture to the phones now, or held (with its moved counts) for the next window."""
    app = current_app._get_current_object()
    if scheduler.offer(app, PHONES_CHANNEL, congress_id, supported):
        send("points.updated", payload, congress_id, PHONES)


def points_updated(congress_id: int, run) -> None:
    """After a refit: tell every screen to refresh its picture of themes and points
    (phones through the same window as the counts: they only redraw the picture)."""
    payload = {"reason": "refit", "run": run.id, "contributions": run.n_contributions,
               "changes": {k: v for k, v in run.changes.items() if not isinstance(v, list)},
               "picture": picture(congress_id)}
    send("points.updated", payload, congress_id, SCREENS)
    to_phones(congress_id, payload, set())


def _screens_pace(config) -> Pace:
    return Pace(delay=float(config.get("LIVE_COALESCE_S",
                                       0.0 if config.get("TESTING") else 0.25)))


def _phones_pace(config) -> Pace:
    return Pace(spacing=float(config.get("LIVE_PHONE_PICTURE_S",
                                         0.0 if config.get("TESTING") else 2.0)))


def _union(held: set[int], more: set[int]) -> set[int]:
    held.update(more)
    return held


scheduler.channel(SCREENS_CHANNEL, flush_picture, pace=_screens_pace, merge=_union, empty=set)
scheduler.channel(PHONES_CHANNEL,
                  lambda congress_id, supported: send(
                      "points.updated", picture_payload(congress_id, supported), congress_id,
                      PHONES),
                  pace=_phones_pace, merge=_union, empty=set)
