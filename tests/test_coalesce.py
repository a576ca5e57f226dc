"""The coalesced-push scheduler (deliberation/coalesce.py), on a fake clock.

No Flask, no database, no thread: the clock is a list we advance, `start_task` records its
calls, and the background loop is driven by hand with a `sleep` that moves the clock.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from types import SimpleNamespace

import pytest

from deliberation.coalesce import Pace, Scheduler


class Clock:
    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class Stop(Exception):
    """Raised by the fake sleep to leave the endless background loop."""


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def started():
    return []


@pytest.fixture
def scheduler(clock, started):
    return Scheduler(start_task=lambda target, *args: started.append((target, args)),
                     clock=clock, tick=0.125)


@pytest.fixture
def sent():
    return []


def record(sent):
    return lambda key, value: sent.append((key, value))


APP = SimpleNamespace(config={})


def test_leading_edge_sent_by_the_caller_at_once(scheduler, sent, started):
    # The first idea of a debate reaches the phones without waiting for any timer.
    scheduler.channel("pic", record(sent), pace=Pace())
    assert scheduler.offer(APP, "pic", 1, "a") is True
    assert scheduler.pending("pic") == {}
    assert scheduler.idle()
    assert started == []  # nothing waits: no background task either


def test_throttle_accumulates_and_sends_one_batch(scheduler, clock, sent):
    # 500 phones pressing "+1" within the window must give one push, not 500.
    scheduler.channel("votes", record(sent), pace=Pace(spacing=0.5),
                      merge=lambda acc, v: [*acc, v], empty=list)
    assert scheduler.offer(APP, "votes", "b1", "v0") is True
    for t, value in [(0.1, "v1"), (0.2, "v2"), (0.3, "v3")]:
        clock.now = t
        assert scheduler.offer(APP, "votes", "b1", value) is False
    assert scheduler.pending("votes") == {"b1": ["v1", "v2", "v3"]}
    assert scheduler.run_due("votes", now=0.49) == 0
    assert sent == []
    assert scheduler.run_due("votes", now=0.5) == 1
    assert sent == [("b1", ["v1", "v2", "v3"])]
    assert scheduler.pending("votes") == {} and scheduler.idle()


def test_throttle_still_applies_after_a_trailing_send(scheduler, clock, sent):
    # The spacing counts from the last send of either kind, so a steady stream stays paced.
    scheduler.channel("votes", record(sent), pace=Pace(spacing=0.5))
    scheduler.offer(APP, "votes", 1, "a")
    clock.now = 0.1
    scheduler.offer(APP, "votes", 1, "b")
    scheduler.run_due("votes", now=0.5)
    clock.now = 0.6
    assert scheduler.offer(APP, "votes", 1, "c") is False
    assert scheduler.run_due("votes", now=0.99) == 0
    assert scheduler.run_due("votes", now=1.0) == 1


def test_trailing_delay_latest_wins(scheduler, clock, sent):
    # 500 officials posting at once: the projector gets one picture, the latest one.
    scheduler.channel("pic", record(sent), pace=Pace(delay=0.25))
    assert scheduler.offer(APP, "pic", 7, "first") is False
    clock.now = 0.1
    assert scheduler.offer(APP, "pic", 7, "last") is False
    assert scheduler.pending("pic") == {7: "last"}
    assert scheduler.run_due("pic", now=0.24) == 0
    assert scheduler.run_due("pic", now=0.25) == 1  # due from the *first* offer
    assert sent == [(7, "last")]


def test_debounce_waits_for_quiet(scheduler, clock, sent):
    # A refit costs seconds: run it once the burst pauses, not on every vote.
    scheduler.channel("refit", record(sent), pace=Pace(delay=10, quiet=3))
    for t in (0, 1, 2):
        clock.now = t
        assert scheduler.offer(APP, "refit", "c", t) is False
    assert scheduler.run_due("refit", now=4.99) == 0
    assert scheduler.run_due("refit", now=5) == 1
    assert sent == [("c", 2)]


def test_debounce_never_past_delay(scheduler, clock, sent):
    # A burst that never pauses must not starve the refit forever: 10 s at most.
    scheduler.channel("refit", record(sent), pace=Pace(delay=10, quiet=3))
    for t in range(10):
        clock.now = t
        scheduler.offer(APP, "refit", "c", t)
        assert scheduler.run_due("refit", now=t) == 0
    assert scheduler.run_due("refit", now=9.99) == 0
    assert scheduler.run_due("refit", now=10) == 1
    assert sent == [("c", 9)]


def test_keys_are_independent(scheduler, clock, sent):
    # One busy congress must not delay (or swallow) the push of another.
    scheduler.channel("pic", record(sent), pace=Pace(delay=0.25))
    scheduler.offer(APP, "pic", "a", 1)
    clock.now = 0.2
    scheduler.offer(APP, "pic", "b", 2)
    assert scheduler.run_due("pic", now=0.3) == 1
    assert sent == [("a", 1)]
    assert scheduler.pending("pic") == {"b": 2}
    assert not scheduler.idle()


def test_failing_send_is_logged_and_spares_other_keys(scheduler, sent, caplog):
    # One broken room must not silence every other room on the channel.
    def send(key, value):
        if key == "bad":
            raise RuntimeError("boom")
        sent.append((key, value))

    scheduler.channel("pic", send, pace=Pace(delay=1))
    for key in ("bad", "good"):
        scheduler.offer(APP, "pic", key, key)
    with caplog.at_level(logging.ERROR, logger="deliberation.coalesce"):
        assert scheduler.run_due("pic", now=1) == 2  # counts due keys, failed or not
    assert sent == [("good", "good")]
    assert "coalesced push pic failed" in caplog.text
    assert scheduler.idle()


def test_start_task_once_per_channel_on_first_held_offer(scheduler, clock, started):
    # One background task per channel: a slow refit never holds a fast picture, and no
    # thread is spawned per event.
    pic = scheduler.channel("pic", lambda k, v: None, pace=Pace(spacing=1))
    refit = scheduler.channel("refit", lambda k, v: None, pace=Pace(delay=1))
    assert scheduler.offer(APP, "pic", 1) is True  # leading edge: no task
    assert started == []
    scheduler.offer(APP, "pic", 1)
    scheduler.offer(APP, "pic", 2)
    scheduler.offer(APP, "refit", 1)
    scheduler.offer(APP, "refit", 2)
    assert started == [(scheduler._loop, (pic,)), (scheduler._loop, (refit,))]


def test_no_background_task_when_background_is_false(scheduler, started):
    # Tests drive such channels with run_due; a stray thread would race them.
    scheduler.channel("pic", lambda k, v: None, pace=Pace(delay=1, background=False))
    assert scheduler.offer(APP, "pic", 1) is False
    assert started == []


def test_background_loop_sends_inside_around(clock, started, sent):
    # The loop's sends need the app context (and its session cleanup) of the offering app.
    entered = []
    inside = []

    @contextlib.contextmanager
    def around(app):
        entered.append(app)
        inside.append(True)
        try:
            yield
        finally:
            inside.pop()

    def sleep(seconds):
        assert 0 <= seconds <= 0.125  # never oversleeps past a tick
        clock.now += seconds
        if clock.now >= 1:
            raise Stop

    scheduler = Scheduler(start_task=lambda target, *args: started.append((target, args)),
                          sleep=sleep, clock=clock, around=around, tick=0.125)
    scheduler.channel("pic", lambda k, v: sent.append((k, v, bool(inside))),
                      pace=Pace(delay=0.25))
    app = SimpleNamespace(config={})
    scheduler.offer(app, "pic", 3, "x")
    [(target, args)] = started
    with pytest.raises(Stop):
        target(*args)
    assert sent == [(3, "x", True)]
    assert entered == [app]
    assert scheduler.idle()


def test_pace_read_from_app_config(scheduler, clock, sent):
    # Timings live in the app config (tests set them to 0); offer must pass app.config.
    seen = []

    def pace(config):
        seen.append(config)
        return Pace(delay=config["X"], background=False)

    scheduler.channel("pic", record(sent), pace=pace)
    slow = SimpleNamespace(config={"X": 2.0})
    assert scheduler.offer(slow, "pic", 1, "a") is False
    assert seen[0] is slow.config
    assert scheduler.run_due("pic", now=1.99) == 0
    assert scheduler.run_due("pic", now=2.0) == 1  # take_due reads the offering app's config
    assert scheduler.offer(SimpleNamespace(config={"X": 0}), "pic", 2, "b") is True


def test_take_due_pace_override(scheduler, sent):
    # A test can flush a slow channel at once without waiting for its window.
    scheduler.channel("refit", record(sent), pace=Pace(delay=60))
    scheduler.offer(APP, "refit", 1, "a")
    assert scheduler.take_due("refit", now=0) == {}
    assert scheduler.take_due("refit", now=0, pace=Pace()) == {1: "a"}
    assert scheduler.idle()


def test_redeclaring_a_channel_replaces_its_sender(scheduler, sent):
    # The reloader / a second create_app declares again: the new sender must be used,
    # and what already waits must not be lost.
    first = scheduler.channel("pic", lambda k, v: pytest.fail("old sender"), pace=Pace(delay=1))
    scheduler.offer(APP, "pic", 1, "a")
    again = scheduler.channel("pic", record(sent), pace=Pace(delay=1))
    assert again is first
    assert scheduler.run_due("pic", now=1) == 1
    assert sent == [(1, "a")]


def test_forget_clears_waiting_values_and_history(scheduler, clock):
    # Tests start from a clean slate: no leftover push and no throttle from a previous test.
    scheduler.channel("pic", lambda k, v: None, pace=Pace(spacing=10))
    assert scheduler.offer(APP, "pic", 1) is True
    assert scheduler.offer(APP, "pic", 1, "held") is False
    scheduler.forget()
    assert scheduler.idle()
    assert scheduler.offer(APP, "pic", 1) is True


def test_run_due_after_leading_edge_only_uses_the_app_config(scheduler):
    # A test flushing a channel whose offers all went out on the leading edge must not crash.
    scheduler.channel("pic", lambda k, v: None,
                      pace=lambda config: Pace(delay=config["X"], background=False))
    assert scheduler.offer(SimpleNamespace(config={"X": 0}), "pic", 1) is True
    assert scheduler.run_due("pic") == 0


def test_settle_drops_what_waits_and_waits_for_the_send_under_way():
    # An app shutting down (a test's database about to go) must know that no background
    # send still reads it: settle() returns once the running send has ended.
    sending, release = threading.Event(), threading.Event()
    sent = []

    def slow(key, value):
        sending.set()
        release.wait(5)
        sent.append((key, value))

    scheduler = Scheduler(tick=0.01)
    scheduler.channel("slow", slow, pace=Pace(delay=0.0, leading=False))
    scheduler.channel("later", record(sent), pace=Pace(delay=60))
    scheduler.offer(APP, "later", 2, "never")
    scheduler.offer(APP, "slow", 1, "a")
    assert sending.wait(5)
    settled = []
    waiter = threading.Thread(target=lambda: settled.append(scheduler.settle(timeout=5)))
    waiter.start()
    waiter.join(0.2)
    assert settled == []  # still waiting for the send under way
    release.set()
    waiter.join(5)
    assert settled == [True] and sent == [(1, "a")]
    assert scheduler.idle()  # what waited was dropped, never sent


def test_settle_says_when_a_send_outlives_its_timeout():
    sending, release = threading.Event(), threading.Event()
    scheduler = Scheduler(tick=0.01)
    scheduler.channel("stuck", lambda key, value: (sending.set(), release.wait(5)),
                      pace=Pace(leading=False))
    scheduler.offer(APP, "stuck", 1, "a")
    assert sending.wait(5)
    assert scheduler.settle(timeout=0.05) is False
    release.set()
