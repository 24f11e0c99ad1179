"""What the template's tests share: rendering projects with Copier, running the real `fivetran debug`, and reading
the DuckDB warehouse it writes, so that tests compare synced rows with what the source holds."""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import copier
import duckdb
import pytest

if sys.platform != "win32":
    import fcntl

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Fivetran's naming (`updatedAt` -> `updated_at`), from the one implementation the generated projects carry.
NAMING = runpy.run_path(str(REPO / "template" / "_shared" / "tools" / "naming.py"))
column_name, table_name = NAMING["column_name"], NAMING["table_name"]


def snapshot_template(destination: Path) -> Path:
    """A git repository holding the template's working tree as it is now, committed.

    Copier renders from a git template's HEAD, so tests render from this snapshot rather than from whatever was
    last committed in the working repository.
    """
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "build")
    shutil.copytree(REPO, destination, ignore=ignore, symlinks=True)  # type folders link shared parts
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=destination, check=True)
    subprocess.run([*git, "add", "-A"], cwd=destination, check=True)
    subprocess.run([*git, "commit", "-qm", "snapshot"], cwd=destination, check=True)
    return destination


def render(template: Path, destination: Path, answers: dict[str, Any]) -> Path:
    copier.run_copy(str(template), str(destination), data=answers, defaults=True, unsafe=True, quiet=True)
    return destination


def tool_environment(home: Path) -> dict[str, str]:
    """An isolated HOME for the CLI: telemetry off, update checks recently done, pipreqs offline, no way out."""
    shim_dir = offline_pipreqs(home / "bin", Path(sys.executable))
    now = int(time.time())
    sdk_dir = home / ".fivetran" / "connector_sdk"
    sdk_dir.mkdir(parents=True, exist_ok=True)
    (sdk_dir / "_config.json").write_text(json.dumps({"is_telemetry_enabled": False}))
    (sdk_dir / "_last_version_check").write_text(str(now))  # the SDK asks PyPI at most every six hours
    core_dir = home / ".fivetran" / "connector_sdk_core"
    core_dir.mkdir(parents=True, exist_ok=True)
    (core_dir / "_config.json").write_text(json.dumps({"lastVersionCheck": now}))
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CONNECTOR_")
        and key.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    }
    closed_port = "http://127.0.0.1:9"  # anything that would still try the network fails here, at once
    environment.update(
        HOME=str(home),
        PATH=os.pathsep.join([str(shim_dir), str(BIN), os.environ.get("PATH", "")]),
        DO_NOT_TRACK="1",
        HTTP_PROXY=closed_port,
        HTTPS_PROXY=closed_port,
        ALL_PROXY=closed_port,
        http_proxy=closed_port,
        https_proxy=closed_port,
        all_proxy=closed_port,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    return environment


OWNER_VENVS = REPO / "build" / "owner-venvs"


def owner_venv(project: Path) -> Path:
    """A virtual environment made only from the project's own requirements files, as its after-copy message says.

    Nothing of the template's own environment leaks in, so a dependency the project forgot fails here as it would
    for its owner. Environments are kept under build/owner-venvs, one per content of the requirements files, and
    built once: CI renders many projects that share the same few requirements.
    """
    requirements = [project / "requirements-dev.txt"]
    if (project / "requirements.txt").exists():
        requirements.append(project / "requirements.txt")
    digest = hashlib.sha256(b"".join(path.name.encode() + path.read_bytes() for path in requirements)).hexdigest()
    venv = OWNER_VENVS / digest[:16]
    done = venv / ".complete"
    OWNER_VENVS.mkdir(parents=True, exist_ok=True)
    with open(OWNER_VENVS / f"{digest[:16]}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder per environment, however many tests ask for it at once
        if not done.exists():
            shutil.rmtree(venv, ignore_errors=True)
            staged = venv.with_name(venv.name + ".requirements")
            shutil.rmtree(staged, ignore_errors=True)
            staged.mkdir()
            for path in requirements:  # `-r requirements.txt` is resolved next to requirements-dev.txt
                shutil.copy2(path, staged / path.name)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
            installed = subprocess.run(
                [
                    str(venv / "bin" / "pip"),
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                    str(staged / "requirements-dev.txt"),
                ],
                capture_output=True,  # pip's notes on this machine's package mirrors are not the test's output
                text=True,
                timeout=1200,
            )
            if installed.returncode != 0:
                raise RuntimeError(f"pip could not install {requirements[0]}:\n{installed.stdout}{installed.stderr}")
            done.write_text("\n".join(str(path) for path in requirements))
    return venv


def owner_environment(venv: Path, home: Path) -> dict[str, str]:
    """The isolated CLI sandbox of tool_environment, with the owner's venv on PATH instead of the template's."""
    environment = tool_environment(home)
    shim_dir = offline_pipreqs(home / "owner-bin", venv / "bin" / "python")
    inherited = [entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry and Path(entry) != BIN]
    environment.update(
        PATH=os.pathsep.join([str(shim_dir), str(venv / "bin"), *inherited]),
        VIRTUAL_ENV=str(venv),
    )
    environment.pop("PYTHONPATH", None)
    return environment


def owner_run(
    project: Path, environment: dict[str, str], *command: str, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """A command of the owner's venv (invoke, ruff, pytest) in the project, output captured for assertions."""
    executable = Path(environment["VIRTUAL_ENV"]) / "bin" / command[0]
    return run_in(project, environment, [str(executable), *command[1:]], stdin, timeout=900)


def run_in(
    project: Path, environment: dict[str, str], command: list[str], stdin: str | None = None, timeout: int = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=project, env=environment, input=stdin, capture_output=True, text=True, timeout=timeout
    )


def offline_pipreqs(folder: Path, python: Path) -> Path:
    """A folder holding a `pipreqs` that answers from `python`'s installed packages.

    `fivetran debug` runs pipreqs, which asks PyPI about every import and retries for ~13 s when offline.
    """
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "pipreqs"
    shim.write_text(f'#!/bin/sh\nexec "{python}" -m pipreqs.pipreqs --use-local "$@"\n')
    shim.chmod(0o755)
    return folder


def fivetran_debug(project: Path, configuration: dict[str, str], environment: dict[str, str]) -> str:
    """One real sync with the Fivetran CLI; returns its output and raises with it when the sync fails."""
    config_path = project / "files" / "test_configuration.json"
    config_path.parent.mkdir(exist_ok=True)
    config_path.write_text(json.dumps(configuration))
    process = subprocess.run(
        [str(BIN / "fivetran"), "debug", "--configuration", str(config_path)],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = process.stdout + process.stderr
    if process.returncode != 0 or "SYNC SUCCEEDED" not in output:
        raise SyncFailed(output, process.returncode)
    return output


KILLING_HOOK = """
import os
import signal

_written = 0


def transform_record(table, record):
    \"\"\"Kills the whole sync, as a crashed worker dies, when it reaches record KILL_AT_RECORD (counted from 1).\"\"\"
    global _written
    _written += 1
    if str(_written) == os.environ.get("KILL_AT_RECORD"):
        os.kill(os.getpid(), signal.SIGKILL)
    return record
"""


def fivetran_debug_killed(
    project: Path, configuration: dict[str, str], environment: dict[str, str], at_record: int
) -> str:
    """A sync killed with SIGKILL when its hook sees record `at_record`: mid-page, mid-table or mid-file, wherever
    that record falls. The project's hooks.py is replaced by one that kills, and restored afterwards. Returns the
    killed sync's output."""
    hooks = project / "hooks.py"
    owners_hooks = hooks.read_text()
    hooks.write_text(KILLING_HOOK)
    try:
        with pytest.raises(SyncFailed) as killed:
            fivetran_debug(project, configuration, {**environment, "KILL_AT_RECORD": str(at_record)})
    finally:
        hooks.write_text(owners_hooks)
    assert killed.value.returncode == -signal.SIGKILL, killed.value.output[-2000:]
    return killed.value.output


class SyncFailed(AssertionError):
    def __init__(self, output: str, returncode: int = 1) -> None:
        super().__init__(output[-4000:])
        self.output = output
        self.returncode = returncode


def invoke(
    project: Path, environment: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """An `invoke` task of a generated project with the template's Python; output captured for assertions."""
    return run_in(project, environment, [sys.executable, "-m", "invoke", *args], stdin)


def project_tests(project: Path) -> subprocess.CompletedProcess:
    """The generated project's own offline tests, run as its owner runs them."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


def warehouse_rows(project: Path, table: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as connection:
        cursor = connection.execute(f'SELECT * FROM tester."{table}"')
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def read_state(project: Path) -> dict:
    return json.loads((project / "files" / "state.json").read_text())


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The columns a source record should become: nested objects as parent_child, lists as they are."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}_{key}" if prefix else key
        if isinstance(value, dict):
            row.update(flatten(value, name))
        else:
            row[name] = value
    return row


def same_value(expected: Any, actual: Any) -> bool:
    """Whether a synced DuckDB value is exactly the source's value, allowing only the type inference Fivetran does
    (digit strings as BIGINT, ISO strings as timestamps, dicts and lists as JSON text)."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, (dict, list)):
        return json.loads(actual) == expected if isinstance(actual, str) else actual == expected
    if isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, (int, float)):
        return Decimal(str(actual)) == Decimal(repr(expected)) if isinstance(expected, float) else actual == expected
    if isinstance(actual, datetime):
        parsed = datetime.fromisoformat(expected.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        moment = actual if actual.tzinfo else actual.replace(tzinfo=UTC)
        return parsed == moment
    if isinstance(actual, date):
        return date.fromisoformat(expected) == actual
    return str(actual) == expected


def assert_table_matches(project: Path, table: str, source: list[dict], primary_key: tuple[str, ...]) -> None:
    """The table holds exactly the source's records: same count, same keys, same values in every column."""
    rows = warehouse_rows(project, table)
    by_key = {tuple(str(row[column_name(key)]) for key in primary_key): row for row in rows}
    assert len(rows) == len(by_key), f"{table}: duplicate primary keys in the warehouse"
    expected = {
        tuple(str(record[key]) for key in primary_key): {column_name(k): v for k, v in flatten(record).items()}
        for record in source
    }
    assert sorted(by_key) == sorted(expected), f"{table}: keys differ from the source"
    for key, record in expected.items():
        row = by_key[key]
        for column, value in record.items():
            if value is None or value == {}:
                continue
            assert column in row, f"{table}: column {column} missing"
            assert same_value(value, row[column]), (
                f"{table} {key} {column}: source {value!r}, warehouse {row[column]!r}"
            )


def assert_state_not_past_written(
    project: Path, table: str, source: list[dict], cursor_field: str, key: str = "id"
) -> None:
    """Every source record older than the saved cursor is in the warehouse: a sync resuming from that cursor,
    which asks only for records at or after it, cannot miss one."""
    state = read_state(project) if (project / "files" / "state.json").exists() else {}
    saved = (state.get(table) or {}).get("cursor")
    if saved is None:
        return
    synced = {str(row[column_name(key)]) for row in warehouse_rows(project, table)}
    older = [record for record in source if str(record[cursor_field]) < str(saved)]
    missing = [record for record in older if str(record[key]) not in synced]
    assert not missing, f"{table}: the state's cursor {saved} is past {len(missing)} records never written"


def fivetran_debug_with_hooks(
    project: Path, configuration: dict[str, str], environment: dict[str, str], hooks_source: str
) -> str:
    """One real sync with the project's hooks.py replaced by `hooks_source` (which may act on the source mid-sync,
    as another session would), restored afterwards; returns the sync's output."""
    hooks = project / "hooks.py"
    owners_hooks = hooks.read_text()
    hooks.write_text(hooks_source)
    try:
        return fivetran_debug(project, configuration, environment)
    finally:
        hooks.write_text(owners_hooks)
