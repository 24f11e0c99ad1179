"""Database tables copied side by side, against the real PostgreSQL and MariaDB servers and the real `fivetran debug`.

Tables read at the same time, each on a connection of its own and with its next batch fetched while one is written,
land exactly as the source holds them, on a first sync and on a second that reads what changed and marks what was
deleted. A table that fails stops the others at their next batch and fails the sync with its own error; the state it
leaves points at nothing unwritten, and the next sync lands every row exactly.

The hooks below make the timing certain without waiting for time to pass: they hold a table's writer at a given row
until another table has reached a given point (a barrier or an event, with a timeout that fails the sync instead).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.harness import SyncFailed, fivetran_debug, fivetran_debug_with_hooks, read_state, render, warehouse_rows
from tests.servers.databases import Database, mariadb_database, postgres_database
from tests.test_database_no_row_lost import assert_position_not_past_written
from tests.test_database_sync import assert_copied_exactly, upserts

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "database"

ENGINES = {"postgresql": postgres_database, "mysql": mariadb_database}
START = datetime(2024, 1, 1, tzinfo=UTC)
BATCH_SIZE = 50

# Every table's first row waits until each of the TABLES_AT_ONCE tables has reached its own first row: only tables
# read at the same time get past it; otherwise the barrier breaks after its timeout and fails the sync.
ALL_TABLES_AT_ONCE_HOOK = """
import os
import threading

_all_started = threading.Barrier(int(os.environ["TABLES_AT_ONCE"]), timeout=60)
_started = set()
_lock = threading.Lock()


def transform_record(table, record):
    with _lock:
        first = table not in _started
        _started.add(table)
    if first:
        _all_started.wait()
    return record
"""

# FAILING_TABLE raises at its row FAIL_AT_ROW once WAITING_TABLE has reached its row WAIT_AT_ROW; WAITING_TABLE stays
# at that row until the failure has asked every table to stop (SyncState.stop), then writes the rest of its batch.
FAILING_HOOK = """
import os
import threading

import concurrency

FAILING, FAIL_AT = os.environ["FAILING_TABLE"], int(os.environ["FAIL_AT_ROW"])
WAITING, WAIT_AT = os.environ["WAITING_TABLE"], int(os.environ["WAIT_AT_ROW"])
_rows_seen = {}
_waiting_mid_table = threading.Event()
_asked_to_stop = threading.Event()
_stop = concurrency.SyncState.stop


def _stop_and_tell(state):
    _stop(state)
    _asked_to_stop.set()


concurrency.SyncState.stop = _stop_and_tell


def transform_record(table, record):
    _rows_seen[table] = _rows_seen.get(table, 0) + 1
    if table == FAILING and _rows_seen[table] == FAIL_AT:
        if not _waiting_mid_table.wait(timeout=60):
            raise RuntimeError(f"{WAITING} never reached its row {WAIT_AT}")
        raise RuntimeError(f"injected failure in {table} at its row {FAIL_AT}")
    if table == WAITING and _rows_seen[table] == WAIT_AT:
        _waiting_mid_table.set()
        if not _asked_to_stop.wait(timeout=60):
            raise RuntimeError(f"the failure of {FAILING} never asked {table} to stop")
    return record
"""


def create_table(
    database: Database, table: str, rows: int, *, key: bool = True, cursor: bool = True, null_cursor_every: int = 0
) -> None:
    """A table of `rows` rows: id, updated_at one second apart (NULL in every null_cursor_every-th row; no such column
    when `cursor` is false: the table is read in full), amount and note; without a primary key when `key` is false."""
    postgres = database.engine == "postgresql"
    number = "i" if postgres else "seq"
    columns, values = [f"id int {'PRIMARY KEY' if key else 'NOT NULL'}"], [number]
    if cursor:
        stamp = "timestamptz" if postgres else "datetime(6)"
        columns.append(f"updated_at {stamp} {'NULL' if null_cursor_every else 'NOT NULL'}")
        moment = (
            f"timestamptz '{START:%Y-%m-%d %H:%M:%S}+00' + {number} * interval '1 second'"
            if postgres
            else f"TIMESTAMP '{START:%Y-%m-%d %H:%M:%S}' + INTERVAL {number} SECOND"
        )
        if null_cursor_every:
            moment = f"CASE WHEN {number} % {null_cursor_every} = 0 THEN NULL ELSE {moment} END"
        values.append(moment)
    columns += ["amount numeric(12, 2)", "note text"]
    values += [f"{number} * 1.25", f"'{table} ' || {number}" if postgres else f"CONCAT('{table} ', {number})"]
    source = f"generate_series(1, {rows}) AS i" if postgres else f"seq_1_to_{rows}"
    database.execute(
        f"CREATE TABLE {table} ({', '.join(columns)})",
        f"INSERT INTO {table} SELECT {', '.join(values)} FROM {source}",
    )


def at_second(database: Database, seconds: int) -> str:
    """The SQL literal of START + seconds, for the engine's cursor column type."""
    value = START + timedelta(seconds=seconds)
    return f"'{value.isoformat()}'" if database.engine == "postgresql" else f"'{value:%Y-%m-%d %H:%M:%S}'"


def failure_report_upserts(output: str) -> int:
    """The upserts a failed sync made, from the SDK's report (those after its last checkpoint were dropped)."""
    return int(re.search(r"SYNC FAILED.*?Upserts\s*\|\s*(\d+)", output, re.DOTALL).group(1))


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_tables_read_side_by_side_land_exactly_on_a_first_and_a_second_sync(engine, template, tool_env, tmp_path):
    tables = {"orders": ("id",), "tasks": ("id",), "customers": ("id",), "event_log": ()}
    with ENGINES[engine]() as database:
        create_table(database, "orders", 2000)  # incremental
        create_table(database, "tasks", 600, null_cursor_every=10)  # incremental; rows without a cursor value too
        create_table(database, "event_log", 300, key=False)  # incremental, without a primary key
        create_table(database, "customers", 500, cursor=False)  # read in full
        project = render(template, tmp_path / "project", {"source_type": "database", "db_engine": engine})
        configuration = database.configuration(
            tables=", ".join(tables), batch_size=str(BATCH_SIZE), max_concurrency="4", lookback_minutes="0"
        )
        environment = {**tool_env, "TABLES_AT_ONCE": str(len(tables))}

        fivetran_debug_with_hooks(project, configuration, environment, ALL_TABLES_AT_ONCE_HOOK)

        for table, key in tables.items():
            assert_copied_exactly(project, database, table, key)

        database.execute(
            f"UPDATE orders SET amount = 0.01, updated_at = {at_second(database, 5000)} WHERE id IN (7, 1500)",
            f"INSERT INTO orders VALUES (2001, {at_second(database, 5001)}, 2001.00, 'new order')",
            "DELETE FROM orders WHERE id = 42",
            f"UPDATE tasks SET updated_at = {at_second(database, 5000)}, note = 'given a cursor' WHERE id = 20",
            "UPDATE tasks SET note = 'still without a cursor' WHERE id = 30",
            "UPDATE customers SET note = 'renamed' WHERE id = 3",
            "DELETE FROM customers WHERE id IN (4, 500)",
            f"INSERT INTO event_log VALUES (301, {at_second(database, 5000)}, 1.00, 'event_log 301')",
        )
        fivetran_debug_with_hooks(
            project, {**configuration, "detect_deletes": "true"}, environment, ALL_TABLES_AT_ONCE_HOOK
        )

        assert_copied_exactly(project, database, "orders", ("id",), deleted=frozenset({(42,)}))
        assert_copied_exactly(project, database, "customers", ("id",), deleted=frozenset({(4,), (500,)}))
        assert_copied_exactly(project, database, "tasks", ("id",))
        assert_copied_exactly(project, database, "event_log", ())
        assert read_state(project)["orders"]["after"][1] == ["int", "2001"]


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_a_table_that_fails_stops_the_others_and_the_state_it_leaves_resumes_exactly(
    engine, template, tool_env, tmp_path
):
    """Two workers: customers (read in full) and orders start; payments starts once customers is copied. payments
    fails at its row 230 while orders waits at its row 420; orders then writes the rest of that batch, checkpoints
    it, and stops before the next. The sync fails with payments' error, and its state holds orders at row 450 and
    payments at row 200: the ends of the last batches each wrote."""
    sizes = {"customers": 300, "orders": 1000, "payments": 500}
    with ENGINES[engine]() as database:
        for table, rows in sizes.items():
            create_table(database, table, rows, cursor=table != "customers")
        project = render(template, tmp_path / "project", {"source_type": "database", "db_engine": engine})
        configuration = database.configuration(
            tables=", ".join(sizes), batch_size=str(BATCH_SIZE), max_concurrency="2", lookback_minutes="0"
        )
        failing = {"FAILING_TABLE": "payments", "FAIL_AT_ROW": "230", "WAITING_TABLE": "orders", "WAIT_AT_ROW": "420"}

        with pytest.raises(SyncFailed) as failure:
            fivetran_debug_with_hooks(project, configuration, {**tool_env, **failing}, FAILING_HOOK)

        output = failure.value.output
        assert "injected failure in payments at its row 230" in output
        assert "payments: reading failed: injected failure" in output
        assert failure_report_upserts(output) == 300 + 450 + 229  # orders: not one batch after the failure
        state = read_state(project)
        assert state["customers"] == {}
        assert state["orders"]["after"][1] == ["int", "450"]
        assert state["payments"]["after"][1] == ["int", "200"]
        for table in ("orders", "payments"):
            assert_position_not_past_written(project, database, table)
        assert_copied_exactly(project, database, "customers", ("id",))

        resumed = fivetran_debug(project, configuration, tool_env)

        # customers in full again; orders and payments from their positions, the row at each read again.
        assert upserts(resumed) == 300 + (1 + 1000 - 450) + (1 + 500 - 200)
        for table in sizes:
            assert_copied_exactly(project, database, table, ("id",))


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_a_table_read_in_full_that_fails_part_way_marks_nothing_deleted_and_the_next_sync_lands_it_exactly(
    engine, template, tool_env, tmp_path
):
    """On a second sync, after two of its rows were deleted, customers, read in full after a truncate, fails at its
    row 140 while orders waits at its first row. No checkpoint commits the truncate part-way, neither customers' nor
    orders' (SyncState holds them back), so nothing is marked deleted until a read of customers completes."""
    with ENGINES[engine]() as database:
        create_table(database, "customers", 300, cursor=False)
        create_table(database, "orders", 1000)
        project = render(template, tmp_path / "project", {"source_type": "database", "db_engine": engine})
        configuration = database.configuration(
            tables="customers, orders", batch_size=str(BATCH_SIZE), max_concurrency="2", lookback_minutes="0"
        )
        fivetran_debug(project, configuration, tool_env)
        database.execute(
            "DELETE FROM customers WHERE id IN (10, 290)",
            f"UPDATE orders SET note = 'changed', updated_at = {at_second(database, 5000)} WHERE id = 30",
        )
        before = read_state(project)
        failing = {"FAILING_TABLE": "customers", "FAIL_AT_ROW": "140", "WAITING_TABLE": "orders", "WAIT_AT_ROW": "1"}

        with pytest.raises(SyncFailed) as failure:
            fivetran_debug_with_hooks(project, configuration, {**tool_env, **failing}, FAILING_HOOK)

        assert "injected failure in customers at its row 140" in failure.value.output
        assert read_state(project) == before
        landed = warehouse_rows(project, "customers")
        assert len(landed) == 300 and not any(row["_fivetran_deleted"] for row in landed)

        fivetran_debug(project, configuration, tool_env)

        assert_copied_exactly(project, database, "customers", ("id",), deleted=frozenset({(10,), (290,)}))
        assert_copied_exactly(project, database, "orders", ("id",))
