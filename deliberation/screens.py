"""What each screen shows of a congress's debate: payloads read from the database.

The projector, the facilitator's board and the phones draw the same picture: counts per
theme and the largest recurring points, the latest ideas, the map. These functions read
it in one place; `announce` and the socket handlers send it.

May import: the models, the extensions and the rendering helpers.
"""

from __future__ import annotations

from sqlalchemy import desc, func, select
from sqlalchemy.orm import selectinload

from .clustering.typography import french
from .extensions import db
from .models import (
    OFF_TOPIC,
    SORTED_STATUSES,
    Cluster,
    Congress,
    Contribution,
    SortRun,
    Theme,
)
from .rendering import plain_excerpt

TOP_POINTS = 5
FOCUS_POINTS = 10
LATEST = {"projector": 12, "participants": 30, "facilitator": 30}


def contribution_payload(contribution: Contribution) -> dict:
    theme = contribution.theme
    cluster = contribution.cluster
    return {
        "id": contribution.id,
        "text": plain_excerpt(contribution.text, 280),
        # What screens print, in French typography as the server-rendered ideas are
        # (web/filters.py `excerpt`); `text` stays as typed for the API and exports.
        "shown": french(plain_excerpt(contribution.text, 280)),
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


def picture(congress_id: int) -> dict:
    """Counts per theme and the largest recurring points: one read, sent to every screen."""
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
                   Contribution.status.in_(SORTED_STATUSES))
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


def latest(congress_id: int, n: int, theme_id: int | None = None) -> list[dict]:
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
    size = func.count(Contribution.id).label("size")
    return [_point(key, label, statement, custom, n)
            for key, label, statement, custom, n in db.session.execute(
                select(Cluster.key, Cluster.label, Cluster.statement, Cluster.custom_label,
                       size)
                .join(Contribution, Contribution.cluster_id == Cluster.id)
                .where(Cluster.congress_id == congress_id, Cluster.theme_id == theme_id,
                       Contribution.status.in_(SORTED_STATUSES))
                .group_by(Cluster.id).having(size >= 2).order_by(desc(size), Cluster.key)
                .limit(FOCUS_POINTS))]


def snapshot(congress: Congress, audience: str = "participants") -> dict:
    """The full current state for one screen, read from the database (a restart or a
    dropped connection loses nothing)."""
    run = db.session.scalar(select(SortRun).filter_by(congress_id=congress.id)
                            .order_by(SortRun.id.desc()).limit(1))
    state = {
        "congress": {"code": congress.join_code, "title": congress.title,
                     "phase": congress.phase, "phase_label": congress.phase_label,
                     "accepts_contributions": congress.accepts_contributions},
        "projector": {"mode": congress.projector_mode or "overview",
                      "theme": congress.projector_theme_code},
        "picture": picture(congress.id),
        "latest": latest(congress.id, LATEST.get(audience, 12)),
        "run": ({"id": run.id, "contributions": run.n_contributions,
                 "at": run.finished_at.isoformat(timespec="seconds")
                 if run.finished_at else None} if run else None),
    }
    if audience in ("projector", "facilitator"):
        state["map"] = idea_map(congress.id)
        state["focus"] = focus(congress)
    return state


def compact(contribution: Contribution) -> dict:
    payload = contribution_payload(contribution)
    return {k: payload[k] for k in ("id", "theme", "cluster", "cluster_label", "status",
                                    "confirmed", "x", "y")}
