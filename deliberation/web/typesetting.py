"""French typography for the templates' own words, set once when a template compiles.

Every page writes « Thème : », « Pourquoi ? », « « Voter » » with an ordinary space, and a
browser may break the line there: the sign starts the next line, alone, on a projector
or a 360 px phone. Rather than ask every template (and every future one) to type
`&nbsp;`, this Jinja extension rewrites the literal text of `.html` templates as they are
compiled — no cost per request — with the rules of `clustering.typography`: a
non-breaking space before « : » and « % » and inside « guillemets », a narrow one before
« ; ! ? » and between digit groups (« 2 000 »).

Only the template's own text is touched; values (`{{ … }}`) keep what they hold. Numbers
get their narrow spaces from the `frnum` and `plural` filters, people's texts from
`excerpt` and `french`.
"""

from __future__ import annotations

import re

from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from ..clustering.typography import NBSP, THIN_NBSP

_BEFORE_COLON = re.compile(r"[ \t\r\n]+(?=:)")
_BEFORE_HIGH = re.compile(r"[ \t\r\n]+(?=[;!?])")
_BEFORE_CLOSE = re.compile(r"[ \t\r\n]+(?=[»%])")
_AFTER_OPEN = re.compile(r"(?<=«)[ \t\r\n]+")
_DIGIT_GROUPS = re.compile(r"(?<![\d,.])\d{1,3}(?: \d{3})+(?!\d)")


def typeset(text: str) -> str:
    """A template's literal text with no breakable space before « : ; ! ? », inside
    « guillemets » or between the digit groups of « 2 000 »."""
    text = _BEFORE_COLON.sub(NBSP, text)
    text = _BEFORE_HIGH.sub(THIN_NBSP, text)
    text = _BEFORE_CLOSE.sub(NBSP, text)
    text = _AFTER_OPEN.sub(NBSP, text)
    return _DIGIT_GROUPS.sub(lambda m: m.group(0).replace(" ", THIN_NBSP), text)


class FrenchTypesetting(Extension):
    """Rewrites the literal text (`data` tokens) of every `.html` template."""

    def filter_stream(self, stream: TokenStream):
        if not (stream.name or "").endswith(".html"):
            yield from stream
            return
        for token in stream:
            if token.type == "data":
                yield Token(token.lineno, "data", typeset(token.value))
            else:
                yield token
