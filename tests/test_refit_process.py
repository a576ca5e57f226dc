"""The refit in a child process beside the server: same stored run, a model the server can
use at once, recovery when the child dies, corrections never overwritten, a free loop."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, update

from deliberation import push, refit_process, sorting
from deliberation.extensions import db
from deliberation.models import Contribution, SortRun, Theme
from deliberation.refit_worker import LOWEST, lowest_priority

from .debate import TEXTS, build

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture
def child(app, tmp_path, monkeypatch):
    """A real child process on the test's SQLite file, stopped after the test."""
    monkeypatch.setenv("MOTION_INSTANCE", str(tmp_path / "instance"))
    process = refit_process.RefitProcess()
    yield process
    process.stop()

def test_the_model_travels_without_its_theme_model(congress):
    from deliberation.clustering import pipeline as engine
    from deliberation.clustering.themes import get_theme_model

    themes = sorting.congress_themes(congress)
    items = [(str(i), text) for i, text in enumerate(TEXTS)]
    model = engine.sort_congress(themes, items, random_state=0).model
    data = refit_process.dump_model(model)
    assert len(data) < len(pickle.dumps(model)) / 2  # the shared theme model stays home

    mine = get_theme_model(themes)
    loaded = refit_process.load_model(data, mine)
    assert loaded.theme_model_ is mine
    text = "Une antenne 4G dans chaque village sans réseau mobile."
    assert loaded.assign_one(text, "new") == model.assign_one(text, "new")

def test_a_refit_in_the_child_is_stored_and_its_model_places_new_ideas(congress, child, app):
    debate = build(congress)
    runs_before = db.session.scalar(select(db.func.count(SortRun.id)))

    run_id, data = child.refit(app, congress.id)

    db.session.expire_all()
    run = db.session.get(SortRun, run_id)
    assert run.congress_id == congress.id and run.n_contributions == len(TEXTS)
    assert db.session.scalar(select(db.func.count(SortRun.id))) == runs_before + 1
    assert all(debate.idea(i).cluster_id is not None or debate.idea(i).theme_id is not None
               for i in range(len(TEXTS)))
    from deliberation.clustering.themes import get_theme_model

    model = refit_process.load_model(data, get_theme_model(sorting.congress_themes(congress)))
    guess = model.assign_one("La fibre optique dans notre hameau, vite.", "x")
    assert guess.theme == "acces"

def test_the_background_refit_uses_the_child_and_caches_its_model(congress, child, app,
                                                                  monkeypatch):
    build(congress)
    monkeypatch.setattr(refit_process, "process", child)
    app.config["SORT_WORKER_PROCESS"] = True

    summary = sorting._background_refit(app, congress.id)

    last = db.session.scalar(select(SortRun.id).filter_by(congress_id=congress.id)
                             .order_by(SortRun.id.desc()).limit(1))
    assert summary.id == last and summary.n_contributions == len(TEXTS)
    assert isinstance(summary.changes, dict)
    assert sorting.cached_model(congress.id) is not None
    assert sorting._model_for(congress.id) is sorting.cached_model(congress.id)
    # The child leaves the audit entry to the server (never holding the chain's lock).
    from deliberation.models import AuditEvent

    entry = db.session.scalars(select(AuditEvent).filter_by(action="sort.run")
                               .order_by(AuditEvent.id.desc())).first()
    assert entry.payload["run"] == summary.id
    assert entry.payload["contributions"] == len(TEXTS)

def test_a_dead_child_is_replaced_and_a_failed_refit_falls_back_in_process(
        congress, child, app, monkeypatch, caplog):
    build(congress)
    child.start(app)
    first = child._child.pid
    child._child.kill()
    child._child.wait(timeout=10)

    run_id, _ = child.refit(app, congress.id)  # a new child answers
    assert child._child.pid != first and run_id

    monkeypatch.setattr(refit_process, "process", child)
    app.config["SORT_WORKER_PROCESS"] = True
    monkeypatch.setattr(child, "refit", lambda *a: (_ for _ in ()).throw(OSError("pipe")))
    summary = sorting._background_refit(app, congress.id)
    assert summary.id > run_id  # refitted here instead, nothing lost
    assert "refit process unavailable" in caplog.text

def test_a_child_that_fails_says_why(child, app):
    with pytest.raises(RuntimeError, match="AttributeError|NoneType|congress"):
        child.refit(app, 987654)  # no such congress

def test_a_correction_made_while_the_engine_runs_is_not_overwritten(congress):
    debate = build(congress)
    target = debate.idea(0)  # a fibre idea: the engine says "acces"
    formation = db.session.scalar(select(Theme.id).filter_by(congress_id=congress.id,
                                                            code="formation"))
    def facilitator_confirms_meanwhile(function, *args, **kwargs):
        result = sorting.off_loop(function, *args, **kwargs)
        with db.engine.begin() as other:  # another connection: another greenlet or process
            other.execute(update(Contribution).where(Contribution.id == target.id)
                          .values(theme_id=formation, confirmed=True))
        return result

    sorting.refit(congress.id, run_engine=facilitator_confirms_meanwhile)

    db.session.expire_all()
    kept = db.session.get(Contribution, target.id)
    assert kept.confirmed and kept.theme_id == formation
    assert kept.review_rank is None

GEVENT_SCRIPT = r"""
from gevent import monkey; monkey.patch_all()
import json, sys, time
import gevent
from deliberation import create_app, refit_process
from deliberation.config import TestConfig

app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                  "SQLALCHEMY_DATABASE_URI": sys.argv[1]})
process = refit_process.RefitProcess()
process.start(app)
ticks = []
def ticker():
    while True:
        ticks.append(time.perf_counter())
        gevent.sleep(0.02)
gevent.spawn(ticker)
gevent.sleep(0.05)
start = time.perf_counter()
run_id, data = process.refit(app, int(sys.argv[2]))
took = time.perf_counter() - start
process.stop()
gaps = [b - a for a, b in zip(ticks, ticks[1:])]
print(json.dumps({"run": run_id, "took": took, "max_gap": max(gaps),
                  "ticks": len([t for t in ticks if start <= t <= start + took])}))
"""

def test_under_gevent_the_loop_keeps_turning_while_the_child_refits(congress, app, tmp_path):
    build(congress)
    db.session.commit()
    env = {**__import__("os").environ, "MOTION_INSTANCE": str(tmp_path / "instance")}
    done = subprocess.run(
        [sys.executable, "-c", GEVENT_SCRIPT, app.config["SQLALCHEMY_DATABASE_URI"],
         str(congress.id)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["run"] > 0
    # The waiting happens on a thread, not on the loop: a frozen loop would show one gap
    # as long as the whole refit (the child's start-up and the sort, seconds here).
    assert figures["max_gap"] < max(0.3, figures["took"] / 4)
    assert figures["ticks"] >= max(1, int(figures["took"] / 0.02) // 2)

def _one_worker_pass():
    """Run the due refits once, as the scheduler's background task does."""
    push.scheduler.run_due(sorting.REFIT_CHANNEL)

def test_the_background_refit_waits_while_the_room_votes(congress, app, monkeypatch):
    from deliberation import ballots

    build(congress)
    ballot = ballots.create(congress, "Motion entière")
    db.session.commit()
    ballots.open_ballot(ballot.id)
    app.config.update(SORT_IN_BACKGROUND=True, SORT_DEBOUNCE_S=0.0, SORT_MAX_WAIT_S=0.0)
    # The test runs the scheduler's pass itself: no background task.
    monkeypatch.setattr(push.scheduler.channels[sorting.REFIT_CHANNEL], "started", True)
    push.scheduler.forget(sorting.REFIT_CHANNEL)
    runs = db.session.scalar(select(db.func.count(SortRun.id)))
    assert sorting.voting_now(congress.id)

    sorting.schedule_refit(app, congress.id)
    _one_worker_pass()
    assert db.session.scalar(select(db.func.count(SortRun.id))) == runs  # not during the vote
    assert congress.id in push.scheduler.pending(sorting.REFIT_CHANNEL)  # still wanted

    ballots.close_ballot(ballot.id)
    assert not sorting.voting_now(congress.id)
    _one_worker_pass()
    assert db.session.scalar(select(db.func.count(SortRun.id))) == runs + 1
    assert congress.id not in push.scheduler.pending(sorting.REFIT_CHANNEL)


def test_only_the_engine_runs_at_the_lowest_priority_in_the_child():
    """The child's engine runs on a thread at nice 19 while the thread that reads and
    writes the database keeps its priority: a starved write transaction held SQLite's
    one write lock past the server's busy timeout (a staff login answered 503)."""
    def own_priority():
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    caller = own_priority()
    assert lowest_priority(own_priority) == max(caller, LOWEST)
    assert own_priority() == caller
    assert lowest_priority(lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(ZeroDivisionError):
        lowest_priority(lambda: 1 / 0)
