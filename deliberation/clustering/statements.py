"""The statement of a recurring point: one sentence a facilitator can project unchanged.

Extractive: the statement is a sentence one of the members wrote, chosen the way a
facilitator reads a pile of cards, then lightly normalised (capital first letter,
final full stop, French typography; spelling left as written).

Each sentence of each member read (the 16 most central) is graded, and the best is kept:

* serious faults, which a facilitator would never project: an exclamation or a
  question, the first person singular (« je », « mon »…), the second person
  (« vous », « tu »…), an opening that leans on what came before (« Il », « Cela »,
  « Mais », « Donc », « En effet », « Quant à », « Dans ces conditions, »…; the
  impersonal « Il faut », « Il y a » are fine), an interrogative or a verb as first
  word, an emoticon, a shouted sentence in capitals, a fragment of fewer than four
  words. Only the sentences with the fewest serious faults go on;
* then one score, on the scale of the member's centrality (relative to the most
  central member, so 0 to 1):
  - plus what a facilitator looks for: a demand (« doit », « il faut », « devrait »…,
    a motion is made of them), a proposal opening on an infinitive (« Créer… »,
    « Former… », not « Multiplier les guichets ne suffit pas »), a suggestion
    (« pourrait ») a little, and the share of the point's shared words (those two
    members or more use) the sentence holds: it says what several members say;
  - minus what a facilitator would rewrite (`flaws`): spoken register (« bosser »,
    « le net », « c'est une blague », « c'est pas »…), a hedge (« paraît-il »), a
    pronoun whose referent is in another sentence (« pour les garder », « en aurait
    désigné un », « y vendre »), a verbless fragment (« Dotations en baisse, missions
    en hausse. »), an anecdote (« Un lundi matin », « l'an dernier », « chez nous »,
    « À Saint-Pierre, », « Commune de 650 habitants »), a story in the passé composé,
    « nous », « on » and « Remettons… » (the motion speaks for all), a length outside
    6–20 words (more for each word over 20), a trailing « … » or a web address, a
    word pointing back (« cette commune »), « maintenant » or « aussi » (the sequel
    of a story told elsewhere), « X, c'est Y », a title before a colon, a figure
    (a deadline, « avant 2030 », is part of a demand and is not one), a word in
    capitals.
  Ties go to the length closest to the ideal, then to the members' and sentences'
  order, so the choice is deterministic.

A sentence over 20 words is cut at a clause boundary (a comma, a semicolon, a
dash, a parenthesis, before « car », « afin de », « notamment »…), keeping the
longest beginning that is still a complete sentence: 6–20 words, a conjugated main
verb (after the opening clause when it opens on « Si », « Pour »…), no unfinished
« que … », not ending on a linking word or inside an apposition, quotes balanced.
A sentence with a flaw also offers its parts that may read better: such a
beginning, the clause after a short title (« Ma conviction : chaque commune
doit… ») and a clause after a comma that makes a demand with its own subject
(« …, c'est une blague, l'État doit plafonner les prix »); a part scores a little
less than a whole sentence. No cut drops a contrast (« …, mais … », « …, pas
après »), a question is never cut, and nothing is ever cut mid-word. The verb test
knows the common auxiliaries and regular endings only, so it errs on the side of not
cutting. Gradings are cached per sentence, so a refit grades only the sentences it
has not seen.

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
    "enfin", "quant", "cependant", "pourtant", "toutefois", "néanmoins", "ainsi", "surtout",
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


def _is_finite(token: str) -> bool:
    return token in FINITE_VERBS or (bool(_FINITE.match(token)) and token not in NOT_VERBS
                                     and not token.endswith("ment"))


def _opens_with(tokens: tuple[str, ...], openings: tuple[str, ...]) -> bool:
    return bool(_opening_pattern(openings).match(" ".join(tokens).replace("' ", "'")))


@lru_cache(maxsize=8)
def _opening_pattern(openings: tuple[str, ...]) -> re.Pattern:
    """One pattern for a list of openings: an elided one (« s'il ») runs into the next
    word, the others end at a space."""
    return re.compile("|".join(re.escape(s) + ("" if s.endswith("'") else "(?: |$)")
                               for s in openings))


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
    for cut in _cuts(sentence):
        prefix = sentence[:cut].rstrip(" ,;:–—-")
        if _complete(prefix):
            return prefix
    return sentence


#: What a cut may not drop: a contrast or a restriction is the point of its sentence
#: (« …, mais il ne doit pas être le seul », « …, pas après »).
_CONTRAST = re.compile(r"[\s,;:–—(-]*(?:mais|pas|sans|sauf|ni|non|plutôt|alors\s+qu|et\s+non"
                       r"|et\s+pas|au\s+lieu|à\s+condition|seulement|uniquement)\b",
                       re.IGNORECASE)


@lru_cache(maxsize=65536)
def _cuts(sentence: str) -> tuple[int, ...]:
    """The clause boundaries a sentence may be cut at, last first, leaving out those that
    would drop a contrast."""
    return tuple(sorted({m.start() for m in _CUT.finditer(sentence)
                         if not _CONTRAST.match(sentence, m.start())}, reverse=True))


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


# --- what makes one well-formed sentence a better statement than another ----------------------
#
# Every sentence that passes the serious faults gets a score: its member's centrality
# (relative to the most central member), plus what a facilitator looks for (a demand or
# a proposal, the words several members share), minus what a facilitator would rewrite
# before projecting (spoken register, a pronoun whose referent is in another sentence, an
# anecdote, a hedge, a fragment…). The weights are on the centrality's scale (0 to 1): a
# demand is worth 0.3 of it, a colloquial word costs half of it.

W_DEMAND = 0.3          # « doit », « il faut », « devrait »…
W_PROPOSAL = 0.25       # an opening infinitive: « Créer… », « Former… »
W_SUGGESTION = 0.1      # « pourrait », « pourraient »
W_SHARED = 0.8          # × the share of the point's shared words the sentence holds
SHARED_FLOOR = 4        # the weight shared words need for the full share: one word that
                        # two members happen to share (« mairie ») is no sign of the point
P_COLLOQUIAL = 0.5      # « bosser », « le net », « c'est une blague », « c'est pas »…
P_HEDGE = 0.4           # « paraît-il », « peut-être », « à mon avis »…
P_ANAPHORA = 0.4        # « pour les garder », « en aurait désigné un », « y vendre »
P_FRAGMENT = 0.4        # no verb: « Dotations en baisse, missions en hausse. »
P_ANECDOTE = 0.3        # « Un lundi matin », « l'an dernier », « chez nous », « À Saint-Pierre, »
P_NARRATIVE = 0.25      # a story in the passé composé: « on a lancé », « ont choisi »
P_FIRST_PLURAL = 0.35   # « nous », « on »: the motion speaks for all
P_LENGTH = 0.3          # outside 6–20 words
P_LONGER = 0.02         # and for each word over 20
P_TRAILING = 0.3        # a trailing « … » or a web address
P_POINTING = 0.2        # « cette commune »: points back at what came before
P_SEQUEL = 0.15         # « maintenant », « aussi »: continues a story told elsewhere
P_DISLOCATED = 0.2      # « X, c'est Y »: a spoken turn of phrase
P_HEADLINE = 0.15       # « Gestion technique : … », a title before a colon
P_NUMBER = 0.1          # a figure: the case at hand rather than the point
P_SHOUTED_WORD = 0.1    # « AVANT »
P_CUT = 0.1             # a cut sentence: the whole one is preferred when it reads as well

_DEMAND = re.compile(
    r"\b(?:doit|doivent|devra|devront|devrait|devraient|faut|faudrait|faudra|nécessaire|"
    r"indispensable|essentiel|essentielle|impératif|urgent|demandent|réclament|exigent|"
    r"convient|importe)\b", re.IGNORECASE)
_SUGGESTION = re.compile(r"\b(?:pourrait|pourraient)\b", re.IGNORECASE)
#: Words of the spoken register, abbreviations a motion spells out, jokes and scorn.
COLLOQUIAL = frozenset({
    "bosser", "bosse", "bossent", "boulot", "boulots", "truc", "trucs", "machin", "ordi",
    "ordis", "compta", "appli", "applis", "infos", "télé", "ados", "fric", "galère", "marre",
    "dingue", "sympa", "chouette", "super", "franchement", "carrément", "vachement", "bref",
    "ben", "bah", "hein", "ouais", "ok", "lol", "mdr", "svp", "stp", "blague", "ridicule",
    "scandale", "ça", "interco",
})
_COLLOQUIAL_PHRASE = re.compile(
    r"(?:\bsur le net\b|\bdu coin\b|\ble net\b|\bn'importe quoi\b|\bras le bol\b|\bdu coup\b"
    r"|\bquand même\b|\bbien sûr\b|\bfaire semblant\b|\bpieds et poings\b|\by'a\b"
    r"|(?<![\w'])(?:c'est|c'était|est|sont|a|ont|faut|peut|peuvent|veut|sait|fait|marche"
    r"|va|vont|avait|était|y a)\s+pas\b)")
_HEDGE = re.compile(
    r"\b(?:paraît-il|parait-il|semble-t-il|il paraît|il parait|peut-être|sans doute"
    r"|apparemment|à mon avis|selon moi|il me semble|aurait|auraient été)\b")
_ANECDOTE = re.compile(
    r"\b(?:(?:un|ce) (?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|matin|soir"
    r"|jour|beau jour)|(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) dernier"
    r"|l'an (?:dernier|passé)|l'année (?:dernière|passée)|l'(?:hiver|été|automne) dernier"
    r"|la semaine dernière|le mois dernier|hier|chez nous|chez moi|il y a \w+ (?:ans"
    r"|mois|semaines|jours))\b")
#: An opening on a named place, « À Saint-Pierre, », « En Martinique, »: a local case.
_PLACE_OPENING = re.compile(r"^(?:(?:À|A|Au|Aux|En|Dans l[ae']|Chez)\s*[A-ZÀ-Ý][\w'-]*[ ,]"
                            r"|(?:Commune|Ville|Village|Bourg|Mairie)s? de \d)")
_DIGIT = re.compile(r"\d")
#: « en aurait désigné un, »: « un » standing for a noun said elsewhere.
_LONE_UN = re.compile(r"\b(?:un|une)\s*(?:[,;:.]|$)", re.IGNORECASE)
_DISLOCATED = re.compile(r", (?:c'est|ce n'est|ce serait|c'était)\b")
_SHOUTED_WORD = re.compile(r"\b[A-ZÀ-Ý]{4,}\b")
#: A deadline is part of a demand, not a figure of the case at hand: « avant 2030 ».
_DEADLINE = re.compile(r"\b(?:avant|d['’]ici|horizon|dès)\s+(?:19|20)\d\d\b", re.IGNORECASE)
#: « Remettons des personnes à l'accueil », « Faisons des résumés »: « nous » unsaid.
_IMPERATIVE_PLURAL = re.compile(r"(?:^|[:;,]\s)[^\W\d_]{2,}(?<!i)ons\b")
_AVOIR = frozenset({"a", "ai", "as", "avons", "avez", "ont", "avait", "avaient", "aura",
                    "auront", "aurait", "auraient", "avions"})
_PARTICIPLE = re.compile(r"^(?:[^\W\d_]{2,}(?:é|ée|és|ées|i|is|it|u|us|ert|erts|int|eint)"
                         r"|été|eu|pu|dû|vu|lu|su|mis|pris|dit|fait)$")
#: Words after « le », « la », « l' » that end like an infinitive but are nouns.
NOUNS_LIKE_INFINITIVES = frozenset({
    "hiver", "danger", "étranger", "cancer", "laser", "hier", "mer", "fer", "cher", "super",
    "leader", "manager", "déjeuner", "dîner", "goûter", "clocher", "rocher", "boucher",
    "boulanger", "berger", "verger", "plancher", "léger", "amer", "conseiller", "cluster",
    "poster", "hacker", "loyer", "foyer", "container", "flyer", "router", "reporter",
    "supporter", "avenir", "désir", "loisir", "plaisir", "souvenir", "soir", "espoir",
    "pouvoir", "savoir", "devoir", "miroir", "trottoir", "couloir", "comptoir", "réservoir",
    "manoir", "terroir", "mouchoir", "tiroir", "rasoir", "dortoir", "parloir",
})
#: The common infinitives in -re (most nouns end in -re too, so only these count).
INFINITIVES_RE = frozenset({
    "faire", "refaire", "dire", "prendre", "reprendre", "apprendre", "comprendre", "mettre",
    "remettre", "permettre", "transmettre", "retransmettre", "promettre", "soumettre",
    "construire", "reconstruire", "produire", "réduire", "conduire", "introduire", "inscrire",
    "écrire", "décrire", "lire", "suivre", "poursuivre", "vivre", "rendre", "vendre",
    "attendre", "entendre", "défendre", "répondre", "étendre", "descendre", "détruire",
    "reconnaître", "connaître", "paraître", "croire", "plaire", "résoudre", "craindre",
    "joindre", "rejoindre", "atteindre", "éteindre", "battre", "combattre", "admettre",
    "interdire", "élire", "perdre", "tendre", "prétendre", "dépendre", "suspendre",
    "convaincre", "exclure", "inclure", "conclure", "suffire", "instruire", "traduire",
    "distraire", "extraire", "entreprendre", "surprendre", "reconduire",
})


#: What follows « y » when it is no pronoun: « il y a », « y compris ».
_Y_IMPERSONAL = frozenset({"a", "avait", "aura", "aurait", "ait", "avoir", "ayant", "compris"})


def _is_infinitive(token: str) -> bool:
    """An infinitive, told from a noun by its ending: -er (not the nouns in -ier), -ir,
    -oir, and the common verbs in -re."""
    if token in NOUNS_LIKE_INFINITIVES or len(token) < 4:
        return False
    if token in INFINITIVES_RE:
        return True
    if token.endswith("ier"):
        return token.endswith(("ifier", "plier", "blier", "cier", "gier", "dier", "rier",
                               "tier")) and token not in ("quartier", "métier", "chantier",
                                                          "sentier", "particulier", "entier",
                                                          "premier", "dernier", "courrier",
                                                          "calendrier", "financier",
                                                          "foncier", "routier")
    return token.endswith(("er", "ir", "oir"))


@lru_cache(maxsize=65536)
def opens_on_infinitive(sentence: str) -> bool:
    """« Créer un réseau… », « Former les élus… »: a proposal as motions write them."""
    tokens = _tokens(sentence)
    if not tokens or sentence[:1].isdigit() or not _is_infinitive(tokens[0]):
        return False
    # « Multiplier les démarches ne peut pas se faire… »: the infinitive is a subject.
    first_clause = _tokens(re.split(r"[,:;]", sentence, maxsplit=1)[0])
    relative = False
    for t in first_clause[1:]:
        relative = relative or t in ("qui", "que", "qu'", "dont", "où")
        if not relative and (_is_finite(t) or t in COMMON_PRESENT or t in ("ne", "n'")):
            return False
    return True


def _has_anaphora(tokens: tuple[str, ...], sentence: str) -> bool:
    """A pronoun whose referent is likely in another sentence: an object pronoun before a
    verb (« pour les garder », « personne ne l'a vu »), « en » or « y » as pronouns
    (« en aurait désigné », « y vendre »), « un » standing alone (« désigné un, »)."""
    for k, t in enumerate(tokens[:-1]):
        after, before = tokens[k + 1], tokens[k - 1] if k else ""
        if t in ("le", "la", "les", "l'", "lui", "leur", "en") and (
                after in _AVOIR or before in ("ne", "n'")
                or (_is_infinitive(after) and (t != "en" or after not in ("plus", "outre")))
                or (_is_finite(after) and after not in ("reste", "demeure"))):
            return True
        if t == "y" and after not in _Y_IMPERSONAL:
            return True
    return bool(_LONE_UN.search(sentence))


def _is_narrative(tokens: tuple[str, ...]) -> bool:
    """A story told in the passé composé (« on a lancé », « ont choisi »), not « il y a »."""
    for k, t in enumerate(tokens[:-1]):
        if t in _AVOIR and not (k and tokens[k - 1] == "y"):
            following = tokens[k + 1:k + 3]
            if following and (_PARTICIPLE.match(following[0]) or (
                    len(following) > 1 and following[0] in ("déjà", "bien", "tout", "enfin",
                                                            "jamais", "pas", "été")
                    and _PARTICIPLE.match(following[1]))):
                return True
    return False


def _is_fragment(tokens: tuple[str, ...], sentence: str) -> bool:
    """A short string of words with no verb: « Dotations en baisse, missions en hausse. »"""
    return _words(sentence) <= 10 and not opens_on_infinitive(sentence) \
        and not _IMPERATIVE_PLURAL.search(sentence) \
        and not any(_is_finite(t) or t in COMMON_PRESENT for t in tokens)


#: Present-tense forms in -e the verb patterns do not see, for the fragment test.
COMMON_PRESENT = frozenset({
    "coûte", "manque", "crée", "semble", "existe", "arrive", "concerne", "dépend",
    "représente", "fait", "font", "met", "prend", "vient", "tient", "sait", "veut", "suffit",
    "sert", "devient", "vaut", "dit", "voit", "vit", "paie", "paye", "augmente", "reçoit",
    "attend", "fonctionne", "gagne", "perd", "oblige", "ouvre", "est", "a", "ont", "sont",
    "doit", "faut", "peut", "va", "permet", "propose", "apporte", "nécessite",
})


#: A word each phrase of the patterns above holds: most sentences hold none, and a set
#: look-up is much cheaper than a search.
_COLLOQUIAL_KEYS = frozenset({"net", "coin", "importe", "bol", "coup", "même", "sûr",
                              "semblant", "pieds", "y'", "pas"})
_HEDGE_KEYS = frozenset({"paraît", "parait", "semble", "peut", "sans", "apparemment", "avis",
                         "selon", "me", "aurait", "auraient"})
_ANECDOTE_KEYS = frozenset({"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
                            "dimanche", "matin", "soir", "jour", "dernier", "dernière",
                            "passé", "passée", "hier", "chez", "il"})


def _found(words: set[str], keys: frozenset[str], pattern: re.Pattern, text: str) -> bool:
    return not words.isdisjoint(keys) and bool(pattern.search(text))


def _is_colloquial(words: set[str], lowered: str) -> bool:
    return not words.isdisjoint(COLLOQUIAL) \
        or _found(words, _COLLOQUIAL_KEYS, _COLLOQUIAL_PHRASE, lowered)


@lru_cache(maxsize=65536)
def flaws(sentence: str) -> float:
    """What a facilitator would rewrite before projecting a sentence, as a penalty."""
    tokens = _tokens(sentence)
    lowered = " ".join(sentence.lower().replace("’", "'").split())
    n = _words(sentence)
    penalty = 0.0
    words = set(tokens)
    penalty += P_COLLOQUIAL * _is_colloquial(words, lowered)
    penalty += P_HEDGE * _found(words, _HEDGE_KEYS, _HEDGE, lowered)
    penalty += P_ANAPHORA * _has_anaphora(tokens, sentence)
    penalty += P_FRAGMENT * _is_fragment(tokens, sentence)
    penalty += P_ANECDOTE * bool(_found(words, _ANECDOTE_KEYS, _ANECDOTE, lowered)
                                 or _PLACE_OPENING.match(sentence))
    penalty += P_NARRATIVE * _is_narrative(tokens)
    penalty += P_FIRST_PLURAL * (any(t in FIRST_PLURAL for t in tokens)
                                 or bool(_IMPERATIVE_PLURAL.search(sentence)))
    penalty += P_LENGTH * (not IDEAL_MIN_WORDS <= n <= IDEAL_MAX_WORDS) \
        + P_LONGER * max(n - IDEAL_MAX_WORDS, 0)
    penalty += P_TRAILING * (sentence.rstrip().endswith(("…", "...", "etc", "etc."))
                             or bool(_URL.search(sentence)))
    penalty += P_POINTING * _points_back([t for t in tokens if t not in ("ça", "là")])
    penalty += P_SEQUEL * any(t in ("maintenant", "aussi", "également") for t in tokens)
    penalty += P_DISLOCATED * bool(_DISLOCATED.search(lowered))
    head = sentence.split(":", 1)[0] if ":" in sentence else ""
    penalty += P_HEADLINE * bool(head and _words(head) <= 4)
    penalty += P_NUMBER * bool(_DIGIT.search(sentence)
                               and _DIGIT.search(_DEADLINE.sub("", sentence)))
    penalty += P_SHOUTED_WORD * bool(_SHOUTED_WORD.search(sentence)
                                     and not _is_shouted(sentence))
    return round(penalty, 6)


@lru_cache(maxsize=65536)
def merits(sentence: str) -> float:
    """What a facilitator looks for: a demand (« doit », « il faut ») or a proposal
    (« Créer… »), a suggestion (« pourrait ») a little."""
    return round(W_DEMAND * bool(_DEMAND.search(sentence))
                 + W_PROPOSAL * opens_on_infinitive(sentence)
                 + W_SUGGESTION * bool(_SUGGESTION.search(sentence)), 6)


#: Words too common to tell one point from another, for the shared words.
_COMMON_WORDS = frozenset({
    "dans", "pour", "avec", "sans", "plus", "moins", "mais", "être", "avoir", "faut", "doit",
    "doivent", "leur", "leurs", "tous", "toutes", "tout", "cette", "comme", "aussi", "même",
    "très", "bien", "encore", "elle", "elles", "nous", "vous", "notre", "votre", "sont",
    "fait", "faire", "peut", "entre", "chaque", "après", "avant", "depuis", "quand", "alors",
    "donc", "ainsi", "autres", "autre", "celle", "celui", "ceux", "était", "sera", "cela",
    "ceci", "trop", "jamais", "toujours", "rien", "faudrait", "devrait", "devraient", "pourrait",
    "peuvent", "aux", "des", "les", "une", "qui", "que", "pas", "par", "sur", "ont", "est",
})


_CONTENT_WORD = re.compile(r"[^\W\d_]{4,}")


@lru_cache(maxsize=65536)
def _stems(text: str) -> frozenset[str]:
    """The content words of a text, crudely stemmed (plural and ending off) so « mairie »
    and « mairies », « numérique » and « numériques » meet."""
    return frozenset({w.rstrip("sx")[:7] for w in set(_CONTENT_WORD.findall(text.lower()))
                      if w not in _COMMON_WORDS})


def _shared_weights(texts: list[str], order: list[int]) -> dict[str, int]:
    """The point's distinctive words: each word several members use, weighted by how many
    more than one use it."""
    counts: dict[str, int] = {}
    for i in order:
        for stem in _stems(texts[i]):
            counts[stem] = counts.get(stem, 0) + 1
    return {stem: n - 1 for stem, n in counts.items() if n > 1}


#: Words a clause after a comma opens on when it has a subject of its own.
_SUBJECT_OPENING = frozenset({"le", "la", "les", "l'", "un", "une", "des", "du", "chaque",
                              "tous", "toutes", "tout", "il", "aucun", "aucune"})


def _opens_on_subject(clause: str) -> bool:
    """« l'État doit… », « il faut… », « France Services doit… »; not « doit beaucoup… »."""
    tokens = _tokens(clause)
    return bool(tokens) and (tokens[0] in _SUBJECT_OPENING or clause[:1].isupper())


def _shared_share(sentence: str, shared: dict[str, int], total: int) -> float:
    """The share of the point's shared words (by weight) a sentence holds: the sentence
    that says what several members say. Long sentences gain from it, which the length
    penalty (20 words, then a little per word) holds back."""
    return sum(shared.get(stem, 0) for stem in _stems(sentence)) / total


def _unfit(head: str) -> bool:
    """Whether the words before a demand are what keeps it off the screen (« Ça coûte une
    fortune, c'est une blague, l'État doit… »): a serious fault other than shortness, or
    spoken words. Otherwise they hold the demand's subject and stay."""
    tokens = _tokens(head)
    words = set(tokens)
    lowered = " ".join(head.lower().replace("’", "'").split())
    return serious_faults(head) > (_words(head) < FRAGMENT_WORDS) \
        or _is_colloquial(words, lowered) or _found(words, _HEDGE_KEYS, _HEDGE, lowered)


#: Titles that announce a sentence rather than name its subject (« Ma conviction : … »).
LEAD_INS = frozenset({"proposition", "idée", "constat", "conviction", "crainte", "demande",
                      "priorité", "objectif", "solution", "avis", "bref", "conclusion",
                      "résumé", "enjeu", "problème", "souhait", "question", "remarque"})


def _lead_in(head: str) -> bool:
    tokens = [t for t in _tokens(head) if t not in ("le", "la", "l'", "les", "un", "une",
                                                    "ma", "mon", "notre", "nos", "mes")]
    return bool(tokens) and tokens[0] in LEAD_INS


#: Words that make a clause the condition of the next one.
_CONDITION = frozenset({"si", "s'il", "s'ils", "quand", "lorsque", "lorsqu'", "dès", "tant",
                        "puisque", "puisqu'", "faute", "sauf"})


def _conditional(head: str) -> bool:
    """« …: si les habitants le demandent, » — the clause after it holds only under it."""
    clause = _tokens(re.split(r"[:;]", head)[-1])
    return _opens_with(clause, PHRASE_START) or not _CONDITION.isdisjoint(clause)


@lru_cache(maxsize=65536)
def _split_off(sentence: str) -> tuple[str, ...]:
    """The shorter sentences a facilitator could take out of one: a beginning that reads as
    a whole sentence (`shorten`, or a cut at a clause boundary), and the clause after a
    title (« Ma conviction : … ») or after a comma when it makes a demand on its own
    (« …, l'État doit encadrer les tarifs »)."""
    out = []
    for cut in _cuts(sentence):
        prefix = sentence[:cut].rstrip(" ,;:–—-")
        if "?" not in sentence and _complete(prefix):
            out.append(prefix)
            break
    for m in re.finditer(r"\s*[:;]\s+|,\s+", sentence):
        tail = sentence[m.end():].strip()
        head = sentence[:m.start()]
        titled = ":" in m.group() and _words(head) <= 4 and (_lead_in(head) or _unfit(head))
        if (titled or (_DEMAND.search(tail) and _opens_on_subject(tail) and _unfit(head)
                       and not _conditional(head))) \
                and IDEAL_MIN_WORDS <= _words(tail) <= IDEAL_MAX_WORDS \
                and not serious_faults(tail) and not _CUT.match(" " + tail):
            out.append(tail)
    return tuple(out)


def _candidates(texts: list[str], order: list[int]) -> list[tuple[int, int, str, bool]]:
    """Each sentence of each member read, whole (or cut by `shorten` when too long), and
    the shorter sentences it contains; the flag says which were cut."""
    out = []
    for i in order:
        for j, raw in enumerate(split_sentences(texts[i])):
            sentence = _clean(raw)
            if sentence:
                whole = shorten(sentence)
                out.append((i, j, whole, whole != sentence))
                if serious_faults(whole) or flaws(whole):  # else no part of it reads better
                    out.extend((i, j, part, True) for part in _split_off(sentence)
                               if part != whole)
    return out


def choose_statement(texts: list[str], centrality: list[float]) -> str:
    """The sentence that states a recurring point, taken from its members' texts.

    `texts` are the members' texts, `centrality` their closeness to the point's
    centre (higher is more central), in the same order; a missing score counts as
    0. The 16 most central members are read. Returns "" only when there are no texts
    (or nothing but blanks).
    """
    def central(i: int) -> float:
        return max(float(centrality[i]), 0.0) if i < len(centrality) else 0.0

    order = sorted(range(len(texts)), key=lambda i: (-central(i), i))[:MEMBERS_READ]
    candidates = _candidates(texts, order)
    if not candidates:
        return ""
    top = max(central(i) for i in order) or 1.0
    shared = _shared_weights(texts, order)
    total_shared = max(sum(shared.values()), SHARED_FLOOR)

    def score(i: int, sentence: str, cut: bool) -> float:
        return round(central(i) / top + merits(sentence)
                     + (W_SHARED * _shared_share(sentence, shared, total_shared)
                        if shared else 0.0)
                     - flaws(sentence) - P_CUT * cut, 6)

    def rank(item: tuple[int, int, str, bool]):
        i, j, sentence, cut = item
        n = _words(sentence)
        ideal = 0 if IDEAL_MIN_WORDS <= n <= IDEAL_MAX_WORDS else \
            min(abs(n - IDEAL_MIN_WORDS), abs(n - IDEAL_MAX_WORDS))
        return (-score(i, sentence, cut), ideal, i, j, cut)

    # Serious faults first: only the sentences with the fewest are scored.
    least = min(serious_faults(c[2]) for c in candidates)
    best = min((c for c in candidates if serious_faults(c[2]) == least), key=rank)[2]
    if serious_faults(best) and best.endswith("!"):
        best = best.rstrip("!").rstrip() or best  # an exclamation as a last resort: a stop
    return normalise_statement(best)


def clear_caches() -> None:
    """Forget the sentences graded so far: a refit of a national congress grades a
    hundred thousand of them, and keeping them between refits held ~100 MiB."""
    for cached in (_tokens, _words, serious_faults, shorten, _cuts, opens_on_infinitive,
                   flaws, merits, _stems, _split_off):
        cached.cache_clear()
