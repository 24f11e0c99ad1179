"""Local runs of the connector: the configuration with secrets merged in, `fivetran debug`, and the checks after it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from invoke import Exit

from tools.project import SOURCE_TYPE
from tools.report import console
from tools.verification import TableSpec

if TYPE_CHECKING:
    from streams import Stream

PROJECT = Path(__file__).resolve().parent.parent
FILES = PROJECT / "files"
WAREHOUSE = FILES / "warehouse.db"
STATE = FILES / "state.json"
# Entries of the state that are credentials, not sync progress: a provider that rotates its OAuth2 refresh token
# accepts only the newest one, which the connector keeps in the state. A reset keeps these entries, so that the next
# local sync still authenticates, and whatever prints or saves the state masks them.
CREDENTIAL_STATE_KEYS = ("oauth2",)
TEST_REPORT = FILES / "test_report.json"
# The configuration `fivetran debug` and `fivetran deploy` read: configuration.json with local values and secrets.
# It exists only while a command runs, so secrets from the environment do not stay on disk.
EFFECTIVE_CONFIGURATION = FILES / ".configuration.effective.json"
LOCAL_CONFIGURATION = PROJECT / "configuration.local.json"
ENV_PREFIX = "CONNECTOR_"
SKIPPED_DIRS = {".git", ".venv", "venv", "files", "__pycache__", ".ruff_cache", ".pytest_cache", "node_modules"}
# What Fivetran runs: the connector's own modules. Everything else (tasks, tools, tests, docs) stays here.
DEV_ONLY_MODULES = {"tasks.py"}
FAKE_RECORDS_PER_TABLE = 250  # several pages at the usual page sizes

# What a failed sync's output usually means, and what to do about it: (pattern, cause, fix). The first pattern that
# matches wins, so the specific ones come first; a project looks only at the causes its source type can have.
Diagnosis = tuple[str, str, str]
# Reaching an API and logging in to it.
NETWORK_AND_LOGIN: list[Diagnosis] = [
    (
        r"cannot resolve the host name",
        "the host name does not resolve",
        "check the host in the configuration's URL, and this machine's DNS or VPN",
    ),
    (
        r"refused the connection \(nothing listens",
        "connection refused",
        "check the host and port in the configuration's URL, and that the service is up",
    ),
    (
        r"TLS certificate of .* could not be verified|TLS handshake with",
        "TLS",
        "the server's certificate or protocol is not what the URL says: check https vs http and the port",
    ),
    (r"HTTP proxy refused", "proxy", "check HTTPS_PROXY / HTTP_PROXY, or unset them"),
    (r"did not answer in time", "timeout", "the API is slow or unreachable from here; try again, check the URL"),
    (
        r"HTTP 401|authentication failed|invalid_client",
        "credentials",
        "check the secrets in CONNECTOR_* variables or configuration.local.json",
    ),
    (r"HTTP 403|access denied", "permissions", "the credentials work but may not read this source"),
]
# A GraphQL API's own errors, told before the HTTP statuses that carry them.
GRAPHQL_ANSWERS: list[Diagnosis] = [
    (
        r"Cannot query field|Unknown argument|Variable \S+ of type|answered with errors",
        "GraphQL query",
        "read the API's messages above; fix the query in graphql_queries.py (or graphql_query with copier update)",
    ),
    (r"no pageInfo", "GraphQL paging", "add pageInfo { hasNextPage endCursor } to the query or fix page_info_path"),
]
# An API's shape differs from the answers: `invoke probe` reads it from the API itself.
PROBE = "; `invoke probe` shows what the API returns, and `invoke probe --apply` re-templates the project with it"
API_SHAPE: list[Diagnosis] = [
    (r"records_path", "records path", "compare records_path with a real response of the API" + PROBE),
    (
        r"a second time|same next page twice|is not in the response from .* next page cannot be found",
        "pagination",
        "check the pagination settings against the API's documentation" + PROBE,
    ),
    (
        r"Null primary key found",
        "primary key",
        "primary_key names a field the records lack or leave empty: compare it with a real record" + PROBE,
    ),
]
# What an API answered.
API_ANSWERS: list[Diagnosis] = [
    (r"not JSON", "response format", "the API answered with something other than JSON: check the URL and credentials"),
    (r"HTTP 429", "rate limit", "the API kept rate-limiting; lower page_size or sync less often"),
    (r"HTTP 404|not found:", "URL", "check the URL in the configuration (base_url or graphql_url) and the paths"),
]
# A database server and its catalog.
DATABASE_FAILURES: list[Diagnosis] = [
    (
        r"refused the connection|password authentication failed|Access denied for user",
        "database login",
        "fix the configuration key the message names",
    ),
    (r"tables not found in schema", "table names", "compare `tables` in the configuration with the names listed"),
    (r"holds no tables", "empty schema", "check `schema` in the configuration and the user's grants on its tables"),
    (r"connection to .* was lost", "database connection", "check that the server is up and reachable from here"),
]
# A file storage and its files.
FILE_FAILURES: list[Diagnosis] = [
    (r"cannot list s3://|cannot reach S3", "S3 bucket", "check bucket, region, endpoint_url and the AWS key's rights"),
    (r"SFTP login|SFTP server|remote_path '", "SFTP server", "check host, port, username, the secret and host_key"),
    (r"is not a directory", "folder", "point folder at the directory that holds the files"),
    (r"no file in .* matches", "file pattern", "no file matched: check the pattern (and the folder, prefix or path)"),
]
# Every source type.
CONFIGURATION: list[Diagnosis] = [
    (r"configuration is missing|placeholder", "configuration", "fill the values named above"),
]
DIAGNOSES: dict[str, list[Diagnosis]] = {
    "rest_api": [*NETWORK_AND_LOGIN, *API_SHAPE, *API_ANSWERS, *CONFIGURATION],
    "graphql": [*NETWORK_AND_LOGIN, *GRAPHQL_ANSWERS, *API_SHAPE, *API_ANSWERS, *CONFIGURATION],
    "database": [*DATABASE_FAILURES, *CONFIGURATION],
    "file": [*FILE_FAILURES, *CONFIGURATION],
}
# The connector's own warnings in `fivetran debug` output, e.g. "12:00:00.000 WARNING  ⚡ connector <message>".
CONNECTOR_WARNING = re.compile(r"^\S+ WARNING\s+\S+ connector\s+(?P<message>.*)$", re.MULTILINE)


def refuse_unresolved_update() -> None:
    """Stop when `copier update` left conflict markers or .rej files: the code is half-merged."""
    problems = []
    for path in project_files():
        if path.suffix == ".rej":
            problems.append(f"{path.relative_to(PROJECT)}: rejected update hunk")
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(lines, start=1):
            if line.startswith(("<<<<<<< ", ">>>>>>> ")):
                problems.append(f"{path.relative_to(PROJECT)}:{number}: conflict marker")
                break
    if problems:
        raise Exit(
            "copier update left unresolved changes; resolve them, delete the .rej files, then retry:\n  "
            + "\n  ".join(problems),
            code=1,
        )


def project_files() -> list[Path]:
    found = []
    for root, dirs, files in os.walk(PROJECT):
        dirs[:] = sorted(name for name in dirs if name not in SKIPPED_DIRS)
        found.extend(Path(root) / name for name in sorted(files))
    return found


def runtime_files() -> list[Path]:
    """The files Fivetran runs: top-level modules but tasks.py, and requirements.txt if there is one."""
    modules = [path for path in sorted(PROJECT.glob("*.py")) if path.name not in DEV_ONLY_MODULES]
    requirements = PROJECT / "requirements.txt"
    return modules + ([requirements] if requirements.exists() else [])


def code_fingerprint() -> str:
    """A hash of the runtime files and configuration.json: a local test counts only for the code it tested."""
    digest = hashlib.sha256()
    for path in [*runtime_files(), PROJECT / "configuration.json"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def merged_configuration() -> dict[str, str]:
    """configuration.json, overridden by configuration.local.json, overridden by CONNECTOR_<KEY> variables."""
    configuration = json.loads((PROJECT / "configuration.json").read_text(encoding="utf-8"))
    if LOCAL_CONFIGURATION.exists():
        configuration.update(json.loads(LOCAL_CONFIGURATION.read_text(encoding="utf-8")))
    for key in configuration:
        value = os.environ.get(ENV_PREFIX + key.upper())
        if value is not None:
            configuration[key] = value
    return configuration


def effective_configuration() -> dict[str, str]:
    """The merged configuration, refused while a value is not a string or still a placeholder."""
    return checked(merged_configuration())


def checked(configuration: dict[str, str]) -> dict[str, str]:
    not_strings = [key for key, value in configuration.items() if not isinstance(value, str)]
    if not_strings:
        raise Exit(f"configuration values must be strings (Fivetran's rule); fix: {', '.join(not_strings)}", code=1)
    placeholders = [key for key, value in configuration.items() if value.startswith("<") and value.endswith(">")]
    if placeholders:
        how = ", ".join(f"{ENV_PREFIX}{key.upper()}" for key in placeholders)
        raise Exit(f"set {how} (or put the values in configuration.local.json) before syncing", code=1)
    return configuration


@contextmanager
def fake_api_configuration() -> Iterator[dict[str, str]]:
    """The configuration pointed at tests/fake_api.py, the project's own stand-in for its API, serving sample records.

    For `invoke test --fake`: a complete local sync before there are credentials or a network. The fake answers in
    the shape the connector was generated for, so it shows the connector works, not that the real API is as answered.
    """
    if not (PROJECT / "tests" / "fake_api.py").exists():
        raise Exit("--fake syncs from tests/fake_api.py, which only REST and GraphQL projects have.", code=1)
    for folder in (PROJECT, PROJECT / "tests"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    import fake_api

    configuration = merged_configuration()
    if "start_date" in configuration:
        configuration["start_date"] = ""  # every sample record, whatever lower bound the real API needs
    with fake_api.FakeApi(fake_api.sample_records(FAKE_RECORDS_PER_TABLE)) as server:
        yield checked({**configuration, **fake_api.connection_settings(server)})


@contextmanager
def effective_configuration_file(configuration: dict[str, str]) -> Iterator[Path]:
    """The merged configuration as a file readable only by its owner, removed when the block ends."""
    FILES.mkdir(exist_ok=True)
    EFFECTIVE_CONFIGURATION.touch(mode=0o600)
    EFFECTIVE_CONFIGURATION.chmod(0o600)
    try:
        EFFECTIVE_CONFIGURATION.write_text(json.dumps(configuration, indent=2), encoding="utf-8")
        yield EFFECTIVE_CONFIGURATION
    finally:
        EFFECTIVE_CONFIGURATION.unlink(missing_ok=True)


def forget_synced_data() -> None:
    """Remove the local warehouse and state, so that the next sync starts from scratch; logs stay, and so do the
    state's credential entries."""
    credentials = state_credentials()
    for path in (WAREHOUSE, WAREHOUSE.with_name(f"{WAREHOUSE.name}.wal"), STATE):
        path.unlink(missing_ok=True)
    keep_state_credentials(credentials)


def run_sync(label: str, show: bool = True) -> str:
    """Run `fivetran debug` once on the runtime files; its output is kept in files/<label>.log, and shown unless
    show=False asks to show it only if the sync fails."""
    console.rule(f"[bold]{label}")
    with runtime_folder() as folder:
        command = ["fivetran", "debug", str(folder), "--configuration", str(EFFECTIVE_CONFIGURATION)]
        process = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True)
        keep_crash_reports(folder)
    # Paths as the owner knows them: the project's files, not their temporary copies.
    output = (process.stdout + process.stderr).replace(str(folder), str(PROJECT))
    (FILES / f"{label.lower().replace(' ', '_')}.log").write_text(output, encoding="utf-8")
    failed = process.returncode != 0 or "SYNC FAILED" in output
    # soft_wrap: log lines stay whole, for the terminal to wrap and for grep to find.
    if show or failed:
        console.print((without_tracebacks(output) if failed else output).rstrip(), markup=False, soft_wrap=True)
    if failed:
        raise Exit(f"{label} failed.\n{diagnose(output)}", code=1)
    return output


@contextmanager
def runtime_folder() -> Iterator[Path]:
    """A temporary folder holding only what Fivetran runs, its files/ linked to the project's.

    `fivetran debug` checks requirements.txt against the imports of every module in the folder it runs, so run in the
    project it would ask for tasks.py's and the tests' tools (invoke, pytest, duckdb) as runtime requirements. Run
    here, it sees what `invoke deploy` uploads; the warehouse and the state still land in the project's files/.
    The connector runs with the project as its working directory, so relative paths in the configuration hold.
    """
    with tempfile.TemporaryDirectory(prefix="connector-runtime-") as temporary:
        folder = Path(temporary)
        copy_runtime_files(folder)
        try:
            (folder / "files").symlink_to(FILES, target_is_directory=True)
        except OSError:  # no symbolic links here (Windows without the privilege): run in the project itself
            yield PROJECT
            return
        yield folder


def keep_crash_reports(folder: Path) -> None:
    """The CLI writes crash reports next to the code it ran; move them to the project's crash-reports/."""
    reports = folder / "crash-reports"
    if folder == PROJECT or not reports.is_dir():
        return
    kept = PROJECT / "crash-reports"
    kept.mkdir(exist_ok=True)
    for report in reports.iterdir():
        shutil.move(str(report), kept / report.name)


def copy_runtime_files(destination: Path) -> None:
    for path in runtime_files():
        shutil.copy2(path, destination / path.name)


TRACEBACK_START = re.compile(r"^\s*Traceback \(most recent call last\):")


def without_tracebacks(output: str) -> str:
    """The sync's output with Python tracebacks folded to one line: the message after them says what went wrong,
    and the whole traceback stays in files/<label>.log for a bug report."""
    lines, folding = [], False
    for line in output.splitlines():
        if TRACEBACK_START.match(line):
            folding = True
            lines.append("  (traceback omitted: the full log is in files/)")
            continue
        if folding and (line.startswith((" ", "\t")) or not line.strip()):
            continue
        folding = False
        lines.append(line)
    return "\n".join(lines)


def diagnose(output: str) -> str:
    for pattern, cause, fix in DIAGNOSES[SOURCE_TYPE]:
        if re.search(pattern, output):
            return f"Likely cause: {cause}. Fix: {fix}."
    return "Read the log above from its first SEVERE or ERROR line; files/*.log keeps it."


def connector_warnings(output: str) -> list[str]:
    return [match.group("message").strip() for match in CONNECTOR_WARNING.finditer(output)]


def table_specs(configuration: dict[str, str]) -> list[TableSpec]:
    """The connector's tables, primary keys and cursor columns, named as the destination names them.

    Calls the connector's streams(), which for a database reads the catalog: a refused login or an empty schema is
    told here, before any sync, as the connector words it.
    """
    from fivetran_connector_sdk import Logging

    # Outside `fivetran debug` the SDK's logger has no level and refuses to log; streams() may warn.
    if Logging.LOG_LEVEL is None:
        Logging.LOG_LEVEL = Logging.Level.SEVERE
    sys.path.insert(0, str(PROJECT))
    import connector

    try:
        declared = declared_streams(connector, configuration)
    except Exception as error:  # the connector's message says what to fix; a traceback would only bury it
        message = f"{type(error).__name__}: {error}"
        raise Exit(f"The connector's schema failed: {message}\n{diagnose(message)}", code=1) from None
    if not declared:
        raise Exit("The connector declares no tables: check the configuration that selects them.", code=1)
    return [
        TableSpec.from_source(stream.table, stream.primary_key, stream.cursor, stream.columns) for stream in declared
    ]


def declared_streams(connector: ModuleType, configuration: dict[str, str]) -> list[Stream]:
    """The connector's streams(): tables, keys and cursors.

    A connector written by hand before it adopted the template may have only schema(); its tables and keys are then
    checked, and its cursors only once it declares them in a streams() of its own (see streams.py).
    """
    from streams import Stream

    if hasattr(connector, "streams"):
        return connector.streams(configuration)
    console.print("connector.py has no streams(): tables and keys come from schema(), and no cursor is checked.")
    return [Stream(table["table"], tuple(table.get("primary_key") or ())) for table in connector.schema(configuration)]


def read_state() -> dict:
    return json.loads(STATE.read_text(encoding="utf-8")) if STATE.exists() else {}


def state_saved_at() -> int | None:
    """When files/state.json was last written (nanoseconds), or None if there is none."""
    return STATE.stat().st_mtime_ns if STATE.exists() else None


def state_credentials() -> dict:
    """The credential entries of files/state.json (see CREDENTIAL_STATE_KEYS)."""
    return {key: value for key, value in read_state().items() if key in CREDENTIAL_STATE_KEYS}


def keep_state_credentials(credentials: dict) -> None:
    """Write credential entries back into files/state.json, creating it if a reset removed it."""
    if credentials:
        FILES.mkdir(exist_ok=True)
        STATE.write_text(json.dumps({**read_state(), **credentials}, indent=2), encoding="utf-8")


def sync_progress(state: dict) -> dict:
    """The state without its credential entries: what the syncs saved about the tables."""
    return {key: value for key, value in state.items() if key not in CREDENTIAL_STATE_KEYS}


def masked_state(state: dict) -> dict:
    """The state as it may be printed or saved in a report: credential entries replaced by ***."""
    return {key: "***" if key in CREDENTIAL_STATE_KEYS else value for key, value in state.items()}


def shortened(state: dict, limit: int = 5) -> dict:
    """The state for a console: each table's entry whole, but a mapping inside it (a child table's cursor per
    parent) cut to its first `limit` entries and a count of the rest."""

    def cut(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        kept = {key: cut(item) for key, item in list(value.items())[:limit]}
        return {**kept, "...": f"{len(value) - limit} more"} if len(value) > limit else kept

    return {
        key: {name: cut(value) for name, value in entry.items()} if isinstance(entry, dict) else entry
        for key, entry in state.items()
    }


@dataclass
class LocalTestReport:
    passed: bool
    tables: dict[str, int]
    state: dict
    fingerprint: str

    def save(self) -> None:
        TEST_REPORT.write_text(json.dumps(self.__dict__, indent=2), encoding="utf-8")

    @classmethod
    def load(cls) -> LocalTestReport | None:
        if not TEST_REPORT.exists():
            return None
        return cls(**json.loads(TEST_REPORT.read_text(encoding="utf-8")))
