"""How fast and how lean is the PostgreSQL connector this template generates, next to the SDK's own ceiling?

Creates a scratch database on the local PostgreSQL (127.0.0.1:5432, trust auth), fills a table of N rows and one of
N/4 rows, renders the database connector with Copier and syncs each table with the real `fivetran debug` into
DuckDB. The baselines run in the same invocation, with the same SDK, writing the same number of rows of the same
columns and declared types, checkpointing as often as the generated connector does: the SDK's ceiling upserts
constant rows, as the design defines it; the values ceiling computes the very rows the source holds, so that it also
pays what the local tester's DuckDB pays for distinct values. Every run of the generated connector and of the values
ceiling is checked against the source (row count, distinct keys, and sums over every column), and the script prints
a table with the ratios the design sets targets for: wall and CPU time within 1.1x of the ceiling, peak memory flat
from N/4 to N.

    /tmp/venv/bin/python benchmarks/database_throughput.py                       # N = 1,000,000 (about 10 minutes)
    /tmp/venv/bin/python benchmarks/database_throughput.py --rows 200000 1000000 --repeat 2
    /tmp/venv/bin/python benchmarks/database_throughput.py --rows 100000         # about a minute

Exit status 0 unless a sync fails or the synced rows differ from the source: a missed target is reported, not fatal.
The CLI runs with the same isolated HOME as the REST benchmark (tests/harness.py); the scratch databases are dropped.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import copier
import duckdb
import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from rest_throughput import Run, SyncFailed, best, fivetran_debug, print_table, ratio, verdict  # noqa: E402

from tests.harness import tool_environment  # noqa: E402

DEFAULT_ROWS = 1_000_000
BATCH_SIZE = 5000
WALL_TARGET = 1.10  # generated connector / SDK ceiling, wall time
CPU_TARGET = 1.10  # generated connector / SDK ceiling, CPU time of the CLI's process tree
MEMORY_FLAT_TOLERANCE = 1.10
HOST, PORT = "127.0.0.1", 5432

TABLE_DEFINITION = """
    id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, amount numeric(12, 2) NOT NULL, quantity integer NOT NULL,
    label text NOT NULL, active boolean NOT NULL
"""
# The values ceiling computes the same values in Python (VALUES_CEILING_CONNECTOR): change both together.
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

CEILING_HEADER = """from datetime import UTC, datetime, timedelta
from decimal import Decimal

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


def schema(configuration: dict) -> list:
    return [{{"table": "ceiling", "primary_key": ["id"], "columns": COLUMNS}}]
"""

CEILING_CONNECTOR = (
    '"""SDK ceiling: constant rows of the generated connector\'s columns and types."""\n\n'
    + CEILING_HEADER
    + """
ROW = {{
    "updated_at": datetime(2024, 1, 1, tzinfo=UTC),
    "amount": "1234.50",
    "quantity": 7,
    "label": "row 1234567",
    "active": True,
}}


def update(configuration: dict, state: dict) -> None:
    rows = int(configuration["rows"])
    for index in range(rows):
        op.upsert("ceiling", {{**ROW, "id": index + 1}})
        if (index + 1) % BATCH_SIZE == 0:
            op.checkpoint({{"ceiling": {{"after": index + 1}}}})
    op.checkpoint({{"ceiling": {{"after": rows}}}})


connector = Connector(update=update, schema=schema)
"""
)

# The rows of FILL, in the value forms the generated connector hands the SDK: a datetime in UTC, the amount as
# exact decimal text. Computing them costs about 2 µs a row, against the SDK's 100-150 µs.
VALUES_CEILING_CONNECTOR = (
    '"""SDK ceiling with the source\'s values: the rows the generated connector writes, computed, not read."""\n\n'
    + CEILING_HEADER
    + """
START = datetime(2024, 1, 1, tzinfo=UTC)
AMOUNT_STEP = Decimal("1.25")


def update(configuration: dict, state: dict) -> None:
    rows = int(configuration["rows"])
    for i in range(1, rows + 1):
        row = {{
            "id": i,
            "updated_at": START + timedelta(seconds=i // 7),
            "amount": f"{{(i % 100000) * AMOUNT_STEP:f}}",
            "quantity": i % 1000,
            "label": f"row {{i}}",
            "active": i % 2 == 0,
        }}
        op.upsert("ceiling", row)
        if i % BATCH_SIZE == 0:
            op.checkpoint({{"ceiling": {{"after": i}}}})
    op.checkpoint({{"ceiling": {{"after": rows}}}})


connector = Connector(update=update, schema=schema)
"""
)


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


def fastest(runs: list[Run]) -> Run:
    """The least wall time and the least CPU time of several runs of one sync: other work on the machine only ever
    adds to either."""
    return replace(best(runs), cpu_s=min(run.cpu_s for run in runs))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=[DEFAULT_ROWS],
        help="rows of the large table, one or more sizes, each with a report of its own (default 1,000,000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the N syncs this many times, the ceilings and the generated connector taking turns, and report "
        "the least wall and CPU time of each: less noise where other work shares the machine",
    )
    parser.add_argument("--template", type=Path, default=REPO, help="the template to render (default: this repo)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory: projects, logs, warehouses")
    args = parser.parse_args(argv)
    if min(args.rows) < 4 or args.repeat < 1:
        parser.error("--rows must be at least 4 and --repeat at least 1")
    return args


def prepare(template: Path, workdir: Path) -> tuple[Path, Path, Path]:
    """The rendered project and the two ceiling connectors."""
    project = workdir / "generated"
    copier.run_copy(
        str(template),
        str(project),
        data={"source_type": "database", "connector_name": "bench", "page_size": BATCH_SIZE},
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref="HEAD",
    )
    ceilings = []
    for name, source in (("ceiling", CEILING_CONNECTOR), ("values_ceiling", VALUES_CEILING_CONNECTOR)):
        folder = workdir / name
        folder.mkdir()
        (folder / "connector.py").write_text(source.format(batch_size=BATCH_SIZE))
        ceilings.append(folder)
    return project, ceilings[0], ceilings[1]


def generated_configuration(database: str, table: str) -> dict[str, str]:
    return {
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


def measure(
    rows: int, args: argparse.Namespace, workdir: Path, environment: dict[str, str], projects: tuple[Path, Path, Path]
) -> bool:
    """Fill a database with N and N/4 rows, sync both sizes, print the report; returns whether every row was exact."""
    project, ceiling, values_ceiling = projects
    print(f"\nFilling PostgreSQL with {rows:,} + {rows // 4:,} rows...", flush=True)
    database, sizes = create_database(rows)
    problems: list[str] = []

    def checked(run: Run, synced: Path, table: str, source_table: str) -> Run:
        expected, landed = source_check(database, source_table), warehouse_check(synced, table)
        if expected != landed:
            problems.append(f"{run.label}: source {expected} but warehouse {landed}")
        return run

    def sync_ceiling(label: str, folder: Path, size: int) -> Run:
        return fivetran_debug(label, size, folder, {"rows": str(size)}, environment, workdir)

    def sync_generated(label: str, table: str) -> Run:
        run = fivetran_debug(
            label, sizes[table], project, generated_configuration(database, table), environment, workdir
        )
        return checked(run, project, table, table)

    def sync_values_ceiling(label: str, table: str) -> Run:
        return checked(sync_ceiling(label, values_ceiling, sizes[table]), values_ceiling, "ceiling", table)

    try:
        source_run = read_only(database, "rows_full")
        ceiling_quarter = sync_ceiling("SDK ceiling (N/4)", ceiling, sizes["rows_quarter"])
        generated_quarter = sync_generated("generated connector (N/4)", "rows_quarter")
        syncs = {
            "ceiling": lambda: sync_ceiling("SDK ceiling (N)", ceiling, rows),
            "values": lambda: sync_values_ceiling("SDK ceiling, source's values (N)", "rows_full"),
            "generated": lambda: sync_generated("generated connector (N)", "rows_full"),
        }
        full: dict[str, list[Run]] = {name: [] for name in syncs}
        for round_number in range(args.repeat):
            # Every other round in the opposite order, so that no run always follows the same one.
            for name in syncs if round_number % 2 == 0 else reversed(syncs):
                full[name].append(syncs[name]())
    finally:
        drop_database(database)
    ceiling_run, values_run, generated_run = (fastest(full[name]) for name in ("ceiling", "values", "generated"))

    print()
    print_table([source_run, ceiling_quarter, generated_quarter, ceiling_run, values_run, generated_run])
    if args.repeat > 1:
        print(f"(N rows: of {args.repeat} runs each, taking turns, the least wall time and the least CPU time)")
    wall, cpu = ratio(generated_run.wall_s, ceiling_run.wall_s), ratio(generated_run.cpu_s, ceiling_run.cpu_s)
    values_wall = ratio(generated_run.wall_s, values_run.wall_s)
    values_cpu = ratio(generated_run.cpu_s, values_run.cpu_s)
    distinct_values = ratio(values_run.cpu_s, ceiling_run.cpu_s)
    memory = ratio(generated_run.peak_rss_mb, generated_quarter.peak_rss_mb)
    ceiling_memory = ratio(ceiling_run.peak_rss_mb, ceiling_quarter.peak_rss_mb)
    flat = memory <= MEMORY_FLAT_TOLERANCE * ceiling_memory
    report = {
        "generated / ceiling, wall time": f"{wall:.2f}  (target <= {WALL_TARGET})  {verdict(wall <= WALL_TARGET)}",
        "generated / ceiling, CPU time": f"{cpu:.2f}  (target <= {CPU_TARGET})  {verdict(cpu <= CPU_TARGET)}",
        "generated / values ceiling": f"{values_wall:.2f} wall, {values_cpu:.2f} CPU  (the connector's own cost)",
        "values ceiling / ceiling, CPU time": f"{distinct_values:.2f}  (what distinct values cost the SDK and DuckDB)",
        "peak memory N / N/4, process RSS": f"{memory:.2f}  (SDK ceiling {ceiling_memory:.2f})  {verdict(flat)}",
    }
    print()
    for label, value in report.items():
        print(f"{label + ':':<38} {value}")
    for problem in problems:
        print(f"WRONG: {problem}")
    if not problems:
        print("Every synced table matches its source: row count, distinct keys and sums over every column.")
    return not problems


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="database-benchmark-"))
    environment = tool_environment(workdir / "home")
    exact = True
    try:
        projects = prepare(args.template, workdir)
        for rows in args.rows:
            exact = measure(rows, args, workdir, environment, projects) and exact
    except SyncFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
