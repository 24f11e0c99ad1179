"""No row lost by a database connector, against the real PostgreSQL and MariaDB servers.

A first sync killed with SIGKILL mid-table leaves a state that points at nothing unwritten, and the next sync lands
exactly the source's rows. Later syncs read again the rows of the lookback, so a row committed late (by a transaction
that set its cursor when it began) and a row that ties with the newest one written but has a smaller key are picked
up; with a lookback of 0 the late row is lost. Rows deleted at the source are marked deleted in tables read in full,
and in incremental tables when detect_deletes is on; a sync killed part-way through a full re-read marks none. Each
table is read from one snapshot: rows another session commits while the table is read neither tear the read nor get
lost, and the next sync picks them up.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.harness import (
    column_name,
    fivetran_debug,
    fivetran_debug_killed,
    fivetran_debug_with_hooks,
    read_state,
    render,
    warehouse_rows,
)
from tests.servers.databases import Database, mariadb_database, postgres_database
from tests.test_database_sync import same

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "database"

ENGINES = {"postgresql": postgres_database, "mysql": mariadb_database}
START = datetime(2024, 1, 1, tzinfo=UTC)
ORDERS = 60  # one every 10 seconds: a 5-minute lookback holds 30 of them
CUSTOMERS = 12


def moment(database: Database, seconds: int) -> str:
    """The SQL literal of START + seconds, for the engine's cursor column type."""
    value = START + timedelta(seconds=seconds)
    return f"'{value.isoformat()}'" if database.engine == "postgresql" else f"'{value:%Y-%m-%d %H:%M:%S}'"


def seed(database: Database) -> None:
    stamp = "timestamptz" if database.engine == "postgresql" else "datetime(6)"
    orders = ", ".join(
        f"({number}, {moment(database, number * 10)}, {number}.25, 'order {number}')" for number in range(1, ORDERS + 1)
    )
    customers = ", ".join(f"({number}, 'customer {number}')" for number in range(1, CUSTOMERS + 1))
    database.execute(
        f"CREATE TABLE orders (id int PRIMARY KEY, updated_at {stamp} NOT NULL, amount numeric(12, 2), note text)",
        f"INSERT INTO orders VALUES {orders}",
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)",
        f"INSERT INTO customers VALUES {customers}",
    )


def source_rows(database: Database, table: str) -> dict[Any, dict[str, Any]]:
    return {row["id"]: row for row in database.rows(f"SELECT * FROM {table}")}


def assert_matches_source(
    project: Path,
    database: Database,
    table: str,
    deleted: frozenset[int] = frozenset(),
    missing: frozenset[int] = frozenset(),
    stale: frozenset[int] = frozenset(),
) -> None:
    """The warehouse holds every source row live, with the source's value in every column, and the rows gone from
    the source, `deleted`, marked deleted. Where a test shows what goes wrong without a setting, `missing` names
    source rows that never landed and `stale` rows gone from the source that are still live."""
    source = source_rows(database, table)
    landed = {row["id"]: row for row in warehouse_rows(project, table)}
    assert len(landed) == len(warehouse_rows(project, table)), f"{table}: a primary key repeats"
    live = {key for key, row in landed.items() if not row["_fivetran_deleted"]}
    assert live == (set(source) - missing) | stale, f"{table}: live keys differ from the source's"
    assert {key for key, row in landed.items() if row["_fivetran_deleted"]} == deleted, f"{table}: deleted rows"
    for key in live - stale:
        for column, value in source[key].items():
            actual = landed[key][column_name(column)]
            assert same(value, actual, warehouse_type(database, column)), (
                f"{table} {key} {column}: source {value!r}, warehouse {actual!r}"
            )


def warehouse_type(database: Database, column: str) -> str:
    """The warehouse type of the tests' columns, as `same` needs it; `updated_at` is the only time among them."""
    if column == "updated_at":
        return "TIMESTAMP WITH TIME ZONE" if database.engine == "postgresql" else "TIMESTAMP"
    return "DECIMAL" if column == "amount" else "other"


def assert_position_not_past_written(project: Path, database: Database, table: str) -> None:
    """Every source row at or before the saved (updated_at, id) position is in the warehouse, exactly: a sync that
    resumes after that position cannot miss one."""
    state = read_state(project)
    position = state[table]["after"]
    saved = (as_utc(datetime.fromisoformat(position[0][1])), int(position[1][1]))
    source = source_rows(database, table)
    covered = {key for key, row in source.items() if (as_utc(row["updated_at"]), key) <= saved}
    assert covered, "the killed sync saved a position before any row"
    landed = {row["id"]: row for row in warehouse_rows(project, table)}
    assert covered <= set(landed), f"{table}: the state points past rows never written"
    for key in covered:
        assert same(source[key]["amount"], landed[key]["amount"], "DECIMAL"), f"{table} {key}"


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def in_a_transaction(connection: Any) -> None:
    """Turn autocommit off on a test connection (psycopg: an attribute; PyMySQL: a method)."""
    if callable(connection.autocommit):
        connection.autocommit(False)
    else:
        connection.autocommit = False


def summary(output: str, table: str) -> str:
    """What the connector's sync summary says about a table, e.g. "25 rows (25 of them again, ...)"."""
    line = re.search(r"Sync summary: (.*)", output).group(1)
    return re.search(rf"(?:^|, ){table}: (\d+ rows(?: \([^)]*\))?(?:, \d+ keys read for deletes)?)", line).group(1)


@pytest.mark.parametrize(
    ("engine", "lookback_minutes", "detect_deletes"),
    [("postgresql", "5", "true"), ("mysql", "5", "true"), ("postgresql", "0", "false"), ("mysql", "0", "false")],
    ids=["postgresql", "mysql", "postgresql_no_lookback_no_delete_scan", "mysql_no_lookback_no_delete_scan"],
)
def test_after_a_killed_first_sync_changes_late_commits_ties_and_deletes_land_row_for_row(
    engine, lookback_minutes, detect_deletes, template, tool_env, tmp_path
):
    with ENGINES[engine]() as database:
        seed(database)
        project = render(template, tmp_path / "project", {"source_type": "database", "db_engine": engine})
        configuration = database.configuration(
            tables="customers, orders",
            batch_size="7",
            lookback_minutes=lookback_minutes,
            detect_deletes=detect_deletes,
            max_concurrency="1",  # the kills below count records across tables: one table after the other
        )

        # SIGKILL on the 30th order, in its fifth batch of 7: 28 orders are checkpointed.
        fivetran_debug_killed(project, configuration, tool_env, at_record=CUSTOMERS + 30)
        assert read_state(project)["orders"]["after"][1] == ["int", "28"]
        assert_position_not_past_written(project, database, "orders")
        assert_matches_source(project, database, "customers")
        fivetran_debug(project, configuration, tool_env)
        assert_matches_source(project, database, "orders")
        assert_matches_source(project, database, "customers")

        newest = ORDERS * 10 + 100  # seconds after START
        database.execute(
            f"UPDATE orders SET amount = 5.50, updated_at = {moment(database, newest - 50)} WHERE id = 5",
            f"INSERT INTO orders VALUES (61, {moment(database, newest)}, 61.00, 'newest')",
            "DELETE FROM orders WHERE id = 7",
            "UPDATE customers SET name = 'renamed' WHERE id = 2",
            "DELETE FROM customers WHERE id = 3",
        )
        # A transaction that set its cursor two minutes before the newest row and commits after the next sync.
        with database.connect() as late_session:
            in_a_transaction(late_session)
            with late_session.cursor() as cursor:
                cursor.execute(f"INSERT INTO orders VALUES (100, {moment(database, newest - 120)}, 1.00, 'late')")

            # Killed while re-reading customers, which it reads in full after a truncate: nothing marked deleted.
            fivetran_debug_killed(project, configuration, tool_env, at_record=5)
            assert not any(row["_fivetran_deleted"] for row in warehouse_rows(project, "customers"))

            fivetran_debug(project, configuration, tool_env)  # saves the newest row, 61, as its position
            assert read_state(project)["orders"]["after"][1] == ["int", "61"]
            late_session.commit()
        # A row that ties with the newest one written, with a smaller key.
        database.execute(f"INSERT INTO orders VALUES (0, {moment(database, newest)}, 0.00, 'tie')")

        last = fivetran_debug(project, configuration, tool_env)

        assert_matches_source(project, database, "customers", deleted=frozenset({3}))
        if lookback_minutes == "5":
            assert_matches_source(project, database, "orders", deleted=frozenset({7}))
            # The cost: the rows of the last 5 minutes before the newest (orders 40 to 60, 5, 61), the late row and
            # the tie, read again; then every key once for the delete scan.
            assert summary(last, "orders") == "25 rows (25 of them again, from the lookback), 62 keys read for deletes"
        else:  # the late row is lost and the delete of order 7 goes unseen; the tie is still read
            assert_matches_source(project, database, "orders", missing=frozenset({100}), stale=frozenset({7}))
            assert summary(last, "orders") == "2 rows (2 of them again, from the lookback)"


# Commits WRITES through a connection of its own when the sync reaches record WRITE_AT_RECORD: another session
# writing while the connector reads the table.
WRITING_HOOK = """
import json
import os

_seen = 0


def transform_record(table, record):
    global _seen
    _seen += 1
    if _seen == int(os.environ["WRITE_AT_RECORD"]):
        connection = connect(json.loads(os.environ["WRITE_TO"]))
        with connection.cursor() as cursor:
            for statement in json.loads(os.environ["WRITES"]):
                cursor.execute(statement)
        connection.commit()
        connection.close()
    return record
"""
CONNECT = {
    "postgresql": """

def connect(settings):
    import psycopg

    return psycopg.connect(
        host=settings["host"], port=settings["port"], user=settings["user"], dbname=settings["database"]
    )
""",
    "mysql": """

def connect(settings):
    import pymysql

    return pymysql.connect(
        host=settings["host"], port=int(settings["port"]), user=settings["user"], database=settings["database"]
    )
""",
}


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_writes_committed_while_a_table_is_read_do_not_tear_it_and_the_next_sync_reads_them(
    engine, template, tool_env, tmp_path
):
    """tasks has rows without a cursor value, so it is read twice (those rows, then the rest) and once more for its
    keys. At the first row, another session gives a cursor to a row already read, takes it from one not yet read,
    inserts a row and deletes one. Read from one snapshot, the table lands as it was when the read began; torn, the
    first row would land in its new version, the second would be skipped, the new row would appear."""
    with ENGINES[engine]() as database:
        stamp = "timestamptz" if engine == "postgresql" else "datetime(6)"
        rows = ", ".join(
            f"({number}, {'NULL' if number <= 4 else moment(database, number * 60)}, 'task {number}')"
            for number in range(1, 13)
        )
        database.execute(
            f"CREATE TABLE tasks (id int PRIMARY KEY, updated_at {stamp} NULL, title text)",
            f"INSERT INTO tasks VALUES {rows}",
        )
        project = render(template, tmp_path / "project", {"source_type": "database", "db_engine": engine})
        configuration = database.configuration(tables="tasks", batch_size="2", detect_deletes="true")
        before = source_rows(database, "tasks")
        writes = [
            f"UPDATE tasks SET updated_at = {moment(database, 86400)}, title = 'given a cursor' WHERE id = 2",
            "UPDATE tasks SET updated_at = NULL, title = 'cursor taken away' WHERE id = 10",
            f"INSERT INTO tasks VALUES (13, {moment(database, 2 * 86400)}, 'inserted')",
            "DELETE FROM tasks WHERE id = 6",
        ]
        environment = {
            **tool_env,
            "WRITE_AT_RECORD": "1",
            "WRITE_TO": json.dumps(configuration),
            "WRITES": json.dumps(writes),
        }

        fivetran_debug_with_hooks(project, configuration, environment, WRITING_HOOK + CONNECT[engine])

        assert source_rows(database, "tasks") != before  # the writes happened, during the sync
        landed = {row["id"]: row for row in warehouse_rows(project, "tasks")}
        assert set(landed) == set(before)
        for key, row in before.items():
            assert not landed[key]["_fivetran_deleted"]
            assert landed[key]["title"] == row["title"]
            assert same(row["updated_at"], landed[key]["updated_at"], warehouse_type(database, "updated_at")), key

        fivetran_debug(project, configuration, tool_env)
        assert_matches_source(project, database, "tasks", deleted=frozenset({6}))
