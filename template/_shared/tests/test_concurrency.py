"""How concurrency.py waits for the source in the background without changing what is written, or in which order."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import concurrency
from concurrency import Stopped, SyncState, in_order, prefetched, side_by_side


class Operations:
    """Stands in for the SDK's operations: keeps what was truncated and what each checkpoint committed."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def truncate(self, table: str) -> None:
        self.events.append(("truncate", table))

    def checkpoint(self, state: dict[str, Any]) -> None:
        self.events.append(("checkpoint", {key: dict(value) for key, value in state.items()}))


@pytest.fixture
def operations(monkeypatch: pytest.MonkeyPatch) -> Operations:
    recorder = Operations()
    monkeypatch.setattr(concurrency, "op", recorder)
    return recorder


def test_prefetched_yields_every_item_in_order_and_then_the_producers_error():
    def pages():
        yield from ([1], [2], [3])
        raise ConnectionError("the API went away")

    received = []
    with pytest.raises(ConnectionError, match="went away"):
        for page in prefetched(pages()):
            received.append(page)
    assert received == [[1], [2], [3]]


def test_in_order_runs_work_at_once_and_yields_it_in_the_order_asked():
    running, most_at_once, lock = 0, 0, threading.Lock()
    all_started = threading.Barrier(3, timeout=10)

    def work(number: int) -> int:
        nonlocal running, most_at_once
        with lock:
            running += 1
            most_at_once = max(most_at_once, running)
        if number < 3:
            all_started.wait()  # the first three only finish once all three run at the same time
        with lock:
            running -= 1
        return number * 10

    assert list(in_order(work, range(8), workers=3)) == [0, 10, 20, 30, 40, 50, 60, 70]
    assert most_at_once == 3


def test_in_order_raises_the_first_failure_after_the_results_before_it():
    def work(number: int) -> int:
        if number == 2:
            raise ValueError("page 2 refused")
        return number

    results = []
    with pytest.raises(ValueError, match="page 2 refused"):
        for result in in_order(work, range(6), workers=4):
            results.append(result)
    assert results == [0, 1]


def test_checkpoints_wait_while_another_table_is_part_way_through_a_read_in_full(operations):
    state = SyncState({"orders": {"cursor": "2024-01-01"}})
    state.truncate("customers")  # read in full: committing it part-way would show unread customers as deleted
    state.keep("orders", {"cursor": "2024-02-01"})
    state.checkpoint(by="orders")
    assert operations.events == [("truncate", "customers")]

    state.read_to_the_end("customers")
    state.checkpoint(by="customers")
    assert operations.events[-1] == ("checkpoint", {"orders": {"cursor": "2024-02-01"}})


def test_a_table_may_checkpoint_its_own_read_in_full(operations):
    state = SyncState({})
    state.truncate("orders")
    state.truncate("order_lines", by="orders")
    state.keep("orders", {"children_done": 100})
    state.checkpoint(by="orders")
    assert operations.events[-1] == ("checkpoint", {"orders": {"children_done": 100}})


class WatchedState(SyncState):
    """A SyncState that tells when a table's failure has asked the others to stop."""

    def __init__(self) -> None:
        super().__init__({})
        self.asked_to_stop = threading.Event()

    def stop(self) -> None:
        super().stop()
        self.asked_to_stop.set()


def test_side_by_side_stops_the_other_tables_and_raises_the_failure(operations):
    state = WatchedState()
    pages_after_the_failure: list[int] = []

    def fails() -> None:
        raise RuntimeError("HTTP 400 from orders")

    def reads_until_asked_to_stop() -> None:
        assert state.asked_to_stop.wait(timeout=10)
        state.stop_if_asked()  # where a table checks between pages
        pages_after_the_failure.append(1)

    with pytest.raises(RuntimeError, match="HTTP 400 from orders"):
        side_by_side([reads_until_asked_to_stop, fails], workers=2, state=state)
    assert pages_after_the_failure == []
    with pytest.raises(Stopped):
        state.stop_if_asked()
