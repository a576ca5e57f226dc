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

import os
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


def default_cache_dir() -> Path:
    """Where trained models and distilled tables are kept (build/cache, or MOTION_CACHE_DIR)."""
    return Path(os.environ.get("MOTION_CACHE_DIR") or CORPUS_DIR.parent / "build" / "cache")

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


def clear_caches() -> None:
    """Forget the words stemmed and cut into n-grams so far (see the refit's
    pipeline.release_freed_memory): within a refit they make tokenising ten times
    faster; kept between refits, a national congress's words held tens of MiB."""
    stem.cache_clear()
    char_ngrams.cache_clear()


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

    @property
    def chars(self) -> list[str]:
        """Character n-grams of the kept words (the vectoriser counts them per word)."""
        return [g for w in self.surfaces for g in char_ngrams(w)]

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
        # word → stem (None for a stopword): a congress repeats its words, and the
        # per-word work (stemming, accent stripping, stopword test) dominated analysis.
        self._tokens: dict[str, str | None] = {}

    def is_stop(self, surface: str, stemmed: str) -> bool:
        return strip_accents(surface) in self.stopwords or stemmed in self.stop_stems

    def _token(self, word: str) -> str | None:
        stemmed = self._tokens.get(word, "")
        if stemmed == "":
            stemmed = stem(word) if len(word) >= self.min_len else None
            if not stemmed or self.is_stop(word, stemmed):
                stemmed = None
            if len(self._tokens) < 500_000:
                self._tokens[word] = stemmed
        return stemmed

    def __getstate__(self):  # the token cache is rebuilt on use, never pickled
        state = dict(self.__dict__)
        state["_tokens"] = {}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_tokens", {})

    def analyse(self, text: str) -> Analysed:
        out = Analysed()
        for word in words(text):
            stemmed = self._token(word)
            if stemmed is None:
                continue
            out.stems.append(stemmed)
            out.surfaces.append(word)
        return out

    def analyse_many(self, texts: Iterable[str]) -> list[Analysed]:
        return [self.analyse(t) for t in texts]


def surface_forms(analysed: Iterable[Analysed]) -> dict[str, Counter]:
    """stem → Counter of the surface words that produced it (for readable labels)."""
    pairs: Counter = Counter()
    for doc in analysed:
        pairs.update(zip(doc.stems, doc.surfaces, strict=True))
    forms: dict[str, Counter] = {}
    for (s, w), count in pairs.items():
        forms.setdefault(s, Counter())[w] = count
    return forms


def best_surface(stemmed: str, forms: dict[str, Counter]) -> str:
    """Most frequent surface word of a stem; ties broken alphabetically (determinism)."""
    counter = forms.get(stemmed)
    if not counter:
        return stemmed
    return min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _identity(features):
    """Analyzer for pre-tokenised documents (module level so old models unpickle)."""
    return features


def _count(feature_lists, vocab: dict[str, int], grow: bool) -> sp.csr_matrix:
    """Documents × features count matrix; unknown features are added when `grow`."""
    indptr, indices = [0], []
    get = vocab.get
    for feats in feature_lists:
        if grow:
            for f in feats:
                if f not in vocab:
                    vocab[f] = len(vocab)
            indices.extend(map(vocab.__getitem__, feats))
        else:
            indices.extend(j for j in map(get, feats) if j is not None)
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    # 32-bit indices whenever they fit: half the memory of a national congress's counts.
    kind = np.int32 if max(len(indices), len(vocab)) < 2**31 - 1 else np.int64
    m = sp.csr_matrix((data, np.asarray(indices, dtype=kind), np.asarray(indptr, dtype=kind)),
                      shape=(len(indptr) - 1, len(vocab)))
    m.sum_duplicates()
    return m


def _select_columns(counts: sp.csr_matrix, cols: np.ndarray) -> sp.csr_matrix:
    """counts[:, cols] (columns renumbered in the order of cols), in place."""
    m = counts.tocsr()
    position = np.full(m.shape[1], -1, dtype=m.indices.dtype)
    position[cols] = np.arange(len(cols), dtype=m.indices.dtype)
    new = position[m.indices]
    dropped = new < 0
    if dropped.any():
        m.data[dropped] = 0
        new[dropped] = 0
    m.indices = new
    m.eliminate_zeros()
    m.resize((m.shape[0], len(cols)))
    m.has_sorted_indices = False
    m.sort_indices()
    return m


class _Block:
    """One TF-IDF block (word features or character n-grams) with a fixed vocabulary.

    Same weighting as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` (smooth
    idf, features sorted by name), written out so the character block can be
    counted per distinct word and multiplied out, instead of per n-gram in Python.
    """

    def fit_counts(self, counts: sp.csr_matrix, vocab: dict[str, int], min_df, max_df,
                   max_features=None) -> sp.csr_matrix:
        n_docs = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        low = min_df if isinstance(min_df, int) else int(np.ceil(min_df * n_docs))
        high = max_df if isinstance(max_df, int) else max_df * n_docs
        keep = (df >= low) & (df <= high)
        if not keep.any():  # never an empty vocabulary: keep everything instead
            keep = df > 0
        names = np.array(list(vocab), dtype=object)  # insertion order is index order
        cols = np.flatnonzero(keep)
        if max_features is not None and len(cols) > max_features:
            totals = np.asarray(counts.sum(axis=0)).ravel()[cols]
            cols = np.sort(cols[np.argsort(-totals, kind="stable")[:max_features]])
        cols = cols[np.argsort(names[cols], kind="stable")]
        self.vocabulary_ = {str(names[c]): k for k, c in enumerate(cols)}
        self.idf_ = (np.log((1.0 + n_docs) / (1.0 + df[cols])) + 1.0).astype(np.float32)
        return self.weigh(_select_columns(counts, cols))

    def get_feature_names_out(self) -> np.ndarray:
        return np.array(sorted(self.vocabulary_, key=self.vocabulary_.__getitem__),
                        dtype=object)

    def weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Counts in this block's column order → sublinear tf × idf, rows L2-normalised.

        Works in place on the counts it is given (every caller hands over a matrix it
        just built): a national congress's character counts are hundreds of MiB, and
        each copy here used to be one more.
        """
        from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

        m = counts.tocsr()
        if m.dtype != np.float32:
            m = m.astype(np.float32)
        np.log(m.data, out=m.data)
        m.data += 1.0
        m.data *= self.idf_[m.indices]
        inplace_csr_row_normalize_l2(m)
        return m


class TextVectorizer:
    """Word (stems + stem bigrams) and character n-gram TF-IDF, stacked and L2-normalised.

    Words carry meaning, character n-grams carry spelling: a misspelt or
    inflected word still shares most n-grams with the right one.  The two blocks
    are normalised separately and mixed with ``char_weight`` so that neither
    drowns the other whatever the text length.  Character n-grams are counted
    once per distinct word and spread to documents by a sparse product, which
    is what keeps 50,000 contributions within the time budget.

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

    def _df_bounds(self, n_docs):
        # Guard min_df / max_df against tiny corpora: three documents must work.
        if n_docs < 20:
            return 1, 1.0
        return self.min_df, self.max_df

    def analyse(self, texts):
        """Strings → Analysed (already analysed documents pass through)."""
        if not hasattr(self, "analyser_"):
            self.analyser_ = FrenchAnalyser(self.stopwords)
        return [t if isinstance(t, Analysed) else self.analyser_.analyse(t) for t in texts]

    def _char_counts(self, docs, vocab: dict[str, int], grow: bool) -> sp.csr_matrix:
        """Documents × n-grams counts, as (documents × words) @ (words × n-grams)."""
        words_vocab: dict[str, int] = {}
        per_doc = _count([d.surfaces for d in docs], words_vocab, grow=True)
        word_list = list(words_vocab)  # insertion order is index order
        grams = _count([char_ngrams(w) for w in word_list], vocab, grow)
        if grams.shape[1] < len(vocab):
            grams.resize((grams.shape[0], len(vocab)))
        return (per_doc @ grams).tocsr()

    def fit(self, texts, y=None):  # noqa: ARG002
        self._fit(self.analyse_fit(texts))
        return self

    def analyse_fit(self, texts):
        self.analyser_ = FrenchAnalyser(self.stopwords)
        return self.analyse(texts)

    def _fit(self, docs):
        """Fit both blocks; return the documents' stacked matrix (fit_transform's work)."""
        word_docs = [d.word_features(self.bigrams) for d in docs]
        if not any(word_docs):  # nothing but stopwords or nothing at all
            docs = [Analysed(stems=["__vide__"], surfaces=["__vide__"])]
            word_docs = [["__vide__"]]
        low, high = self._df_bounds(len(docs))
        word_vocab: dict[str, int] = {}
        self.word_ = _Block()
        w = self.word_.fit_counts(_count(word_docs, word_vocab, grow=True), word_vocab, low,
                                  high, self.max_features)
        char_vocab: dict[str, int] = {}
        self.char_ = _Block()
        c = self.char_.fit_counts(self._char_counts(docs, char_vocab, grow=True), char_vocab,
                                  low, high, self.max_features)
        self.n_features_out_ = len(self.word_.vocabulary_) + len(self.char_.vocabulary_)
        return self._stack(w, c)

    def _stack(self, w, c):
        cw = float(self.char_weight)
        ww = float(np.sqrt(max(0.0, 1.0 - cw * cw)))
        w.data *= ww  # both blocks were just built for this call: scaled in place
        c.data *= cw
        return sp.hstack([w, c], format="csr", dtype=np.float32)

    def transform(self, texts):
        docs = self.analyse(texts)
        return self.transform_analysed(docs)

    def transform_analysed(self, docs):
        if not docs:
            return sp.csr_matrix((0, self.n_features_out_), dtype=np.float32)
        if len(docs) == 1:
            return self._transform_one(docs[0])
        w = _count([d.word_features(self.bigrams) for d in docs], self.word_.vocabulary_,
                   grow=False)
        w.resize((w.shape[0], len(self.word_.vocabulary_)))
        c = self._char_counts(docs, self.char_.vocabulary_, grow=False)
        c.resize((c.shape[0], len(self.char_.vocabulary_)))
        return self._stack(self.word_.weigh(w), self.char_.weigh(c))

    def _transform_one(self, doc):
        """The live path: one document's row built directly, the same weights as in batch.

        A batch transform builds a dozen scipy matrices, whose fixed costs dominate a
        single text; the 20 ms budget of a live contribution wants one.
        """
        parts_idx, parts_val = [], []
        offset = 0
        cw = float(self.char_weight)
        ww = float(np.sqrt(max(0.0, 1.0 - cw * cw)))
        for block, feats, weight in (
                (self.word_, doc.word_features(self.bigrams), ww),
                (self.char_, [g for w in doc.surfaces for g in char_ngrams(w)], cw)):
            counts = Counter(j for j in map(block.vocabulary_.get, feats) if j is not None)
            if counts:
                idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                val = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64,
                                                count=len(counts)))) * block.idf_[idx]
                norm = float(np.sqrt(np.dot(val, val)))
                if norm > 0:
                    order = np.argsort(idx)
                    parts_idx.append(idx[order] + offset)
                    parts_val.append(val[order] / norm * weight)
            offset += len(block.vocabulary_)
        if parts_idx:
            indices, data = np.concatenate(parts_idx), np.concatenate(parts_val)
        else:
            indices, data = np.zeros(0, dtype=np.int64), np.zeros(0)
        return sp.csr_matrix((data.astype(np.float32), indices, np.array([0, len(indices)])),
                             shape=(1, self.n_features_out_))

    def fit_transform(self, texts, y=None):  # noqa: ARG002
        docs = self.analyse(texts)
        if not any(d.stems for d in docs):  # empty or all stopwords: fit on a placeholder
            self._fit(docs)
            return self.transform_analysed(docs)
        return self._fit(docs)
