"""Database connectors against the real PostgreSQL and MariaDB servers: every table copied exactly, type by type; a
second sync that reads what changed and, again, the rows at the saved position; a connection killed mid-table that
the sync survives; and logins or names that are wrong stopping the sync with a message that names the key to fix."""

from __future__ import annotations

import json
import re
import struct
import threading
from datetime import UTC
from datetime import time as time_of_day
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import pytest

from tests.harness import SyncFailed, column_name, fivetran_debug, invoke, render, table_name
from tests.servers.databases import Database, mariadb_database, postgres_database

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "database"

BIG_TABLE_ROWS = 100_000
# Rows of big_table share a timestamp in groups of 7, so batch and sync boundaries fall among equal cursor values.
TIE_GROUP = 7

POSTGRES_SEED = [
    """CREATE TABLE all_types (
        id bigint PRIMARY KEY, updated_at timestamptz NOT NULL,
        exact numeric(38, 10), unbounded numeric, big bigint, small smallint, whole integer,
        single real, dbl double precision, flag boolean, day date, clock time, moment timestamp, moment_tz timestamptz,
        uid uuid, doc json, docb jsonb, numbers numeric[], words text[], payload bytea, note text, span interval)""",
    """INSERT INTO all_types VALUES
        (1, '2024-01-01 00:00:00+00', 1234567890123456789012345678.0123456789, 1e-7, 9223372036854775807, -32768,
         2147483647, 1.1, 0.1, true, '2024-02-29', '23:59:59.999999', '2024-01-01 12:00:00.123456',
         '2024-01-01 12:00:00.654321+05:30', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, "x"], "b": null}',
         '{"nested": {"deep": true}}', '{1.10, 2}', '{"x", "y z"}', '\\x00ff10', 'café ☕ 日本 👍 e\u0301',
         '1 mon 2 days 03:04:05'),
        (2, '2024-01-01 00:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, '2024-01-02 00:00:00+00', -0.0000000001, 123456789012345678901234567890123456789012.5, -9223372036854775808,
         0, -1, -3.4e38, 1.7976931348623157e308, false, '0001-01-01', '00:00:00', '1970-01-01 00:00:00',
         '9999-12-31 23:59:59+00', '00000000-0000-0000-0000-000000000000', '[]', '"just text"', '{}', '{}', '',
         'line\nbreak "quoted" ''single''', '-1 days')""",
    """CREATE TABLE order_lines (
        order_id int, line_no int, updated_at timestamp, sku text, quantity int, PRIMARY KEY (order_id, line_no))""",
    """INSERT INTO order_lines
        SELECT o, l, CASE WHEN o = 3 THEN NULL ELSE timestamp '2024-03-01 10:00:00' + o * interval '1 hour' END,
               'SKU-' || o || '-' || l, o * l
        FROM generate_series(1, 5) AS o, generate_series(1, 4) AS l""",
    "CREATE TABLE event_log (event text NOT NULL, updated_at timestamptz NOT NULL)",
    """INSERT INTO event_log VALUES ('signup', '2024-04-01 00:00:00+00'), ('login', '2024-04-01 00:00:00+00'),
        ('logout', '2024-04-02 00:00:00+00')""",
    "CREATE TABLE countries (code char(2) PRIMARY KEY, name text NOT NULL)",
    "INSERT INTO countries VALUES ('DE', 'Germany'), ('FR', 'France'), ('JP', '日本')",
    """CREATE TABLE "Order Details" ("Order ID" int PRIMARY KEY, "select" text, "MixedCase" text,
        updated_at timestamptz NOT NULL)""",
    """INSERT INTO "Order Details" VALUES (1, 'reserved', 'mixed', '2024-05-01 00:00:00+00'),
        (2, NULL, 'Ünïcödé', '2024-05-01 00:00:00+00')""",
    "CREATE TABLE big_table (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, amount numeric(12, 2), note text)",
    f"""INSERT INTO big_table
        SELECT i, timestamptz '2024-01-01 00:00:00+00' + (i / {TIE_GROUP}) * interval '1 second', i * 1.25, 'row ' || i
        FROM generate_series(1, {BIG_TABLE_ROWS}) AS i""",
]

# Changes between the first and the second sync, and how many upserts each must cause.
POSTGRES_CHANGES = [
    "UPDATE all_types SET note = 'changed', updated_at = '2024-06-01 00:00:00+00' WHERE id = 1",
    # Ties with the saved position: the same timestamp as the last synced row, a larger key.
    "INSERT INTO all_types (id, updated_at, note) VALUES (4, '2024-06-01 00:00:00+00', 'tie'), (5, "
    "'2024-06-01 00:00:00+00', 'tie too')",
    "UPDATE order_lines SET quantity = 99 WHERE order_id = 3 AND line_no = 2",  # a NULL cursor: read again anyway
    "INSERT INTO order_lines VALUES (6, 1, '2024-03-02 00:00:00', 'SKU-6-1', 6)",
    "INSERT INTO event_log VALUES ('purchase', '2024-04-03 00:00:00+00')",
    "UPDATE countries SET name = 'Deutschland' WHERE code = 'DE'",
    """INSERT INTO "Order Details" VALUES (3, 'new', 'row', '2024-05-02 00:00:00+00')""",
    "UPDATE big_table SET note = 'updated', updated_at = '2025-01-01 00:00:00+00' WHERE id IN (10, 50000, 99999)",
    f"""INSERT INTO big_table VALUES ({BIG_TABLE_ROWS + 1}, '2025-01-01 00:00:00+00', 1.00, 'tie'),
        ({BIG_TABLE_ROWS + 2}, '2025-01-01 00:00:00+00', 2.00, 'tie')""",
]
# The syncs here run without a lookback (test_database_no_row_lost.py measures it), so the second reads what changed
# and, again, the rows at the saved position: the last value written. all_types: 3 changed, row 3 again; order_lines:
# the 4 rows with a NULL cursor, 1 new, the 4 lines of order 5 again; event_log: the new row, logout again (without a
# key its hash keeps it single); countries: all 3; Order Details: 1 new, 2 again; big_table: 5 changed, and 5 of the
# last tie group of 6 again (99999 moved).
POSTGRES_SECOND_SYNC_UPSERTS = (3 + 1) + (5 + 4) + (1 + 1) + 3 + (1 + 2) + (5 + 5)

TABLES = {  # source table: primary key (empty: none)
    "all_types": ("id",),
    "order_lines": ("order_id", "line_no"),
    "event_log": (),
    "countries": ("code",),
    "Order Details": ("Order ID",),
    "big_table": ("id",),
}


def same(expected: Any, actual: Any, warehouse_type: str) -> bool:
    """Whether a warehouse value is exactly the source's value, in the type the connector declared for its column."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if warehouse_type == "FLOAT":  # 32-bit at both ends: compare the bits
        return struct.pack("<f", expected) == struct.pack("<f", actual)
    if warehouse_type == "BOOLEAN":
        return actual is (int.from_bytes(expected, "big") != 0 if isinstance(expected, bytes) else bool(expected))
    if warehouse_type == "JSON":
        return json.loads(actual) == json.loads(json.dumps(json_document(expected), default=decimal_text))
    if isinstance(expected, Decimal) or warehouse_type.startswith("DECIMAL"):
        return isinstance(actual, Decimal | str) and Decimal(str(actual)) == Decimal(expected)
    if isinstance(expected, bytes | memoryview):
        return bytes(expected) == actual
    if isinstance(expected, UUID):
        return str(expected) == actual
    if isinstance(expected, time_of_day):
        return expected.isoformat() == actual
    if warehouse_type == "TIMESTAMP WITH TIME ZONE":
        return actual == (expected if expected.tzinfo else expected.replace(tzinfo=UTC))
    return type(expected) is type(actual) and expected == actual


def json_document(value: Any) -> Any:
    """PostgreSQL's driver parses JSON; MySQL's returns its text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value  # a JSON string that PostgreSQL's driver has already unquoted


def decimal_text(value: Decimal) -> str:
    return format(value, "f")


def assert_copied_exactly(
    project: Path, database: Database, table: str, key: tuple[str, ...], deleted: frozenset[tuple] = frozenset()
) -> None:
    """Same rows, same keys, same value in every column, as the source holds right now; the keys in `deleted`, of
    rows gone from the source, are there too, marked deleted, and no other row is."""
    source = database.rows(f"SELECT * FROM {quoted(database, table)}")
    warehouse = duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True)
    with warehouse:
        name = table_name(table)
        types = {row[0]: row[1] for row in warehouse.execute(f'DESCRIBE tester."{name}"').fetchall()}
        cursor = warehouse.execute(f'SELECT * FROM tester."{name}"')
        columns = [column[0] for column in cursor.description]
        landed = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    synced = [row for row in landed if not row["_fivetran_deleted"]]
    gone = {tuple(row[column_name(k)] for k in key) for row in landed if row["_fivetran_deleted"]}
    assert gone == set(deleted), f"{table}: the rows marked deleted are {sorted(gone)}, not {sorted(deleted)}"
    assert len(synced) == len(source), f"{table}: {len(synced)} rows in the warehouse, {len(source)} at the source"
    if key:
        by_key = {tuple(row[column_name(k)] for k in key): row for row in synced}
        assert len(by_key) == len(synced), f"{table}: a primary key repeats in the warehouse"
        pairs = [(row, by_key.get(tuple(row[k] for k in key))) for row in source]
    else:  # no key: match rows by their values
        remaining = list(synced)
        pairs = []
        for row in source:
            match = next(
                s for s in remaining if all(same(v, s[column_name(c)], types[column_name(c)]) for c, v in row.items())
            )  # noqa: E501
            remaining.remove(match)
            pairs.append((row, match))
    for row, synced_row in pairs:
        assert synced_row is not None, f"{table}: source row {row} is missing"
        for column, value in row.items():
            name = column_name(column)
            assert same(value, synced_row[name], types[name]), (
                f"{table}.{column} ({types[name]}): source {value!r}, warehouse {synced_row[name]!r}"
            )


def quoted(database: Database, table: str) -> str:
    return f'"{table}"' if database.engine == "postgresql" else f"`{table}`"


def upserts(output: str) -> int:
    return int(re.search(r"Upserts\s*\|\s*(\d+)", output).group(1))


def sync_killing_the_first_read(
    database: Database, project: Path, configuration: dict[str, str], environment: dict[str, str]
) -> str:
    """One sync, during which a watcher kills the connector's session once, as soon as it reads big_table's rows: a
    dropped connection mid-table. Returns the sync's output; fails if the watcher never saw the read."""
    killed, stop = threading.Event(), threading.Event()

    def kill_reader() -> bool:
        if database.engine == "postgresql":
            # Tables are read side by side: the session fetching big_table is the one that holds a lock on it.
            return bool(
                database.rows(
                    "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity AS a JOIN pg_locks AS l ON l.pid = a.pid "
                    f"WHERE a.datname = '{database.name}' AND a.query LIKE 'FETCH%' AND a.pid <> pg_backend_pid() "
                    "AND l.relation = 'big_table'::regclass"
                )
            )
        readers = database.rows(
            "SELECT id FROM information_schema.processlist "
            f"WHERE db = '{database.name}' AND info LIKE 'SELECT%big_table%' AND id <> CONNECTION_ID()"
        )
        for reader in readers:
            database.execute(f"KILL {reader['id']}")
        return bool(readers)

    def watch() -> None:
        while not stop.is_set():
            if kill_reader():
                killed.set()
                return
            stop.wait(0.02)  # polling the server's own view of the sessions, not waiting for time to pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        output = fivetran_debug(project, configuration, environment)
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert killed.is_set(), "the watcher never saw the connector read big_table"
    assert "big_table: connection lost" in output and "resuming from the last position saved" in output
    return output


@pytest.fixture
def postgres():
    with postgres_database() as database:
        database.execute(*POSTGRES_SEED)
        yield database


def test_postgresql_tables_arrive_exactly_and_a_second_sync_reads_what_changed(postgres, template, tool_env, tmp_path):
    project = render(template, tmp_path / "pg", {"source_type": "database", "connector_name": "pg_replica"})
    # big_table first, so the first FETCH the watcher sees is in the middle of the 100k-row table.
    tables = ", ".join(["big_table", *TABLES.keys() - {"big_table"}])
    configuration = postgres.configuration(tables=tables, lookback_minutes="0")

    first = sync_killing_the_first_read(postgres, project, configuration, tool_env)

    for table, key in TABLES.items():
        assert_copied_exactly(project, postgres, table, key)
    assert "event_log: no primary key" in first

    postgres.execute(*POSTGRES_CHANGES)
    second = fivetran_debug(project, configuration, tool_env)

    assert upserts(second) == POSTGRES_SECOND_SYNC_UPSERTS
    for table, key in TABLES.items():
        assert_copied_exactly(project, postgres, table, key)
    state = json.loads((project / "files" / "state.json").read_text())
    assert state["big_table"]["after"] == [["datetime", "2025-01-01T00:00:00+00:00"], ["int", str(BIG_TABLE_ROWS + 2)]]
    assert state["countries"] == {}  # a full read keeps no position between syncs


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"database": "no_such_database"}, 'database "no_such_database" does not exist. Check database.'),
        ({"user": "no_such_user"}, 'role "no_such_user" does not exist. Check user.'),
        ({"tables": "countries, Countries"}, "tables not found in schema 'public': Countries"),
    ],
    ids=["database", "user", "table"],
)
def test_postgresql_wrong_names_stop_the_sync_with_the_key_to_fix(overrides, message, template, tool_env, tmp_path):
    with postgres_database() as database:
        database.execute("CREATE TABLE countries (code char(2) PRIMARY KEY)")
        project = render(template, tmp_path / "pg", {"source_type": "database"})
        with pytest.raises(SyncFailed) as failure:
            fivetran_debug(project, database.configuration(**overrides), tool_env)
    assert message in failure.value.output
    assert "connection lost" not in failure.value.output  # not retried: retrying cannot fix it


MARIADB_SEED = [
    """CREATE TABLE all_types (
        id bigint PRIMARY KEY, updated_at datetime(6) NOT NULL,
        exact decimal(38, 10), wide decimal(65, 30), big bigint, huge bigint unsigned, small smallint, tiny tinyint,
        flag boolean, bit_flag bit(1), single float, dbl double, day date, clock time(6), moment datetime(6),
        stamp timestamp(6) NULL, yr year, doc json, payload blob, code binary(4), note text, choice enum('a', 'b'))
        CHARACTER SET utf8mb4""",
    """INSERT INTO all_types VALUES
        (1, '2024-01-01 00:00:00', 1234567890123456789012345678.0123456789,
         12345678901234567890123456789012345.123456789012345678901234567890, 9223372036854775807,
         18446744073709551615, -32768, -128, true, b'1', 1.1, 0.1, '2024-02-29', '838:59:59.000000',
         '2024-01-01 12:00:00.123456', '2024-01-01 12:00:00.654321', 2024, '{"a": [1, "x"], "b": null}',
         x'00ff10', x'01020304', 'café ☕ 日本 👍', 'b'),
        (2, '2024-01-01 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, '2024-01-02 00:00:00', -0.0000000001, 0, -9223372036854775808, 0, 0, 127, false, b'0', -3.4e38,
         1.7976931348623157e308, '1000-01-01', '-12:00:00', '1970-01-01 00:00:00', '2038-01-19 03:14:07',
         1901, '[]', '', x'00000000', 'line\nbreak "quoted" ''single''', 'a')""",
    """CREATE TABLE `Order Details` (`Order ID` int PRIMARY KEY, `select` text, `MixedCase` text,
        updated_at datetime(6) NOT NULL)""",
    """INSERT INTO `Order Details` VALUES (1, 'reserved', 'mixed', '2024-05-01 00:00:00'),
        (2, NULL, 'Ünïcödé', '2024-05-01 00:00:00')""",
    "CREATE TABLE countries (code char(2) PRIMARY KEY, name text NOT NULL)",
    "INSERT INTO countries VALUES ('DE', 'Germany'), ('JP', '日本')",
    "CREATE TABLE big_table (id bigint PRIMARY KEY, updated_at datetime(6) NOT NULL, note text)",
    # Wide rows: 30 MB is more than the sockets buffer, so the server is still sending when the watcher kills it.
    f"""INSERT INTO big_table SELECT seq, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (seq DIV {TIE_GROUP}) SECOND,
        CONCAT('row ', seq, ' ', REPEAT('x', 1000)) FROM seq_1_to_30000""",
]
MARIADB_TABLES = {"big_table": ("id",), "all_types": ("id",), "Order Details": ("Order ID",), "countries": ("code",)}


def test_mariadb_tables_arrive_exactly_and_a_second_sync_reads_what_changed(template, tool_env, tmp_path):
    with mariadb_database() as database:
        database.execute(*MARIADB_SEED)
        project = render(template, tmp_path / "maria", {"source_type": "database", "db_engine": "mysql"})
        tables = ", ".join(MARIADB_TABLES)
        configuration = database.configuration(batch_size="500", tables=tables, lookback_minutes="0")

        sync_killing_the_first_read(database, project, configuration, tool_env)
        for table, key in MARIADB_TABLES.items():
            assert_copied_exactly(project, database, table, key)

        database.execute(
            "UPDATE all_types SET note = 'changed', updated_at = '2024-06-01 00:00:00' WHERE id = 2",
            "INSERT INTO all_types (id, updated_at, note) VALUES (4, '2024-06-01 00:00:00', 'tie')",
            "UPDATE countries SET name = 'Deutschland' WHERE code = 'DE'",
        )
        second = fivetran_debug(project, configuration, tool_env)
        # The two changed rows, countries read in full, and the rows at each saved position again: all_types 3,
        # Order Details 1 and 2, big_table's last tie group of 6.
        assert upserts(second) == 2 + 2 + 1 + 2 + 6
        for table, key in MARIADB_TABLES.items():
            assert_copied_exactly(project, database, table, key)

        with pytest.raises(SyncFailed) as failure:
            fivetran_debug(project, {**configuration, "password": "wrong"}, tool_env)
        assert "MySQL refused the connection: Access denied for user 'root'" in failure.value.output
        assert "Check password (and user)." in failure.value.output
        assert "wrong" not in failure.value.output.replace("wrong or", "")


def test_invoke_test_on_a_database_project_syncs_twice_and_checks_every_table(template, tool_env, tmp_path):
    with postgres_database() as database:
        database.execute(*POSTGRES_SEED[:10])  # every table but the 100k-row one
        project = render(template, tmp_path / "pg", {"source_type": "database"})
        settings = database.configuration()
        # The owner's way: the password from the environment, the rest in configuration.local.json.
        local = {key: value for key, value in settings.items() if key != "password"}
        (project / "configuration.local.json").write_text(json.dumps(local))

        result = invoke(project, {**tool_env, "CONNECTOR_PASSWORD": ""}, "test")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "All checks passed." in result.stdout
    report = json.loads((project / "files" / "test_report.json").read_text())
    assert report["tables"] == {"all_types": 3, "countries": 3, "event_log": 3, "order_details": 2, "order_lines": 20}
    assert "2024-03-01 15:00:00" in result.stdout  # the cursor range of order_lines, an incremental table
