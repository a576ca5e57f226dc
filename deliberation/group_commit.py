"""Group commit: many small writes, one transaction, each caller answered after it commits.

A national congress votes in a burst: 2,000 phones send `ballot.vote` within a second.
One transaction per vote pays, per vote, a commit (a WAL sync on SQLite, a round trip
and a WAL flush on PostgreSQL) and a turn on the audit chain's lock. Here the callers
queue their requests and one of them at a time, the leader, takes every request
waiting, hands them to `batch` as one list, and answers each caller only once `batch`
has returned, that is once its transaction has committed (`batch` commits before it
returns). While it commits, the next requests gather, so the batches grow with the load
and a lone request waits for nobody.

Leader and followers (issue 17): the first caller that finds nobody writing writes
itself; once its own request is answered it hands the lead to the oldest caller still
waiting. No writer task apart: under gevent a separate writer's wake-up waited behind
the whole burst of socket handlers (1.9 s at 2,000 votes) before it could write.

When `batch` raises (a constraint another process beat us to, a bad row, the database
going away mid-transaction), nothing of it was committed: every request of that batch
is then run alone by `one`, in its own transaction, so one bad request refuses only
itself. A request is answered with `one`'s result or exception, never with a batch's
result that did not commit; a leader that dies mid-batch (its greenlet killed) has
answered none of it: its followers hear NotAnswered and the next caller leads.

The module knows neither Flask nor the database (like `coalesce`): `around(app)` (an
app context with its session cleanup) is given; the events callers wait on are
`threading`'s, which gevent patches into greenlet events in the server.
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


@dataclass(eq=False)  # compared by identity: `in` and `remove` on the queue
class _Ticket:
    item: Any
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None
    answered: bool = False
    #: Set (with `done`) when this caller is handed the lead while it waits.
    lead: bool = False


class GroupCommit:
    """One leader at a time per process for one kind of request.

    `batch(items)` writes them all in one transaction, commits, and returns one result
    per item, in order (an Exception instance refuses that item alone). `one(item)`
    writes one item in its own transaction (returns its result or raises). `limit`
    bounds a batch; with `sleep` (the event loop's), a leader yields for `window`
    seconds (0: one turn of the loop) before each batch, so that the callers already
    woken queue behind it.
    """

    def __init__(self, batch: Callable[[list[Any]], list[Any]], one: Callable[[Any], Any], *,
                 around: Callable[[Any], Any] | None = None,
                 sleep: Callable[[float], Any] | None = None,
                 limit: int = 500, window: float = 0.0):
        self.batch, self.one = batch, one
        self.around = around or (lambda app: contextlib.nullcontext())
        self.sleep = sleep
        self.limit, self.window = limit, window
        self.app: Any = None
        self._queue: deque[_Ticket] = deque()
        self._lock = threading.Lock()
        self._leading = False
        #: (batch size, committed as one) of every batch run, newest last (tests, bench).
        self.history: deque[tuple[int, bool]] = deque(maxlen=1000)

    def submit(self, app: Any, item: Any, timeout: float = 30.0) -> Any:
        """Queue `item`, wait until its transaction has committed, return its result (or
        raise its refusal). NotAnswered when no answer came within `timeout`: the
        request may still be written later, so the client retries with the same key."""
        ticket = _Ticket(item)
        with self._lock:
            self.app = app
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = True
        if not lead:
            if not ticket.done.wait(timeout):
                with self._lock:
                    lead = ticket.lead  # handed the lead just now: it must not be lost
                    if not lead and ticket in self._queue:
                        self._queue.remove(ticket)  # never written: a retry is safe
                if not lead and not ticket.answered:
                    raise NotAnswered("no answer from the group commit")
            lead = lead or (ticket.lead and not ticket.answered)
        if lead:
            self._lead(ticket)
        if ticket.error is not None:
            raise ticket.error
        return ticket.result

    def _lead(self, mine: _Ticket) -> None:
        """Write batches until `mine` is answered, then hand the lead on."""
        taken: list[_Ticket] = []
        try:
            while not mine.answered:
                if self.sleep is not None and len(self._queue) < self.limit:
                    # Under gevent a leader that writes at once never lets the handlers
                    # already woken queue behind it: every batch held one vote (20 s
                    # for 2,000). One turn of the event loop (window 0) gathers them.
                    self.sleep(self.window)
                with self._lock:
                    taken = [self._queue.popleft()
                             for _ in range(min(self.limit, len(self._queue)))]
                if not taken:  # pragma: no cover - mine is queued until answered
                    raise RuntimeError("group commit: the leader's request left the queue")
                self.run(taken)
                taken = []
        finally:
            # A leader killed mid-batch (BaseException) answers nothing it took...
            for ticket in taken:
                if not ticket.answered:
                    ticket.error = NotAnswered("the group commit leader stopped mid-batch")
                    ticket.answered = True
                    ticket.done.set()
            # ...and the lead always passes on: no caller waits on a leader gone.
            with self._lock:
                heir = self._queue[0] if self._queue else None
                if heir is not None:
                    heir.lead = True
                else:
                    self._leading = False
            if heir is not None:
                heir.done.set()

    def run(self, tickets: list[_Ticket]) -> None:
        """Write one batch and answer its callers (the leader's step; tests call it)."""
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
            ticket.answered = True
            ticket.done.set()

    def _alone(self, item: Any) -> Any:
        try:
            with self.around(self.app):
                return self.one(item)
        except Exception as exc:  # the item's own refusal (or failure), for its caller
            return exc
