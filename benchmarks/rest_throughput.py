"""How fast and how lean is the REST connector this template generates, next to the SDK's own ceiling?

Renders the default (openFDA-shaped) connector with Copier, serves N openFDA-shaped records from the fake API in
tests/servers/rest_api.py in a separate process, and syncs them with the real `fivetran debug` into DuckDB. The
baseline is measured in the same invocation: a minimal connector that upserts N constant rows of the same shape
with the same checkpoint cadence. Every run is checked for exact values; the script prints a table and the ratios
that the design sets targets for (wall time within 1.15x of the ceiling, peak memory flat from N/4 to N).

    /tmp/venv/bin/python benchmarks/rest_throughput.py                  # N = 100,000 (about 2-3 minutes)
    /tmp/venv/bin/python benchmarks/rest_throughput.py --records 20000  # quicker

Exit status 0 unless a sync fails or a row is wrong: missing a performance target is reported, not fatal.
Nothing leaves 127.0.0.1: the `fivetran` CLI gets an isolated HOME with telemetry and update checks off, an
offline `pipreqs`, and proxy variables pointing at a closed local port for any other HTTP it might attempt.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # not resolved: a venv's python is a symlink, and its bin holds `fivetran`
sys.path.insert(0, str(REPO))
from tests.harness import flatten, tool_environment  # noqa: E402 - the same isolated CLI and checks as the tests

DEFAULT_RECORDS = 100_000
DEFAULT_PAGE_SIZE = 1000
SCHEMA = "tester"  # the schema `fivetran debug` writes into files/warehouse.db
WALL_TARGET = 1.15  # generated connector / SDK ceiling, wall time
MEMORY_FLAT_TOLERANCE = 1.10  # peak memory at N / peak at N/4 counts as flat up to this
PROTOTYPE_COUNT = 120  # ceiling rows cycle through this many records: a multiple of every cycle in openfda_records

# The openFDA shape the fake server speaks, spelled out so the benchmark survives changes to the template's defaults.
ANSWERS: dict[str, Any] = {
    "endpoint_path": "/food/enforcement.json",
    "records_path": "results",
    "primary_key": "recall_number",
    "pagination": "offset",
    "offset_param": "skip",
    "page_size_param": "limit",
    "total_path": "meta.results.total",
    "incremental_field": "report_date",
    "record_order": "ascending",
}

MEMORY_LINE = re.compile(r"connector process memory usage: average ([\d.]+) MB, peak ([\d.]+) MB")
ELAPSED_LINE = re.compile(r"SYNC SUCCEEDED\W+total elapsed (\d+):(\d\d):(\d\d(?:\.\d+)?)")

# Runs a command, then writes its wall time, CPU time, exit code and peak RSS to the JSON file argv[1]. A child's
# ru_maxrss starts at its parent's RSS when it was forked (Linux carries the high-water mark across exec), so the CLI
# must be started by a process this small, not by the benchmark, which holds N source records for the checks. The
# peak is that of the largest single process in the CLI's tree: the CLI itself, which runs the connector in-process.
LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
result = {"wall_s": time.perf_counter() - start, "exit_code": os.waitstatus_to_exitcode(status),
          "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss": usage.ru_maxrss}
with open(sys.argv[1], "w") as out:
    json.dump(result, out)
"""

CEILING_CONNECTOR = '''"""SDK ceiling: constant rows shaped like the generated connector's, checkpointed as it does."""

from decimal import Decimal

from fivetran_connector_sdk import Connector
from fivetran_connector_sdk import Operations as op

TABLE = {table!r}
PRIMARY_KEY = {primary_key!r}
CURSOR_FIELD = {cursor_field!r}
CHECKPOINT_EVERY = {checkpoint_every!r}
PROTOTYPES = {prototypes!r}


def schema(configuration: dict) -> list:
    return [{{"table": TABLE, "primary_key": [PRIMARY_KEY]}}]


def update(configuration: dict, state: dict) -> None:
    rows = int(configuration["rows"])
    state = dict(state)
    for index in range(rows):
        row = dict(PROTOTYPES[index % len(PROTOTYPES)])
        row[PRIMARY_KEY] = f"C-{{index + 1:07d}}"
        op.upsert(TABLE, row)
        if (index + 1) % CHECKPOINT_EVERY == 0 or index + 1 == rows:
            state[TABLE] = {{"cursor": row[CURSOR_FIELD]}}
            op.checkpoint(state)
    op.checkpoint(state)


connector = Connector(update=update, schema=schema)
'''


# ---------------------------------------------------------------------------------------------------- the fake server


def serve(records: int, page_size: int) -> int:
    """Serve `records` openFDA records until SIGTERM; the first stdout line is the base URL (run as a subprocess).

    tests/servers/rest_api.py filters and sorts every record again on every request: about 0.45 s a page at 100k
    records, which would swamp the connector being measured. The store never changes here, so each distinct
    filter's result and each result's order are computed once, by the module's own functions, and then reused.
    """
    sys.path.insert(0, str(REPO))
    from tests.servers import rest_api

    shape = rest_api.openfda_shape()
    shape.max_page_size = page_size
    filter_name = shape.incremental_filter.split("=", 1)[0]
    filter_every_time, order_every_time = rest_api.apply_filter, rest_api.order_records
    filtered: dict[tuple[str, ...], tuple[list[dict], bool]] = {}  # filter value(s) of a request -> result
    ordered: dict[int, tuple[list[dict], list[dict]]] = {}  # id of a cached result -> (that result, its order)

    def filter_once(shape_: Any, snapshot: list[dict], query: dict[str, list[str]]) -> tuple[list[dict], bool]:
        key = tuple(query.get(filter_name, ()))
        if key not in filtered:
            filtered[key] = filter_every_time(shape_, snapshot, query)
        return filtered[key]

    def order_once(shape_: Any, result: list[dict]) -> list[dict]:
        cached = ordered.get(id(result))
        if cached is None or cached[0] is not result:
            cached = ordered[id(result)] = (result, order_every_time(shape_, result))
        return cached[1]

    rest_api.apply_filter, rest_api.order_records = filter_once, order_once
    data = rest_api.openfda_records(records)
    api = rest_api.FakeRestApi(shape, records=data)
    api.serve_until_signalled()
    if api.errors:
        print(api.errors[0], file=sys.stderr)
        return 1
    return 0


class ServerProcess:
    """The fake API in its own process, so its CPU time is not charged to the connector."""

    def __init__(self, records: int, page_size: int, log_path: Path) -> None:
        self.records = records
        self._log = log_path.open("wb")
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve",
            "--records",
            str(records),
            "--page-size",
            str(page_size),
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL, text=True
        )
        self.base_url = ""

    def wait_ready(self) -> str:
        if not self.base_url:
            assert self.process.stdout is not None
            line = self.process.stdout.readline().strip()
            if not line.startswith("http://127.0.0.1:"):
                raise RuntimeError(f"fake server for {self.records} records did not start (see {self._log.name})")
            self.base_url = line
        return self.base_url

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


# ---------------------------------------------------------------------------------------------------- projects


def render_connector(template: Path, destination: Path, page_size: int, vcs_ref: str | None) -> tuple[Path, bool]:
    """The default connector with the openFDA shape spelled out; also whether Copier folded in uncommitted changes."""
    import copier

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        copier.run_copy(
            str(template),
            str(destination),
            data={**ANSWERS, "page_size": page_size},
            defaults=True,
            unsafe=True,
            quiet=True,
            vcs_ref=vcs_ref,
        )
    dirty = any(type(warning.message).__name__ == "DirtyLocalWarning" for warning in caught)
    return destination, dirty


def load_module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_ceiling_connector(
    destination: Path, generated: Path, table: str, page_size: int, openfda_records: Any
) -> Path:
    """A one-file connector whose rows are the generated connector's own rows for the first few source records.

    The prototypes come from the rendered project's records.py (flatten_record, then destination_row), so the
    ceiling writes the same columns with the same types and the same pattern of missing values.
    """
    records = load_module(generated / "records.py", "bench_generated_records")
    primary_key, cursor_field = ANSWERS["primary_key"], ANSWERS["incremental_field"]
    prototypes = []
    for source in openfda_records(PROTOTYPE_COUNT):
        row = records.destination_row(records.flatten_record(source))
        row.pop(primary_key)
        prototypes.append(row)
    destination.mkdir(parents=True)
    source_text = CEILING_CONNECTOR.format(
        table=table,
        primary_key=primary_key,
        cursor_field=cursor_field,
        checkpoint_every=page_size,
        prototypes=prototypes,
    )
    (destination / "connector.py").write_text(source_text, encoding="utf-8")
    return destination


def answers_table(project: Path) -> str:
    import yaml

    return str(yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))["table_name"])


# ---------------------------------------------------------------------------------------------------- fivetran debug


@dataclass
class Run:
    label: str
    rows: int
    wall_s: float
    sync_s: float | None = None
    cpu_s: float | None = None  # user + system time of the CLI's process tree: less disturbed by other work
    peak_rss_mb: float | None = None  # largest RSS of any process in the CLI's tree, from wait4
    sdk_peak_mb: float | None = None  # the SDK's own report: peak RSS above its baseline, sampled each second
    sdk_average_mb: float | None = None


class SyncFailed(RuntimeError):
    pass


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def fivetran_debug(
    label: str, rows: int, project: Path, configuration: dict[str, str], environment: dict[str, str], workdir: Path
) -> Run:
    """One sync from empty state with the real CLI, timed, with the peak RSS of its process tree."""
    shutil.rmtree(project / "files", ignore_errors=True)  # no state, no warehouse: every run is a first sync
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    config_path = workdir / f"{slug}.configuration.json"
    config_path.write_text(json.dumps(configuration))
    log_path = workdir / f"{slug}.log"
    result_path = workdir / f"{slug}.result.json"
    result_path.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-I",
        "-S",
        "-c",
        LAUNCHER,
        str(result_path),
        str(BIN / "fivetran"),
        "debug",
        "--configuration",
        str(config_path),
    ]
    timeout = 120 + rows * 0.006
    with log_path.open("wb") as log:
        # a session of its own, so that a stuck sync is killed together with everything it started
        launcher = subprocess.Popen(
            command,
            cwd=project,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            launcher.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(launcher.pid)
            launcher.wait()
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    wall = result.get("wall_s", float(timeout))
    exit_code = result.get("exit_code", f"nothing: killed after the {timeout:.0f} s timeout")
    output = log_path.read_text(encoding="utf-8", errors="replace")
    if exit_code != 0 or "SYNC SUCCEEDED" not in output:
        lines = output.splitlines()
        errors = [line for line in lines if " SEVERE " in line or " ERROR " in line][:5]
        excerpt = "\n".join([*errors, "...", *lines[-15:]])
        raise SyncFailed(
            f"{label}: fivetran debug exited {exit_code} after {wall:.0f} s "
            f"(log: {log_path}; --keep keeps it)\n{excerpt}"
        )
    run = Run(label, rows, wall, cpu_s=result["cpu_s"])
    run.peak_rss_mb = result["maxrss"] / (1024 * 1024 if sys.platform == "darwin" else 1024)
    if memory := MEMORY_LINE.search(output):
        run.sdk_average_mb, run.sdk_peak_mb = float(memory.group(1)), float(memory.group(2))
    if elapsed := ELAPSED_LINE.search(output):
        hours, minutes, seconds = elapsed.groups()
        run.sync_s = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return run


# ---------------------------------------------------------------------------------------------------- correctness


def same_value(expected: Any, actual: Any) -> bool:
    """Whether a DuckDB value is exactly the source's, allowing only Fivetran's type inference (digit strings as
    BIGINT, lists as JSON text); floats must come back with every digit the source sent."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, (dict, list)):
        return (json.loads(actual) if isinstance(actual, str) else actual) == expected
    if isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, float):
        return not isinstance(actual, (str, bool)) and Decimal(str(actual)) == Decimal(repr(expected))
    if isinstance(expected, str) and isinstance(actual, int) and not isinstance(actual, bool):
        return str(actual) == expected  # also rejects "02134" read back as 2134
    return type(actual) is type(expected) and actual == expected


def warehouse_batches(project: Path, table: str, columns_sql: str = "*") -> Any:
    import duckdb

    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as connection:
        cursor = connection.execute(f'SELECT {columns_sql} FROM {SCHEMA}."{table}"')
        names = [column[0] for column in cursor.description]
        while batch := cursor.fetchmany(10_000):
            yield names, batch


def check_generated(project: Path, table: str, source: list[dict[str, Any]]) -> list[str]:
    """Every source record is in the warehouse exactly once, with every value exact; returns the problems."""
    primary_key = ANSWERS["primary_key"]
    expected = {record[primary_key]: flatten(record) for record in source}
    expected_columns = set().union(*(row.keys() for row in expected.values())) if expected else set()
    problems: list[str] = []
    seen: set[Any] = set()
    count = 0
    for names, batch in warehouse_batches(project, table):
        data_columns = [name for name in names if not name.startswith("_fivetran")]
        if not count:
            missing = sorted(expected_columns - set(data_columns))
            extra = sorted(set(data_columns) - expected_columns)
            if missing or extra:
                problems.append(f"columns differ: missing {missing}, unexpected {extra}")
        key_index = names.index(primary_key)
        for values in batch:
            count += 1
            key = values[key_index]
            if key in seen:
                problems.append(f"{primary_key} {key!r} appears twice")
                continue
            seen.add(key)
            want = expected.get(key)
            if want is None:
                problems.append(f"{primary_key} {key!r} is not in the source")
                continue
            for name, actual in zip(names, values, strict=True):
                if name in data_columns and not same_value(want.get(name), actual):
                    problems.append(f"{key}.{name}: expected {want.get(name)!r}, got {actual!r}")
            if len(problems) > 20:
                return problems
    if count != len(source):
        problems.append(f"{count} rows in the warehouse, {len(source)} records in the source")
    unsynced = len(expected.keys() - seen)
    if unsynced:
        problems.append(f"{unsynced} source records missing, e.g. {sorted(expected.keys() - seen)[:3]}")
    return problems


def check_ceiling(project: Path, table: str, rows: int) -> list[str]:
    key = ANSWERS["primary_key"]
    for _, batch in warehouse_batches(project, table, f'count(*), count(DISTINCT "{key}")'):
        count, distinct = batch[0]
        if count == distinct == rows:
            return []
        return [f"ceiling wrote {count} rows ({distinct} distinct keys), expected {rows}"]
    return ["ceiling table is empty"]


# ---------------------------------------------------------------------------------------------------- HTTP floor


def read_only(base_url: str, path: str, page_size: int) -> Run:
    """Just GET and decode every page with requests, as the connector does: the source's share of the wall time."""
    import requests

    session = requests.Session()
    session.trust_env = False  # 127.0.0.1 only, whatever proxies the environment names
    offset, start = 0, time.perf_counter()
    while True:
        params = {ANSWERS["offset_param"]: offset, ANSWERS["page_size_param"]: page_size}
        body = session.get(base_url + path, params=params, timeout=(10, 60)).json()
        records = body[ANSWERS["records_path"]]
        offset += len(records)
        if not records or offset >= body["meta"]["results"]["total"]:
            break
    session.close()
    return Run("HTTP read only (no SDK)", offset, time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------------- report


def number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def print_table(runs: list[Run]) -> None:
    header = ("run", "rows", "wall s", "sync s", "cpu s", "rows/s", "peak MB", "SDK peak MB")
    lines = [header] + [
        (
            run.label,
            f"{run.rows:,}",
            number(run.wall_s),
            number(run.sync_s),
            number(run.cpu_s),
            number(run.rows / run.wall_s, 0),
            number(run.peak_rss_mb),
            number(run.sdk_peak_mb),
        )
        for run in runs
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)))


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return None if not numerator or not denominator else numerator / denominator


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda run: run.wall_s)


# ---------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--records",
        type=int,
        default=DEFAULT_RECORDS,
        help=f"records N the fake API serves (default {DEFAULT_RECORDS:,}); the small run uses N/4",
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=DEFAULT_PAGE_SIZE,
        help=f"page size asked for and served, also the ceiling's checkpoint cadence (default {DEFAULT_PAGE_SIZE})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the ceiling and the N-record sync this many times each, alternating, and keep the "
        "fastest of each (default 1)",
    )
    parser.add_argument(
        "--template",
        type=Path,
        default=REPO,
        help="template to render (default: this repository; Copier includes uncommitted changes)",
    )
    parser.add_argument("--vcs-ref", default=None, help="git ref of the template to render (default: HEAD)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (projects, logs, warehouses)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # internal: the fake API process
    args = parser.parse_args(argv)
    if args.records < 4 or args.page_size < 1 or args.repeat < 1:
        parser.error("--records must be at least 4, --page-size and --repeat at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        return serve(args.records, args.page_size)
    if not (BIN / "fivetran").exists():
        print(
            f"no `fivetran` next to {sys.executable}: run this with the Python that has fivetran-connector-sdk",
            file=sys.stderr,
        )
        return 2
    sys.path.insert(0, str(REPO))
    from tests.servers.rest_api import openfda_records

    big, small = args.records, args.records // 4
    workdir = Path(tempfile.mkdtemp(prefix="rest-throughput-"))
    servers = [ServerProcess(count, args.page_size, workdir / f"server-{count}.log") for count in (small, big)]
    try:
        return benchmark(args, workdir, servers, openfda_records)
    except SyncFailed as failure:
        print(f"\nSYNC FAILED {failure}", file=sys.stderr)
        return 1
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"\nwork directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def benchmark(args: argparse.Namespace, workdir: Path, servers: list[ServerProcess], openfda_records: Any) -> int:
    small_server, big_server = servers
    big, small, page_size = big_server.records, small_server.records, args.page_size

    generated, dirty = render_connector(args.template, workdir / "generated", page_size, args.vcs_ref)
    table = answers_table(generated)
    path = ANSWERS["endpoint_path"]
    ceiling = write_ceiling_connector(workdir / "ceiling", generated, table, page_size, openfda_records)
    environment = tool_environment(workdir / "home")

    sdk_version = importlib.metadata.version("fivetran-connector-sdk")
    print(
        f"REST throughput: N = {big:,} openFDA records, page size {page_size}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, fivetran-connector-sdk {sdk_version}"
    )
    print(f"template: {args.template}" + (" (with uncommitted changes)" if dirty else ""))

    def generated_configuration(server: ServerProcess) -> dict[str, str]:
        return {"base_url": server.wait_ready(), "page_size": str(page_size), "start_date": ""}

    failures: list[str] = []

    def run_generated(label: str, server: ServerProcess) -> Run:
        print(f"  {label} ...", flush=True)
        run = fivetran_debug(label, server.records, generated, generated_configuration(server), environment, workdir)
        problems = check_generated(generated, table, openfda_records(server.records))
        failures.extend(f"{label}: {problem}" for problem in problems)
        return run

    def run_ceiling(label: str, rows: int) -> Run:
        print(f"  {label} ...", flush=True)
        run = fivetran_debug(label, rows, ceiling, {"rows": str(rows)}, environment, workdir)
        failures.extend(f"{label}: {problem}" for problem in check_ceiling(ceiling, table, rows))
        return run

    floor = read_only(big_server.wait_ready(), path, page_size)
    # the N/4 runs go first and double as the warm-up (imports, disk caches) for the runs whose times are compared
    quarter = run_generated("generated connector (N/4)", small_server)
    ceiling_quarter = run_ceiling("SDK ceiling (N/4)", small)
    ceilings: list[Run] = []
    fulls: list[Run] = []
    for _ in range(args.repeat):
        ceilings.append(run_ceiling("SDK ceiling (N)", big))
        fulls.append(run_generated("generated connector (N)", big_server))

    ceiling_full, full = best(ceilings), best(fulls)
    print()
    print_table([floor, ceiling_quarter, ceiling_full, quarter, full])
    if args.repeat > 1:
        print(f"(N rows: fastest of {args.repeat} alternating runs each)")

    wall_ratio = full.wall_s / ceiling_full.wall_s
    sync_ratio = ratio(full.sync_s, ceiling_full.sync_s)
    cpu_ratio = ratio(full.cpu_s, ceiling_full.cpu_s)
    rss_ratio = ratio(full.peak_rss_mb, quarter.peak_rss_mb)
    ceiling_rss_ratio = ratio(ceiling_full.peak_rss_mb, ceiling_quarter.peak_rss_mb)
    sdk_ratio = ratio(full.sdk_peak_mb, quarter.sdk_peak_mb)
    ceiling_sdk_ratio = ratio(ceiling_full.sdk_peak_mb, ceiling_quarter.sdk_peak_mb)
    # flat: about 1.0, or no more growth than the SDK and DuckDB show by themselves with constant rows
    memory_flat = rss_ratio is not None and (
        rss_ratio <= MEMORY_FLAT_TOLERANCE
        or (ceiling_rss_ratio is not None and rss_ratio <= ceiling_rss_ratio + MEMORY_FLAT_TOLERANCE - 1)
    )
    print()
    print(
        f"generated / ceiling, wall time:         {wall_ratio:.2f}  (target <= {WALL_TARGET})  "
        f"{verdict(wall_ratio <= WALL_TARGET)}"
    )
    if sync_ratio is not None:
        print(f"generated / ceiling, sync time:         {sync_ratio:.2f}  (the SDK's 'total elapsed', no CLI startup)")
    print(
        f"generated / ceiling, CPU time:          {number(cpu_ratio, 2)}  (the CLI process tree's; the fake API's "
        "is not in it)"
    )
    print(
        f"peak memory N / N/4, process RSS:       {number(rss_ratio, 2)}  (target ~ 1.0; SDK ceiling "
        f"{number(ceiling_rss_ratio, 2)})  {verdict(memory_flat)}"
    )
    print(
        f"peak memory N / N/4, SDK's delta:       {number(sdk_ratio, 2)}  "
        f"(SDK ceiling {number(ceiling_sdk_ratio, 2)}; above the CLI's baseline, sampled each second)"
    )
    excess = [
        None if run.peak_rss_mb is None or base.peak_rss_mb is None else run.peak_rss_mb - base.peak_rss_mb
        for run, base in ((quarter, ceiling_quarter), (full, ceiling_full))
    ]
    print(
        f"generated - ceiling, peak RSS MB:       {number(excess[0], 1)} at N/4, {number(excess[1], 1)} at N  "
        "(the connector's own memory; flat means it holds about one page)"
    )
    print(
        f"HTTP read only / ceiling, wall time:    {floor.wall_s / ceiling_full.wall_s:.2f}  "
        "(the fake API's and requests' share of the wall time)"
    )

    if failures:
        print("\nCORRECTNESS CHECK FAILED", file=sys.stderr)
        for failure in failures[:20]:
            print(f"  {failure}", file=sys.stderr)
        return 1
    print(
        f"\nall values exact: the {small:,}- and {big:,}-record syncs match the source row for row; "
        "the ceiling wrote every row"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
