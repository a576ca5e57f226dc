"""French text handling shared by every stage of the sorting engine.

Why it is done by hand rather than with NLTK's tokenizers: NLTK 3.9+ wants a
downloaded ``punkt_tab`` and a downloaded stopword list, and the machine that
runs Motion has no network.  A regular expression plus the Snowball stemmer
(pure Python, shipped with NLTK) covers what the engine needs:

* elisions (``l'``, ``d'``, ``qu'``, ``j'``...) are cut so ``l'école`` and
  ``école`` are the same word;
* stems are computed on the accented word (Snowball's French rules depend on
  accents) and the accents are stripped afterwards, so ``numérique`` and a
  hurried ``numerique`` land on the same feature;
* character n-grams of each word (with word boundaries, like ``char_wb``) let a
  misspelt word still share most of its features with the right one;
* surface forms are remembered for every stem, because labels shown to people
  must be real words, never stems.

Everything here is deterministic and cached: the stem cache alone makes
tokenising 50,000 contributions about ten times faster.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from nltk.stem.snowball import FrenchStemmer

CORPUS_DIR = Path(__file__).resolve().parents[2] / "corpus"

_STEMMER = FrenchStemmer()

# Apostrophes seen in real text: ASCII, typographic, modifier letter, backtick.
_APOSTROPHES = "'\u2019\u02bc\u2018`\u00b4"
_ELISION_RE = re.compile(
    r"\b(?:jusqu|lorsqu|puisqu|quoiqu|presqu|qu|[cdjlmnst])[" + _APOSTROPHES + r"]",
    re.IGNORECASE,
)
# Inclusive writing: élu·es, citoyen·nes, agent.e.s → élu, citoyen, agent.
_INCLUSIVE_RE = re.compile(
    r"(?<=[^\W\d_])[·•‧⋅](?:[^\W\d_]{1,5})(?:[·•‧⋅.]s)?\b"
    r"|(?<=[^\W\d_])\.(?:e|es|s|ne|nes|le|les|trice|trices|rice|rices|se|ses|ère|ères|euse|euses)"
    r"(?:\.s)?\b(?!\.\w)")
_WORD_RE = re.compile(r"[^\W\d_]+(?:\d+[^\W\d_]*)?|\d+[^\W\d_]+", re.UNICODE)

# Used only when corpus/stopwords_fr.txt is missing (fresh tests, custom trees).
_FALLBACK_STOPWORDS = """
a afin ai aie aient aies ait alors as au aucun aucune aupres auquel aussi autre autres aux
avaient avais avait avant avec avez aviez avions avoir avons ayant c ca car ce ceci cela celle
celles celui cependant ces cet cette ceux chacun chaque chez ci comme comment d dans de des
deja depuis dont donc du elle elles en encore entre es est et etaient etais etait etant ete
etes etre eu eux fait faire fais faut fois font furent fut ici il ils j je jusqu l la le les
leur leurs lors lorsque lui m ma mais me meme memes mes moi moins mon n ne ni nos notre nous
on ont or ou par parce pas peu peut peuvent plus pour pourquoi qu quand que quel quelle
quelles quels qui quoi s sa sans se selon ses si sien soi soit sommes son sont sous soyez
suis sur t ta te tes toi ton tous tout toute toutes tres tu un une unes uns vers voila vos
votre vous vu y
"""


def strip_accents(text: str) -> str:
    """Remove diacritics (é → e, ç → c) but keep letters such as œ intact."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise(text: str) -> str:
    """Lower-case, NFC, elisions cut, œ/æ spelt out: the text every stage reads."""
    text = unicodedata.normalize("NFC", text or "").lower()
    text = text.replace("œ", "oe").replace("æ", "ae")
    text = _INCLUSIVE_RE.sub("", text)
    return _ELISION_RE.sub(" ", text)


def words(text: str) -> list[str]:
    """Surface words (lower case, accents kept) after elisions are cut."""
    return _WORD_RE.findall(normalise(text))


@lru_cache(maxsize=262_144)
def stem(word: str) -> str:
    """Snowball French stem of an accented word, accents stripped afterwards."""
    return strip_accents(_STEMMER.stem(word))


@lru_cache(maxsize=262_144)
def char_ngrams(word: str, low: int = 3, high: int = 5) -> tuple[str, ...]:
    """Character n-grams of one accent-free word padded with spaces (like char_wb)."""
    padded = f" {strip_accents(word)} "
    grams: list[str] = []
    for n in range(low, high + 1):
        if len(padded) < n:
            break
        grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return tuple(grams)


def load_stopwords(path: str | Path | None = None) -> frozenset[str]:
    """Accent-free stopwords from corpus/stopwords_fr.txt (``#`` lines are comments)."""
    path = Path(path) if path else CORPUS_DIR / "stopwords_fr.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = _FALLBACK_STOPWORDS.split()
    found = set()
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for token in words(line):
            found.add(strip_accents(token))
    return frozenset(found)


@dataclass
class Analysed:
    """One text cut into the features the vectorisers count."""

    stems: list[str] = field(default_factory=list)
    surfaces: list[str] = field(default_factory=list)
    chars: list[str] = field(default_factory=list)

    def word_features(self, bigrams: bool = True) -> list[str]:
        feats = list(self.stems)
        if bigrams and len(self.stems) > 1:
            feats.extend(f"{a} {b}" for a, b in zip(self.stems, self.stems[1:], strict=False))
        return feats


class FrenchAnalyser:
    """Turns text into stems, surface forms and character n-grams.

    Stopwords are matched on the accent-free surface form and on their stem, so
    every inflection of a stopword is dropped too.
    """

    def __init__(self, stopwords: Iterable[str] | None = None, min_len: int = 2):
        self.stopwords = frozenset(stopwords) if stopwords is not None else load_stopwords()
        self.stop_stems = frozenset(stem(w) for w in self.stopwords)
        self.min_len = min_len

    def is_stop(self, surface: str, stemmed: str) -> bool:
        return strip_accents(surface) in self.stopwords or stemmed in self.stop_stems

    def analyse(self, text: str) -> Analysed:
        out = Analysed()
        for word in words(text):
            if len(word) < self.min_len:
                continue
            stemmed = stem(word)
            if not stemmed or self.is_stop(word, stemmed):
                continue
            out.stems.append(stemmed)
            out.surfaces.append(word)
            out.chars.extend(char_ngrams(word))
        return out

    def analyse_many(self, texts: Iterable[str]) -> list[Analysed]:
        return [self.analyse(t) for t in texts]


def surface_forms(analysed: Iterable[Analysed]) -> dict[str, Counter]:
    """stem → Counter of the surface words that produced it (for readable labels)."""
    forms: dict[str, Counter] = {}
    for doc in analysed:
        for s, w in zip(doc.stems, doc.surfaces, strict=True):
            forms.setdefault(s, Counter())[w] += 1
    return forms


def best_surface(stemmed: str, forms: dict[str, Counter]) -> str:
    """Most frequent surface word of a stem; ties broken alphabetically (determinism)."""
    counter = forms.get(stemmed)
    if not counter:
        return stemmed
    return min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _identity(features):
    """Analyzer for pre-tokenised documents (module level so models pickle)."""
    return features


class TextVectorizer:
    """Word (stems + stem bigrams) and character n-gram TF-IDF, stacked and L2-normalised.

    Words carry meaning, character n-grams carry spelling: a misspelt or
    inflected word still shares most n-grams with the right one.  The two blocks
    are normalised separately and mixed with ``char_weight`` so that neither
    drowns the other whatever the text length.

    Parameters follow scikit-learn conventions; fitted attributes end in ``_``.
    """

    def __init__(self, char_weight=0.5, bigrams=True, min_df=1, max_df=1.0,
                 max_features=None, stopwords=None):
        self.char_weight = char_weight
        self.bigrams = bigrams
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.stopwords = stopwords

    # scikit-learn's get_params / set_params without inheriting its checks.
    def get_params(self, deep=True):  # noqa: ARG002
        return {k: getattr(self, k) for k in
                ("char_weight", "bigrams", "min_df", "max_df", "max_features", "stopwords")}

    def _tfidf(self, n_docs):
        from sklearn.feature_extraction.text import TfidfVectorizer

        # Guard min_df / max_df against tiny corpora: three documents must work.
        min_df = self.min_df if n_docs >= 20 else 1
        max_df = self.max_df if n_docs >= 20 else 1.0
        return TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=min_df,
                               max_df=max_df, max_features=self.max_features,
                               dtype=np.float32)

    def analyse(self, texts):
        """Strings → Analysed (already analysed documents pass through)."""
        if not hasattr(self, "analyser_"):
            self.analyser_ = FrenchAnalyser(self.stopwords)
        return [t if isinstance(t, Analysed) else self.analyser_.analyse(t) for t in texts]

    def fit(self, texts, y=None):  # noqa: ARG002
        self.analyser_ = FrenchAnalyser(self.stopwords)
        docs = self.analyse(texts)
        word_docs = [d.word_features(self.bigrams) for d in docs]
        char_docs = [d.chars for d in docs]
        if not any(word_docs):  # nothing but stopwords or nothing at all
            word_docs, char_docs = [["__vide__"]], [["__vide__"]]
        self.word_ = self._tfidf(len(word_docs)).fit(word_docs)
        self.char_ = self._tfidf(len(char_docs)).fit(char_docs)
        self.n_features_out_ = len(self.word_.vocabulary_) + len(self.char_.vocabulary_)
        return self

    def transform(self, texts):
        docs = self.analyse(texts)
        return self.transform_analysed(docs)

    def transform_analysed(self, docs):
        from sklearn.preprocessing import normalize

        if not docs:
            return sp.csr_matrix((0, self.n_features_out_), dtype=np.float32)
        w = normalize(self.word_.transform([d.word_features(self.bigrams) for d in docs]))
        c = normalize(self.char_.transform([d.chars for d in docs]))
        cw = float(self.char_weight)
        ww = float(np.sqrt(max(0.0, 1.0 - cw * cw)))
        return sp.hstack([w * ww, c * cw], format="csr", dtype=np.float32)

    def fit_transform(self, texts, y=None):  # noqa: ARG002
        docs = self.analyse(texts)
        return self.fit(docs).transform_analysed(docs)
