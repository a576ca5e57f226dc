"""Group commit: many small writes, one transaction, each caller answered after it commits.

A national congress votes in a burst: 2,000 phones send `ballot.vote` within a second.
One transaction per vote pays, per vote, a commit (a WAL sync on SQLite, a round trip
and a WAL flush on PostgreSQL) and a turn on the audit chain's lock. Here one writer
per process takes every request waiting, hands them to `batch` as one list, and
answers each caller only once `batch` has returned, that is once its transaction has
committed (`batch` commits before it returns). While it commits, the next requests
gather, so the batches grow with the load and a lone request waits for nobody.

When `batch` raises (a constraint another process beat us to, a bad row, the database
going away mid-transaction), nothing of it was committed: every request of that batch
is then run alone by `one`, in its own transaction, so one bad request refuses only
itself. A request is answered with `one`'s result or exception, never with a batch's
result that did not commit; a process that dies mid-batch has answered none of it.

The module knows neither Flask nor the database (like `coalesce`): `start_task` and
`around(app)` (an app context with its session cleanup) are given; the events callers
wait on are `threading`'s, which gevent patches into greenlet events in the server.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


class NotAnswered(RuntimeError):
    """The writer did not answer in time (the caller tells its client to retry)."""


@dataclass
class _Ticket:
    item: Any
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """One writer per process for one kind of request.

    `batch(items)` writes them all in one transaction, commits, and returns one result
    per item, in order (an Exception instance refuses that item alone). `one(item)`
    writes one item in its own transaction (returns its result or raises). `limit`
    bounds a batch; `window` (seconds) lets a burst gather before the first batch.
    """

    def __init__(self, batch: Callable[[list[Any]], list[Any]], one: Callable[[Any], Any], *,
                 start_task: Callable[..., Any] | None = None,
                 around: Callable[[Any], Any] | None = None,
                 sleep: Callable[[float], Any] | None = None,
                 limit: int = 500, window: float = 0.0):
        self.batch, self.one = batch, one
        self.start_task = start_task or _thread
        self.around = around or (lambda app: contextlib.nullcontext())
        self.sleep = sleep
        self.limit, self.window = limit, window
        self.app: Any = None
        self._queue: deque[_Ticket] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._started = False
        #: (batch size, committed as one) of every batch run, newest last (tests, bench).
        self.history: deque[tuple[int, bool]] = deque(maxlen=1000)

    def submit(self, app: Any, item: Any, timeout: float = 30.0) -> Any:
        """Queue `item`, wait until its transaction has committed, return its result (or
        raise its refusal). NotAnswered when no answer came within `timeout`: the
        request may still be written later, so the client retries with the same key."""
        ticket = _Ticket(item)
        start = False
        with self._lock:
            self.app = app
            self._queue.append(ticket)
            if not self._started:
                start = self._started = True
        if start:
            self.start_task(self._loop)
        self._wake.set()
        if not ticket.done.wait(timeout):
            raise NotAnswered("no answer from the group commit writer")
        if ticket.error is not None:
            raise ticket.error
        return ticket.result

    def _take(self) -> list[_Ticket]:
        with self._lock:
            taken = [self._queue.popleft() for _ in range(min(self.limit, len(self._queue)))]
            if not self._queue:
                self._wake.clear()
        return taken

    def _loop(self) -> None:
        """The writer: wait for requests, write them as one batch, answer, again."""
        while True:
            self._wake.wait()
            if self.window and self.sleep and len(self._queue) < self.limit:
                self.sleep(self.window)
            tickets = self._take()
            if tickets:
                try:
                    self.run(tickets)
                except BaseException as exc:  # never leave a caller waiting on a dead writer
                    for ticket in tickets:
                        if not ticket.done.is_set():
                            ticket.error = NotAnswered(repr(exc))
                            ticket.done.set()
                    if not isinstance(exc, Exception):
                        with self._lock:  # the next request starts a new writer
                            self._started = False
                        raise

    def run(self, tickets: list[_Ticket]) -> None:
        """Write one batch and answer its callers (the writer's step; tests call it)."""
        items = [ticket.item for ticket in tickets]
        try:
            with self.around(self.app):
                results = self.batch(items)
            if len(results) != len(items):
                raise RuntimeError(f"batch answered {len(results)} of {len(items)} requests")
            self.history.append((len(items), True))
        except Exception:
            log.warning("a batch of %d requests failed: each is written alone", len(items),
                        exc_info=True)
            self.history.append((len(items), False))
            results = [self._alone(item) for item in items]
        for ticket, result in zip(tickets, results, strict=True):
            if isinstance(result, BaseException):
                ticket.error = result
            else:
                ticket.result = result
            ticket.done.set()

    def _alone(self, item: Any) -> Any:
        try:
            with self.around(self.app):
                return self.one(item)
        except Exception as exc:  # the item's own refusal (or failure), for its caller
            return exc


def _thread(target: Callable[..., Any], *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread
