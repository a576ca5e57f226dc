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


def test_a_writer_that_dies_mid_batch_acknowledges_nothing():
    class Death(BaseException):
        pass

    def batch(items):
        raise Death()

    started = []

    def start(target):
        thread = threading.Thread(target=lambda: _swallow(target, Death), daemon=True)
        started.append(thread)
        thread.start()

    writer = GroupCommit(batch, lambda item: item, start_task=start)
    with pytest.raises(NotAnswered):
        writer.submit(None, 1, timeout=5)


def test_no_answer_in_time_is_not_an_acknowledgement():
    hold = threading.Event()

    def batch(items):
        hold.wait(5)
        return items

    writer = GroupCommit(batch, lambda item: item)
    with pytest.raises(NotAnswered):
        writer.submit(None, 1, timeout=0.05)
    hold.set()


def _swallow(target, kind):
    try:
        target()
    except kind:
        pass
