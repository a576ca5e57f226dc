"""French typography for statements and motion texts, as French publishing sets them.

Rules (Imprimerie nationale, as the seeds' motions are printed):

* an espace fine insécable (U+202F) before ``; ! ?`` and a non-breaking space
  (U+00A0) before ``:``, so a line never starts with the sign;
* straight or English quotes become « guillemets » with a non-breaking space inside;
* no space before ``,`` and ``.``; one space after ``, ; : ! ?`` when a word follows;
* a non-breaking space before ``%`` and ``€``, and between the digit groups of a
  number written with spaces (``1 000``), so neither is split across lines;
* runs of spaces collapse to one.

URLs, e-mail addresses, Markdown link targets, inline code, times (``14:30``) and
ratios are left exactly as written. Every rule rewrites the spaces it owns from
scratch, so `french` is idempotent: ``french(french(x)) == french(x)``.

Pure, standard library only: the sorting engine and the app's rendering both use it.
"""

from __future__ import annotations

import re

NBSP = "\u00a0"       # before « : », inside « guillemets », before « % » and « € »
THIN_NBSP = "\u202f"  # espace fine insécable: before « ; ! ? » and between digit groups

_PROTECTED = re.compile(
    r"`[^`\n]*`"                                   # inline code
    r"|\]\([^)\s]*\)"                              # a Markdown link's target
    r"|<?(?:https?|ftp)://[^\s<>«»\"]*[^\s<>«»\".,;:!?)]>?"  # URL, final punctuation left out
    r"|\bwww\.[^\s<>«»\"]*[^\s<>«»\".,;:!?)]"
    r"|\bmailto:[^\s<>«»\"]+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"               # e-mail address
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"               # a time, 14:30 or 14:30:05
    r"|\b\d+:\d+\b"                                # a ratio or score, 3:2
    r"|[:;]-?[()DPpOo|/\\](?!\w)"                  # an emoticon: its colon is no colon
    r"|&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);"         # an HTML entity: its « ; » is no semicolon
)
_PLACEHOLDER_BASE = 0xE000  # private use area: one character per protected piece
_PLACEHOLDER = re.compile("[\ue000-\uf8ff]")

_SPACES = re.compile(r"[ \t\u00a0\u202f\u2009\u2007\u2002\u2003]+")
_STRAIGHT_QUOTES = re.compile(r'"\s*([^"]*?)\s*"')
_CURLY_QUOTES = re.compile(r"“\s*([^“”]*?)\s*”")
_OPEN_GUILLEMET = re.compile(r"«\s*")
_CLOSE_GUILLEMET = re.compile(r"\s*»")
_BEFORE_LOW = re.compile(r"\s+(?=[,.])")
_HIGH = re.compile(r"\s*([;!?]+)")
_COLON = re.compile(r"\s*:")
_AFTER_SIGN = re.compile(r"([;:!?]+|,)(?=[^\W\d_]|«)")
_PERCENT = re.compile(r"(\d)\s*([%€])")
_DIGIT_GROUPS = re.compile(r"(?<![\d,.])(\d{1,3})(?: (\d{3}))+(?![\d])")


def french(text: str) -> str:
    """One sentence or line set in French typography (see the module's rules)."""
    if not text:
        return ""
    kept: list[str] = []

    def protect(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return chr(_PLACEHOLDER_BASE + len(kept) - 1)

    s = _PLACEHOLDER.sub("", text)
    s = _PROTECTED.sub(protect, s)
    s = _SPACES.sub(" ", s).strip()
    s = _STRAIGHT_QUOTES.sub(r"« \1 »", s)
    s = _CURLY_QUOTES.sub(r"« \1 »", s)
    s = _OPEN_GUILLEMET.sub("«" + NBSP, s)
    s = _CLOSE_GUILLEMET.sub(NBSP + "»", s)
    s = _BEFORE_LOW.sub("", s)
    s = _AFTER_SIGN.sub(r"\1 ", s)
    s = _HIGH.sub(lambda m: (THIN_NBSP if m.start() > 0 else "") + m.group(1), s)
    s = _COLON.sub(lambda m: NBSP + ":" if m.start() > 0 else ":", s)
    s = _PERCENT.sub(lambda m: m.group(1) + NBSP + m.group(2), s)
    s = _DIGIT_GROUPS.sub(lambda m: m.group(0).replace(" ", THIN_NBSP), s)
    return _PLACEHOLDER.sub(lambda m: kept[ord(m.group(0)) - _PLACEHOLDER_BASE], s)


_FENCE = re.compile(r"^\s*(```|~~~)")
_INDENTED_CODE = re.compile(r"^(?: {4}|\t)(?!\s*(?:[-*+]|\d+[.)])\s)")
_LINE_HEAD = re.compile(r"^(\s*(?:[-*+]\s+|\d+[.)]\s+|#{1,6}\s+|>\s*)*)")


def french_markdown(text: str) -> str:
    """A Markdown text set in French typography line by line.

    Each line keeps its indentation and its list, heading or quote marks (they carry
    the Markdown structure); fenced code blocks and indented code are left alone.
    """
    if not text:
        return ""
    out: list[str] = []
    in_fence = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            continue
        if in_fence or not line.strip() or _INDENTED_CODE.match(line):
            out.append(line)
            continue
        head = _LINE_HEAD.match(line).group(1)
        out.append(head + french(line[len(head):]))
    return "\n".join(out)
