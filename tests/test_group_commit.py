"""The group commit writer alone (deliberation/group_commit.py): no Flask, no database.

The votes' own guarantees under batching, on the real database, are in
tests/test_vote_batches.py.
"""

from __future__ import annotations

import threading

import pytest

from deliberation.group_commit import GroupCommit, NotAnswered, _Ticket


class Refused(Exception):
    pass


def test_requests_waiting_together_are_written_as_one_batch():
    batches: list[list[int]] = []
    gate, entered = threading.Event(), threading.Event()

    def batch(items):
        entered.set()
        gate.wait(5)  # the first batch holds the writer while the others queue up
        batches.append(list(items))
        return [item * 10 for item in items]

    writer = GroupCommit(batch, lambda item: pytest.fail("no batch failed"))
    results: dict[int, int] = {}

    def submit(i):
        results[i] = writer.submit(None, i, timeout=10)

    first = threading.Thread(target=submit, args=(0,))
    first.start()
    assert entered.wait(5)
    others = [threading.Thread(target=submit, args=(i,)) for i in range(1, 30)]
    for thread in others:
        thread.start()
    while len(writer._queue) < 29:  # all 29 wait behind the first batch
        threading.Event().wait(0.001)
    gate.set()
    for thread in [first, *others]:
        thread.join(10)
    assert results == {i: i * 10 for i in range(30)}
    assert sorted(len(b) for b in batches) == [1, 29]


def test_a_refused_item_refuses_only_itself():
    def batch(items):
        return [Refused(f"non {item}") if item == 2 else item for item in items]

    writer = GroupCommit(batch, lambda item: pytest.fail("the batch did not fail"))
    assert writer.submit(None, 1, timeout=5) == 1
    with pytest.raises(Refused, match="non 2"):
        writer.submit(None, 2, timeout=5)


def test_a_failing_batch_is_written_item_by_item():
    written: list[int] = []

    def batch(items):
        raise RuntimeError("a constraint broke mid-batch")

    def one(item):
        if item == 3:
            raise Refused("celui-ci seulement")
        written.append(item)
        return item

    writer = GroupCommit(batch, one)
    tickets = [_Ticket(i) for i in range(5)]
    writer.run(tickets)
    assert [t.result for t in tickets] == [0, 1, 2, None, 4]
    assert isinstance(tickets[3].error, Refused)
    assert written == [0, 1, 2, 4]
    assert writer.history[-1] == (5, False)


def test_a_batch_answering_the_wrong_count_is_not_trusted():
    writer = GroupCommit(lambda items: items[:1], lambda item: ("alone", item))
    tickets = [_Ticket(i) for i in range(3)]
    writer.run(tickets)
    assert [t.result for t in tickets] == [("alone", 0), ("alone", 1), ("alone", 2)]


def test_a_leader_that_dies_mid_batch_acknowledges_nothing_and_passes_the_lead():
    class Death(BaseException):
        pass

    gate, entered = threading.Event(), threading.Event()
    calls: list[list[int]] = []

    def batch(items):
        calls.append(list(items))
        if len(calls) == 1:
            entered.set()
            gate.wait(5)
            raise Death()  # the leader's greenlet killed mid-batch: nothing committed
        return items

    writer = GroupCommit(batch, lambda item: pytest.fail("a death is not a failed batch"))
    outcome: dict[int, object] = {}

    def submit(i):
        try:
            outcome[i] = writer.submit(None, i, timeout=5)
        except (Death, NotAnswered) as exc:
            outcome[i] = type(exc)

    leader = threading.Thread(target=submit, args=(0,))
    leader.start()
    assert entered.wait(5)
    followers = [threading.Thread(target=submit, args=(i,)) for i in (1, 2)]
    for thread in followers:
        thread.start()
    while len(writer._queue) < 2:
        threading.Event().wait(0.001)
    gate.set()
    for thread in [leader, *followers]:
        thread.join(10)
    # The dead leader answered nothing; the two waiting behind it were written by the
    # next leader, one of them.
    assert outcome == {0: Death, 1: 1, 2: 2}
    assert calls == [[0], [1, 2]]
    assert writer.submit(None, 3, timeout=5) == 3  # and the lead is free again


def test_a_follower_that_gives_up_is_never_written_later():
    gate, entered = threading.Event(), threading.Event()
    written: list[int] = []

    def batch(items):
        entered.set()
        gate.wait(5)
        written.extend(items)
        return items

    writer = GroupCommit(batch, lambda item: item)
    leader = threading.Thread(target=writer.submit, args=(None, 0, 5))
    leader.start()
    assert entered.wait(5)
    with pytest.raises(NotAnswered):
        writer.submit(None, 1, timeout=0.05)  # still queued behind the leader: withdrawn
    gate.set()
    leader.join(10)
    assert written == [0]
    assert writer.submit(None, 2, timeout=5) == 2


def test_no_answer_in_time_is_not_an_acknowledgement():
    """A request already in a batch being written when its caller gives up: the caller
    hears NotAnswered (its phone retries under the same key), even if the batch commits."""
    holds = {0: threading.Event(), 1: threading.Event()}
    entered = {0: threading.Event(), 1: threading.Event()}
    batches: list[list[int]] = []

    def batch(items):
        n = len(batches)
        batches.append(list(items))
        if n in holds:
            entered[n].set()
            holds[n].wait(5)
        return items

    writer = GroupCommit(batch, lambda item: item)
    first = threading.Thread(target=writer.submit, args=(None, 0, 5))
    first.start()
    assert entered[0].wait(5)
    second = threading.Thread(target=writer.submit, args=(None, 1, 5))
    second.start()
    outcome = []

    def impatient():
        try:
            outcome.append(writer.submit(None, 2, timeout=0.5))
        except NotAnswered:
            outcome.append(NotAnswered)

    late = threading.Thread(target=impatient)
    late.start()
    while len(writer._queue) < 2:
        threading.Event().wait(0.001)
    holds[0].set()  # the lead passes to 1, which writes [1, 2] and holds there
    assert entered[1].wait(5)
    late.join(5)
    assert outcome == [NotAnswered]
    holds[1].set()
    for thread in (first, second):
        thread.join(5)
    assert batches == [[0], [1, 2]]
