"""Read-side helpers shared by the blueprints: lookups and the live counts."""

from __future__ import annotations

from collections import Counter

from flask import abort
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from .extensions import db
from .models import MAX_ID, Congress, Contribution, Participant, Theme

SHOWN = ("visible",)


class RowIdConverter(IntegerConverter):
    """Every route's `<int:…>`: the digits 0–9 and at most MAX_ID, else a 404.

    Werkzeug's own takes any length (25 digits reached SQLite, which cannot bind them:
    a 500) and, through `\\d`, other scripts' digits (« ٣ »).
    """

    regex = r"[0-9]{1,19}"

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def congress_by_code(code: str) -> Congress:
    if not (code or "").isprintable():  # a NUL (PostgreSQL refuses it) names no congress
        abort(404)
    congress = db.session.scalar(select(Congress).filter_by(join_code=(code or "").upper()))
    if congress is None:
        abort(404)
    return congress


def staff_congress() -> Congress:
    """The congress of the logged-in person (identity comes from the HTTP session)."""
    return db.session.get(Congress, current_user.congress_id)


def owned_or_404(model, object_id: int):
    """A row of the logged-in person's congress, or 404: never another congress's."""
    row = db.session.get(model, object_id)
    if row is None or row.congress_id != current_user.congress_id:
        abort(404)
    return row


def visible_contributions(congress: Congress, theme: Theme | None = None,
                          unsorted: bool = False) -> list[Contribution]:
    query = (select(Contribution)
             .filter_by(congress_id=congress.id)
             .where(Contribution.status.in_(SHOWN))
             .order_by(Contribution.created_at.desc(), Contribution.id.desc()))
    if theme is not None:
        query = query.filter_by(theme_id=theme.id)
    elif unsorted:
        query = query.where(Contribution.theme_id.is_(None))
    return list(db.session.scalars(query))


def counts(congress: Congress) -> dict:
    """Participants by role, contributions by theme code and by channel (visible only)."""
    roles = dict(db.session.execute(
        select(Participant.role, func.count()).filter_by(congress_id=congress.id)
        .group_by(Participant.role)).all())
    by_theme_id = dict(db.session.execute(
        select(Contribution.theme_id, func.count()).filter_by(congress_id=congress.id)
        .where(Contribution.status.in_(SHOWN)).group_by(Contribution.theme_id)).all())
    by_channel = dict(db.session.execute(
        select(Contribution.channel, func.count()).filter_by(congress_id=congress.id)
        .where(Contribution.status.in_(SHOWN)).group_by(Contribution.channel)).all())
    codes = {theme.id: theme.code for theme in congress.themes}
    themes = Counter()
    for theme_id, n in by_theme_id.items():
        themes[codes.get(theme_id, "non_classe")] += n
    return {
        "participants": sum(n for role, n in roles.items() if role != "observer"),
        "roles": roles,
        "contributions": sum(by_channel.values()),
        "by_theme": {code: themes.get(code, 0) for code in [*codes.values(), "non_classe"]},
        "by_channel": {"online": by_channel.get("online", 0), "live": by_channel.get("live", 0)},
    }


# --- the « à vérifier » queue ----------------------------------------------------------
# One definition read by the dashboard, the board and the menus: an idea shown on the
# board whose theme the machine is unsure of and nobody confirmed yet. The dashboard
# counted duplicates too, and the board counted the 30 it lists: 170, then 30.

def _to_review(congress: Congress):
    return (select(Contribution).filter_by(congress_id=congress.id, confirmed=False)
            .where(Contribution.review_rank.is_not(None), Contribution.status.in_(SHOWN)))


def review_queue(congress: Congress, limit: int | None = None) -> list[Contribution]:
    """The ideas « à vérifier », most uncertain first (then the newest)."""
    query = _to_review(congress).order_by(Contribution.review_rank, Contribution.id.desc())
    return list(db.session.scalars(query.limit(limit) if limit else query))


def review_count(congress: Congress) -> int:
    """How many ideas are « à vérifier »: every screen prints this figure."""
    return db.session.scalar(select(func.count()).select_from(
        _to_review(congress).subquery())) or 0
