"""The statement of a recurring point: one sentence a facilitator can project unchanged.

Extractive: the statement is a sentence one of the members wrote, chosen the way a
facilitator reads a pile of cards, then lightly normalised (capital first letter,
final full stop, French typography; spelling left as written).

Each sentence of each member is graded by faults, and the best is kept:

* serious faults, which a facilitator would never project: an exclamation or a
  question, the first person singular (« je », « mon »…), the second person
  (« vous », « tu »…), an opening that leans on what came before (« Il », « Cela »,
  « Mais », « Donc »…; the impersonal « Il faut », « Il y a » are fine), an
  emoticon, a shouted sentence in capitals, a fragment of fewer than four words;
* light faults: « nous » and « on » (an official's « nous demandons » is common,
  but the motion speaks for all), a length outside 6–20 words, a trailing « … »
  or a web address.

Ranking: fewer serious faults, then fewer light faults, then the more central
member (cosine to the point's centroid), then the length closest to the ideal,
then the members' and sentences' order, so the choice is deterministic. A
sentence over 20 words may be cut at a clause boundary (a comma, a semicolon, a
dash, « car », « afin de »…) when what remains is still a complete sentence: long
enough, with a verb, not ending on a linking word, not a dangling « Si … » clause.
Never mid-word.

Pure, standard library only.
"""

from __future__ import annotations

import re
import unicodedata

from .typography import french

IDEAL_MIN_WORDS = 6
IDEAL_MAX_WORDS = 20
FRAGMENT_WORDS = 4
#: The database column holds 400 characters; a statement never outgrows it.
STATEMENT_MAX_CHARS = 400

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\s\u00a0\u202f]+(?=[^\s])|\n+|\s+[-–—•]\s+(?=[A-ZÀ-Ý])")
_MARKDOWN = re.compile(r"\*\*|__|`|^#+\s*|^>\s*|^\s*(?:[-*+•]|\d+[.)])\s+")
_EDGE = " \t\u00a0\u202f-–—•*>"
_QUOTE_PAIRS = {'"': '"', "«": "»", "“": "”"}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+(?:[ ,.]\d+)*", re.UNICODE)
_TOKEN = re.compile(r"[^\W_]+['’]?", re.UNICODE)

FIRST_SINGULAR = frozenset({"je", "j'", "me", "m'", "moi", "mon", "ma", "mes"})
SECOND_PERSON = frozenset({"tu", "te", "t'", "toi", "ton", "ta", "tes", "vous", "votre",
                           "vos"})
FIRST_PLURAL = frozenset({"nous", "notre", "nos", "on"})
#: Openings that need the previous sentence to be understood.
LEANING = frozenset({
    "il", "ils", "elle", "elles", "ce", "c'", "cela", "ça", "ca", "ceci", "celui", "celle",
    "ceux", "celles", "lui", "eux", "leur", "y", "en", "là", "mais", "et", "ou", "donc",
    "aussi", "puis", "ensuite", "alors", "sinon", "or", "car", "enfin", "cependant",
    "pourtant", "toutefois", "néanmoins", "ainsi", "surtout", "également", "bref", "voilà",
    "oui", "non", "sauf", "parce", "puisque", "d'ailleurs", "idem", "pareil",
})
#: « Il » that stands for nothing: « Il faut », « Il y a », « Il est urgent de ».
IMPERSONAL_AFTER_IL = frozenset({"faut", "faudrait", "fallait", "faudra", "convient",
                                 "importe", "y", "manque", "reste", "suffit", "s'agit"})
_IMPERSONAL_EST = re.compile(r"^il\s+est\s+\S+\s+(?:de|d['’]|que|qu['’])", re.IGNORECASE)
#: Connectors a long sentence may be cut before (the cut keeps what comes before them).
CUT_BEFORE = ("car", "parce que", "parce qu'", "afin de", "afin d'", "afin que", "notamment",
              "mais", "alors que", "sachant que", "en particulier", "par exemple")
#: A cut prefix may not end on one of these.
DANGLING_END = frozenset({
    "de", "d'", "du", "des", "la", "le", "l'", "les", "un", "une", "à", "au", "aux", "et",
    "ou", "que", "qu'", "qui", "pour", "par", "en", "dans", "sur", "avec", "sans", "ni",
    "mais", "car", "donc", "si", "plus", "moins", "très", "leur", "leurs", "son", "sa",
    "ses", "ce", "cette", "ces", "notamment",
})
#: A cut prefix opening on one of these is a subordinate clause waiting for its main one.
SUBORDINATE_START = ("si", "s'il", "s'ils", "quand", "lorsque", "lorsqu'", "comme", "puisque",
                     "puisqu'", "bien que", "bien qu'", "alors que", "même si", "dès que",
                     "tant que", "pour que", "afin que", "avant que", "parce que", "faute de",
                     "grâce à", "malgré", "en attendant", "pour", "avec", "sans", "dans",
                     "depuis", "face à", "concernant", "quant à", "en cas de")
#: Common finite forms: a cut prefix needs a verb (these, or an infinitive).
FINITE_VERBS = frozenset({
    "est", "sont", "soit", "soient", "sera", "seront", "serait", "seraient", "a", "ont",
    "doit", "doivent", "devra", "devront", "devrait", "devraient", "faut", "faudrait",
    "peut", "peuvent", "pourrait", "pourraient", "reste", "restent", "demeure", "demeurent",
    "permet", "permettent", "manque", "manquent", "mérite", "méritent", "demande",
    "demandent", "réclame", "réclament", "souhaite", "souhaitent", "propose", "proposent",
    "garantit", "garantissent", "assure", "assurent", "va", "vont", "nécessite",
    "nécessitent", "exige", "exigent", "passe", "passent",
})
_INFINITIVE = re.compile(r"^[^\W\d_]{3,}(?:er|ir|re|oir)$")
_EMOTICON = re.compile(r"(?:^|\s)(?:[:;=8xX]-?[()DPpOo3|/\\\]\[*]|<3|\^\^|[xX]D)(?=\s|$|[.,!?])")
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"\s*[,;:]\s+|\s+[–—-]\s+|\s*\(")


def split_sentences(text: str) -> list[str]:
    """The sentences of a member's text: split after . ! ? …, on new lines and dashes."""
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text or "")) if s]


def _clean(sentence: str) -> str:
    """Markdown marks, list marks and edge quotes off; spaces collapsed."""
    s = _MARKDOWN.sub("", sentence.strip())
    s = " ".join(s.split())
    s = _unquote(s.strip(_EDGE)).strip(_EDGE)
    if s.count("(") > s.count(")"):
        s = s.rstrip("(").strip()
    return s


def _unquote(s: str) -> str:
    """A sentence quoted whole loses its quotes; a lone quote at either end goes too."""
    quotes = sum(s.count(q) for q in '"«»“”')
    if len(s) > 1 and s[0] in _QUOTE_PAIRS and s[-1] == _QUOTE_PAIRS[s[0]] and quotes == 2:
        return s[1:-1]
    if quotes == 1 and (s[:1] in '"«“' or s[-1:] in '"»”'):
        return s[1:] if s[:1] in '"«“' else s[:-1]
    return s


def _tokens(sentence: str) -> list[str]:
    """Lower-cased words, an elided article kept with its apostrophe (« j' », « l' »)."""
    flat = sentence.lower().replace("’", "'")
    return _TOKEN.findall(flat)


def _words(sentence: str) -> int:
    return len(_WORD.findall(sentence))


def _is_shouted(sentence: str) -> bool:
    words = [w for w in re.findall(r"[^\W\d_]{2,}", sentence)]
    caps = [w for w in words if w.isupper()]
    return len(caps) >= 3 and len(caps) * 2 > len(words)


def _has_emoji(sentence: str) -> bool:
    return any(unicodedata.category(ch) == "So" and ord(ch) > 0x2100 for ch in sentence) \
        or bool(_EMOTICON.search(sentence))


def _leans_on_context(tokens: list[str], sentence: str) -> bool:
    if not tokens:
        return False
    first = tokens[0]
    if first == "il" and len(tokens) > 1 and (tokens[1] in IMPERSONAL_AFTER_IL
                                              or _IMPERSONAL_EST.match(sentence)):
        return False
    if first == "en" and len(tokens) > 1 and not tokens[1].endswith("'") \
            and tokens[1] not in ("a", "ont", "est", "sont", "effet", "plus", "outre"):
        return False  # « En zone rurale, … » opens on a place, not on « en » = « of it »
    return first in LEANING


def serious_faults(sentence: str) -> int:
    """Faults a facilitator would never project (see the module docstring)."""
    tokens = _tokens(sentence)
    faults = 0
    faults += "!" in sentence
    faults += "?" in sentence
    faults += any(t in FIRST_SINGULAR for t in tokens)
    faults += any(t in SECOND_PERSON for t in tokens)
    faults += _leans_on_context(tokens, sentence)
    faults += _has_emoji(sentence)
    faults += _is_shouted(sentence)
    faults += _words(sentence) < FRAGMENT_WORDS
    return faults


def light_faults(sentence: str) -> int:
    """Faults that make a sentence a second choice (see the module docstring)."""
    tokens = _tokens(sentence)
    n = _words(sentence)
    faults = 0
    faults += any(t in FIRST_PLURAL for t in tokens)
    faults += not IDEAL_MIN_WORDS <= n <= IDEAL_MAX_WORDS
    faults += sentence.rstrip().endswith(("…", "...", "etc", "etc."))
    faults += bool(_URL.search(sentence))
    return faults


def _has_verb(tokens: list[str]) -> bool:
    return any(t in FINITE_VERBS or _INFINITIVE.match(t) for t in tokens)


def _complete(prefix: str) -> bool:
    """Whether a cut-off beginning still reads as a whole sentence."""
    tokens = _tokens(prefix)
    if not IDEAL_MIN_WORDS <= _words(prefix) <= IDEAL_MAX_WORDS or not tokens:
        return False
    if tokens[-1] in DANGLING_END or tokens[-1].endswith("'"):
        return False
    lowered = " ".join(tokens).replace("' ", "'")
    if "," not in prefix and any(
            lowered == s or lowered.startswith(s + ("" if s.endswith("'") else " "))
            for s in SUBORDINATE_START):
        return False
    if prefix.count("«") != prefix.count("»") or prefix.count('"') % 2:
        return False
    return _has_verb(tokens)


def shorten(sentence: str) -> str:
    """A sentence over 20 words cut at its last clause boundary that leaves a complete
    sentence; the sentence unchanged when there is none."""
    if _words(sentence) <= IDEAL_MAX_WORDS:
        return sentence
    cuts = [m.start() for m in _CLAUSE_BREAK.finditer(sentence)]
    lowered = sentence.lower()
    for word in CUT_BEFORE:
        cuts += [m.start() for m in re.finditer(r"\s" + re.escape(word) + r"\b", lowered)]
    for cut in sorted(set(cuts), reverse=True):
        prefix = sentence[:cut].rstrip(" ,;:–—-")
        if _complete(prefix):
            return prefix
    return sentence


def _fit(statement: str) -> str:
    """Keep a statement within the column: cut at the last word that fits, with « … »."""
    if len(statement) <= STATEMENT_MAX_CHARS:
        return statement
    head = statement[: STATEMENT_MAX_CHARS - 1]
    cut = max(head.rfind(" "), head.rfind("\u00a0"), head.rfind("\u202f"))
    return (head[:cut] if cut > 0 else head).rstrip(" ,;:\u00a0\u202f") + "…"


def normalise_statement(text: str) -> str:
    """A statement as projected: capital first letter, final full stop, French typography.

    Used for the engine's choice and for a facilitator's rename alike; the words and
    their spelling are left as written.
    """
    s = _clean(text or "")
    s = re.sub(r"([!?])\1+", r"\1", s)
    s = re.sub(r"\s*(?:\.\.\.|…)\s*$", "", s).rstrip(" ,;:")
    if not s:
        return ""
    for i, ch in enumerate(s):
        if ch.isalpha():
            s = s[:i] + ch.upper() + s[i + 1:]
            break
        if ch.isdigit():
            break
    if s[-1] not in ".!?":
        s += "."
    return _fit(french(s))


def _candidates(texts: list[str]) -> list[tuple[int, int, str]]:
    out = []
    for i, text in enumerate(texts):
        for j, raw in enumerate(split_sentences(text)):
            sentence = _clean(raw)
            if sentence:
                out.append((i, j, shorten(sentence)))
    return out


def choose_statement(texts: list[str], centrality: list[float]) -> str:
    """The sentence that states a recurring point, taken from its members' texts.

    `texts` are the members' texts, `centrality` their closeness to the point's
    centre (higher is more central), in the same order; a missing score counts as
    0. Returns "" only when there are no texts (or nothing but blanks).
    """
    candidates = _candidates(texts)
    if not candidates:
        return ""

    def score(i: int) -> float:
        return round(float(centrality[i]), 6) if i < len(centrality) else 0.0

    def rank(item: tuple[int, int, str]):
        i, j, sentence = item
        n = _words(sentence)
        ideal = 0 if IDEAL_MIN_WORDS <= n <= IDEAL_MAX_WORDS else \
            min(abs(n - IDEAL_MIN_WORDS), abs(n - IDEAL_MAX_WORDS))
        return (serious_faults(sentence), light_faults(sentence), -score(i), ideal, i, j)

    best = min(candidates, key=rank)[2]
    if serious_faults(best) and best.endswith("!"):
        best = best.rstrip("!").rstrip() or best  # an exclamation as a last resort: a stop
    return normalise_statement(best)
