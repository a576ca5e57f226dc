"""`make load` in CI: 500 clients, 500 contributions and 500 votes against two gunicorn
processes, PostgreSQL and Redis, with nothing lost, duplicated or refused.

The run is the real one (`python -m bench.load`, about a minute). Its latency target
(p95 ≤ 500 ms) is a speed figure: it is printed and written by `make load`, and not
asserted here, where CI shares the machine with whatever else runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_room_contributes_and_votes_with_nothing_lost(pg_url, redis_url, tmp_path):
    out = tmp_path / "load.json"
    env = {**os.environ, "LOAD_DATABASE_URL": pg_url, "LOAD_REDIS_URL": redis_url,
           "LOAD_OUTPUT": str(out)}
    done = subprocess.run([sys.executable, "-m", "bench.load"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert out.exists(), done.stdout[-2000:] + done.stderr[-3000:]
    figures = json.loads(out.read_text())
    print(json.dumps(figures, indent=1, sort_keys=True))  # shown with -s / on failure
    assert figures["load_clients"] == 500
    assert figures["load_contributions"] == 500 and figures["load_votes"] == 500
    assert figures["load_errors"] == 0, figures.get("load_error_kinds")
    assert figures["load_lost"] == 0 and figures["load_duplicated"] == 0
    assert figures["load_p95_ms"] > 0 and figures["load_push_p95_ms"] is not None
