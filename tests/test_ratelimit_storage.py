"""The rate limiter's storage in one process (`memory-lazy://`): a burst under gevent
starts no expiry thread, limits still count and expire, and it is the default without
Redis (issue 17: `limits`' MemoryStorage started one timer per concurrent hit)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from limits import parse
from limits.storage import RedisStorage, storage_from_string
from limits.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    SlidingWindowCounterRateLimiter,
)

from deliberation import create_app
from deliberation.config import TestConfig
from deliberation.extensions import db
from deliberation.ratelimit import limiter
from deliberation.ratelimit_storage import SCHEME, LazyMemoryStorage

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves by hand (`limits` and the storage both read time.time)."""
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def test_the_scheme_builds_the_lazy_storage():
    assert isinstance(storage_from_string(f"{SCHEME}://"), LazyMemoryStorage)


def test_a_burst_under_gevent_starts_no_thread_and_counts_every_hit():
    """2,000 handlers hitting at once, as in a burst of votes, each yielding first."""
    script = textwrap.dedent(f"""
        from gevent import monkey
        monkey.patch_all()
        import threading, time
        import gevent
        from limits import parse
        from limits.storage import storage_from_string
        from limits.strategies import FixedWindowRateLimiter
        import deliberation.ratelimit_storage

        started = []
        original = threading.Thread.start
        def start(self, *args, **kwargs):
            started.append(self)
            return original(self, *args, **kwargs)
        threading.Thread.start = start

        limits = FixedWindowRateLimiter(storage_from_string("{SCHEME}://"))
        item = parse("2 per minute")
        def vote(n):
            gevent.sleep(0)
            return [limits.hit(item, "socket", "vote", str(n)) for _ in range(3)]
        began = time.perf_counter()
        jobs = [gevent.spawn(vote, n) for n in range(2000)]
        gevent.joinall(jobs, raise_error=True)
        elapsed = time.perf_counter() - began
        answers = {{tuple(job.value) for job in jobs}}
        print(len(started), answers == {{(True, True, False)}}, f"{{elapsed:.2f}}")
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    threads, counted, _elapsed = run.stdout.split()
    assert (threads, counted) == ("0", "True"), run.stdout


def test_fixed_window_counts_then_expires(clock):
    storage = LazyMemoryStorage()
    limits = FixedWindowRateLimiter(storage)
    item = parse("3 per second")
    assert [limits.hit(item, "ada") for _ in range(4)] == [True, True, True, False]
    assert limits.hit(item, "grace")  # another key has its own allowance
    clock[0] += 1.01
    assert storage.size() == 0  # both windows ended: nothing is kept
    assert [limits.hit(item, "ada") for _ in range(4)] == [True, True, True, False]


def test_a_key_counted_again_keeps_its_new_window(clock):
    """The heap still holds the first window's deadline: it must not end the second."""
    storage = LazyMemoryStorage()
    assert storage.incr("k", 10) == 1
    clock[0] += 10.5
    assert storage.incr("k", 10) == 1  # a new window from now
    assert storage.get_expiry("k") == pytest.approx(clock[0] + 10)
    clock[0] += 5
    assert storage.incr("k", 10) == 2
    storage.clear("k")
    assert storage.incr("k", 10) == 1
    clock[0] += 9
    assert storage.get("k") == 1
    clock[0] += 1.5
    assert storage.get("k") == 0 and storage.size() == 0


def test_decrement_never_creates_or_goes_below_zero(clock):
    storage = LazyMemoryStorage()
    assert storage.decr("absent") == 0 and storage.size() == 0
    storage.incr("k", 10, amount=2)
    assert storage.decr("k", 5) == 0


def test_moving_window_counts_then_expires(clock):
    storage = LazyMemoryStorage()
    limits = MovingWindowRateLimiter(storage)
    item = parse("2 per 10 seconds")
    assert [limits.hit(item, "ada") for _ in range(3)] == [True, True, False]
    clock[0] += 6
    assert not limits.hit(item, "ada")
    assert limits.get_window_stats(item, "ada").remaining == 0
    clock[0] += 4.5  # the first two entries leave the window
    assert limits.hit(item, "ada")
    assert limits.get_window_stats(item, "ada").remaining == 1
    clock[0] += 11
    assert storage.size() == 0  # the whole window passed: the key is gone
    assert [limits.hit(item, "ada") for _ in range(3)] == [True, True, False]
    # Only the entries a window can read are kept, however long the key lives.
    for _ in range(50):
        clock[0] += 6
        limits.hit(item, "ada")
    assert len(storage.events[item.key_for("ada")]) == 2


def test_sliding_window_counter_counts_then_expires(clock):
    storage = LazyMemoryStorage()
    limits = SlidingWindowCounterRateLimiter(storage)
    item = parse("4 per 10 seconds")
    assert [limits.hit(item, "ada") for _ in range(5)] == [True] * 4 + [False]
    clock[0] += 25
    assert limits.hit(item, "ada")
    clock[0] += 30
    assert storage.size() == 0


def test_threads_hitting_one_key_are_all_counted():
    storage = LazyMemoryStorage()

    def hit():
        for _ in range(500):
            storage.incr("shared", 60)

    workers = [threading.Thread(target=hit) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert storage.get("shared") == 4000


def _app(tmp_path, **settings):
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'l.db'}",
                      "RATELIMIT_ENABLED": True, **settings})
    with app.app_context():
        db.create_all()
    return app


def test_without_redis_the_limiter_uses_the_lazy_storage(tmp_path):
    app = _app(tmp_path, REDIS_URL=None)
    assert app.config["RATELIMIT_STORAGE_URI"] == f"{SCHEME}://"
    with app.app_context():
        assert isinstance(limiter.limiter.storage, LazyMemoryStorage)


@pytest.fixture
def redis_down():
    """The limiter is one object for every app of the process: revive its storage after."""
    yield "redis://127.0.0.1:1/0"
    limiter._storage_dead = False


def test_with_redis_down_the_limiter_falls_back_to_the_lazy_storage(tmp_path, redis_down):
    """Redis stays the storage of several processes; while it is down, limits count in
    the lazy storage, so a burst during an outage does not pile up timers either."""
    app = _app(tmp_path, REDIS_URL=redis_down, RATELIMIT_JOIN="2 per minute")
    assert app.config["RATELIMIT_STORAGE_URI"] == redis_down
    with app.app_context():
        assert isinstance(limiter.limiter.storage, RedisStorage)
    client = app.test_client()
    answers = [client.post("/rejoindre", data={"code": "NOPE00"}).status_code
               for _ in range(3)]
    assert answers[:2] != [429, 429] and answers[2] == 429, answers
    with app.app_context():
        assert isinstance(limiter.limiter.storage, LazyMemoryStorage)
