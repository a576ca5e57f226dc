"""French formats, in one place: numbers, plurals and date ranges.

One small module rather than Babel: Motion needs three things and they are easy to get
exactly right here. Every screen, export and message uses them (Jinja filters `frnum`,
`plural` and `fdates`), so « 0.21 s », « 51.5 % » and « point(s) » never come back.

- Numbers: a decimal comma, and a narrow no-break space (U+202F) between thousands, as
  the Imprimerie nationale's rules ask: « 5 000 », « 51,5 ».
- Plurals: in French 0 and 1 take the singular (« 0 idée », « 1 idée », « 2 idées »).
- Date ranges: « 10 et 11 décembre 2026 », « du 10 au 12 décembre 2026 », « du 30
  novembre au 2 décembre 2026 ».
"""

from __future__ import annotations

from datetime import date

NARROW_NBSP = "\u202f"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def number(value: float | int | None, decimals: int | None = None) -> str:
    """12345.678 → « 12 345,678 »; `decimals` rounds (and keeps trailing zeros)."""
    if value is None:
        return ""
    if decimals is not None:
        text = f"{value:,.{decimals}f}"
    elif isinstance(value, int) or float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,}"
    return text.replace(",", NARROW_NBSP).replace(".", ",")


def plural(count: int | None, singular: str, plural_form: str | None = None) -> str:
    """« 1 idée », « 2 idées », « 0 idée »; `plural_form` for irregular words
    (« 1 nouveau », « 3 nouveaux »)."""
    count = count or 0
    word = singular if abs(count) < 2 else (plural_form or singular + "s")
    return f"{number(count)} {word}"


def day(value: date) -> str:
    return f"{'1er' if value.day == 1 else value.day} {MONTHS[value.month - 1]} {value.year}"


def date_range(start: date | None, end: date | None) -> str:
    """A congress's dates as French prose."""
    if start is None:
        return ""
    if end is None or end == start:
        return day(start)
    first = "1er" if start.day == 1 else str(start.day)
    if (start.year, start.month) == (end.year, end.month):
        joiner = "et" if (end - start).days == 1 else "au"
        lead = "" if joiner == "et" else "du "
        return f"{lead}{first} {joiner} {day(end)}"
    if start.year == end.year:
        return f"du {first} {MONTHS[start.month - 1]} au {day(end)}"
    return f"du {day(start)} au {day(end)}"
