"""A local fake of the Fivetran REST API, for running the real `fivetran deploy` and the status/start tasks offline.

`fivetran deploy` (fivetran-connector-sdk 3.0.0) talks to `constants.PRODUCTION_BASE_URL`, which defaults to
"https://api.fivetran.com" and is replaced by `"production_base_url"` from `~/.fivetran/connector_sdk/_config.json`.
The CLI appends the full path ("/v1/groups", "/v1/connectors", ...) to it, so the base URL has NO "/v1" and no trailing
slash: use `FakeFivetranApi.base_url` ("http://127.0.0.1:PORT") as is.  `sdk_home()` writes that file (plus the
telemetry opt-out and a fresh update-check stamp) into an isolated HOME.

What the CLI calls, verified against the SDK source (connector_helper.py, cli_commands.py, resolution.py,
migration.py), in order (the group and connection look-ups happen twice: once to resolve options, once to
deploy):

* `GET /v1/connector-sdk/migration/connections?limit=100` -- only without `CI=true` and without an options file
  (it then writes `~/.fivetran/connector_sdk/options.toml`); answered with an empty list.
* `GET /v1/groups?limit=500`, then `?cursor=...&limit=500` while `data.next_cursor` is set, matching
  `data.items[].name`.  A non-2xx answer prints "request failed error: <status>" and INVALID_API_KEY_MESSAGE.
* `GET /v1/groups/{group_id}/connectors?schema=<connection>`: `data.items[0].id` and `.service`.
* existing connection: `GET /v1/connections/{id}` (Accept: application/json;version=2; data.config.python_version,
  data.hybrid_deployment_agent_id, data.networking_method, data.config.package_id);
  new connection: `GET /v1/destinations/{group_id}` (data.hybrid_deployment_agent_id, absent here).
* existing connection: `GET /v1/connectors/{id}` (data.config.package_id), then
  `GET /v1/connector-sdk/packages/{package_id}` (data.connection_ids: more than one blocks the deploy).
* `POST /v1/connector-sdk/packages`, multipart with the zip in part `file` (file name "<project dir>.zip");
  needs `data.id` (any 2xx; 201 here).
* new: `POST /v1/connectors` -- must answer exactly 201 with data.id, data.config.python_version,
  data.destination_schema_names and optionally data.setup_tests[] (status FAILED/JOB_FAILED fails the deploy);
  existing: `PATCH /v1/connectors/{id}` -- exactly 200, same data.
* on a failed create/update: `DELETE /v1/connector-sdk/packages/{package_id}` (the orphaned upload).

Errors are read from the JSON `message` of the answer.  The check for a newer SDK goes to pypi.org, not to this base
URL; `sdk_home()` stamps `_last_version_check` so it is skipped.  Telemetry goes to webhooks.fivetran.com;
`sdk_home()` turns it off.

The status/start tasks of a generated project use `GET /v1/connections/{id}`, `PATCH /v1/connections/{id}`
(merge, e.g. {"paused": false}) and `POST /v1/connections/{id}/sync`.

Usage::

    with FakeFivetranApi() as api:
        sdk_home(home, api.base_url)
        ...  # run `fivetran deploy --api-key deploy_key("key", "secret") ...` with HOME=home
        (connection_id,) = api.connections
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime
import json
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.servers.base import FakeHandler, FakeServer, ServedApi

SERVICE = "connector_sdk"
DEFAULT_GROUPS = {"my_warehouse": "group_1"}
DEFAULT_PYTHON_VERSION = "3.14"  # the SDK 3.0.0 default (constants.DEFAULT_PYTHON_VERSION)
EXISTING_PYTHON_VERSION = "3.12"  # add_connection(): what `--python-version 3.12` redeploys find, so no drift warning
DEFAULT_NAMING = "FIVETRAN_NAMING"
SETUP_TEST_TITLE = "Connector SDK setup test"
SETUP_TEST_FAILURE_MESSAGE = "Connector setup test failed: the connector could not connect with this configuration"
AUTH_FAILED_MESSAGE = "Invalid API key or secret"
SYNC_TRIGGERED_MESSAGE = "Sync has been successfully triggered"
SCHEMA_NAME_PATTERN = re.compile(r"^[_a-z][_a-z0-9]*$")  # constants.CONNECTION_SCHEMA_NAME_PATTERN
MASK = "******"
# an empty but valid zip archive: the stand-in package of a connection made with add_connection()
EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18


class _Keep:
    """Marks a set_status() argument that was not given, so that None can still mean "set to null"."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


@dataclass
class Recorded:
    """One request the fake received; `status` is the status it was answered with."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any | None
    form_fields: dict[str, str]
    files: dict[str, bytes]  # multipart file parts: form field name (e.g. "file") -> bytes
    status: int = 0
    filenames: dict[str, str] = field(default_factory=dict)  # multipart file parts: field name -> file name


class ApiError(Exception):
    """A Fivetran-style error answer ({"code", "message"}), raised deep in a route to keep the handlers flat."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# ---------------------------------------------------------------------------------------------------- helpers


def deploy_key(api_key: str = "key", api_secret: str = "secret") -> str:
    """The value for `fivetran deploy --api-key`: the CLI sends it verbatim as `Authorization: Basic <value>`."""
    return base64.b64encode(f"{api_key}:{api_secret}".encode()).decode("ascii")


def sdk_home(home: Path, base_url: str) -> None:
    """Point the SDK CLI running with HOME=home at `base_url`, with nothing else leaving the machine.

    `_config.json` keys the CLI reads: `production_base_url` (update_base_url_if_required; no "/v1", the CLI appends
    full paths) and `is_telemetry_enabled` (false: no notice, no detached sender to webhooks.fivetran.com).  Keys
    already in the file are kept.  `_last_version_check` holds "now", so check_newer_version() skips pypi.org for six
    hours instead of retrying 3 times with sleeps.  No options.toml is written: without CI=true the CLI then calls
    the migration route once (answered here) and writes options.toml itself.
    """
    config_dir = Path(home) / ".fivetran" / "connector_sdk"
    config_dir.mkdir(parents=True, exist_ok=True)
    config_file = config_dir / "_config.json"
    config: dict[str, Any] = {}
    if config_file.is_file():
        try:
            loaded = json.loads(config_file.read_text(encoding="utf-8"))
            config = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            config = {}
    config.update(production_base_url=base_url.rstrip("/"), is_telemetry_enabled=False)
    config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")
    (config_dir / "_last_version_check").write_text(str(int(time.time())), encoding="utf-8")


def header(request: Recorded, name: str) -> str:
    """A request header by case-insensitive name ("" if absent): clients differ in how they spell header names."""
    wanted = name.lower()
    return next((value for key, value in request.headers.items() if key.lower() == wanted), "")


def now_iso() -> str:
    """A UTC timestamp in the API's format (e.g. 2024-01-02T03:04:05.678Z)."""
    moment = datetime.datetime.now(datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split a header such as `form-data; name="file"; filename="code.zip"` into its value and parameters."""
    head, *rest = value.split(";")
    params: dict[str, str] = {}
    for item in rest:
        name, sep, raw = item.strip().partition("=")
        if not sep:
            continue
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[name.strip().lower()] = raw
    return head.strip().lower(), params


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes], dict[str, str]]:
    """Split a multipart/form-data body into (text fields, file parts by field name, file names by field name).

    By hand because the cgi module is gone from newer Pythons and email.parser mangles binary parts.
    """
    _, params = header_params(content_type)
    boundary = params.get("boundary", "")
    if not boundary:
        raise ApiError(400, "InvalidInput", "multipart body without a boundary")
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    filenames: dict[str, str] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        content = content[:-2] if content.endswith(b"\r\n") else content
        part_headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                part_headers[name.strip().lower()] = value.strip()
        _, disposition = header_params(part_headers.get("content-disposition", ""))
        name = disposition.get("name", "")
        if "filename" in disposition:
            files[name] = content
            filenames[name] = disposition["filename"]
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, files, filenames


def query_int(query: dict[str, list[str]], name: str, default: int, maximum: int) -> int:
    """A positive integer query parameter (the API's `limit`), 400 when it is not one."""
    raw = query.get(name, [str(default)])[-1]
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ApiError(400, "InvalidInput", f"Invalid value for '{name}': {raw!r}; expected 1..{maximum}")
    return int(raw)


def paginate(items: list[dict], query: dict[str, list[str]], page_size: int, maximum: int = 1000) -> dict[str, Any]:
    """One page of `items` as {"items", "next_cursor"}: `limit` honoured, capped at `page_size` so cursors get used.

    Cursors are opaque base64 offsets, like the real API's opaque strings; an unreadable one answers 400.
    """
    limit = min(query_int(query, "limit", 100, maximum), page_size)
    offset = 0
    cursor = query.get("cursor", [""])[-1]
    if cursor:
        try:
            offset = int(base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii").removeprefix("offset:"))
        except (binascii.Error, ValueError, UnicodeError):
            raise ApiError(400, "InvalidInput", f"Invalid cursor: {cursor!r}") from None
    end = offset + limit
    next_cursor = base64.urlsafe_b64encode(f"offset:{end}".encode()).decode("ascii") if end < len(items) else None
    return {"items": items[offset:end], "next_cursor": next_cursor}


def mask_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config as the API shows it: secret values masked, like Fivetran does for secrets_list."""
    shown = copy.deepcopy(config)
    for secret in shown.get("secrets_list") or []:
        if isinstance(secret, dict) and "value" in secret:
            secret["value"] = MASK
    return shown


def merge_config(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """PATCH semantics for `config`: given keys replace, null removes a key (the CLI clears proxy_host_config_key)."""
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def success(data: Any = None, message: str | None = None) -> dict[str, Any]:
    """The API's success envelope."""
    body: dict[str, Any] = {"code": "Success"}
    if message:
        body["message"] = message
    if data is not None:
        body["data"] = data
    return body


# ---------------------------------------------------------------------------------------------------- the fake


Route = tuple[str, re.Pattern[str], str]

_ROUTES: list[Route] = [
    ("GET", re.compile(r"/v1/groups"), "_list_groups"),
    ("GET", re.compile(r"/v1/groups/(?P<group_id>[^/]+)"), "_get_group"),
    ("GET", re.compile(r"/v1/groups/(?P<group_id>[^/]+)/(?:connectors|connections)"), "_list_group_connections"),
    ("GET", re.compile(r"/v1/destinations/(?P<group_id>[^/]+)"), "_get_destination"),
    ("GET", re.compile(r"/v1/connector-sdk/migration/connections"), "_list_migration_connections"),
    ("POST", re.compile(r"/v1/connector-sdk/packages"), "_create_package"),
    ("GET", re.compile(r"/v1/connector-sdk/packages"), "_list_packages"),
    ("GET", re.compile(r"/v1/connector-sdk/packages/(?P<package_id>[^/]+)"), "_get_package"),
    ("PATCH", re.compile(r"/v1/connector-sdk/packages/(?P<package_id>[^/]+)"), "_update_package"),
    ("DELETE", re.compile(r"/v1/connector-sdk/packages/(?P<package_id>[^/]+)"), "_delete_package"),
    ("POST", re.compile(r"/v1/(?:connectors|connections)"), "_create_connection"),
    ("GET", re.compile(r"/v1/(?:connectors|connections)/(?P<connection_id>[^/]+)"), "_get_connection"),
    ("PATCH", re.compile(r"/v1/(?:connectors|connections)/(?P<connection_id>[^/]+)"), "_update_connection"),
    ("DELETE", re.compile(r"/v1/(?:connectors|connections)/(?P<connection_id>[^/]+)"), "_delete_connection"),
    ("POST", re.compile(r"/v1/(?:connectors|connections)/(?P<connection_id>[^/]+)/sync"), "_trigger_sync"),
]


class FakeFivetranApi(ServedApi):
    """The parts of the Fivetran REST API that `fivetran deploy` and a project's status/start tasks use.

    State is plain dicts guarded by one lock: `connections` (id -> stored connection, with the raw config the CLI
    sent, secrets unmasked, and config.package_id), `packages` (id -> uploaded zip bytes) and `requests` (every
    request, in order).  `errors` holds tracebacks of bugs in this fake (answered 500); tests should assert it empty.
    """

    groups_page_size = 1  # small, so that more than one group makes the CLI follow next_cursor

    def __init__(
        self,
        *,
        api_key: str = "key",
        api_secret: str = "secret",
        groups: dict[str, str] | None = None,
        setup_tests_fail: bool = False,
        reject_configuration: str = "",
        destination_type: str = "snowflake",
        port: int = 0,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.groups: dict[str, str] = dict(DEFAULT_GROUPS if groups is None else groups)
        self.setup_tests_fail = setup_tests_fail
        self.reject_configuration = reject_configuration
        self.destination_type = destination_type
        self.base_url = ""
        self.requests: list[Recorded] = []
        self.connections: dict[str, dict] = {}
        self.packages: dict[str, bytes] = {}
        self.errors: list[str] = []
        self._port = port
        self._lock = threading.RLock()
        self._counters = {"conn": 0, "pkg": 0}
        self._package_created: dict[str, str] = {}
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    # ---- test set-up and inspection

    @property
    def authorization(self) -> str:
        """The only Authorization header value this fake accepts."""
        return f"Basic {deploy_key(self.api_key, self.api_secret)}"

    def add_connection(
        self, group_name: str, schema: str, config: dict | None = None, *, service: str = SERVICE
    ) -> str:
        """A connection that exists before the test's deploy (for redeploys); returns its id.

        It is bound to a stand-in package (an empty zip in `packages`) unless `config` names a package_id, so the
        CLI's shared-package check runs, and it is unpaused with setup done, as a connection in use would be.
        """
        with self._lock:
            group_id = self.groups[group_name]
            if config is not None and config.get("package_id"):
                package_id = config["package_id"]
            else:
                package_id = self._store_package(EMPTY_ZIP)
            stored_config = {
                "schema": schema,
                "python_version": EXISTING_PYTHON_VERSION,
                "secrets_list": [],
                **copy.deepcopy(config or {}),
                "package_id": package_id,
            }
            connection = self._new_connection(group_id, service, stored_config, DEFAULT_NAMING, paused=False)
            connection["status"]["setup_state"] = "connected"
            return connection["id"]

    def set_status(
        self,
        connection_id: str,
        *,
        setup_state: Any = KEEP,
        sync_state: Any = KEEP,
        update_state: Any = KEEP,
        succeeded_at: Any = KEEP,
        failed_at: Any = KEEP,
        paused: Any = KEEP,
    ) -> None:
        """Change what GET /v1/connections/{id} reports; arguments left out keep their value, None sets null.

        Real values: setup_state incomplete|connected|broken, sync_state scheduled|syncing|paused|rescheduled,
        update_state on_schedule|delayed; timestamps as ISO strings such as "2024-01-02T03:04:05.678Z".
        """
        with self._lock:
            connection = self.connections[connection_id]
            status = connection["status"]
            for key, value in (
                ("setup_state", setup_state),
                ("sync_state", sync_state),
                ("update_state", update_state),
            ):
                if value is not KEEP:
                    status[key] = value
            for key, value in (("succeeded_at", succeeded_at), ("failed_at", failed_at), ("paused", paused)):
                if value is not KEEP:
                    connection[key] = value

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        """The recorded requests with this method and exact path (a convenience for assertions)."""
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    # ---- state (callers hold the lock)

    def _next_id(self, kind: str) -> str:
        """Ids like conn_1 and pkg_1: readable in test failures and stable within one fake."""
        self._counters[kind] += 1
        return f"{kind}_{self._counters[kind]}"

    def _store_package(self, data: bytes) -> str:
        """Keep an uploaded zip under a new package id."""
        package_id = self._next_id("pkg")
        self.packages[package_id] = data
        self._package_created[package_id] = now_iso()
        return package_id

    def _new_connection(
        self,
        group_id: str,
        service: str,
        config: dict[str, Any],
        naming: str,
        *,
        paused: bool,
        sync_frequency: int = 360,
        hd_agent_id: str | None = None,
        proxy_agent_id: str | None = None,
        networking_method: str = "Directly",
    ) -> dict[str, Any]:
        """Store a connection with the fields GET /v1/connections/{id} shows."""
        connection_id = self._next_id("conn")
        connection = {
            "id": connection_id,
            "group_id": group_id,
            "service": service,
            "service_version": 1,
            "schema": config.get("schema", ""),
            "connected_by": "fake_user",
            "created_at": now_iso(),
            "succeeded_at": None,
            "failed_at": None,
            "paused": paused,
            "pause_after_trial": False,
            "sync_frequency": sync_frequency,
            "schedule_type": "auto",
            "destination_schema_names": naming,
            "networking_method": networking_method,
            "hybrid_deployment_agent_id": hd_agent_id,
            "proxy_agent_id": proxy_agent_id,
            "status": {
                "setup_state": "incomplete",
                "sync_state": "paused" if paused else "scheduled",
                "update_state": "on_schedule",
                "is_historical_sync": True,
                "tasks": [],
                "warnings": [],
            },
            "config": config,
        }
        self.connections[connection_id] = connection
        return connection

    def _connection(self, connection_id: str) -> dict[str, Any]:
        """The stored connection, or the API's 404."""
        connection = self.connections.get(connection_id)
        if connection is None:
            raise ApiError(404, "NotFound_Connection", f"Connection with id '{connection_id}' doesn't exist")
        return connection

    def _group_name(self, group_id: str) -> str:
        """The name of a group id, or the API's 404."""
        for name, known_id in self.groups.items():
            if known_id == group_id:
                return name
        raise ApiError(404, "NotFound_Group", f"Group with id '{group_id}' doesn't exist")

    def _package_view(self, package_id: str) -> dict[str, Any]:
        """A package as GET /v1/connector-sdk/packages/{id} shows it; connection_ids decide the CLI's sharing check."""
        users = [c["id"] for c in self.connections.values() if c["config"].get("package_id") == package_id]
        return {
            "id": package_id,
            "created_at": self._package_created.get(package_id),
            "size": len(self.packages[package_id]),
            "connection_id": users[0] if users else None,
            "connection_ids": users,
        }

    def _run_setup_tests(self, connection: dict[str, Any]) -> list[dict[str, Any]]:
        """The setup tests run on create/update: one test, failing when configured; sets setup_state to match."""
        if self.setup_tests_fail:
            connection["status"]["setup_state"] = "incomplete"
            return [
                {"title": SETUP_TEST_TITLE, "status": "FAILED", "message": SETUP_TEST_FAILURE_MESSAGE, "details": ""}
            ]
        connection["status"]["setup_state"] = "connected"
        return [{"title": SETUP_TEST_TITLE, "status": "PASSED", "message": "", "details": ""}]

    def _check_package(self, config: dict[str, Any]) -> None:
        """A connection must point at an uploaded package, as the real API insists."""
        package_id = config.get("package_id")
        if not package_id:
            raise ApiError(400, "InvalidInput", "Missing required field 'config.package_id'")
        if package_id not in self.packages:
            raise ApiError(404, "NotFound_Package", f"Package with id '{package_id}' doesn't exist")

    # ---- routes (called with the lock held; each returns (status, body))

    def _list_groups(self, request: Recorded) -> tuple[int, Any]:
        """GET /v1/groups: the configured groups, a page at a time."""
        items = [
            {"id": group_id, "name": name, "created_at": "2024-01-01T00:00:00.000Z"}
            for name, group_id in self.groups.items()
        ]
        return 200, success(paginate(items, request.query, self.groups_page_size))

    def _get_group(self, request: Recorded, group_id: str) -> tuple[int, Any]:
        """GET /v1/groups/{id}."""
        name = self._group_name(group_id)
        return 200, success({"id": group_id, "name": name, "created_at": "2024-01-01T00:00:00.000Z"})

    def _list_group_connections(self, request: Recorded, group_id: str) -> tuple[int, Any]:
        """GET /v1/groups/{id}/connectors?schema=...: the CLI finds an existing connection by its schema name."""
        self._group_name(group_id)
        schema = request.query.get("schema", [None])[-1]
        items = [
            self._view(c)
            for c in self.connections.values()
            if c["group_id"] == group_id and (schema is None or c["schema"] == schema)
        ]
        return 200, success(paginate(items, request.query, 1000))

    def _get_destination(self, request: Recorded, group_id: str) -> tuple[int, Any]:
        """GET /v1/destinations/{id}: destination and group ids are the same value; no default agent here."""
        self._group_name(group_id)
        return 200, success(
            {
                "id": group_id,
                "group_id": group_id,
                "service": self.destination_type,
                "region": "GCP_US_EAST4",
                "time_zone_offset": "0",
                "setup_status": "connected",
                "networking_method": "Directly",
                "hybrid_deployment_agent_id": None,
                "config": {},
            }
        )

    def _list_migration_connections(self, request: Recorded) -> tuple[int, Any]:
        """GET /v1/connector-sdk/migration/connections: nothing to migrate."""
        query_int(request.query, "limit", 100, 1000)
        return 200, success({"items": [], "next_cursor": None})

    def _create_package(self, request: Recorded) -> tuple[int, Any]:
        """POST /v1/connector-sdk/packages: keep the zip sent as multipart part `file`."""
        if "file" not in request.files:
            raise ApiError(400, "InvalidInput", "Missing required multipart part 'file'")
        package_id = self._store_package(request.files["file"])
        return 201, success(self._package_view(package_id), "Package has been uploaded")

    def _list_packages(self, request: Recorded) -> tuple[int, Any]:
        """GET /v1/connector-sdk/packages (`fivetran package list`)."""
        items = [self._package_view(package_id) for package_id in self.packages]
        return 200, success(paginate(items, request.query, 1000))

    def _get_package(self, request: Recorded, package_id: str) -> tuple[int, Any]:
        """GET /v1/connector-sdk/packages/{id}: a 404 means "no such package" to the CLI."""
        if package_id not in self.packages:
            raise ApiError(404, "NotFound_Package", f"Package with id '{package_id}' doesn't exist")
        return 200, success(self._package_view(package_id))

    def _update_package(self, request: Recorded, package_id: str) -> tuple[int, Any]:
        """PATCH /v1/connector-sdk/packages/{id} (`fivetran package update`): replace the zip."""
        if package_id not in self.packages:
            raise ApiError(404, "NotFound_Package", f"Package with id '{package_id}' doesn't exist")
        if "file" not in request.files:
            raise ApiError(400, "InvalidInput", "Missing required multipart part 'file'")
        self.packages[package_id] = request.files["file"]
        return 200, success(self._package_view(package_id), "Package has been updated")

    def _delete_package(self, request: Recorded, package_id: str) -> tuple[int, Any]:
        """DELETE /v1/connector-sdk/packages/{id}: the CLI's clean-up of an upload whose connection failed."""
        if package_id not in self.packages:
            raise ApiError(404, "NotFound_Package", f"Package with id '{package_id}' doesn't exist")
        if self._package_view(package_id)["connection_ids"]:
            raise ApiError(409, "Conflict", f"Package '{package_id}' is used by a connection")
        del self.packages[package_id]
        self._package_created.pop(package_id, None)
        return 200, success(message="Package has been deleted")

    def _create_connection(self, request: Recorded) -> tuple[int, Any]:
        """POST /v1/connectors: 201 with the connection and its setup tests (which may fail, as configured)."""
        body = request.json
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidInput", "Request body must be a JSON object")
        group_id = str(body.get("group_id") or "")
        self._group_name(group_id)
        if body.get("service") != SERVICE:
            raise ApiError(400, "InvalidInput", f"Unsupported service: {body.get('service')!r}")
        config = body.get("config")
        if not isinstance(config, dict):
            raise ApiError(400, "InvalidInput", "Missing required field 'config'")
        schema = config.get("schema")
        if not isinstance(schema, str) or not SCHEMA_NAME_PATTERN.match(schema):
            raise ApiError(400, "InvalidInput", f"Invalid schema name: {schema!r}")
        if any(c["group_id"] == group_id and c["schema"] == schema for c in self.connections.values()):
            raise ApiError(409, "Conflict", f"Connection with schema '{schema}' already exists in group '{group_id}'")
        self._check_package(config)
        if self.reject_configuration:
            raise ApiError(400, "InvalidInput", self.reject_configuration)
        stored_config = {key: copy.deepcopy(value) for key, value in config.items() if value is not None}
        stored_config.setdefault("python_version", DEFAULT_PYTHON_VERSION)
        frequency = str(body.get("sync_frequency", "360"))
        connection = self._new_connection(
            group_id,
            SERVICE,
            stored_config,
            body.get("destination_schema_names") or DEFAULT_NAMING,
            paused=bool(body.get("paused", False)),
            sync_frequency=int(frequency) if frequency.isdigit() else 360,
            hd_agent_id=body.get("hybrid_deployment_agent_id"),
            proxy_agent_id=body.get("proxy_agent_id"),
            networking_method=body.get("networking_method") or "Directly",
        )
        view = self._view(connection)
        if body.get("run_setup_tests", True):
            view["setup_tests"] = self._run_setup_tests(connection)
            view["status"] = copy.deepcopy(connection["status"])
        return 201, success(view, "Connection has been created")

    def _get_connection(self, request: Recorded, connection_id: str) -> tuple[int, Any]:
        """GET /v1/connections/{id} and GET /v1/connectors/{id}: the same connection."""
        return 200, success(self._view(self._connection(connection_id)))

    def _update_connection(self, request: Recorded, connection_id: str) -> tuple[int, Any]:
        """PATCH /v1/connectors/{id} (the CLI's redeploy) and PATCH /v1/connections/{id} (e.g. {"paused": false}).

        Top-level fields given replace the stored ones; `config` merges key by key (null removes a key).  Setup
        tests run when run_setup_tests is true.  reject_configuration applies only to requests that change config.
        """
        connection = self._connection(connection_id)
        body = request.json
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidInput", "Request body must be a JSON object")
        config = body.get("config")
        if config is not None:
            if not isinstance(config, dict):
                raise ApiError(400, "InvalidInput", "Field 'config' must be an object")
            if "package_id" in config:
                self._check_package(config)
            if self.reject_configuration:
                raise ApiError(400, "InvalidInput", self.reject_configuration)
        if "paused" in body and not isinstance(body["paused"], bool):
            raise ApiError(400, "InvalidInput", "Field 'paused' must be a boolean")
        if config is not None:
            connection["config"] = merge_config(connection["config"], config)
            connection["schema"] = connection["config"].get("schema", connection["schema"])
        if "paused" in body and body["paused"] != connection["paused"]:
            # as the real API reports it: a paused connection's sync_state is "paused", unpausing schedules it
            connection["status"]["sync_state"] = "paused" if body["paused"] else "scheduled"
        for key in (
            "paused",
            "hybrid_deployment_agent_id",
            "proxy_agent_id",
            "networking_method",
            "schedule_type",
            "pause_after_trial",
            "daily_sync_time",
        ):
            if key in body:
                connection[key] = body[key]
        if "sync_frequency" in body and str(body["sync_frequency"]).isdigit():
            connection["sync_frequency"] = int(body["sync_frequency"])
        view = self._view(connection)
        if body.get("run_setup_tests"):
            view["setup_tests"] = self._run_setup_tests(connection)
            view["status"] = copy.deepcopy(connection["status"])
        return 200, success(view, "Connection has been updated")

    def _delete_connection(self, request: Recorded, connection_id: str) -> tuple[int, Any]:
        """DELETE /v1/connections/{id}."""
        self._connection(connection_id)
        del self.connections[connection_id]
        return 200, success(message="Connection has been deleted")

    def _trigger_sync(self, request: Recorded, connection_id: str) -> tuple[int, Any]:
        """POST /v1/connections/{id}/sync: acknowledged only; tests move the status on with set_status()."""
        self._connection(connection_id)
        return 200, {"code": "Success", "message": SYNC_TRIGGERED_MESSAGE}

    def _view(self, connection: dict[str, Any]) -> dict[str, Any]:
        """A connection as the API returns it: a copy (callers may not alias stored state), secrets masked."""
        view = copy.deepcopy(connection)
        view["config"] = mask_config(connection["config"])
        return view

    # ---- request handling

    def _answer(self, request: Recorded) -> tuple[int, Any]:
        """Authenticate, route and run one request; every error is the API's {"code", "message"} JSON."""
        try:
            if header(request, "Authorization") != self.authorization:
                raise ApiError(401, "AuthFailed", AUTH_FAILED_MESSAGE)
            handler, arguments = self._match(request.method, request.path)
            with self._lock:
                return handler(request, **arguments)
        except ApiError as error:
            return error.status, {"code": error.code, "message": error.message}

    def _match(self, method: str, path: str) -> tuple[Callable[..., tuple[int, Any]], dict[str, str]]:
        """The route for method and path: 404 for an unknown path, 405 for a known path with another method."""
        path = path.rstrip("/") or "/"
        known_path = False
        for route_method, pattern, name in _ROUTES:
            found = pattern.fullmatch(path)
            if found:
                known_path = True
                if route_method == method:
                    return getattr(self, name), found.groupdict()
        if known_path:
            raise ApiError(405, "MethodNotAllowed", f"Method {method} is not allowed for {path}")
        raise ApiError(404, "NotFound", f"No such endpoint: {method} {path}")

    def _record(self, request: Recorded) -> None:
        """Keep the request (before answering, so a client that got its answer sees it recorded)."""
        with self._lock:
            self.requests.append(request)


class _Server(FakeServer):
    api: FakeFivetranApi


class _Handler(FakeHandler):
    """Reads and records a request, lets FakeFivetranApi answer it, and writes JSON with Content-Length (keep-alive)."""

    server_version = "FakeFivetranApi/1.0"
    server: _Server

    def _dispatch(self) -> None:
        """Record the request, answer it (a bug in the fake answers 500 and is kept in api.errors), send the answer."""
        api = self.server.api
        try:
            request = self._parse()
        except ApiError as error:
            self._send(error.status, {"code": error.code, "message": error.message})
            return
        try:
            status, payload = api._answer(request)
        except Exception:  # noqa: BLE001 - a bug in this fake: answer 500 and keep the traceback for the test
            api.errors.append(traceback.format_exc())
            status, payload = 500, {"code": "InternalError", "message": "fake Fivetran API error"}
        request.status = status
        api._record(request)
        self._send(status, payload)

    def _parse(self) -> Recorded:
        """The request as a Recorded: query, headers, and the body as JSON or multipart parts."""
        split = urlsplit(self.path)
        body = self._read_body()
        content_type = self.headers.get("Content-Type", "")
        parsed_json: Any = None
        form_fields: dict[str, str] = {}
        files: dict[str, bytes] = {}
        filenames: dict[str, str] = {}
        if content_type.lower().startswith("multipart/form-data"):
            form_fields, files, filenames = parse_multipart(content_type, body)
        elif body:
            try:
                parsed_json = json.loads(body)
            except ValueError:
                if "json" in content_type.lower():
                    raise ApiError(400, "InvalidInput", "Request body is not valid JSON") from None
        return Recorded(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            json=parsed_json,
            form_fields=form_fields,
            files=files,
            filenames=filenames,
        )

    def _read_body(self) -> bytes:
        """The whole body (Content-Length or chunked), so the next keep-alive request starts at the right byte."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, payload: Any) -> None:
        """Write a JSON answer with Content-Length."""
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


FakeFivetranApi.handler = _Handler
FakeFivetranApi.server_class = _Server
