"""Readable labels for recurring points: the distinctive terms as the members wrote them.

The distinctive terms of a group are stems and stem pairs (points.distinctive_stems).
Shown one word each, in score order, they read like a shuffled index ("deal, new,
pylône"), and a pair that skipped a stopword or a comma ("bout pas", from "au bout,
ce n'est pas") is not a phrase anyone wrote. Here each term is looked up in the
members' own text, the medoid first:

* a pair is kept only where its two words stand together, joined at most by small
  linking words ("éducation aux médias", "numéro de téléphone"), and is shown as
  that span of text;
* two chosen words that stand together in the text become one phrase ("New Deal");
* words are shown as written: a capital kept inside a sentence (a name, an acronym),
  lower case otherwise;
* negations and vague words ("pas", "rien", "demande") are not label material, even
  though the sorting keeps them (corpus/label_stopwords_fr.txt);
* the phrases follow their order in the medoid, so the label reads like it, and stop
  before the label outgrows a line of the projector (MAX_CHARS).

Pure and deterministic, like the rest of the pipeline.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from .text import CORPUS_DIR, FrenchAnalyser, load_stopwords, strip_accents

#: Words that may join the two words of a phrase ("accès au réseau", "tiers-lieux").
LINKING = frozenset({"de", "du", "des", "d", "la", "le", "les", "l", "a", "au", "aux",
                     "en", "pour", "sur"})
MAX_GAP = 2           # linking words allowed between the two words of a phrase
MEMBERS_READ = 4      # the medoid and at most three other members are read
MAX_WORDS = 3         # content words in one phrase, once neighbours are merged
MAX_CHARS = 60        # a label fits a line of the projector's point list

_TOKEN_RE = re.compile(r"[^\W\d_]+(?:\d+[^\W\d_]*)?|\d+[^\W\d_]+|\d+|[^\w\s'’ʼ‘`´·•‧⋅-]",
                       re.UNICODE)
_SENTENCE_END = frozenset(".!?…")


@lru_cache(maxsize=4)
def label_stopwords(path: str | None = None) -> frozenset[str]:
    """Accent-free words never shown in a label (corpus/label_stopwords_fr.txt)."""
    file = Path(path) if path else CORPUS_DIR / "label_stopwords_fr.txt"
    return load_stopwords(file) if file.exists() else frozenset()


class _Token:
    __slots__ = ("start", "end", "stem", "word", "capital", "mark")

    def __init__(self, start, end, stem, word, capital, mark):
        self.start, self.end, self.stem, self.word = start, end, stem, word
        self.capital, self.mark = capital, mark


def tokens(text: str, analyser: FrenchAnalyser) -> list[_Token]:
    """Words and punctuation of one text, with their spans, stems (None for a stopword)
    and whether a capital marks a name (a capital letter not starting a sentence)."""
    text = unicodedata.normalize("NFC", text or "")
    out: list[_Token] = []
    sentence_start = True
    token = analyser._token  # noqa: SLF001 - the analyser's own cached stem-or-stopword
    for match in _TOKEN_RE.finditer(text):
        raw = match.group(0)
        first = raw[0]
        if not first.isalpha() and not (first.isdigit() and not raw.isdigit()):
            out.append(_Token(match.start(), match.end(), None, "", False, True))
            sentence_start = sentence_start or raw in _SENTENCE_END
            continue
        word = raw.lower()
        if "œ" in word or "æ" in word:
            word = word.replace("œ", "oe").replace("æ", "ae")
        capital = (first.isupper() and not sentence_start) or (len(raw) > 1 and raw.isupper())
        out.append(_Token(match.start(), match.end(), token(word), word, capital, False))
        sentence_start = False
    return out


def _shown(text: str, toks: list[_Token], i: int, j: int) -> str:
    """The text from token i to token j, lower case except where a capital marks a name."""
    parts = []
    for k in range(i, j + 1):
        tok = toks[k]
        piece = text[tok.start:tok.end]
        parts.append(piece if tok.capital else piece.lower())
        if k < j:
            gap = text[tok.end:toks[k + 1].start]
            parts.append(gap if gap.strip() in ("", "'", "’", "-") else " ")
    return "".join(parts).strip()


def _find(term: tuple[str, ...], toks: list[_Token]) -> tuple[int, int] | None:
    """First span of the text that says `term`: one word, or two words joined at most by
    MAX_GAP linking words with no punctuation between."""
    for i, tok in enumerate(toks):
        if tok.stem != term[0]:
            continue
        if len(term) == 1:
            return i, i
        for j in range(i + 1, min(len(toks), i + MAX_GAP + 2)):
            other = toks[j]
            if other.stem == term[1]:
                return i, j
            if not _links(other):
                break
    return None


def _links(tok: _Token) -> bool:
    """A small linking word that may stand inside a phrase."""
    return not tok.mark and tok.stem is None and strip_accents(tok.word) in LINKING


def _joined(a: tuple[int, int], b: tuple[int, int], toks: list[_Token]) -> bool:
    """Whether span b follows span a in the text, joined only by linking words."""
    if b[0] <= a[1] or b[0] - a[1] - 1 > MAX_GAP:
        return False
    return all(_links(toks[k]) for k in range(a[1] + 1, b[0]))


def _touching(a, b, toks: list[_Token]) -> bool:
    """Whether two spans of one text overlap or are joined by linking words only."""
    return (a[0] <= b[1] and b[0] <= a[1]) or _joined(a, b, toks) or _joined(b, a, toks)


def _content(toks: list[_Token], i: int, j: int) -> int:
    return sum(1 for k in range(i, j + 1) if toks[k].stem is not None)


def phrases(candidates: list[tuple[str, ...]], texts: list[str], analyser: FrenchAnalyser,
            n_terms: int = 3, stop: frozenset[str] | None = None) -> list[str]:
    """Up to `n_terms` phrases for a group, from its candidate terms in score order.

    `texts`: the medoid's text first, then other members'. A candidate found in none of
    them as a phrase is skipped; one that overlaps or touches a phrase already chosen
    extends it ("Deal mobile" + "New Deal" → "New Deal mobile"); one found only outside
    the medoid comes after the medoid's own phrases.
    """
    stop = label_stopwords() if stop is None else stop
    texts = [t for t in texts[:MEMBERS_READ] if t]
    read: list[tuple[str, list[_Token]]] = []  # tokenised on demand, the medoid first
    picked: list[list[int]] = []  # [text index, first token, last token]
    used: set[str] = set()
    for term in candidates:
        overlaps = any(w in used for w in term)
        if not overlaps and len(picked) == n_terms:
            continue
        for t_index, text in enumerate(texts):
            if t_index == len(read):
                if overlaps:
                    break  # a term that could only extend a phrase reads no new text
                read.append((text, tokens(text, analyser)))
            toks = read[t_index][1]
            span = _find(term, toks)
            if span is None:
                continue
            if any(strip_accents(toks[k].word) in stop
                   for k in range(span[0], span[1] + 1) if toks[k].stem is not None):
                break
            if _extend(picked, t_index, span, toks):
                used.update(term)
            elif not overlaps:
                picked.append([t_index, *span])
                used.update(term)
            break
    picked.sort()
    # Phrases that ended up side by side are one phrase, a little longer than
    # MAX_WORDS if need be: "données, communales sur des serveurs" cut the writer's
    # words in two.
    joined: list[list[int]] = []
    for p in picked:
        last = joined[-1] if joined else None
        toks = read[p[0]][1]
        if last and last[0] == p[0] and _touching(last[1:], p[1:], toks) \
                and _content(toks, last[1], max(last[2], p[2])) <= MAX_WORDS + 2:
            last[2] = max(last[2], p[2])
        else:
            joined.append(list(p))
    out: list[str] = []
    for t_index, i, j in joined:
        text, toks = read[t_index]
        shown = _shown(text, toks, i, j)
        if not shown or shown in out:
            continue
        if out and len(", ".join([*out, shown])) > MAX_CHARS:
            break
        out.append(shown)
    return out


def _extend(picked: list[list[int]], t_index: int, span: tuple[int, int],
            toks: list[_Token]) -> bool:
    """Join `span` to a chosen phrase of the same text that it overlaps or touches."""
    for p in picked:
        if p[0] != t_index:
            continue
        lo, hi = min(p[1], span[0]), max(p[2], span[1])
        touching = _touching(p[1:], span, toks)
        clash = any(q is not p and q[0] == t_index and q[1] <= hi and q[2] >= lo
                    for q in picked)
        if touching and not clash and _content(toks, lo, hi) <= MAX_WORDS:
            p[1], p[2] = lo, hi
            return True
    return False
