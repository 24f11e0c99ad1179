"""Waiting for the source in the background: pages fetched ahead of the writer, several at once where the source
allows, and tables synced side by side, with one state that every table checkpoints through.

The rules that keep a sync exact do not change. A table's rows are written in the order its source gives them, by
one thread; its cursor is saved only after the rows before it are written; a table read in full is not committed
part-way. What runs in the background is only the waiting: requests and queries.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from fivetran_connector_sdk import Logging as log
from fivetran_connector_sdk import Operations as op

Item = TypeVar("Item")
Result = TypeVar("Result")

# How often a producer whose consumer has stopped notices it while waiting for room in the queue.
STOP_POLL_SECONDS = 0.2


class Stopped(Exception):  # noqa: N818 - a signal, not an error
    """Another table's sync failed, so this one stops at its next page; its checkpoints so far stand."""


@dataclass(frozen=True)
class _Failure:
    error: BaseException


_END = object()


def prefetched(items: Iterable[Item], depth: int = 2) -> Iterator[Item]:
    """The items of `items`, produced by a background thread while the caller works on the ones before.

    At most `depth` items wait ahead of the caller, so memory stays bounded by a few pages. An error in the producer
    is raised to the caller after the items produced before it; a caller that stops early (an error, a `break`)
    stops the producer before its next item.
    """
    if depth < 1:
        yield from items
        return
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=STOP_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over(item):
                    return
        except BaseException as error:  # noqa: BLE001 - every error goes to the caller, which raises it
            hand_over(_Failure(error))
            return
        hand_over(_END)

    threading.Thread(target=produce, name="prefetch", daemon=True).start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()


def in_order(work: Callable[[Item], Result], inputs: Iterable[Item], workers: int) -> Iterator[Result]:
    """`work(input)` for each input, up to `workers` at a time, yielded in the order of the inputs.

    Inputs are taken lazily, `workers` ahead of the caller at most, so they may be endless and memory stays bounded.
    The first error is raised at its place in the order, after the results before it; work not yet started is
    cancelled when the caller stops.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fetch")
    pending: deque[Future[Result]] = deque()
    remaining = iter(inputs)
    try:
        pending.extend(pool.submit(work, item) for item in itertools.islice(remaining, max(1, workers)))
        while pending:
            result = pending.popleft().result()
            pending.extend(pool.submit(work, item) for item in itertools.islice(remaining, 1))
            yield result
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def side_by_side(tasks: Sequence[Callable[[], None]], workers: int, state: SyncState) -> None:
    """Run every task, up to `workers` at a time, and return when all have ended.

    The first failure stops the other tasks at their next page (`state.stopping`) and is raised once they have;
    tasks not yet started do not start. With one worker the tasks run one after another in this thread.
    """
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            task()
        return
    failures: list[BaseException] = []

    def run(task: Callable[[], None]) -> None:
        if state.stopping():
            return
        try:
            task()
        except Stopped:
            pass
        except BaseException as error:  # noqa: BLE001 - raised below, once every other task has stopped
            if failures:
                log.warning(f"Also failed while the sync was stopping: {error}")
            failures.append(error)
            state.stop()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="table") as pool:
        list(pool.map(run, tasks))
    if failures:
        raise failures[0]


class SyncState:
    """The state of a sync, shared by the tables it writes side by side, and the one place that checkpoints it.

    A checkpoint commits every operation sent before it, by any table. A table read in full is truncated first, and
    committing it part-way would show its rows not yet written again as deleted; so while such a table is being
    read, the checkpoints of other tables only keep their entries, and the read's own last checkpoint commits them
    all. Each table's entry is written by the one thread that syncs the table.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = dict(state)
        self._lock = threading.RLock()
        self._read_in_full: set[str] = set()  # tables truncated and not yet read to their end
        self._stop = threading.Event()

    def entry(self, key: str) -> dict[str, Any]:
        """A table's entry (or another top-level entry), as last kept; {} when there is none."""
        with self._lock:
            return dict(self._state.get(key) or {})

    def keep(self, key: str, entry: dict[str, Any] | None) -> None:
        """Replace an entry (None removes it) for the next checkpoint; the caller must not change it afterwards."""
        with self._lock:
            if entry is None:
                self._state.pop(key, None)
            else:
                self._state[key] = entry

    def truncate(self, table: str, by: str = "") -> None:
        """Truncate a table about to be read in full by the sync of `by` (default: the table itself); checkpoints
        of other tables hold back until `read_to_the_end(by)`."""
        with self._lock:
            self._read_in_full.add(by or table)
            op.truncate(table)

    def read_to_the_end(self, by: str) -> None:
        """The tables `by` truncated for a read in full have been written again: their truncates may be committed."""
        with self._lock:
            self._read_in_full.discard(by)

    def checkpoint(self, by: str = "", even_mid_read: bool = False) -> None:
        """Commit everything written so far with the state, unless a table other than `by` is part-way through a
        read in full (then the entries wait for the next checkpoint). `even_mid_read` commits regardless: for what
        must not be lost, such as a rotated refresh token."""
        with self._lock:
            if even_mid_read or not (self._read_in_full - {by}):
                op.checkpoint(self._state)

    def snapshot(self) -> dict[str, Any]:
        """A copy of the whole state, for a sync that ends to report or test."""
        with self._lock:
            return dict(self._state)

    def stop(self) -> None:
        """Ask every table to stop at its next page: another one failed."""
        self._stop.set()

    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop_if_asked(self) -> None:
        """Raise `Stopped` when another table's failure has asked every table to stop."""
        if self._stop.is_set():
            raise Stopped()
