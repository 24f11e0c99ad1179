"""How fast and how lean is the REST connector this template generates, next to the SDK's own ceiling and to dlt?

Renders the default (openFDA-shaped) connector with Copier, serves N openFDA-shaped records from the fake API in
tests/servers/rest_api.py in a separate process, and syncs them with the real `fivetran debug` into DuckDB. The
baselines are measured in the same invocation. Every run is checked for exact values; the script prints a table and
the ratios that the design sets targets for.

Throughput mode (the default): the API answers at once. The baseline is a minimal connector that upserts N constant
rows of the same shape with the same checkpoint cadence; targets: wall and CPU time within 1.1x of that ceiling,
peak memory flat from N/4 to N. Several N may be given; each gets its own report.

Latency mode (`--latency-ms`, 100 ms if given without a value): the fake API waits that long before answering each
data request, as an API far away does. Defaults there: page size 100, N = 20,000. Against the same API, one
invocation runs the sequential fetch-only client, the SDK ceiling, the generated connector, and dlt's `rest_api`
source loading into DuckDB (pinned in benchmarks/requirements-dlt.txt, installed once into its own environment under
build/benchmark-venvs/); targets: generated / sequential fetch-only wall time <= 0.6, generated / dlt <= 0.5.

    /tmp/venv/bin/python benchmarks/rest_throughput.py                       # N = 100,000 (about 2-3 minutes)
    /tmp/venv/bin/python benchmarks/rest_throughput.py --records 50000 100000
    /tmp/venv/bin/python benchmarks/rest_throughput.py --records 20000       # quicker
    /tmp/venv/bin/python benchmarks/rest_throughput.py --latency-ms          # 100 ms, page size 100, N = 20,000

Exit status 0 unless a sync fails or a row is wrong: missing a performance target is reported, not fatal.
Nothing leaves 127.0.0.1: the `fivetran` CLI and dlt get an isolated HOME with telemetry and update checks off, an
offline `pipreqs`, and proxy variables pointing at a closed local port for any other HTTP they might attempt (only
the one-time install of the dlt environment uses pip's package index).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
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
SCHEMA = "tester"  # the schema `fivetran debug` writes into files/warehouse.db (and dlt's dataset name here)
WALL_TARGET = 1.1  # generated connector / SDK ceiling, wall time
CPU_TARGET = 1.1  # generated connector / SDK ceiling, CPU time of the CLI's process tree
MEMORY_FLAT_TOLERANCE = 1.10  # peak memory at N / peak at N/4 counts as flat up to this
# Latency mode: an API that takes this long to answer each data request, paged small, as in the design's spec.
DEFAULT_LATENCY_MS = 100
LATENCY_PAGE_SIZE = 100
LATENCY_RECORDS = 20_000
FETCH_ONLY_TARGET = 0.6  # generated connector / sequential fetch-only client, wall time
DLT_TARGET = 0.5  # generated connector / dlt's rest_api source into DuckDB, wall time
DLT_REQUIREMENTS = Path(__file__).with_name("requirements-dlt.txt")  # pinned; a benchmark-only dependency
DLT_RUNNER = Path(__file__).with_name("dlt_rest_api.py")  # runs the dlt pipeline in dlt's own environment
BENCHMARK_VENVS = REPO / "build" / "benchmark-venvs"  # git-ignored (build/); one environment per requirements text
DLT_WRITE_DISPOSITION = "merge"  # upserts by primary key, as the connector's op.upsert does
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


def serve(records: int, page_size: int, latency_ms: int = 0) -> int:
    """Serve `records` openFDA records until SIGTERM; the first stdout line is the base URL (run as a subprocess).

    tests/servers/rest_api.py filters and sorts every record again on every request: about 0.45 s a page at 100k
    records, which would swamp the connector being measured. The store never changes here, so each distinct
    filter's result and each result's order are computed once, by the module's own functions, and then reused.

    With `latency_ms`, every data request waits that long before it is answered (the module's Faults.delay_seconds),
    in its own handler thread, so concurrent requests wait side by side. On SIGUSR1 the process prints a JSON line:
    data requests so far and the most that were in flight at once since the previous SIGUSR1.
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
    api = rest_api.FakeRestApi(shape, faults=rest_api.Faults(delay_seconds=latency_ms / 1000), records=data)

    def report_requests(*_: Any) -> None:
        answer = {"data_requests": api.data_requests, "max_in_flight": api.max_in_flight}
        with api._lock:  # the next run's peak starts from what is in flight now
            api._max_in_flight = api._in_flight
        print(json.dumps(answer), flush=True)

    signal.signal(signal.SIGUSR1, report_requests)
    api.serve_until_signalled()
    if api.errors:
        print(api.errors[0], file=sys.stderr)
        return 1
    return 0


class ServerProcess:
    """The fake API in its own process, so its CPU time is not charged to the connector."""

    def __init__(self, records: int, page_size: int, log_path: Path, latency_ms: int = 0) -> None:
        self.records = records
        self.latency_ms = latency_ms
        self._log = log_path.open("wb")
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve",
            "--records",
            str(records),
            "--page-size",
            str(page_size),
            "--latency-ms",
            str(latency_ms),
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

    def requests_seen(self) -> dict[str, int]:
        """Data requests so far and the most in flight at once since the last call (which resets that peak)."""
        self.wait_ready()
        assert self.process.stdout is not None
        self.process.send_signal(signal.SIGUSR1)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"fake server for {self.records} records stopped (see {self._log.name})")
        return json.loads(line)

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
    """Import one file of a rendered project, which may import its siblings (records.py: declared_types)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def write_ceiling_connector(
    destination: Path, generated: Path, table: str, page_size: int, openfda_records: Any
) -> Path:
    """A one-file connector whose rows are the generated connector's own rows for the first few source records.

    The prototypes come from the rendered project's own functions (records.flatten_record, then destination_row with
    the columns that columns.py declares), so the ceiling writes the same columns with the same types and the same
    pattern of missing values.
    """
    records = load_module(generated / "records.py", "bench_generated_records")
    if hasattr(records, "destination_row"):  # templates before declared column types

        def destination_row(record: dict[str, Any]) -> dict[str, Any]:
            return records.destination_row(record)
    else:  # declared_types.destination_row, with the columns that columns.py declares (none by default)
        declared_types = load_module(generated / "declared_types.py", "bench_generated_declared_types")
        columns = load_module(generated / "columns.py", "bench_generated_columns").COLUMNS.get(table, {})

        def destination_row(record: dict[str, Any]) -> dict[str, Any]:
            return declared_types.destination_row(table, columns, record, {})

    primary_key, cursor_field = ANSWERS["primary_key"], ANSWERS["incremental_field"]
    prototypes = []
    for source in openfda_records(PROTOTYPE_COUNT):
        row = destination_row(records.flatten_record(source))
        row.pop(primary_key)
        prototypes.append(row)
    destination.mkdir(parents=True)
    source_text = CEILING_CONNECTOR.format(
        table=table,
        primary_key=primary_key,
        cursor_field=cursor_field,
        checkpoint_every=checkpoint_cadence(generated, page_size),
        prototypes=prototypes,
    )
    (destination / "connector.py").write_text(source_text, encoding="utf-8")
    return destination


def checkpoint_cadence(generated: Path, page_size: int) -> int:
    """Rows between the generated connector's checkpoints: the first page boundary at or past its
    CHECKPOINT_RECORDS (sync.py), or every page for a template that checkpoints each one."""
    found = re.search(r"^CHECKPOINT_RECORDS = ([\d_]+)$", (generated / "sync.py").read_text(), re.MULTILINE)
    if found is None:
        return page_size
    records = int(found.group(1).replace("_", ""))
    return max(1, -(-records // page_size)) * page_size


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


def launch(
    command: list[str], cwd: Path, environment: dict[str, str], log_path: Path, result_path: Path, timeout: float
) -> tuple[dict[str, Any], str]:
    """Run `command` under the LAUNCHER, output to `log_path`; its wait4 result (empty if killed) and its output."""
    result_path.unlink(missing_ok=True)
    launcher_command = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(result_path), *command]
    with log_path.open("wb") as log:
        # a session of its own, so that a stuck run is killed together with everything it started
        launcher = subprocess.Popen(
            launcher_command,
            cwd=cwd,
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
    return result, log_path.read_text(encoding="utf-8", errors="replace")


def launched_run(label: str, rows: int, result: dict[str, Any]) -> Run:
    run = Run(label, rows, result["wall_s"], cpu_s=result["cpu_s"])
    run.peak_rss_mb = result["maxrss"] / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return run


def default_timeout(rows: int) -> float:
    return 120 + rows * 0.006


def fivetran_debug(
    label: str,
    rows: int,
    project: Path,
    configuration: dict[str, str],
    environment: dict[str, str],
    workdir: Path,
    *,
    timeout: float | None = None,
) -> Run:
    """One sync from empty state with the real CLI, timed, with the peak RSS of its process tree."""
    shutil.rmtree(project / "files", ignore_errors=True)  # no state, no warehouse: every run is a first sync
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    config_path = workdir / f"{slug}.configuration.json"
    config_path.write_text(json.dumps(configuration))
    log_path = workdir / f"{slug}.log"
    timeout = default_timeout(rows) if timeout is None else timeout
    command = [str(BIN / "fivetran"), "debug", "--configuration", str(config_path)]
    result, output = launch(command, project, environment, log_path, workdir / f"{slug}.result.json", timeout)
    wall = result.get("wall_s", float(timeout))
    exit_code = result.get("exit_code", f"nothing: killed after the {timeout:.0f} s timeout")
    if exit_code != 0 or "SYNC SUCCEEDED" not in output:
        lines = output.splitlines()
        errors = [line for line in lines if " SEVERE " in line or " ERROR " in line][:5]
        excerpt = "\n".join([*errors, "...", *lines[-15:]])
        raise SyncFailed(
            f"{label}: fivetran debug exited {exit_code} after {wall:.0f} s "
            f"(log: {log_path}; --keep keeps it)\n{excerpt}"
        )
    run = launched_run(label, rows, result)
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


def read_only(base_url: str, path: str, page_size: int, label: str = "HTTP read only (no SDK)") -> tuple[Run, list]:
    """Just GET and decode every page with requests, one after another, as a plain sequential client does: the
    source's share of the wall time. Runs in this process; its CPU time is this process's. Also returns the keys."""
    import requests

    session = requests.Session()
    session.trust_env = False  # 127.0.0.1 only, whatever proxies the environment names
    keys: list = []
    offset, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while True:
        params = {ANSWERS["offset_param"]: offset, ANSWERS["page_size_param"]: page_size}
        response = session.get(base_url + path, params=params, timeout=(10, 60))
        response.raise_for_status()
        body = response.json()
        records = body[ANSWERS["records_path"]]
        keys.extend(record[ANSWERS["primary_key"]] for record in records)
        offset += len(records)
        if not records or offset >= body["meta"]["results"]["total"]:
            break
    session.close()
    run = Run(label, offset, time.perf_counter() - start, cpu_s=time.process_time() - cpu_start)
    return run, keys


def check_keys(label: str, keys: list, source: list[dict[str, Any]]) -> list[str]:
    """The fetch-only client saw every source key once."""
    expected = {record[ANSWERS["primary_key"]] for record in source}
    if len(keys) == len(set(keys)) == len(expected) and set(keys) == expected:
        return []
    return [f"{label}: read {len(keys)} records, {len(set(keys))} distinct keys, expected the {len(expected)} keys"]


# ---------------------------------------------------------------------------------------------------- dlt baseline


def dlt_python(log: Any = sys.stdout) -> Path:
    """The Python of the dlt environment under build/benchmark-venvs/, made once for each requirements text.

    One environment per content of benchmarks/requirements-dlt.txt (and Python version), reused by every later run;
    a lock keeps two benchmarks from building it at once, and `.complete` marks one that finished installing.
    """
    text = DLT_REQUIREMENTS.read_bytes() + platform.python_version().encode()
    venv = BENCHMARK_VENVS / f"dlt-{hashlib.sha256(text).hexdigest()[:12]}"
    python = venv / "bin" / "python"
    done = venv / ".complete"
    BENCHMARK_VENVS.mkdir(parents=True, exist_ok=True)
    with open(venv.with_name(venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            print(f"installing dlt into {venv.relative_to(REPO)} (once; about half a minute) ...", file=log, flush=True)
            shutil.rmtree(venv, ignore_errors=True)
            install_log = venv.with_name(venv.name + ".install.log")
            with install_log.open("wb") as out:
                steps = [
                    [sys.executable, "-m", "venv", str(venv)],
                    [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(DLT_REQUIREMENTS)],
                ]
                for step in steps:
                    if subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode:
                        raise RuntimeError(f"could not install the dlt environment: see {install_log}")
            done.write_text(DLT_REQUIREMENTS.read_text(encoding="utf-8"))
    return python


def installed_version(python: Path, package: str) -> str:
    command = [str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


@dataclass
class DltRun:
    run: Run
    database: Path
    summary: dict[str, Any]


def run_dlt(
    label: str,
    rows: int,
    python: Path,
    base_url: str,
    table: str,
    page_size: int,
    environment: dict[str, str],
    workdir: Path,
    timeout: float,
) -> DltRun:
    """One dlt pipeline run from empty state (no pipeline state, no database), timed by the same launcher."""
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    home = workdir / slug
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    database = home / "dlt.duckdb"
    summary_path = home / "summary.json"
    settings = {
        "base_url": base_url.rstrip("/") + "/",
        "path": ANSWERS["endpoint_path"].lstrip("/"),
        "records_path": ANSWERS["records_path"],
        "primary_key": ANSWERS["primary_key"],
        "offset_param": ANSWERS["offset_param"],
        "limit_param": ANSWERS["page_size_param"],
        "total_path": ANSWERS["total_path"],
        "page_size": page_size,
        "table": table,
        "write_disposition": DLT_WRITE_DISPOSITION,
        "database": str(database),
        "dataset": SCHEMA,
        "pipelines_dir": str(home / "pipelines"),
        "summary": str(summary_path),
    }
    settings_path = home / "settings.json"
    settings_path.write_text(json.dumps(settings, indent=2))
    log_path = workdir / f"{slug}.log"
    command = [str(python), str(DLT_RUNNER), str(settings_path)]
    result, output = launch(command, home, environment, log_path, workdir / f"{slug}.result.json", timeout)
    exit_code = result.get("exit_code", f"nothing: killed after the {timeout:.0f} s timeout")
    if exit_code != 0 or not summary_path.exists():
        excerpt = "\n".join(output.splitlines()[-20:])
        raise SyncFailed(f"{label}: the dlt pipeline exited {exit_code} (log: {log_path}; --keep keeps it)\n{excerpt}")
    summary = json.loads(summary_path.read_text())
    run = launched_run(label, rows, result)
    run.sync_s = summary["steps_s"].get("run")  # pipeline.run() alone: no interpreter start-up, no imports
    return DltRun(run, database, summary)


def dlt_view(record: dict[str, Any], prefix: str = "") -> tuple[dict[str, Any], dict[str, list]]:
    """What dlt makes of a record: nested objects as parent__child columns, lists as child tables (by column name).

    An empty object leaves no column at all. The source's names are snake_case already, so dlt's name normalization
    leaves them as they are.
    """
    columns: dict[str, Any] = {}
    lists: dict[str, list] = {}
    for key, value in record.items():
        name = f"{prefix}__{key}" if prefix else key
        if isinstance(value, dict):
            nested_columns, nested_lists = dlt_view(value, name)
            columns.update(nested_columns)
            lists.update(nested_lists)
        elif isinstance(value, list):
            lists[name] = value
        else:
            columns[name] = value
    return columns, lists


def check_dlt(database: Path, table: str, source: list[dict[str, Any]]) -> list[str]:
    """dlt loaded every source record exactly once, every scalar value exact, every list in order in its child table.

    Not compared, as dlt cannot represent them: an empty object (no column) and an empty list versus a missing one
    (both are no child rows). dlt's own columns (_dlt_id, _dlt_load_id, _dlt_parent_id, ...) are ignored.
    """
    import duckdb

    primary_key = ANSWERS["primary_key"]
    expected = {record[primary_key]: dlt_view(record) for record in source}
    expected_columns = {name for columns, _ in expected.values() for name in columns}
    expected_lists = {name for _, lists in expected.values() for name in lists}
    problems: list[str] = []
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = {
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [SCHEMA]
            ).fetchall()
        }
        if table not in tables:
            return [f"no table {SCHEMA}.{table} in {database}"]
        # child tables: table__<list column>, one row per list element, in _dlt_list_idx order under its parent
        child_values: dict[str, dict[str, list]] = {}
        for name in sorted(expected_lists):
            child = f"{table}__{name}"
            if child not in tables:
                if any(lists.get(name) for _, lists in expected.values()):
                    problems.append(f"no child table {child} for the lists in {name}")
                continue
            by_parent: dict[str, list] = {}
            cursor = connection.execute(
                f'SELECT _dlt_parent_id, value FROM {SCHEMA}."{child}" ORDER BY _dlt_parent_id, _dlt_list_idx'
            )
            while batch := cursor.fetchmany(10_000):
                for parent, value in batch:
                    by_parent.setdefault(parent, []).append(value)
            child_values[name] = by_parent
        cursor = connection.execute(f'SELECT * FROM {SCHEMA}."{table}"')
        names = [column[0] for column in cursor.description]
        data_columns = [name for name in names if not name.startswith("_dlt_")]
        missing = sorted(expected_columns - set(data_columns))
        extra = sorted(set(data_columns) - expected_columns)
        if missing or extra:
            problems.append(f"columns differ: missing {missing}, unexpected {extra}")
        key_index, id_index = names.index(primary_key), names.index("_dlt_id")
        seen: set[Any] = set()
        count = 0
        while batch := cursor.fetchmany(10_000):
            for values in batch:
                count += 1
                key = values[key_index]
                if key in seen:
                    problems.append(f"{primary_key} {key!r} appears twice")
                    continue
                seen.add(key)
                if key not in expected:
                    problems.append(f"{primary_key} {key!r} is not in the source")
                    continue
                want_columns, want_lists = expected[key]
                for name, actual in zip(names, values, strict=True):
                    if name in data_columns and not same_value(want_columns.get(name), actual):
                        problems.append(f"{key}.{name}: expected {want_columns.get(name)!r}, got {actual!r}")
                for name, by_parent in child_values.items():
                    got = by_parent.get(values[id_index], [])
                    if got != want_lists.get(name, []):
                        problems.append(f"{key}.{name}: expected {want_lists.get(name, [])!r}, got {got!r}")
                if len(problems) > 20:
                    return problems
    if count != len(source):
        problems.append(f"{count} rows in {SCHEMA}.{table}, {len(source)} records in the source")
    unsynced = expected.keys() - seen
    if unsynced:
        problems.append(f"{len(unsynced)} source records missing, e.g. {sorted(unsynced)[:3]}")
    return problems


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
        nargs="+",
        default=None,
        metavar="N",
        help=f"records N the fake API serves, one or more (each N gets its own runs and report; default "
        f"{DEFAULT_RECORDS:,}, or {LATENCY_RECORDS:,} with --latency-ms); throughput mode also syncs N/4",
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=None,
        help=f"page size asked for and served, also the ceiling's checkpoint cadence (default {DEFAULT_PAGE_SIZE}, "
        f"or {LATENCY_PAGE_SIZE} with --latency-ms)",
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        nargs="?",
        const=DEFAULT_LATENCY_MS,
        default=0,
        metavar="MS",
        help=f"latency mode: the fake API waits MS milliseconds before answering each data request "
        f"({DEFAULT_LATENCY_MS} if no value is given; default 0, throughput mode), and the generated connector is "
        "compared with a sequential fetch-only client and with dlt's rest_api source",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each compared N-record sync this many times, alternating, and keep the fastest of each (default 1)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        dest="settings",
        metavar="KEY=VALUE",
        help="a value for the generated connector's configuration, e.g. max_concurrency=8 (repeatable; the other "
        "values are the rendered configuration.json's, with base_url, page_size and start_date set by the benchmark)",
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
    latency = args.latency_ms > 0
    if args.records is None:
        args.records = [LATENCY_RECORDS if latency else DEFAULT_RECORDS]
    if args.page_size is None:
        args.page_size = LATENCY_PAGE_SIZE if latency else DEFAULT_PAGE_SIZE
    if min(args.records) < 4 or args.page_size < 1 or args.repeat < 1 or args.latency_ms < 0:
        parser.error("--records must be at least 4, --page-size and --repeat at least 1, --latency-ms at least 0")
    if any("=" not in setting for setting in args.settings):
        parser.error("--set takes KEY=VALUE")
    args.configuration = dict(setting.split("=", 1) for setting in args.settings)
    return args


@dataclass
class Projects:
    """What every N of one invocation shares: the rendered connector, the ceiling, the CLI's environment."""

    generated: Path
    ceiling: Path
    table: str
    environment: dict[str, str]
    configuration: dict[str, str]  # the rendered configuration.json
    overrides: dict[str, str]  # the --set values
    description: str  # the template and the commit it was rendered from


def prepare(args: argparse.Namespace, workdir: Path, openfda_records: Any) -> Projects:
    generated, dirty = render_connector(args.template, workdir / "generated", args.page_size, args.vcs_ref)
    table = answers_table(generated)
    ceiling = write_ceiling_connector(workdir / "ceiling", generated, table, args.page_size, openfda_records)
    configuration = json.loads((generated / "configuration.json").read_text(encoding="utf-8"))
    commit = subprocess.run(
        ["git", "-C", str(args.template), "rev-parse", "--short", args.vcs_ref or "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    description = f"{args.template}" + (f" at {commit}" if commit else "")
    description += " (with uncommitted changes)" if dirty else ""
    environment = tool_environment(workdir / "home")
    return Projects(generated, ceiling, table, environment, configuration, args.configuration, description)


def generated_configuration(projects: Projects, server: ServerProcess, page_size: int) -> dict[str, str]:
    """The rendered configuration.json (new keys such as max_concurrency keep the template's defaults), the
    benchmark's base URL, page size and empty start date, then the --set values."""
    benchmark = {"base_url": server.wait_ready(), "page_size": str(page_size), "start_date": ""}
    return {**projects.configuration, **benchmark, **projects.overrides}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        return serve(args.records[0], args.page_size, args.latency_ms)
    if not (BIN / "fivetran").exists():
        print(
            f"no `fivetran` next to {sys.executable}: run this with the Python that has fivetran-connector-sdk",
            file=sys.stderr,
        )
        return 2
    sys.path.insert(0, str(REPO))
    from tests.servers.rest_api import openfda_records

    workdir = Path(tempfile.mkdtemp(prefix="rest-throughput-"))
    try:
        if args.latency_ms:
            return latency_mode(args, workdir, openfda_records)
        return throughput_mode(args, workdir, openfda_records)
    except SyncFailed as failure:
        print(f"\nSYNC FAILED {failure}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"\nwork directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report_failures(failures: list[str]) -> bool:
    if failures:
        print("\nCORRECTNESS CHECK FAILED", file=sys.stderr)
        for failure in failures[:20]:
            print(f"  {failure}", file=sys.stderr)
    return not failures


# ---------------------------------------------------------------------------------------------------- throughput mode


def throughput_mode(args: argparse.Namespace, workdir: Path, openfda_records: Any) -> int:
    sdk_version = importlib.metadata.version("fivetran-connector-sdk")
    projects: Projects | None = None
    summaries: list[str] = []
    failures: list[str] = []
    for big in args.records:
        small = big // 4
        directory = workdir / f"n{big}"
        directory.mkdir()
        # the servers build their records while the template renders
        servers = [ServerProcess(count, args.page_size, directory / f"server-{count}.log") for count in (small, big)]
        try:
            if projects is None:
                projects = prepare(args, workdir, openfda_records)
            if summaries:
                print()
            print(
                f"REST throughput: N = {big:,} openFDA records, page size {args.page_size}, {os.cpu_count()} CPUs, "
                f"Python {platform.python_version()}, fivetran-connector-sdk {sdk_version}"
            )
            print(f"template: {projects.description}")
            summary, problems = throughput(args, directory, servers, projects, openfda_records)
        finally:
            for server in servers:
                server.stop()
        summaries.append(summary)
        failures.extend(problems)
    if len(summaries) > 1:
        print("\nsummary, generated / ceiling:")
        for summary in summaries:
            print(f"  {summary}")
    if not report_failures(failures):
        return 1
    return 0


def throughput(
    args: argparse.Namespace, workdir: Path, servers: list[ServerProcess], projects: Projects, openfda_records: Any
) -> tuple[str, list[str]]:
    """Both syncs of one N and the ceiling's, and their report; returns a one-line summary and the problems."""
    small_server, big_server = servers
    big, small, page_size = big_server.records, small_server.records, args.page_size
    generated, ceiling, table, environment = projects.generated, projects.ceiling, projects.table, projects.environment
    path = ANSWERS["endpoint_path"]

    failures: list[str] = []

    def run_generated(label: str, server: ServerProcess) -> Run:
        print(f"  {label} ...", flush=True)
        configuration = generated_configuration(projects, server, page_size)
        run = fivetran_debug(label, server.records, generated, configuration, environment, workdir)
        problems = check_generated(generated, table, openfda_records(server.records))
        failures.extend(f"{label}: {problem}" for problem in problems)
        return run

    def run_ceiling(label: str, rows: int) -> Run:
        print(f"  {label} ...", flush=True)
        run = fivetran_debug(label, rows, ceiling, {"rows": str(rows)}, environment, workdir)
        failures.extend(f"{label}: {problem}" for problem in check_ceiling(ceiling, table, rows))
        return run

    floor, keys = read_only(big_server.wait_ready(), path, page_size)
    failures.extend(check_keys(floor.label, keys, openfda_records(big)))
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
    cpu_ok = cpu_ratio is not None and cpu_ratio <= CPU_TARGET
    print()
    print(
        f"generated / ceiling, wall time:         {wall_ratio:.2f}  (target <= {WALL_TARGET})  "
        f"{verdict(wall_ratio <= WALL_TARGET)}"
    )
    if sync_ratio is not None:
        print(f"generated / ceiling, sync time:         {sync_ratio:.2f}  (the SDK's 'total elapsed', no CLI startup)")
    print(
        f"generated / ceiling, CPU time:          {number(cpu_ratio, 2)}  (target <= {CPU_TARGET}; the CLI process "
        f"tree's, the fake API's is not in it)  {verdict(cpu_ok)}"
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
    if not failures:
        print(
            f"\nall values exact: the {small:,}- and {big:,}-record syncs match the source row for row; "
            "the ceiling wrote every row"
        )
    summary = (
        f"N = {big:>9,}: wall time {wall_ratio:.2f} (target <= {WALL_TARGET}) {verdict(wall_ratio <= WALL_TARGET)}, "
        f"CPU time {number(cpu_ratio, 2)} (target <= {CPU_TARGET}) {verdict(cpu_ok)}"
    )
    return summary, failures


# ---------------------------------------------------------------------------------------------------- latency mode


def latency_mode(args: argparse.Namespace, workdir: Path, openfda_records: Any) -> int:
    python = dlt_python()
    versions = {package: installed_version(python, package) for package in ("dlt", "duckdb")}
    sdk_version = importlib.metadata.version("fivetran-connector-sdk")
    dlt_environment = tool_environment(workdir / "home-dlt")
    dlt_environment.pop("VIRTUAL_ENV", None)
    dlt_environment["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # dlt's anonymous usage reports are on by default
    projects: Projects | None = None
    failures: list[str] = []
    for index, records in enumerate(args.records):
        directory = workdir / f"n{records}"
        directory.mkdir()
        server = ServerProcess(records, args.page_size, directory / "server.log", args.latency_ms)
        try:
            if projects is None:
                projects = prepare(args, workdir, openfda_records)
            if index:
                print()
            print(
                f"REST latency: N = {records:,} openFDA records, page size {args.page_size}, {args.latency_ms} ms "
                f"before each answer, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                f"fivetran-connector-sdk {sdk_version}, dlt {versions['dlt']} (duckdb {versions['duckdb']})"
            )
            print(f"template: {projects.description}")
            print(
                "generated connector's configuration: "
                + ", ".join(
                    f"{key}={value}"
                    for key, value in generated_configuration(projects, server, args.page_size).items()
                    if key != "base_url"
                )
            )
            failures.extend(latency(args, directory, server, projects, python, dlt_environment, openfda_records))
        finally:
            server.stop()
    if not report_failures(failures):
        return 1
    return 0


def latency(
    args: argparse.Namespace,
    workdir: Path,
    server: ServerProcess,
    projects: Projects,
    python: Path,
    dlt_environment: dict[str, str],
    openfda_records: Any,
) -> list[str]:
    """The four runs against one slow API, and their report; returns the problems found."""
    records, page_size, latency_ms = server.records, args.page_size, args.latency_ms
    generated, table = projects.generated, projects.table
    pages = -(-records // page_size)
    waiting_s = pages * latency_ms / 1000  # one request at a time, the latency alone
    timeout = default_timeout(records) + 2 * waiting_s
    source = openfda_records(records)
    base_url = server.wait_ready()
    failures: list[str] = []
    requests: dict[str, tuple[int, int]] = {}  # label -> (data requests, most in flight at once)
    dlt_summary: dict[str, Any] = {}

    def measured(label: str, action: Any) -> Any:
        print(f"  {label} ...", flush=True)
        before = server.requests_seen()
        result = action()
        after = server.requests_seen()
        requests[label] = (after["data_requests"] - before["data_requests"], after["max_in_flight"])
        return result

    def fetch_only() -> Run:
        run, keys = read_only(base_url, ANSWERS["endpoint_path"], page_size, "sequential fetch only (no SDK)")
        failures.extend(check_keys(run.label, keys, source))
        return run

    def connector() -> Run:
        label = "generated connector"
        configuration = generated_configuration(projects, server, page_size)
        run = fivetran_debug(label, records, generated, configuration, projects.environment, workdir, timeout=timeout)
        failures.extend(f"{label}: {problem}" for problem in check_generated(generated, table, source))
        return run

    def dlt() -> Run:
        label = "dlt rest_api -> DuckDB"
        outcome = run_dlt(label, records, python, base_url, table, page_size, dlt_environment, workdir, timeout)
        failures.extend(f"{label}: {problem}" for problem in check_dlt(outcome.database, table, source))
        dlt_summary.update(outcome.summary)
        return outcome.run

    # the ceiling reads no API; it goes first and warms the CLI's imports and disk caches for the runs compared
    print("  SDK ceiling (no API) ...", flush=True)
    ceiling = fivetran_debug(
        "SDK ceiling (no API)", records, projects.ceiling, {"rows": str(records)}, projects.environment, workdir
    )
    failures.extend(f"SDK ceiling: {problem}" for problem in check_ceiling(projects.ceiling, table, records))
    fetches: list[Run] = []
    connectors: list[Run] = []
    dlts: list[Run] = []
    for _ in range(args.repeat):
        fetches.append(measured("sequential fetch only (no SDK)", fetch_only))
        connectors.append(measured("generated connector", connector))
        dlts.append(measured("dlt rest_api -> DuckDB", dlt))
    fetch, full, dlt_run = best(fetches), best(connectors), best(dlts)

    print()
    print_table([fetch, ceiling, full, dlt_run])
    if args.repeat > 1:
        print(f"(fastest of {args.repeat} alternating runs each, except the ceiling's single run)")
    fetch_ratio = full.wall_s / fetch.wall_s
    dlt_ratio = full.wall_s / dlt_run.wall_s
    print()
    print(
        f"generated / sequential fetch only, wall time:  {fetch_ratio:.2f}  (target <= {FETCH_ONLY_TARGET})  "
        f"{verdict(fetch_ratio <= FETCH_ONLY_TARGET)}"
    )
    print(
        f"generated / dlt, wall time:                    {dlt_ratio:.2f}  (target <= {DLT_TARGET})  "
        f"{verdict(dlt_ratio <= DLT_TARGET)}"
    )
    print(
        f"generated / dlt, CPU time:                     {number(ratio(full.cpu_s, dlt_run.cpu_s), 2)}  "
        "(each one's process tree; the fake API's is in neither)"
    )
    print(
        f"generated / SDK ceiling, wall time:            {full.wall_s / ceiling.wall_s:.2f}  "
        "(the ceiling reads no API: what the API's latency adds to the SDK's own cost)"
    )
    print(f"the latency alone, one request at a time:      {waiting_s:.1f} s  ({pages:,} pages x {latency_ms} ms)")
    print(
        "data requests to the fake API (most at once):  "
        + ", ".join(f"{label} {count:,} ({most})" for label, (count, most) in requests.items())
    )
    steps = dlt_summary.get("steps_s", {})
    print(
        "dlt's own steps:                               "
        + ", ".join(f"{step} {number(steps.get(step))} s" for step in ("extract", "normalize", "load"))
        + f" (write disposition {DLT_WRITE_DISPOSITION}, {dlt_summary.get('loader_file_format', '?')} load files)"
    )
    if not failures:
        print(
            f"\nall values exact: the generated connector's {records:,} rows match the source row for row; dlt's "
            "rows, scalar columns and list child tables too; the fetch-only client read every key once; "
            "the ceiling wrote every row"
        )
    return failures


if __name__ == "__main__":
    sys.exit(main())
