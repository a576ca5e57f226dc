"""The sorting engine on real statements: themes and recurring points against a facilitator.

Reads ``../shared/data/`` beside the project (``MOTION_REAL_DATA`` to point elsewhere)
when it exists, and records nothing otherwise: its texts are attributed quotations
kept outside the repository (read its README). The engine sees the texts only, as a
congress would (no labels, no confirmations); figures are computed afterwards.

Keys: ``points_pair_f1_dev`` (pairs of statements the engine puts in one recurring
point against the pairs the facilitator did), ``points_pair_precision_dev``,
``points_pair_recall_dev``, ``points_grouped2_dev`` (share of statements in a point of
two or more; the facilitator: 0.755), ``points_count_dev``; the themes:
``theme_top1_dev``, ``theme_top1_or_alt_dev``, ``theme_top1_dev_local`` (ids ``dl…``);
« à vérifier »: ``review_recall_dev`` (the share of theme errors sent there) and
``review_share_dev`` (the share of statements sent there); confirmations:
``theme_top1_confirmed5_dev`` (5 statements per theme confirmed, drawn with a fixed
seed, scored on the rest) and ``theme_top1_confirmed5_dev_before`` (the unconfirmed
sort on those same rows).
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import sys
from collections import Counter
from pathlib import Path

from bench.common import ROOT, record

STATEMENTS = "real_statements_dev.csv"
POINTS = "real_statements_dev_points.csv"
CONFIRMED_PER_THEME = 5
CONFIRM_SEED = 0


def data_dir() -> Path:
    return Path(os.environ.get("MOTION_REAL_DATA") or ROOT.parent / "shared" / "data")


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def pair_scores(ids, engine: dict, gold: dict) -> dict:
    """Pair precision, recall and F1 of one grouping against another, and the share of
    statements the engine puts in a group of two or more."""
    tp = fp = fn = 0
    for a, b in itertools.combinations(ids, 2):
        same_gold, same_engine = gold[a] == gold[b], engine[a] == engine[b]
        tp += same_gold and same_engine
        fp += same_engine and not same_gold
        fn += same_gold and not same_engine
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    sizes = Counter(engine[i] for i in ids)
    grouped = sum(sizes[engine[i]] >= 2 for i in ids) / max(1, len(ids))
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "grouped2": round(grouped, 4), "count": len(sizes)}


def confirmation_draw(rows: list[dict], per_theme: int = CONFIRMED_PER_THEME,
                      seed: int = CONFIRM_SEED) -> dict[str, str]:
    """{id: theme} of the statements a facilitator confirms: per_theme of each theme,
    drawn with a fixed seed from the rows sorted by id (the same draw on every run)."""
    rng = random.Random(seed)
    confirmed = {}
    for theme in sorted({r["theme"] for r in rows}):
        pool = sorted(r["id"] for r in rows if r["theme"] == theme)
        for rid in rng.sample(pool, min(per_theme, len(pool))):
            confirmed[rid] = theme
    return confirmed


def review_figures(rows: list[dict], got: dict) -> dict:
    """How « à vérifier » catches the theme errors: recall of errors, share of rows."""
    wrong = [r for r in rows if got[r["id"]].theme != r["theme"]]
    return {"review_recall_dev": round(sum(got[r["id"]].review for r in wrong)
                                       / max(1, len(wrong)), 4),
            "review_share_dev": round(sum(got[r["id"]].review for r in rows)
                                      / max(1, len(rows)), 4)}


def measure(folder: Path) -> dict:
    from deliberation.clustering import load_themes, sort_congress

    rows = read(folder / STATEMENTS)
    gold = {r["id"]: r["point"] for r in read(folder / POINTS)}
    ids = [r["id"] for r in rows]
    result = sort_congress(load_themes(), [(r["id"], r["text"]) for r in rows],
                           random_state=0)
    got = {item.id: item for item in result.items}

    def top1(subset):
        return round(sum(got[r["id"]].theme == r["theme"] for r in subset)
                     / max(1, len(subset)), 4)

    points = pair_scores(ids, {i: got[i].cluster for i in ids}, gold)
    confirmed = confirmation_draw(rows)
    after = sort_congress(load_themes(), [(r["id"], r["text"]) for r in rows],
                          confirmed=confirmed, random_state=0)
    after_of = {item.id: item for item in after.items}
    rest = [r for r in rows if r["id"] not in confirmed]
    return {
        **review_figures(rows, got),
        "theme_top1_confirmed5_dev": round(sum(after_of[r["id"]].theme == r["theme"]
                                               for r in rest) / max(1, len(rest)), 4),
        "theme_top1_confirmed5_dev_before": top1(rest),
        "points_pair_f1_dev": points["f1"],
        "points_pair_precision_dev": points["precision"],
        "points_pair_recall_dev": points["recall"],
        "points_grouped2_dev": points["grouped2"],
        "points_count_dev": points["count"],
        "theme_top1_dev": top1(rows),
        "theme_top1_dev_local": top1([r for r in rows if r["id"].startswith("dl")]),
        "theme_top1_or_alt_dev": round(sum(
            got[r["id"]].theme in {r["theme"], r.get("alt_theme") or r["theme"]}
            for r in rows) / len(rows), 4),
    }


def main(argv: list[str] | None = None) -> int:  # noqa: ARG001 - the bench runner's shape
    folder = data_dir()
    if not (folder / STATEMENTS).exists() or not (folder / POINTS).exists():
        print(f"real statements not found in {folder}: skipped")
        return 0
    record(measure(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
