"""Deploying to Fivetran: preflight checks, `fivetran deploy` on a clean package, and the connection's status.

The Fivetran API key is read from FIVETRAN_API_KEY (base64 of key:secret, as `fivetran deploy` takes it) or from
FIVETRAN_API_KEY and FIVETRAN_API_SECRET (then encoded here). It is never printed: commands are echoed masked.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests
from invoke import Exit

from tools import local

PYTHON_VERSION = "3.12"  # Fivetran runtime for the connection; required by `fivetran deploy` when redeploying
DEFAULT_API_URL = "https://api.fivetran.com"
SDK_CONFIG = Path.home() / ".fivetran" / "connector_sdk" / "_config.json"
DEPLOYMENT_RECORD = local.PROJECT / ".deployment.json"  # ignored by git: which connection this project deployed
PACKAGE_ROOT = local.FILES / "package"
CONNECTION_NAME_PATTERN = re.compile(r"^[_a-z][_a-z0-9]*$")
REQUEST_TIMEOUT_SECONDS = 30

# Output of `fivetran deploy` that has a known cause, and what to do about it.
KNOWN_FAILURES: list[tuple[str, str]] = [
    (
        r"request failed error: 401|valid base64-encoded API key",
        "Fivetran rejected the API key. Check FIVETRAN_API_KEY (and FIVETRAN_API_SECRET): create a key under "
        "Settings > API key in the Fivetran dashboard.",
    ),
    (
        r"destination '(?P<name>[^']*)' not found",
        "There is no destination named '{name}' in this Fivetran account. Create it, or change destination_name "
        "(`copier update --trust --data destination_name=...`).",
    ),
    (
        r"setup tests failed",
        "The connection was created, but its setup tests failed: the connector could not read the source with "
        "this configuration. Fix the configuration values, run `invoke test`, then deploy again.",
    ),
    (
        r"failed to (create|update) connection error: (?P<message>.*)",
        "Fivetran rejected the configuration: {message}. Check the values in configuration.json and the secrets.",
    ),
    (
        r"is shared with other connections",
        "The connection's package is shared with other connections, so the CLI will not overwrite it. Deploy under "
        "a new connection name, or update the other connections in the Fivetran dashboard first.",
    ),
    (
        r"not a Connector SDK connection",
        "A connection of that name exists and is not a Connector SDK connection: choose another connector_name.",
    ),
    (r"(?i)invalid connection name", "The connection name is invalid: use lowercase letters, digits and _."),
]


@dataclass
class Deployment:
    connection: str
    destination: str
    connection_id: str
    package_id: str
    deployed_at: str

    @property
    def dashboard_url(self) -> str:
        return f"https://fivetran.com/dashboard/connections/{self.connection_id}/status"

    def save(self) -> None:
        DEPLOYMENT_RECORD.write_text(json.dumps(self.__dict__, indent=2), encoding="utf-8")

    @classmethod
    def load(cls) -> Deployment:
        if not DEPLOYMENT_RECORD.exists():
            raise Exit("No deployment recorded in .deployment.json: run `invoke deploy` first.", code=1)
        return cls(**json.loads(DEPLOYMENT_RECORD.read_text(encoding="utf-8")))


def api_key() -> str | None:
    """The base64 key:secret pair from the environment, or None."""
    key, secret = os.environ.get("FIVETRAN_API_KEY", ""), os.environ.get("FIVETRAN_API_SECRET", "")
    if key and secret:
        return base64.b64encode(f"{key}:{secret}".encode()).decode()
    if key:
        try:
            decoded = base64.b64decode(key, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return key if ":" in decoded else None
    return None


def preflight(connection: str, destination: str) -> tuple[list[str], dict[str, str]]:
    """Everything that must hold before deploying; each problem says what to do."""
    problems = []
    configuration: dict[str, str] = {}
    try:
        local.refuse_unresolved_update()
    except Exit as refusal:
        problems.append(str(refusal.message))
    report = local.LocalTestReport.load()
    if report is None:
        problems.append("No local test yet: run `invoke test` (it must pass before a deployment).")
    elif not report.passed:
        problems.append("The last `invoke test` failed: fix it and run it again.")
    elif report.fingerprint != local.code_fingerprint():
        problems.append("The code or configuration.json changed since the last `invoke test`: run it again.")
    try:
        configuration = local.effective_configuration()
    except Exit as refusal:
        problems.append(f"Configuration: {refusal.message}")
    if not CONNECTION_NAME_PATTERN.fullmatch(connection):
        problems.append(f"Connection name {connection!r} is invalid: use lowercase letters, digits and _.")
    if not destination.strip():
        problems.append("No destination named: set destination_name (`copier update --data destination_name=...`).")
    if api_key() is None:
        problems.append(
            "No Fivetran API key: set FIVETRAN_API_KEY to base64 of key:secret, or FIVETRAN_API_KEY and "
            "FIVETRAN_API_SECRET to the key and the secret."
        )
    return problems, configuration


def stage_package(connection: str) -> Path:
    """A folder holding only what Fivetran runs, so tasks, tools, tests and local results are never uploaded."""
    package = PACKAGE_ROOT / connection
    if package.exists():
        shutil.rmtree(package)
    package.mkdir(parents=True)
    for path in local.runtime_files():
        shutil.copy2(path, package / path.name)
    return package


def deploy_command(key: str, destination: str, connection: str, configuration_path: Path) -> list[str]:
    return [
        "fivetran",
        "deploy",
        "--api-key",
        key,
        "--destination",
        destination,
        "--connection",
        connection,
        "--configuration",
        str(configuration_path),
        "--python-version",
        PYTHON_VERSION,
        "--yes",
    ]


def masked(command: list[str], secret: str) -> str:
    return " ".join("***" if part == secret else part for part in command)


def run_deploy(command: list[str], package: Path) -> tuple[int, str]:
    # CI=true: the CLI runs without its interactive migration check; this task asked for confirmation already.
    environment = {**os.environ, "CI": "true"}
    process = subprocess.run(command, cwd=package, capture_output=True, text=True, env=environment)
    return process.returncode, process.stdout + process.stderr


def explain_failure(output: str) -> str:
    for pattern, explanation in KNOWN_FAILURES:
        match = re.search(pattern, output)
        if match:
            return explanation.format(**match.groupdict())
    return "The deployment failed; the CLI's output above says why."


def deployment_from_output(output: str, connection: str, destination: str) -> Deployment:
    connection_id = re.search(r"connection id: (\S+)", output)
    package_id = re.search(r"package id: (\S+)", output)
    if connection_id is None:
        raise Exit("`fivetran deploy` succeeded but printed no connection id; check the dashboard.", code=1)
    return Deployment(
        connection=connection,
        destination=destination,
        connection_id=connection_id.group(1),
        package_id=package_id.group(1) if package_id else "",
        deployed_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def api_base_url() -> str:
    """The Fivetran API the CLI talks to: its configured production_base_url, or the public API."""
    if SDK_CONFIG.exists():
        configured = json.loads(SDK_CONFIG.read_text(encoding="utf-8")).get("production_base_url")
        if configured:
            return str(configured).rstrip("/")
    return DEFAULT_API_URL


def api_call(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One Fivetran REST API call; errors name the HTTP status and Fivetran's message, never the key."""
    key = api_key()
    if key is None:
        raise Exit("No Fivetran API key: set FIVETRAN_API_KEY (and FIVETRAN_API_SECRET).", code=1)
    response = requests.request(
        method,
        api_base_url() + path,
        json=body,
        headers={"Authorization": f"Basic {key}", "Accept": "application/json"},
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code >= 400:
        message = payload.get("message", response.reason) if isinstance(payload, dict) else response.reason
        hint = " Check FIVETRAN_API_KEY." if response.status_code == 401 else ""
        raise Exit(f"Fivetran API {method} {path}: HTTP {response.status_code}, {message}.{hint}", code=1)
    return payload


def connection_status(connection_id: str) -> dict[str, Any]:
    data = api_call("GET", f"/v1/connections/{connection_id}").get("data", {})
    status = data.get("status", {})
    return {
        "paused": data.get("paused"),
        "setup_state": status.get("setup_state"),
        "sync_state": status.get("sync_state"),
        "update_state": status.get("update_state"),
        "succeeded_at": data.get("succeeded_at"),
        "failed_at": data.get("failed_at"),
    }


def start_connection(connection_id: str) -> None:
    """Unpause the connection and trigger a sync now rather than at its next scheduled time."""
    api_call("PATCH", f"/v1/connections/{connection_id}", {"paused": False})
    api_call("POST", f"/v1/connections/{connection_id}/sync", {"force": False})
