"""One scheduler for everything that must not happen once per event.

A burst is the normal case in a congress: 500 officials post at the end of a session,
200 phones press "+1" at once, 500 votes land in a second. Sending a picture, a count or
a refit per event would be N² messages or N refits. Every such push is a *channel* here:

- per key (a congress, a ballot), what waits is either the latest value (latest wins)
  or everything offered meanwhile (`merge` accumulates it);
- `delay`: how long the first offer waits, so the events behind it join it (0: at once);
- `spacing`: the least time between two sends of one key (a throttle);
- `quiet`: wait until offers pause that long (a debounce), but never past `delay`
  after the first offer.

A value that is due when offered is sent at once by the caller, in its own context (the
leading edge: the first idea of a debate reaches the phones without waiting). What waits
is sent by one
background task per channel, started on first use under a lock (a task started at import
would run twice under the reloader), so a slow channel (a refit takes seconds) never
holds a fast one (a picture every 0.25 s).

The module knows neither Flask nor the database: `start_task`, `sleep` and `clock` are
given (Flask-SocketIO's, which are gevent's when the server runs on gevent), and each
send runs inside `around(app)`, the push layer's app context with its session cleanup.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Timing = Callable[[Any], "Pace"]


@dataclass(frozen=True)
class Pace:
    """How a channel paces its sends (seconds)."""

    delay: float = 0.0
    spacing: float = 0.0
    quiet: float = 0.0
    #: False: what waits is sent only when someone calls `run_due` (tests drive it).
    background: bool = True
    #: False: never sent by the caller, even when due at once (a refit, a count that
    #: must never go out once per vote): the background task sends it.
    leading: bool = True


@dataclass
class _Held:
    value: Any
    first: float
    last: float


@dataclass
class Channel:
    """One kind of coalesced push. `send(key, value)` sends what waited; `pace(config)`
    reads the timing from the app's configuration (tests set it to 0: sent at once).
    With `merge`, what waits starts as `empty()` and each offer is merged into it."""

    name: str
    send: Callable[[Hashable, Any], None]
    pace: Callable[[Any], Pace]
    merge: Callable[[Any, Any], Any] | None = None
    empty: Callable[[], Any] | None = None
    held: dict[Hashable, _Held] = field(default_factory=dict)
    sent: dict[Hashable, float] = field(default_factory=dict)
    app: Any = None
    started: bool = False

    def due_at(self, key: Hashable, held: _Held, pace: Pace) -> float:
        at = held.first + pace.delay
        if pace.quiet:
            at = min(held.last + pace.quiet, held.first + max(pace.delay, pace.quiet))
        return max(at, self.sent.get(key, -1e18) + pace.spacing)


class Scheduler:
    def __init__(self, *, start_task: Callable[..., Any] | None = None,
                 sleep: Callable[[float], Any] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 around: Callable[[Any], Any] | None = None, tick: float = 0.05):
        self.start_task = start_task or _thread
        self.sleep = sleep or time.sleep
        self.clock = clock
        self.around = around or (lambda app: contextlib.nullcontext())
        self.tick = tick
        self.channels: dict[str, Channel] = {}
        self._lock = threading.Lock()
        #: Sends under way (`run_due` between taking what is due and sending it).
        self._sending = 0
        self._quiet = threading.Condition(self._lock)

    def channel(self, name: str, send: Callable[[Hashable, Any], None], *,
                pace: Callable[[Any], Pace] | Pace = Pace(),
                merge: Callable[[Any, Any], Any] | None = None,
                empty: Callable[[], Any] | None = None) -> Channel:
        """Declare a channel (once per process; declaring it again replaces its sender)."""
        pace_of = pace if callable(pace) else (lambda config, fixed=pace: fixed)
        with self._lock:
            found = self.channels.get(name)
            if found is None:
                found = self.channels[name] = Channel(name, send, pace_of, merge, empty)
            else:
                found.send, found.pace, found.merge, found.empty = send, pace_of, merge, empty
        return found

    def offer(self, app: Any, name: str, key: Hashable, value: Any = None) -> bool:
        """Offer `value` for `key`. True: it is due now and nothing waits, so the caller
        sends it itself, in its own context. False: it waits (merged into what waits)."""
        channel = self.channels[name]
        pace = channel.pace(getattr(app, "config", {}))
        now = self.clock()
        start = False
        with self._lock:
            channel.app = app
            held = channel.held.get(key)
            if held is None and pace.leading and \
                    channel.due_at(key, _Held(None, now, now), pace) <= now:
                channel.sent[key] = now
                return True
            if held is None:
                held = channel.held[key] = _Held(
                    channel.empty() if channel.empty else None, now, now)
            held.value = channel.merge(held.value, value) if channel.merge else value
            held.last = now
            if pace.background and not channel.started:
                start = channel.started = True
        if start:
            self.start_task(self._loop, channel)
        return False

    def take_due(self, name: str, now: float | None = None,
                 pace: Pace | None = None) -> dict[Hashable, Any]:
        """What is due on a channel (now counted as sent), for the loop and for tests;
        `pace` overrides the channel's (a test asks with its own window)."""
        channel = self.channels[name]
        pace = pace or channel.pace(getattr(channel.app, "config", {}))
        now = self.clock() if now is None else now
        with self._lock:
            due = {key: held.value for key, held in channel.held.items()
                   if channel.due_at(key, held, pace) <= now}
            for key in due:
                del channel.held[key]
                channel.sent[key] = now
        return due

    def run_due(self, name: str, now: float | None = None, pace: Pace | None = None) -> int:
        """Send what is due on a channel; each send apart, so one failure spares the rest."""
        channel = self.channels[name]
        with self._lock:
            self._sending += 1
        try:
            due = self.take_due(name, now, pace)
            for key, value in due.items():
                try:
                    with self.around(channel.app):
                        channel.send(key, value)
                except Exception:  # keep the channel alive; the next offer sends again
                    log.exception("coalesced push %s failed", name)
        finally:
            with self._lock:
                self._sending -= 1
                self._quiet.notify_all()
        return len(due)

    def pending(self, name: str) -> dict[Hashable, Any]:
        with self._lock:
            return {key: held.value for key, held in self.channels[name].held.items()}

    def forget(self, name: str | None = None) -> None:
        """Drop what waits and the send history (tests start from a clean slate)."""
        with self._lock:
            for channel in ([self.channels[name]] if name else self.channels.values()):
                channel.held.clear()
                channel.sent.clear()

    def settle(self, timeout: float = 10.0) -> bool:
        """Drop what waits and wait for the sends under way to end: after this, no
        background task touches the app it was given (an app being shut down, a test's
        database about to be dropped). False if a send is still running at `timeout`."""
        self.forget()
        deadline = self.clock() + timeout
        with self._lock:
            while self._sending:
                left = deadline - self.clock()
                if left <= 0:
                    return False
                self._quiet.wait(left)
        return True

    def idle(self) -> bool:
        with self._lock:
            return not any(channel.held for channel in self.channels.values())

    def _loop(self, channel: Channel) -> None:
        """Background task of one channel: sleep until something is due, send it."""
        while True:
            try:
                pace = channel.pace(getattr(channel.app, "config", {}))
                with self._lock:
                    nexts = [channel.due_at(key, held, pace)
                             for key, held in channel.held.items()]
                wait = min(nexts) - self.clock() if nexts else self.tick
            except Exception:  # a broken pace must not end the task: nothing would be sent
                log.exception("coalesced channel %s: pace unreadable", channel.name)
                wait = self.tick
            self.sleep(min(max(wait, 0.0), self.tick))
            if channel.held:
                self.run_due(channel.name)


def _thread(target: Callable[..., Any], *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread
