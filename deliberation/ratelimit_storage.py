"""The rate limiter's storage in one process (`memory-lazy://`): `limits`' memory storage
without its expiry timer.

`limits.storage.MemoryStorage` expires keys from a `threading.Timer`, started on a hit
whenever none is alive. Under gevent, `Timer.start()` yields until the new greenlet
runs, and meanwhile every other handler sees no live timer and starts its own: a burst
of 2,000 votes started hundreds of timers, each walking every key (846 vote handlers
were parked in `Timer.start` 80 s into a 2,000-voter run, docs/scaling.md). Its expiry
also drops per-key locks that other handlers may still hold.

Here nothing runs in the background: each call first drops the keys whose window has
ended, found in order on a heap of deadlines, so the work is O(log n) per expired key
and never a walk of every key. One lock guards the whole storage (each call is a few
dictionary operations and never yields), so no lock is ever dropped while in use.
Counting is `limits`' own (fixed window, moving window, sliding window counter).

Registered under the scheme `memory-lazy`, the default of `RATELIMIT_STORAGE_URI` when
no `REDIS_URL` is set (ratelimit.py); Redis, which starts no thread, is unaffected.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import Counter
from typing import Any

from limits.storage import MemoryStorage, Storage
from limits.storage.memory import Entry

SCHEME = "memory-lazy"


class LazyMemoryStorage(MemoryStorage):
    """`MemoryStorage` whose keys expire on the next call instead of from a timer."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: Any) -> None:
        # MemoryStorage.__init__ would start a timer: set up its fields here instead.
        Storage.__init__(self, uri, wrap_exceptions=wrap_exceptions, **options)
        self.storage: Counter[str] = Counter()
        self.expirations: dict[str, float] = {}
        self.events: dict[str, list[Entry]] = {}
        self._lock = threading.RLock()
        # (deadline, key): a counter's end of window; for a moving window, the expiry
        # of its newest entry when the key was last looked at.
        self._counter_deadlines: list[tuple[float, str]] = []
        self._event_deadlines: list[tuple[float, str]] = []

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def _expire(self, now: float) -> None:
        """Drop every counter and moving window whose time has passed (lock held)."""
        deadlines = self._counter_deadlines
        while deadlines and deadlines[0][0] <= now:
            deadline, key = heapq.heappop(deadlines)
            # A key counted again since has a later deadline of its own on the heap.
            if self.expirations.get(key) == deadline:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
        deadlines = self._event_deadlines
        while deadlines and deadlines[0][0] <= now:
            _, key = heapq.heappop(deadlines)
            events = self.events.get(key)
            if not events or events[0].expiry <= now:  # newest entry first
                self.events.pop(key, None)
            else:
                heapq.heappush(deadlines, (events[0].expiry, key))

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        with self._lock:
            now = time.time()
            self._expire(now)
            self.storage[key] += amount
            if self.storage[key] == amount:
                deadline = now + expiry
                self.expirations[key] = deadline
                heapq.heappush(self._counter_deadlines, (deadline, key))
            return self.storage[key]

    def decr(self, key: str, amount: int = 1) -> int:
        with self._lock:
            self._expire(time.time())
            if key not in self.storage:
                return 0
            self.storage[key] = max(self.storage[key] - amount, 0)
            return self.storage[key]

    def get(self, key: str) -> int:
        with self._lock:
            self._expire(time.time())
            return self.storage.get(key, 0)

    def clear(self, key: str) -> None:
        with self._lock:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.events.pop(key, None)

    def reset(self) -> int | None:
        with self._lock:
            count = max(len(self.storage), len(self.events))
            self.storage.clear()
            self.expirations.clear()
            self.events.clear()
            self._counter_deadlines.clear()
            self._event_deadlines.clear()
            return count

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        with self._lock:
            now = time.time()
            self._expire(now)
            events = self.events.get(key)
            if events is None:
                events = self.events[key] = []
                heapq.heappush(self._event_deadlines, (now + expiry, key))
            if len(events) > limit - amount and events[limit - amount].atime >= now - expiry:
                return False
            events[:0] = [Entry(expiry)] * amount
            # Only the newest `limit` entries are ever read: keep no more.
            del events[limit:]
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        with self._lock:
            return super().get_moving_window(key, limit, expiry)

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int,
                                     amount: int = 1) -> bool:
        # One lock around the read and the increment: no hit can slip in between.
        with self._lock:
            return super().acquire_sliding_window_entry(key, limit, expiry, amount)

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        with self._lock:
            return super().get_sliding_window(key, expiry)

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        with self._lock:
            super().clear_sliding_window(key, expiry)

    def size(self) -> int:
        """How many keys are held (counters and moving windows), expired ones dropped."""
        with self._lock:
            self._expire(time.time())
            return len(self.storage) + len(self.events)
