"""The statement of a recurring point: one sentence a facilitator can project unchanged.

Extractive: the statement is a sentence one of the members wrote, chosen the way a
facilitator reads a pile of cards, then lightly normalised (capital first letter,
final full stop, French typography; spelling left as written).

Each sentence of each member is graded by faults, and the best is kept:

* serious faults, which a facilitator would never project: an exclamation or a
  question, the first person singular (« je », « mon »…), the second person
  (« vous », « tu »…), an opening that leans on what came before (« Il », « Cela »,
  « Mais », « Donc », « En effet », « Dans ces conditions, »…; the impersonal « Il
  faut », « Il y a » are fine), an interrogative or a verb as first word, an
  emoticon, a shouted sentence in capitals, a fragment of fewer than four words;
* light faults: « nous » and « on » (an official's « nous demandons » is common,
  but the motion speaks for all), a word pointing back (« cette commune »), a
  length outside 6–20 words, a trailing « … » or a web address.

Ranking: fewer serious faults, then fewer light faults, then the more central
member (cosine to the point's centroid, plus 0.1 for a sentence that makes a
demand, « doit », « il faut »…, since a motion is made of demands: it tips close
calls only), then the length closest to the ideal, then the members' and
sentences' order, so the choice is deterministic.

A sentence over 20 words may be cut at a clause boundary (a comma, a semicolon, a
dash, a parenthesis, before « car », « afin de », « notamment »…), keeping the
longest beginning that is still a complete sentence: 6–20 words, a conjugated main
verb (after the opening clause when it opens on « Si », « Pour »…), no unfinished
« que … », not ending on a linking word or inside an apposition, quotes balanced.
A question is never cut, and nothing is ever cut mid-word. The verb test knows the
common auxiliaries and regular endings only, so it errs on the side of not cutting.

Pure, standard library only.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .typography import french

IDEAL_MIN_WORDS = 6
IDEAL_MAX_WORDS = 20
FRAGMENT_WORDS = 4
#: The most central members read for a statement: a big point's statement is found among
#: them, and the cost stays bounded.
MEMBERS_READ = 16
#: The database column holds 400 characters; a statement never outgrows it.
STATEMENT_MAX_CHARS = 400

#: Sentence ends: after . ! ? … (not after an initial, « M. », « Mme. »…, nor before a
#: small letter), on new lines, and on a dash that opens a new capitalised sentence.
_SENTENCE_END = re.compile(
    r"(?<=[.!?…])(?<!\b[A-ZÀ-Ý]\.)(?<!\bMme\.)(?<!\bMM\.)(?<!\bDr\.)(?<!\bcf\.)(?<!\bart\.)"
    r"[\s\u00a0\u202f]+(?=[^\sa-zà-ÿ])"
    r"|\n+|\s+[-–—•]\s+(?=[A-ZÀ-Ý])")
_MARKDOWN = re.compile(r"\*\*|__|`|^#+\s*|^>\s*|^\s*(?:[-*+•]|\d+[.)])\s+")
_EDGE = " \t\u00a0\u202f-–—•*>"
_QUOTE_PAIRS = {'"': '"', "«": "»", "“": "”"}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+(?:[ ,.]\d+)*", re.UNICODE)
_TOKEN = re.compile(r"[^\W_]+['’]?", re.UNICODE)

FIRST_SINGULAR = frozenset({"je", "j'", "me", "m'", "moi", "mon", "ma", "mes"})
SECOND_PERSON = frozenset({"tu", "te", "t'", "toi", "ton", "ta", "tes", "vous", "votre",
                           "vos"})
FIRST_PLURAL = frozenset({"nous", "notre", "nos", "on"})
#: Openings that need the previous sentence to be understood (or ask a question).
LEANING = frozenset({
    "il", "ils", "elle", "elles", "ce", "c'", "cet", "cette", "ces", "cela", "ça", "ca",
    "ceci", "celui", "celle", "ceux", "celles", "lui", "eux", "leur", "y", "en", "là",
    "mais", "et", "ou", "donc", "aussi", "puis", "ensuite", "alors", "sinon", "or", "car",
    "enfin", "cependant", "pourtant", "toutefois", "néanmoins", "ainsi", "surtout",
    "également", "bref", "voilà", "oui", "non", "sauf", "parce", "puisque", "idem", "pareil",
    "effectivement", "premièrement", "deuxièmement", "finalement", "certes", "notamment",
    "qui", "que", "qu'", "quoi", "comment", "pourquoi", "quel", "quelle", "quels",
    "quelles", "combien", "où", "ont", "sont", "est", "était", "étaient", "sera", "seront",
})
#: Opening phrases that lean on what came before.
LEANING_PHRASES = (
    "d'abord", "tout d'abord", "d'ailleurs", "de plus", "en outre", "par ailleurs",
    "au contraire", "à savoir", "a savoir", "à cela", "a cela", "en premier lieu",
    "en second lieu", "en dernier lieu", "du coup", "autrement dit", "c'est à dire",
    "de même", "en résumé", "en somme", "par conséquent", "en conséquence", "en revanche",
    "quant à lui", "pour autant", "en réalité", "en fait", "le premier", "la première",
    "le second", "la seconde", "le deuxième", "la deuxième", "le dernier", "la dernière",
)
_LEANING_OPENING = re.compile(
    "(?:" + "|".join(re.escape(p) for p in LEANING_PHRASES) + r")(?:\s|$)")
#: Words that point back at something said before.
DEMONSTRATIVES = frozenset({"ce", "cet", "cette", "ces", "cela", "ça", "ceci", "là"})
#: « Ce » that points at nothing: « ce qui », « ce que ».
_CE_NOT_POINTING = frozenset({"qui", "que", "qu'", "dont", "sont", "soit", "n'", "ne"})
#: « Il » that stands for nothing: « Il faut », « Il y a », « Il est urgent de ».
IMPERSONAL_AFTER_IL = frozenset({"faut", "faudrait", "fallait", "faudra", "convient",
                                 "importe", "y", "manque", "reste", "suffit", "s'agit"})
_IMPERSONAL_EST = re.compile(r"^il\s+est\s+\S+\s+(?:de|d['’]|que|qu['’])", re.IGNORECASE)
#: Where a long sentence may be cut (keeping what comes before): at a comma, before a
#: connector that opens a clause of its own, at a semicolon, a dash or a parenthesis.
#: What is kept must still pass `_complete`.
_CUT = re.compile(
    r",\s|\s*;|\s[–—]\s|\s\(|\s+(?=(?:car|mais|notamment|parce\s+qu|afin\s+(?:de|d['’]|qu)"
    r"|alors\s+qu|sachant\s+qu|en\s+particulier|par\s+exemple|y\s+compris)\b)",
    re.IGNORECASE)
#: A cut prefix may not end on one of these.
DANGLING_END = frozenset({
    "de", "d'", "du", "des", "la", "le", "l'", "les", "un", "une", "à", "au", "aux", "et",
    "ou", "que", "qu'", "qui", "pour", "par", "en", "dans", "sur", "avec", "sans", "ni",
    "mais", "car", "donc", "si", "plus", "moins", "très", "leur", "leurs", "son", "sa",
    "ses", "ce", "cette", "ces", "notamment", "surtout", "comme", "dont", "où",
})
#: A cut prefix opening on one of these is a subordinate clause: its main clause, with
#: its own verb, must follow the opening clause.
CONJUNCTION_START = ("si", "s'il", "s'ils", "quand", "lorsque", "lorsqu'", "comme", "puisque",
                     "puisqu'", "bien que", "bien qu'", "alors que", "alors qu'", "même si",
                     "dès que", "dès qu'", "tant que", "tant qu'", "pour que", "pour qu'",
                     "afin que", "afin qu'", "avant que", "avant qu'", "parce que",
                     "parce qu'")
#: A cut prefix opening on one of these needs its main verb after the opening phrase.
PHRASE_START = ("faute de", "grâce à", "malgré", "en attendant", "pour", "avec", "sans",
                "dans", "depuis", "face à", "concernant", "quant à", "en cas de")
#: Common finite forms: a cut prefix needs a conjugated verb (these, or a form the
#: pattern below recognises), or opens on an infinitive like a motion's demands do.
FINITE_VERBS = frozenset({
    "est", "sont", "soit", "soient", "sera", "seront", "serait", "seraient", "a", "ont",
    "doit", "doivent", "devra", "devront", "devrait", "devraient", "faut", "faudrait",
    "peut", "peuvent", "pourrait", "pourraient", "reste", "restent", "demeure", "demeurent",
    "permet", "permettent", "manquent", "mérite", "méritent", "demandent", "réclame",
    "réclament", "souhaite", "souhaitent", "propose", "proposent", "garantit",
    "garantissent", "assure", "assurent", "va", "vont", "nécessite", "nécessitent", "exige",
    "exigent", "passent",
})
_INFINITIVE = re.compile(r"^[^\W\d_]{3,}(?:er|ir|re|oir)$")
_FINITE = re.compile(r"^[^\W\d_]{3,}(?:ent|aient|ait|ront|rait|raient|eront)$")
#: Words the pattern above would take for verbs.
NOT_VERBS = frozenset({
    "souvent", "parent", "parents", "agent", "argent", "président", "accident", "client",
    "patient", "talent", "urgent", "récent", "différent", "évident", "fréquent", "permanent",
    "pertinent", "compétent", "intelligent", "cohérent", "excellent", "transparent",
    "suffisant", "continent", "adolescent", "résident", "dent", "cent", "vent", "lent",
    "trait", "lait", "portrait", "attrait", "souhait", "retrait", "extrait", "abstrait",
})
#: A relative or appositive opening of the prefix's last segment: the prefix would end
#: inside a noun phrase (« La dématérialisation, telle qu'elle a été conduite »).
_LAST_SEGMENT_OPEN = re.compile(
    r"^(?:qui|que|qu'|dont|où|lequel|laquelle|lesquels|lesquelles|tel|telle|tels|telles"
    r"|comme|voire|soit|y compris|sauf|notamment|entre autres)\b", re.IGNORECASE)
#: Demands a motion is made of: a statement saying one is preferred a little.
_PRESCRIPTIVE = re.compile(
    r"\b(?:doit|doivent|devra|devront|devrait|devraient|faut|faudrait|nécessaire|"
    r"indispensable|essentiel|urgent|demandent|réclament|exigent)\b", re.IGNORECASE)
PRESCRIPTIVE_BONUS = 0.1
_EMOTICON = re.compile(r"(?:^|\s)(?:[:;=8xX]-?[()DPpOo3|/\\\]\[*]|<3|\^\^|[xX]D)(?=\s|$|[.,!?])")
_EMOJI = re.compile("[\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]")
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)


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


@lru_cache(maxsize=65536)
def _tokens(sentence: str) -> tuple[str, ...]:
    """Lower-cased words, an elided article kept with its apostrophe (« j' », « l' »)."""
    return tuple(_TOKEN.findall(sentence.lower().replace("’", "'")))


@lru_cache(maxsize=65536)
def _words(sentence: str) -> int:
    return len(_WORD.findall(sentence))


def _is_shouted(sentence: str) -> bool:
    words = [w for w in re.findall(r"[^\W\d_]{2,}", sentence)]
    caps = [w for w in words if w.isupper()]
    return len(caps) >= 3 and len(caps) * 2 > len(words)


def _has_emoji(sentence: str) -> bool:
    return bool(_EMOJI.search(sentence) or _EMOTICON.search(sentence))


def _leans_on_context(tokens: tuple[str, ...], sentence: str) -> bool:
    if not tokens:
        return False
    first = tokens[0]
    if first == "il" and len(tokens) > 1 and (tokens[1] in IMPERSONAL_AFTER_IL
                                              or _IMPERSONAL_EST.match(sentence)):
        return False
    if _LEANING_OPENING.match(" ".join(tokens[:4]).replace("' ", "'")):
        return True
    head = sentence.split(",", 1)[0]
    head_tokens = _tokens(head)
    if "," in sentence and len(head_tokens) <= 7 and _points_back(head_tokens):
        return True  # « Dans ces conditions, … », « À cette époque, … », « Pour cela, … »
    if first == "en" and len(tokens) > 1 and not tokens[1].endswith("'") \
            and tokens[1] not in ("a", "ont", "est", "sont", "effet", "plus", "outre"):
        return False  # « En zone rurale, … » opens on a place, not on « en » = « of it »
    return first in LEANING


def _points_back(tokens: tuple[str, ...] | list[str]) -> bool:
    """A demonstrative among these words (« ce qui », « ce que » point at nothing)."""
    return any(t in DEMONSTRATIVES and not (t == "ce" and i + 1 < len(tokens)
                                            and tokens[i + 1] in _CE_NOT_POINTING)
               for i, t in enumerate(tokens))


@lru_cache(maxsize=65536)
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


@lru_cache(maxsize=65536)
def light_faults(sentence: str) -> int:
    """Faults that make a sentence a second choice (see the module docstring)."""
    tokens = _tokens(sentence)
    n = _words(sentence)
    faults = 0
    faults += any(t in FIRST_PLURAL for t in tokens)
    faults += not IDEAL_MIN_WORDS <= n <= IDEAL_MAX_WORDS
    faults += sentence.rstrip().endswith(("…", "...", "etc", "etc."))
    faults += bool(_URL.search(sentence))
    faults += _points_back([t for t in tokens if t not in ("ça", "là")])
    return faults


def _is_finite(token: str) -> bool:
    return token in FINITE_VERBS or (bool(_FINITE.match(token)) and token not in NOT_VERBS
                                     and not token.endswith("ment"))


def _opens_with(tokens: tuple[str, ...], openings: tuple[str, ...]) -> bool:
    lowered = " ".join(tokens).replace("' ", "'")
    return any(lowered == s or lowered.startswith(s + ("" if s.endswith("'") else " "))
               for s in openings)


def _complete(prefix: str) -> bool:
    """Whether a cut-off beginning still reads as a whole sentence: long enough, not
    ending on a linking word, inside a relative or an unfinished « que … », with a
    conjugated main verb (after the opening clause when it opens on « Si », « Pour »…),
    quotes balanced."""
    tokens = _tokens(prefix)
    if not IDEAL_MIN_WORDS <= _words(prefix) <= IDEAL_MAX_WORDS or not tokens:
        return False
    if tokens[-1] in DANGLING_END or tokens[-1].endswith("'") or "seulement" in tokens:
        return False
    if prefix.count("«") != prefix.count("»") or prefix.count('"') % 2 \
            or prefix.count("(") != prefix.count(")"):
        return False
    segments = [_tokens(part) for part in prefix.split(",")]
    if len(segments) > 1 and (_LAST_SEGMENT_OPEN.match(prefix.rsplit(",", 1)[1].strip())
                              or len(segments[-1]) < 3):
        return False
    if ":" in prefix and _words(prefix.rsplit(":", 1)[1]) < FRAGMENT_WORDS:
        return False  # « Le constat est sans appel : en 2025 » announces what was cut
    last_que = max((i for i, t in enumerate(tokens) if t in ("que", "qu'")), default=None)
    if last_que is not None and not any(_is_finite(t) for t in tokens[last_que + 1:]):
        return False  # « a montré que, dans les Antilles » : the « que » clause is missing
    finite = [any(_is_finite(t) for t in seg) for seg in segments]
    if _opens_with(tokens, CONJUNCTION_START):
        # « Si X, Y »: a verb in the opening clause, and the main one after it.
        return any(finite[k] and any(finite[:k]) for k in range(1, len(segments)))
    if _opens_with(tokens, PHRASE_START):
        return any(finite[1:])
    if any(finite):
        return True
    return bool(_INFINITIVE.match(tokens[0]))  # « Déployer la fibre … », as demands read


@lru_cache(maxsize=65536)
def shorten(sentence: str) -> str:
    """A sentence over 20 words cut at its last clause boundary that leaves a complete
    sentence; the sentence unchanged when there is none, and a question is never cut
    (what is left would be a question without its mark)."""
    if _words(sentence) <= IDEAL_MAX_WORDS or "?" in sentence or "!" in sentence:
        return sentence
    for cut in sorted({m.start() for m in _CUT.finditer(sentence)}, reverse=True):
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


def _candidates(texts: list[str], order: list[int]) -> list[tuple[int, int, str]]:
    out = []
    for i in order:
        for j, raw in enumerate(split_sentences(texts[i])):
            sentence = _clean(raw)
            if sentence:
                out.append((i, j, shorten(sentence)))
    return out


def choose_statement(texts: list[str], centrality: list[float]) -> str:
    """The sentence that states a recurring point, taken from its members' texts.

    `texts` are the members' texts, `centrality` their closeness to the point's
    centre (higher is more central), in the same order; a missing score counts as
    0. The 16 most central members are read. Returns "" only when there are no texts
    (or nothing but blanks).
    """
    def central(i: int) -> float:
        return float(centrality[i]) if i < len(centrality) else 0.0

    order = sorted(range(len(texts)), key=lambda i: (-central(i), i))[:MEMBERS_READ]
    candidates = _candidates(texts, order)
    if not candidates:
        return ""

    def score(i: int, sentence: str) -> float:
        return round(central(i) + PRESCRIPTIVE_BONUS * bool(_PRESCRIPTIVE.search(sentence)), 6)

    def rank(item: tuple[int, int, str]):
        i, j, sentence = item
        n = _words(sentence)
        ideal = 0 if IDEAL_MIN_WORDS <= n <= IDEAL_MAX_WORDS else \
            min(abs(n - IDEAL_MIN_WORDS), abs(n - IDEAL_MAX_WORDS))
        return (serious_faults(sentence), light_faults(sentence), -score(i, sentence), ideal,
                i, j)

    best = min(candidates, key=rank)[2]
    if serious_faults(best) and best.endswith("!"):
        best = best.rstrip("!").rstrip() or best  # an exclamation as a last resort: a stop
    return normalise_statement(best)
