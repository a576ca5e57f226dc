"""Shared bench helpers: one place that writes build/bench.json."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_FILE = ROOT / "build" / "bench.json"


def record(figures: dict, path: Path | str | None = None) -> dict:
    """Merge figures into build/bench.json (other keys kept) and print them."""
    path = Path(path) if path else BENCH_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(current, dict):
            current = {}
    except (OSError, json.JSONDecodeError):
        current = {}
    current.update(figures)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(current, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
    os.replace(tmp, path)
    for key in sorted(figures):
        print(f"{key:32s} {figures[key]}")
    return current
