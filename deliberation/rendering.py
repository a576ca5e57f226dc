"""Markdown to safe HTML, and French dates, in one place.

Python-Markdown passes raw HTML through and does not check link schemes, so the
output is always sanitised afterwards with nh3 (an allow-list sanitiser).
"""

from __future__ import annotations

import re
from datetime import date, datetime

import markdown
import nh3
from markupsafe import Markup

from .clustering.typography import french_markdown

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "code", "pre",
    "h3", "h4", "a", "hr", "del",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> Markup:
    """Render user markdown to HTML that is safe to insert in any page."""
    return sanitise(markdown.markdown(text or "", extensions=["sane_lists"],
                                      output_format="html"))


def sanitise(html: str) -> Markup:
    """HTML through the allow-list, safe to insert in any page (also HTML rendered earlier
    and stored, as a published motion keeps it: sanitising clean HTML changes nothing)."""
    return Markup(nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    ))


def render_motion_text(text: str) -> Markup:
    """Render a motion text (an article, a preview) in French typography.

    Typography is applied here, at rendering, rather than when the text is saved, so
    versions, diffs and amendments compare exactly what people typed, and texts saved
    before the rule (imports, the demo, old versions) come out right too.
    """
    return render_markdown(french_markdown(text or ""))


def plain_excerpt(text: str, limit: int = 160) -> str:
    """A one-line excerpt for lists, tickers and exports (markdown left as typed)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")

def french_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    text = f"{value.day} {MONTHS[value.month - 1]} {value.year}"
    if isinstance(value, datetime):
        text += f" à {value.hour:02d} h {value.minute:02d}"
    return text


# -- Markdown handed out as Markdown (motion.md): no raw HTML, no script links ---------------

_INLINE_LINK = re.compile(
    r"(!?)\[([^\]]*)\]\(\s*<?((?:[^()\s>]|\([^()]*\))*)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"(?m)^( {0,3}\[[^\]]+\]:[ \t]*)<?(\S+?)>?([ \t].*)?$")
_SAFE_URL = re.compile(r"(?i)^(https?:|mailto:|#|/(?!/))")


def export_markdown(text: str) -> str:
    """An article's Markdown as a file others will render (motion.md): links keep only
    http(s), mailto and same-site targets (« javascript: » ones keep their words), and
    every « < » is escaped, so no raw HTML or autolink survives in another renderer."""
    def inline(match: re.Match) -> str:
        bang, label, url = match.groups()
        return match.group(0) if _SAFE_URL.match(url) else label

    def reference(match: re.Match) -> str:
        return match.group(0) if _SAFE_URL.match(match.group(2)) else ""

    text = _INLINE_LINK.sub(inline, text or "")
    text = _REFERENCE.sub(reference, text)
    return text.replace("<", "\\<")
