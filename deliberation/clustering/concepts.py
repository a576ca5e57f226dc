"""Concepts: the expansion lexicon that lets two contributions meet without a shared word.

« Notre mairie a subi une cyberattaque » and « des pirates ont chiffré nos serveurs »
share no word, and a corpus of a few thousand statements is too small for their
words to co-occur reliably (LSA and co-occurrence expansion both measured weak on
such pairs, docs/clustering.md). corpus/concepts_fr.txt names, for each thing that
local digital public life talks about, the words and expressions people use for it;
a contribution is described by the concepts it names, weighted by how rare each
concept is in the training corpus (a concept every text names tells nothing).

Pure and deterministic: terms are matched on the engine's own stems, so inflections,
accents and elisions are forgiven, and an expression matches only as a run of stems.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .text import CORPUS_DIR, Analysed, FrenchAnalyser


def read_lexicon(path: str | Path | None = None) -> dict[str, list[str]]:
    """concept name → its terms, from a `name: term; term` file (`#` lines are comments)."""
    path = Path(path) if path else CORPUS_DIR / "concepts_fr.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    lexicon: dict[str, list[str]] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, terms = line.split(":", 1)
        found = [t.strip() for t in terms.split(";") if t.strip()]
        if found:
            lexicon.setdefault(name.strip(), []).extend(found)
    return lexicon


class ConceptLexicon:
    """Concept counts of analysed texts, idf-weighted on a reference corpus.

    ``fit(docs)`` learns each concept's rarity; ``transform(docs)`` → dense
    (n × concepts) float32 rows, L2-normalised (zero for a text that names none).
    """

    def __init__(self, lexicon: dict[str, list[str]] | None = None,
                 analyser: FrenchAnalyser | None = None):
        lexicon = read_lexicon() if lexicon is None else lexicon
        analyser = analyser or FrenchAnalyser()
        self.names_ = sorted(lexicon)
        # first stem → [(stems of the term, concept index)], longest terms first
        self.index_: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for k, name in enumerate(self.names_):
            for term in lexicon[name]:
                stems = tuple(analyser.analyse(term).stems)
                if stems:
                    self.index_.setdefault(stems[0], []).append((stems, k))
        for entries in self.index_.values():
            entries.sort(key=lambda e: -len(e[0]))
        self.idf_ = np.ones(len(self.names_), dtype=np.float32)

    def named(self, doc: Analysed) -> set[int]:
        """Indices of the concepts a text names."""
        stems, found = doc.stems, set()
        for i, first in enumerate(stems):
            for term, k in self.index_.get(first, ()):
                if tuple(stems[i:i + len(term)]) == term:
                    found.add(k)
        return found

    def counts(self, docs) -> sp.csr_matrix:
        rows, cols = [], []
        for i, doc in enumerate(docs):
            for k in sorted(self.named(doc)):
                rows.append(i)
                cols.append(k)
        return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                             shape=(len(docs), len(self.names_)))

    def fit(self, docs) -> ConceptLexicon:
        df = np.asarray(self.counts(docs).sum(axis=0)).ravel()
        self.idf_ = (np.log((1.0 + len(docs)) / (1.0 + df)) + 1.0).astype(np.float32)
        return self

    def transform(self, docs) -> np.ndarray:
        M = self.counts(docs).toarray() * self.idf_
        norms = np.linalg.norm(M, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (M / norms).astype(np.float32)
