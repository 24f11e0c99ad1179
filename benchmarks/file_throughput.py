"""How fast and how lean is the file connector this template generates, next to the SDK's own ceiling?

Writes SIZE of CSV files (about 90 bytes a row, six columns, in files of --file-mb each), then the same rows as Parquet
(typed: int64, decimal(12, 2), timestamp UTC, strings), renders two local-folder file connectors with Copier (one per
format, primary key `id`) and syncs each with the real `fivetran debug` into DuckDB from an empty state. The baseline
is measured in the same invocation: a minimal connector that upserts the same number of constant rows shaped like
the CSV connector's (the data columns plus `_file`, `_line`, `_modified`), checkpointing every 10,000 rows as the
generated connector does. Each sync is checked: every id exactly once, and a sample of rows with every value exact.

    /tmp/venv/bin/python benchmarks/file_throughput.py               # 1 GB: about 11 million rows, hours
    /tmp/venv/bin/python benchmarks/file_throughput.py --size 20MB   # about 220,000 rows, minutes

Exit status 0 unless a sync fails or a value is wrong. Nothing leaves 127.0.0.1 (the same isolated CLI environment
as benchmarks/rest_throughput.py, whose launcher, runner and report this script reuses).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import os
import platform
import re
import shutil
import sys
import tempfile
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCHMARKS))
import rest_throughput as rest  # noqa: E402 - the launcher, the timed `fivetran debug`, the ceiling and the report

from tests.harness import tool_environment  # noqa: E402

TABLE = "records"
CHECKPOINT_ROWS = 10_000  # the generated connector's default cadence, which the ceiling copies
SAMPLE_EVERY = 997  # rows checked value by value: every 997th id (a prime, so all files and positions are hit)
CATEGORIES = ("books", "garden", "kitchen", "toys", "tools")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
HEADER = ("id", "customer", "amount", "created_at", "category", "note")


def row(number: int) -> tuple[str, ...]:
    """The row with this id, as CSV text; the same function checks the warehouse."""
    created = EPOCH + timedelta(seconds=number * 7)
    note = "plain" if number % 3 else f'quoted, with a comma and "quotes" #{number}'
    return (
        str(number),
        f"Customer {number % 9973} – café",
        f"{(number * 37) % 100_000}.{number % 100:02d}",
        created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        CATEGORIES[number % len(CATEGORIES)],
        note,
    )


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(KB|MB|GB|B)?", text.strip(), re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"size {text!r}: give a number with KB, MB or GB, e.g. 1GB or 20MB")
    unit = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[(match.group(2) or "B").upper()]
    return int(float(match.group(1)) * unit)


# ---------------------------------------------------------------------------------------------------- data


def write_csv_files(folder: Path, size: int, file_bytes: int) -> int:
    """CSV files holding `size` bytes in all; returns the number of rows."""
    folder.mkdir(parents=True)
    number, written, part = 0, 0, 0
    while written < size:
        part += 1
        path = folder / f"orders_{part:04d}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            while handle.tell() < file_bytes and written + handle.tell() < size:
                for _ in range(1000):
                    number += 1
                    writer.writerow(row(number))
        written += path.stat().st_size
    return number


def write_parquet_files(csv_folder: Path, folder: Path) -> None:
    """The same rows as Parquet, one file per CSV file, with real types; streamed, never all in memory."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("customer", pa.string()),
            ("amount", pa.decimal128(12, 2)),
            ("created_at", pa.timestamp("s", tz="UTC")),
            ("category", pa.string()),
            ("note", pa.string()),
        ]
    )
    folder.mkdir(parents=True)
    convert = pa_csv.ConvertOptions(column_types={field.name: field.type for field in schema})
    for source in sorted(csv_folder.glob("*.csv")):
        reader = pa_csv.open_csv(source, convert_options=convert)
        with pq.ParquetWriter(folder / source.with_suffix(".parquet").name, schema) as writer:
            for batch in reader:
                writer.write_batch(batch.cast(schema) if batch.schema != schema else batch)


# ---------------------------------------------------------------------------------------------------- projects


def render_connector(template: Path, destination: Path, file_format: str, vcs_ref: str | None) -> tuple[Path, bool]:
    import copier

    answers = {
        "source_type": "file",
        "file_storage": "local",
        "file_format": file_format,
        "file_pattern": f"*.{file_format}",
        "file_table": TABLE,
        "primary_key": "id",
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        copier.run_copy(
            str(template), str(destination), data=answers, defaults=True, unsafe=True, quiet=True, vcs_ref=vcs_ref
        )
    dirty = any(type(warning.message).__name__ == "DirtyLocalWarning" for warning in caught)
    return destination, dirty


def write_ceiling_connector(destination: Path) -> Path:
    """Constant rows shaped like the CSV connector's, with its checkpoint cadence (the REST benchmark's ceiling)."""
    prototypes = []
    for number in range(1, 121):
        values = dict(zip(HEADER, row(number), strict=True))
        values.pop("id")
        values.update(_file="orders_0001.csv", _line=number, _modified="2024-01-01T00:00:00.000000Z")
        prototypes.append(values)
    destination.mkdir(parents=True)
    source = rest.CEILING_CONNECTOR.format(
        table=TABLE, primary_key="id", cursor_field="_modified", checkpoint_every=CHECKPOINT_ROWS, prototypes=prototypes
    )
    (destination / "connector.py").write_text(source, encoding="utf-8")
    return destination


TYPED_CEILING_CONNECTOR = '''"""SDK ceiling for typed rows: constant rows in the Parquet connector's forms."""

from datetime import datetime, timezone

from fivetran_connector_sdk import Connector
from fivetran_connector_sdk import Operations as op

TABLE = {table!r}
CHECKPOINT_EVERY = {checkpoint_every!r}
COLUMNS = {{
    "id": "LONG",
    "customer": "STRING",
    "amount": {{"type": "DECIMAL", "precision": 12, "scale": 2}},
    "created_at": "UTC_DATETIME",
    "category": "STRING",
    "note": "STRING",
}}
PROTOTYPES = {prototypes!r}
CREATED_AT = datetime(2024, 1, 1, tzinfo=timezone.utc)


def schema(configuration: dict) -> list:
    return [{{"table": TABLE, "primary_key": ["id"], "columns": COLUMNS}}]


def update(configuration: dict, state: dict) -> None:
    rows = int(configuration["rows"])
    state = dict(state)
    for index in range(rows):
        row = dict(PROTOTYPES[index % len(PROTOTYPES)])
        row["id"], row["created_at"] = index + 1, CREATED_AT
        op.upsert(TABLE, row)
        if (index + 1) % CHECKPOINT_EVERY == 0 or index + 1 == rows:
            state[TABLE] = {{"cursor": row["_modified"]}}
            op.checkpoint(state)
    op.checkpoint(state)


connector = Connector(update=update, schema=schema)
'''


def write_typed_ceiling_connector(destination: Path) -> Path:
    """Constant rows as the Parquet connector hands them to the SDK: declared LONG, DECIMAL and UTC_DATETIME columns
    with an int, decimal text and a datetime, the strings and `_file`, `_line`, `_modified`. What any connector of
    these typed rows costs the SDK and its tester, so the Parquet connector's own overhead is the ratio to it."""
    prototypes = []
    for number in range(1, 121):
        values = dict(zip(HEADER, row(number), strict=True))
        for name in ("id", "created_at"):
            values.pop(name)
        values.update(_file="orders_0001.parquet", _line=number, _modified="2024-01-01T00:00:00.000000Z")
        prototypes.append(values)
    destination.mkdir(parents=True)
    source = TYPED_CEILING_CONNECTOR.format(table=TABLE, checkpoint_every=CHECKPOINT_ROWS, prototypes=prototypes)
    (destination / "connector.py").write_text(source, encoding="utf-8")
    return destination


# ---------------------------------------------------------------------------------------------------- correctness


def check_synced(project: Path, rows: int, typed: bool) -> list[str]:
    """Every id from 1 to `rows` exactly once, and every SAMPLE_EVERY-th row with every value exact."""
    import duckdb

    problems: list[str] = []
    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as connection:
        count, distinct, low, high = connection.execute(
            f'SELECT count(*), count(DISTINCT id), min(id), max(id) FROM tester."{TABLE}"'
        ).fetchone()
        if (count, distinct, int(low or 0), int(high or 0)) != (rows, rows, 1, rows):
            problems.append(f"{count} rows, {distinct} distinct ids from {low} to {high}; expected 1 to {rows}")
        sample = connection.execute(
            f'SELECT id, customer, amount, created_at, category, note FROM tester."{TABLE}" '
            f"WHERE id % {SAMPLE_EVERY} = 0 ORDER BY id"
        ).fetchall()
    for values in sample:
        expected = row(int(values[0]))
        for name, want, actual in zip(HEADER, expected, values, strict=True):
            if not same(name, want, actual, typed):
                problems.append(f"id {values[0]} {name}: file {want!r}, warehouse {actual!r}")
        if len(problems) > 20:
            break
    if len(sample) != rows // SAMPLE_EVERY:
        problems.append(f"{len(sample)} sampled rows, expected {rows // SAMPLE_EVERY}")
    return problems


def check_ceiling(project: Path, rows: int) -> list[str]:
    import duckdb

    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as connection:
        count, distinct = connection.execute(f'SELECT count(*), count(DISTINCT id) FROM tester."{TABLE}"').fetchone()
    return [] if count == distinct == rows else [f"ceiling wrote {count} rows ({distinct} distinct ids), not {rows}"]


def same(name: str, want: str, actual: Any, typed: bool) -> bool:
    """CSV text as the local tester types it (numbers, timestamps), or Parquet's declared types, exactly."""
    if isinstance(actual, datetime):
        return actual == datetime.fromisoformat(want.replace("Z", "+00:00"))
    if name == "amount" and typed:
        return isinstance(actual, Decimal) and actual == Decimal(want)
    if isinstance(actual, (int, float, Decimal)) and not isinstance(actual, bool):
        return Decimal(str(actual)) == Decimal(want)
    return actual == want


# ---------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=parse_size, default=parse_size("1GB"), help="CSV bytes to sync (default 1GB)")
    parser.add_argument("--file-mb", type=int, default=64, help="size of each CSV file in MB (default 64)")
    parser.add_argument("--template", type=Path, default=REPO, help="template to render (default: this repository)")
    parser.add_argument("--vcs-ref", default=None, help="git ref of the template to render (default: HEAD)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (files, projects, logs)")
    args = parser.parse_args(argv)
    if args.size < 1000 or args.file_mb < 1:
        parser.error("--size must be at least 1000 bytes and --file-mb at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (rest.BIN / "fivetran").exists():
        print(f"no `fivetran` next to {sys.executable}: use the Python of fivetran-connector-sdk", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="file-throughput-"))
    try:
        return benchmark(args, workdir)
    except rest.SyncFailed as failure:
        print(f"\nSYNC FAILED {failure}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"\nwork directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def benchmark(args: argparse.Namespace, workdir: Path) -> int:
    csv_folder, parquet_folder = workdir / "data" / "csv", workdir / "data" / "parquet"
    rows = write_csv_files(csv_folder, args.size, args.file_mb << 20)
    write_parquet_files(csv_folder, parquet_folder)
    csv_bytes = sum(path.stat().st_size for path in csv_folder.iterdir())
    parquet_bytes = sum(path.stat().st_size for path in parquet_folder.iterdir())
    csv_project, dirty = render_connector(args.template, workdir / "csv_connector", "csv", args.vcs_ref)
    parquet_project, _ = render_connector(args.template, workdir / "parquet_connector", "parquet", args.vcs_ref)
    ceiling = write_ceiling_connector(workdir / "ceiling")
    typed_ceiling = write_typed_ceiling_connector(workdir / "typed_ceiling")
    environment = tool_environment(workdir / "home")

    print(
        f"File throughput: {rows:,} rows in {csv_bytes / 1e6:,.1f} MB of CSV ({len(list(csv_folder.iterdir()))} files) "
        f"and {parquet_bytes / 1e6:,.1f} MB of Parquet; {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"fivetran-connector-sdk {importlib.metadata.version('fivetran-connector-sdk')}"
    )
    print(f"template: {args.template}" + (" (with uncommitted changes)" if dirty else ""))

    failures: list[str] = []

    def sync(label: str, project: Path, configuration: dict[str, str]) -> rest.Run:
        print(f"  {label} ...", flush=True)
        return rest.fivetran_debug(label, rows, project, configuration, environment, workdir)

    ceiling_run = sync("SDK ceiling (constant rows)", ceiling, {"rows": str(rows)})
    failures += [f"ceiling: {problem}" for problem in check_ceiling(ceiling, rows)]
    checkpoint = {"checkpoint_rows": str(CHECKPOINT_ROWS)}
    csv_run = sync("generated connector, CSV", csv_project, {"folder": str(csv_folder), **checkpoint})
    failures += [f"CSV: {problem}" for problem in check_synced(csv_project, rows, typed=False)]
    parquet_run = sync("generated connector, Parquet", parquet_project, {"folder": str(parquet_folder), **checkpoint})
    failures += [f"Parquet: {problem}" for problem in check_synced(parquet_project, rows, typed=True)]
    typed_run = sync("SDK ceiling, typed rows", typed_ceiling, {"rows": str(rows)})
    failures += [f"typed ceiling: {problem}" for problem in check_ceiling(typed_ceiling, rows)]

    print()
    rest.print_table([ceiling_run, csv_run, parquet_run, typed_run])
    print()
    for run in (csv_run, parquet_run):
        print(
            f"{run.label} / ceiling: wall time {run.wall_s / ceiling_run.wall_s:.2f} (target <= 1.1), "
            f"CPU time {rest.number(rest.ratio(run.cpu_s, ceiling_run.cpu_s), 2)}, "
            f"peak RSS {rest.number(run.peak_rss_mb)} MB vs {rest.number(ceiling_run.peak_rss_mb)} MB"
        )
    typed_cpu = rest.number(rest.ratio(parquet_run.cpu_s, typed_run.cpu_s), 2)
    print(
        f"generated connector, Parquet / typed ceiling (the same declared types and value forms): wall time "
        f"{parquet_run.wall_s / typed_run.wall_s:.2f}, CPU time {typed_cpu}"
    )
    if failures:
        print("\nCORRECTNESS CHECK FAILED", file=sys.stderr)
        for failure in failures[:20]:
            print(f"  {failure}", file=sys.stderr)
        return 1
    print(f"\nall values exact: {rows:,} ids once in each sync, every {SAMPLE_EVERY}th row compared column by column")
    return 0


if __name__ == "__main__":
    sys.exit(main())
