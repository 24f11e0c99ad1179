"""How fast and how lean is the PostgreSQL connector this template generates, next to the SDK's own ceiling?

Creates a scratch database on the local PostgreSQL (127.0.0.1:5432, trust auth), fills a table of N rows and one of
N/4 rows, renders the database connector with Copier and syncs each table with the real `fivetran debug` into
DuckDB. The baseline runs in the same invocation: a minimal connector that upserts N constant rows of the same
columns and declared types, checkpointing as often as the generated one does. Every generated run is checked
against the source (row count, distinct keys, and sums over every column), and the script prints a table with the
ratios that the design sets targets for: wall time within 1.1x of the ceiling, peak memory flat from N/4 to N.

    /tmp/venv/bin/python benchmarks/database_throughput.py                 # N = 1,000,000 (about 6-8 minutes)
    /tmp/venv/bin/python benchmarks/database_throughput.py --rows 100000   # about a minute

Exit status 0 unless a sync fails or the synced rows differ from the source: a missed target is reported, not fatal.
The CLI runs with the same isolated HOME as the REST benchmark (tests/harness.py); the scratch database is dropped.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import copier
import duckdb
import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from rest_throughput import Run, SyncFailed, fivetran_debug, print_table, ratio, verdict  # noqa: E402

from tests.harness import tool_environment  # noqa: E402

DEFAULT_ROWS = 1_000_000
BATCH_SIZE = 5000
WALL_TARGET = 1.10
MEMORY_FLAT_TOLERANCE = 1.10
HOST, PORT = "127.0.0.1", 5432

TABLE_DEFINITION = """
    id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, amount numeric(12, 2) NOT NULL, quantity integer NOT NULL,
    label text NOT NULL, active boolean NOT NULL
"""
FILL = """
INSERT INTO {table}
SELECT i, timestamptz '2024-01-01 00:00:00+00' + (i / 7) * interval '1 second', (i % 100000) * 1.25, i % 1000,
       'row ' || i, i % 2 = 0
FROM generate_series(1, {rows}) AS i
"""
# Aggregates over every column, computed at the source and in DuckDB: equal only if every row arrived exactly once.
SOURCE_CHECK = (
    "SELECT count(*), count(DISTINCT id), sum(id), sum(amount), sum(quantity), sum(length(label)),"
    " sum(CASE WHEN active THEN 1 ELSE 0 END), min(updated_at), max(updated_at) FROM {table}"
)

CEILING_CONNECTOR = '''"""SDK ceiling: constant rows of the generated connector's columns and types."""

from datetime import UTC, datetime

from fivetran_connector_sdk import Connector
from fivetran_connector_sdk import Operations as op

BATCH_SIZE = {batch_size}
COLUMNS = {{
    "id": "LONG",
    "updated_at": "UTC_DATETIME",
    "amount": {{"type": "DECIMAL", "precision": 12, "scale": 2}},
    "quantity": "INT",
    "label": "STRING",
    "active": "BOOLEAN",
}}
ROW = {{
    "updated_at": datetime(2024, 1, 1, tzinfo=UTC),
    "amount": "1234.50",
    "quantity": 7,
    "label": "row 1234567",
    "active": True,
}}


def schema(configuration: dict) -> list:
    return [{{"table": "ceiling", "primary_key": ["id"], "columns": COLUMNS}}]


def update(configuration: dict, state: dict) -> None:
    rows = int(configuration["rows"])
    for index in range(rows):
        op.upsert("ceiling", {{**ROW, "id": index + 1}})
        if (index + 1) % BATCH_SIZE == 0:
            op.checkpoint({{"ceiling": {{"after": index + 1}}}})
    op.checkpoint({{"ceiling": {{"after": rows}}}})


connector = Connector(update=update, schema=schema)
'''


def create_database(rows: int) -> tuple[str, dict[str, int]]:
    """A scratch database with a table of N rows and one of N/4; returns its name and the tables' sizes."""
    name = f"connector_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(host=HOST, port=PORT, user="postgres", dbname="postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    sizes = {"rows_quarter": rows // 4, "rows_full": rows}
    with psycopg.connect(host=HOST, port=PORT, user="postgres", dbname=name, autocommit=True) as connection:
        for table, size in sizes.items():
            connection.execute(f"CREATE TABLE {table} ({TABLE_DEFINITION})")
            connection.execute(FILL.format(table=table, rows=size))
            connection.execute(f"VACUUM ANALYZE {table}")
    return name, sizes


def drop_database(name: str) -> None:
    with psycopg.connect(host=HOST, port=PORT, user="postgres", dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def source_check(database: str, table: str) -> tuple[Any, ...]:
    with psycopg.connect(host=HOST, port=PORT, user="postgres", dbname=database) as connection:
        return normalise(connection.execute(SOURCE_CHECK.format(table=table)).fetchone())


def warehouse_check(project: Path, table: str) -> tuple[Any, ...]:
    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as connection:
        return normalise(connection.execute(SOURCE_CHECK.format(table=f"tester.{table}")).fetchone())


def normalise(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(Decimal(str(value)) if isinstance(value, (int, float, Decimal)) else value for value in row)


def read_only(database: str, table: str) -> Run:
    """The source's share of the time: stream the table through a server-side cursor, nothing else."""
    start = time.perf_counter()
    rows = 0
    with psycopg.connect(host=HOST, port=PORT, user="postgres", dbname=database) as connection:
        with connection.cursor(name="bench") as cursor:
            cursor.execute(f"SELECT * FROM {table} ORDER BY updated_at, id")
            while batch := cursor.fetchmany(BATCH_SIZE):
                rows += len(batch)
    return Run("source read only (no SDK)", rows, time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows of the large table (default 1,000,000)")
    parser.add_argument("--template", type=Path, default=REPO, help="the template to render (default: this repo)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory: projects, logs, warehouses")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="database-benchmark-"))
    environment = tool_environment(workdir / "home")
    print(f"Filling PostgreSQL with {args.rows:,} + {args.rows // 4:,} rows...", flush=True)
    database, sizes = create_database(args.rows)
    try:
        project = workdir / "generated"
        copier.run_copy(
            str(args.template),
            str(project),
            data={"source_type": "database", "connector_name": "bench", "page_size": BATCH_SIZE},
            defaults=True,
            unsafe=True,
            quiet=True,
            vcs_ref="HEAD",
        )
        ceiling = workdir / "ceiling"
        ceiling.mkdir()
        (ceiling / "connector.py").write_text(CEILING_CONNECTOR.format(batch_size=BATCH_SIZE))

        runs: list[Run] = [read_only(database, "rows_full")]
        problems: list[str] = []
        for label, table in (("N/4", "rows_quarter"), ("N", "rows_full")):
            rows = sizes[table]
            rows_wanted = {"rows": str(rows)}
            runs.append(fivetran_debug(f"SDK ceiling ({label})", rows, ceiling, rows_wanted, environment, workdir))
            configuration = {
                "host": HOST,
                "port": str(PORT),
                "database": database,
                "user": "postgres",
                "password": "",
                "schema": "public",
                "tables": table,
                "tls_mode": "disable",
                "connect_timeout": "10",
                "batch_size": str(BATCH_SIZE),
            }
            generated = f"generated connector ({label})"
            runs.append(fivetran_debug(generated, rows, project, configuration, environment, workdir))
            expected, synced = source_check(database, table), warehouse_check(project, table)
            if expected != synced:
                problems.append(f"{table}: source {expected} but warehouse {synced}")
    except SyncFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    finally:
        drop_database(database)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print_table(runs)
    by_label = {run.label: run for run in runs}
    wall = ratio(by_label["generated connector (N)"].wall_s, by_label["SDK ceiling (N)"].wall_s)
    cpu = ratio(by_label["generated connector (N)"].cpu_s, by_label["SDK ceiling (N)"].cpu_s)
    memory = ratio(by_label["generated connector (N)"].peak_rss_mb, by_label["generated connector (N/4)"].peak_rss_mb)
    ceiling_memory = ratio(by_label["SDK ceiling (N)"].peak_rss_mb, by_label["SDK ceiling (N/4)"].peak_rss_mb)
    print()
    print(f"generated / ceiling, wall time:    {wall:.2f}  (target <= {WALL_TARGET})  {verdict(wall <= WALL_TARGET)}")
    print(f"generated / ceiling, CPU time:     {cpu:.2f}  (the CLI process tree's; PostgreSQL's is not in it)")
    flat = memory <= MEMORY_FLAT_TOLERANCE * ceiling_memory
    print(f"peak memory N / N/4, process RSS:  {memory:.2f}  (SDK ceiling {ceiling_memory:.2f})  {verdict(flat)}")
    for problem in problems:
        print(f"WRONG: {problem}")
    if not problems:
        print("Every synced table matches its source: row count, distinct keys and sums over every column.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
