"""corpus/: the generated files match their raw batches, and the demo congress has its shape."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODES = {"acces", "democratie", "moyens", "formation", "proximite", "cohesion", "donnees",
         "ecologie"}


def _rows(rel: str) -> list[dict]:
    with (ROOT / "corpus" / rel).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_generated_files_are_up_to_date():
    done = subprocess.run([sys.executable, "scripts/build_corpus.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_demo_congress_shape():
    rows = _rows("demo/contributions.csv")
    officials = _rows("demo/officials.csv")
    assert len(rows) >= 400 and len(officials) >= 150
    assert len({r["author_id"] for r in rows}) >= 150
    assert {r["theme"] for r in rows} == CODES | {"hors_theme"}
    assert all(10 <= len(r["text"].split()) <= 60 for r in rows if r["theme"] != "hors_theme")
    assert any(r["alt_theme"] for r in rows)
    assert {o["department_code"][:2] for o in officials} >= {"97"}  # overseas included
    # A fixed fifth is held out, stratified by theme.
    split = Counter(r["split"] for r in rows)
    assert 0.18 <= split["test"] / len(rows) <= 0.23
    for code in CODES:
        theme_rows = [r for r in rows if r["theme"] == code]
        share = sum(r["split"] == "test" for r in theme_rows) / len(theme_rows)
        assert 0.15 <= share <= 0.25, code


def test_no_sentence_is_copied_from_the_seeds():
    seeds = ROOT.parent / "shared" / "seeds"
    if not seeds.is_dir():  # the seeds sit beside the repository on our machines and in CI
        pytest.skip("shared/seeds/ is not beside this checkout")
    text = " ".join(p.read_text(encoding="utf-8") for p in seeds.glob("*.txt"))
    normalised = " ".join(text.lower().split())
    for rel in ("demo/contributions.csv", "training/statements.csv"):
        for row in _rows(rel):
            assert " ".join(row["text"].lower().split()) not in normalised, row["text"]
