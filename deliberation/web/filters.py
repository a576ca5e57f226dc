"""Jinja filters and globals: French dates, markdown, labels."""

from __future__ import annotations

from functools import lru_cache
from uuid import uuid4

from flask import Flask
from markupsafe import Markup

from .. import formats
from ..clustering.typography import french
from ..csv_io import VARIANTS as CSV_VARIANTS
from ..models import PHASE_LABELS, PHASES, ROLE_LABELS
from ..rendering import french_date, plain_excerpt, render_motion_text
from .menus import next_step, official_now, staff_menu
from .typesetting import FrenchTypesetting

CHANNEL_LABELS = {"online": "en ligne", "live": "en séance"}
STATUS_LABELS = {"visible": "visible", "hidden": "masquée", "duplicate": "doublon",
                 "withdrawn": "retirée", "pending": "en attente de modération",
                 "rejected": "non retenue par l'animation"}


@lru_cache(maxsize=8192)
def excerpt(text: str | None, limit: int = 160) -> str:
    """People's ideas in lists, set in French typography (« vite ! » never breaks before
    the « ! »); exports and payloads keep `plain_excerpt`, the text as typed. Cached: the
    board re-renders the same few hundred ideas after every change."""
    return french(plain_excerpt(text, limit))


@lru_cache(maxsize=2048)
def typeset_markdown(text: str | None) -> Markup:
    """A person's Markdown, sanitised and set in French typography (cached likewise)."""
    return render_motion_text(text or "")


def init_app(app: Flask) -> None:
    # issue 14: no line may start with « : ; ! ? » or a closing guillemet
    app.jinja_env.add_extension(FrenchTypesetting)
    # People's texts are shown as French sets them (« vite ! » never breaks before « ! »);
    # they are stored, edited and exported exactly as typed.
    app.jinja_env.filters["markdown"] = typeset_markdown
    app.jinja_env.filters["excerpt"] = excerpt
    app.jinja_env.filters["fdate"] = french_date
    # issue 14: decimal commas, narrow no-break spaces, real plurals, date ranges
    app.jinja_env.filters["frnum"] = formats.number
    app.jinja_env.filters["plural"] = formats.plural
    app.jinja_env.globals["fdates"] = formats.date_range
    app.jinja_env.filters["french"] = french  # French typography for titles and statements
    app.jinja_env.filters["channel"] = lambda c: CHANNEL_LABELS.get(c, c)
    app.jinja_env.filters["status"] = lambda s: STATUS_LABELS.get(s, s)
    app.jinja_env.globals.update(PHASES=PHASES, PHASE_LABELS=PHASE_LABELS,
                                 ROLE_LABELS=ROLE_LABELS, CSV_VARIANTS=CSV_VARIANTS)
    # A fresh idempotency key per rendered form: a double-submitted form is stored once.
    app.jinja_env.globals["client_key"] = lambda: uuid4().hex
    # issue 14: one staff menu on every staff page, phase by phase
    app.jinja_env.globals["staff_menu"] = staff_menu
    app.jinja_env.globals["next_step"] = next_step
    app.jinja_env.globals["official_now"] = official_now
