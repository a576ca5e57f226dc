"""Build corpus/demo/contributions.csv and corpus/training/statements.csv from corpus/_raw/.

The raw batches (`set,text,theme,alt_theme,voice`) were written theme by theme; this
script checks them, merges them, gives each demo contribution a fictional official
(round-robin over a shuffled list, fixed seed), marks about 15 % as captured live, and
holds out a fixed fifth of the demo congress as the `test` split.

The split is stratified by theme and keeps near-duplicate partners together (character
n-gram cosine ≥ NEAR_DUPLICATE), so a paraphrase in the training part never leaks the
answer for its twin in the test part. Run it again and the output is byte-identical.

    python scripts/build_corpus.py          # writes the two files
    python scripts/build_corpus.py --check  # exits 1 if the files are out of date
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from collections import defaultdict
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
CODES = {"acces", "democratie", "moyens", "formation", "proximite", "cohesion", "donnees",
         "ecologie"}
SEED = 2026
LIVE_SHARE = 0.15
NEAR_DUPLICATE = 0.45
HEADER = ["set", "text", "theme", "alt_theme", "voice"]


def read_raw() -> list[dict]:
    rows, seen = [], set()
    for path in sorted((CORPUS / "_raw").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != HEADER:
                sys.exit(f"{path.name}: header {reader.fieldnames} != {HEADER}")
            for line, row in enumerate(reader, start=2):
                text = " ".join(row["text"].split())
                problem = _problem(row, text)
                if problem:
                    sys.exit(f"{path.name}, line {line}: {problem}")
                if text.lower() in seen:
                    continue  # exact duplicate across batches: keep the first
                seen.add(text.lower())
                rows.append({**row, "text": text})
    return rows


def _problem(row: dict, text: str) -> str | None:
    if row["set"] not in ("demo", "training"):
        return f"unknown set {row['set']!r}"
    if row["theme"] not in CODES | {"hors_theme"}:
        return f"unknown theme {row['theme']!r}"
    if row["alt_theme"] and (row["alt_theme"] not in CODES or row["alt_theme"] == row["theme"]):
        return f"bad alt_theme {row['alt_theme']!r}"
    if not 6 <= len(text.split()) <= 70:
        return f"{len(text.split())} words"
    return None


def near_duplicate_groups(texts: list[str]) -> list[int]:
    """Group index per text: texts linked by a chain of near-duplicates share one."""
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5),
                              sublinear_tf=True).fit_transform([t.lower() for t in texts])
    similar = cosine_similarity(vectors, dense_output=False) >= NEAR_DUPLICATE
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rows, cols = similar.nonzero()
    for i, j in zip(rows, cols, strict=True):
        if i < j:
            parent[find(j)] = find(i)
    return [find(i) for i in range(len(texts))]


def split_demo(demo: list[dict]) -> list[str]:
    """`test` for a fixed fifth of each theme, near-duplicate groups kept on one side."""
    groups = near_duplicate_groups([r["text"] for r in demo])
    split = ["train"] * len(demo)
    by_theme: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(demo):
        by_theme[row["theme"]].append(i)
    for indices in by_theme.values():
        target = round(len(indices) / 5)
        leaders = [i for i in indices if groups[i] == i]
        # every fifth group first, then the next ones in order until a fifth is reached
        ordered = leaders[4::5] + [i for k, i in enumerate(leaders) if k % 5 != 4]
        taken = 0
        for leader in ordered:
            if taken >= target:
                break
            members = [j for j in range(len(demo)) if groups[j] == leader]
            for j in members:
                split[j] = "test"
            taken += len(members)
    return split


def officials() -> list[str]:
    with (CORPUS / "demo" / "officials.csv").open(encoding="utf-8", newline="") as handle:
        ids = [row["id"] for row in csv.DictReader(handle)]
    random.Random(SEED).shuffle(ids)
    return ids


def render(rows: list[dict], fields: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def build() -> dict[Path, str]:
    rows = read_raw()
    demo = [r for r in rows if r["set"] == "demo"]
    training = [r for r in rows if r["set"] == "training"]
    rng = random.Random(SEED)
    order = list(range(len(demo)))
    rng.shuffle(order)  # interleave themes, as contributions arrive in a real congress
    demo = [demo[i] for i in order]
    splits = split_demo(demo)
    authors = officials()
    demo_out = []
    for i, (row, split) in enumerate(zip(demo, splits, strict=True)):
        demo_out.append({"id": f"d{i + 1:04d}", "author_id": authors[i % len(authors)],
                         "channel": "live" if rng.random() < LIVE_SHARE else "online",
                         "text": row["text"], "theme": row["theme"],
                         "alt_theme": row["alt_theme"], "split": split})
    training_out = [{"id": f"t{i + 1:04d}", "text": r["text"], "theme": r["theme"],
                     "alt_theme": r["alt_theme"], "voice": r["voice"]}
                    for i, r in enumerate(training)]
    return {
        CORPUS / "demo" / "contributions.csv": render(
            demo_out, ["id", "author_id", "channel", "text", "theme", "alt_theme", "split"]),
        CORPUS / "training" / "statements.csv": render(
            training_out, ["id", "text", "theme", "alt_theme", "voice"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args()
    outputs = build()
    stale = [p for p, text in outputs.items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
