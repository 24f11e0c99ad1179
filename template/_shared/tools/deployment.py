"""Deploying to Fivetran: preflight checks, `fivetran deploy` on a clean package, and the connection's status.

The Fivetran API key is read from FIVETRAN_API_KEY (base64 of key:secret, as `fivetran deploy` takes it) or from
FIVETRAN_API_KEY and FIVETRAN_API_SECRET (then encoded here). It is never printed: commands are echoed masked.

Preflight shows every configuration value with where it came from (configuration.json, configuration.local.json or
a CONNECTOR_<KEY> variable), secrets masked, because a value left in the shell from a local test would otherwise
become the production connection's value without a word.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from invoke import Exit
from rich.table import Table
from rich.text import Text

from tools import local
from tools.report import console

PYTHON_VERSION = "3.12"  # Fivetran runtime for the connection; required by `fivetran deploy` when redeploying
DEFAULT_API_URL = "https://api.fivetran.com"
SDK_CONFIG = Path.home() / ".fivetran" / "connector_sdk" / "_config.json"
DEPLOYMENT_RECORD = local.PROJECT / ".deployment.json"  # ignored by git: which connection this project deployed
PACKAGE_ROOT = local.FILES / "package"
CONNECTION_NAME_PATTERN = re.compile(r"^[_a-z][_a-z0-9]*$")
REQUEST_TIMEOUT_SECONDS = 30
TRACKED_CONFIGURATION = local.PROJECT / "configuration.json"
MASK = "***"
# Secrets are the keys configuration.json holds as <PLACEHOLDER>s; these names count as secrets even where an owner
# replaced the placeholder, so that they are masked (and flagged) all the same.
SECRET_KEYS = frozenset(
    {
        "api_key",
        "bearer_token",
        "password",
        "client_secret",
        "aws_secret_access_key",
        "private_key",
        "service_account_json",
        "connection_string",
    }
)
# Addresses Fivetran's cloud cannot reach. Only literal IP addresses and localhost are recognised: preflight does not
# resolve names (it makes no network calls), so a name such as db.internal that points at 10.0.0.5 passes.
UNREACHABLE_NETWORKS: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = [
    (ipaddress.ip_network(network), kind)
    for network, kind in [
        ("127.0.0.0/8", "a loopback address"),
        ("::1/128", "a loopback address"),
        ("0.0.0.0/8", "an unspecified address (this machine)"),
        ("::/128", "an unspecified address (this machine)"),
        ("10.0.0.0/8", "a private address"),
        ("172.16.0.0/12", "a private address"),
        ("192.168.0.0/16", "a private address"),
        ("fc00::/7", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT address"),
        ("169.254.0.0/16", "a link-local address"),
        ("fe80::/10", "a link-local address"),
    ]
]

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


def tracked_configuration() -> dict[str, Any]:
    return json.loads(TRACKED_CONFIGURATION.read_text(encoding="utf-8"))


def refuse_local_folder() -> None:
    """A connector that reads a local folder cannot run in Fivetran's cloud: say so before anything else."""
    if "folder" in tracked_configuration():
        raise Exit(
            "Not deploying: this connector reads files from a local folder (configuration key `folder`). Fivetran "
            "runs deployed connectors in its cloud, where that folder does not exist, so the connection would find "
            "no files. Put the files in S3 or on an SFTP server and switch the storage with "
            "`copier update --trust --data file_storage=s3` (or `file_storage=sftp`), run `invoke test`, then deploy.",
            code=1,
        )


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
    problems += configuration_problems(configuration)
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


def configuration_problems(configuration: dict[str, str]) -> list[str]:
    """Keys that would reach Fivetran by accident: unknown to configuration.json, or secrets written into it."""
    tracked = tracked_configuration()
    problems = []
    unknown = [key for key in configuration if key not in tracked]
    if unknown:
        problems.append(
            f"configuration.local.json sets {', '.join(unknown)}, which configuration.json does not have: add the "
            "key to configuration.json (as a <PLACEHOLDER> if it is a secret) or remove it, so that only the "
            "connector's own keys are deployed."
        )
    committed = [key for key, value in tracked.items() if key in SECRET_KEYS and value and not is_placeholder(value)]
    if committed:
        variables = ", ".join(local.ENV_PREFIX + key.upper() for key in committed)
        problems.append(
            f"configuration.json holds a value for the secret {', '.join(committed)}: put back the <PLACEHOLDER>, "
            f"and set {variables} or configuration.local.json instead (configuration.json is committed to git)."
        )
    return problems


def is_placeholder(value: object) -> bool:
    return isinstance(value, str) and value.startswith("<") and value.endswith(">")


@dataclass(frozen=True)
class ConfigurationValue:
    """One value of the configuration `invoke deploy` sends, and where it came from."""

    key: str
    value: str
    source: str  # "configuration.json", "configuration.local.json" or "environment" (the CONNECTOR_<KEY> variable)
    secret: bool

    @property
    def variable(self) -> str:
        return local.ENV_PREFIX + self.key.upper()

    @property
    def origin(self) -> str:
        """Where the value came from, as the table and the messages name it."""
        return f"{self.variable} (environment)" if self.source == "environment" else self.source

    @property
    def overridden(self) -> bool:
        return self.source != TRACKED_CONFIGURATION.name

    @property
    def how_to_change(self) -> str:
        if self.source == "environment":
            return f"unset {self.variable}"
        if self.source == local.LOCAL_CONFIGURATION.name:
            return f"remove {self.key} from configuration.local.json"
        return f"change {self.key} in configuration.json and run `invoke test` again"

    @property
    def shown(self) -> str:
        """The value as it may be printed: a secret fully masked (not even a prefix), a URL without credentials."""
        if not self.value:
            return "(empty)"
        if self.secret:
            return MASK
        return without_credentials(self.value) if "://" in self.value else self.value


def configuration_values(configuration: dict[str, str]) -> list[ConfigurationValue]:
    """Each value with its source, by local.merged_configuration()'s precedence: environment, local file, tracked."""
    tracked = tracked_configuration()
    local_file = local.LOCAL_CONFIGURATION
    local_keys = json.loads(local_file.read_text(encoding="utf-8")).keys() if local_file.exists() else set()
    values = []
    for key, value in configuration.items():
        if local.ENV_PREFIX + key.upper() in os.environ:
            source = "environment"
        elif key in local_keys:
            source = local_file.name
        else:
            source = TRACKED_CONFIGURATION.name
        secret = key in SECRET_KEYS or is_placeholder(tracked.get(key))
        values.append(ConfigurationValue(key, value, source, secret))
    return values


def without_credentials(url: str) -> str:
    """A URL as it may be shown: a password in it and the values of its query parameters masked."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = f"{parts.username}:{MASK}@{netloc.rsplit('@', 1)[1]}"
    except ValueError:
        return MASK  # not a URL urllib can read, so not one whose secrets could be told apart
    query = urlencode([(name, MASK) for name, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def password_in_url(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def configuration_table(values: list[ConfigurationValue]) -> Table:
    table = Table(
        title="Configuration to deploy",
        caption="Values from configuration.local.json or the environment (highlighted) override configuration.json. "
        "Secrets are masked.",
    )
    table.add_column("key", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("from", overflow="fold")
    for value in values:
        # Text, not markup: a value such as http://[fd12::7]/ is shown as written, brackets included.
        cells = (Text(value.key), Text(value.shown), Text(value.origin))
        table.add_row(*cells, style="bold yellow" if value.overridden else None)
    return table


@dataclass(frozen=True)
class UnreachableHost:
    """A URL or host value that names an address Fivetran's cloud cannot reach."""

    value: ConfigurationValue
    kind: str  # "a loopback address", "a private address", ...

    def describe(self) -> str:
        value = self.value
        return f"{value.key} = {value.shown} is {self.kind}, from {value.origin}: {value.how_to_change}"


def unreachable_hosts(values: list[ConfigurationValue]) -> list[UnreachableHost]:
    """The URL (`*_url`) and host (`host`, `*_host`) values that are loopback, private or link-local addresses."""
    found = []
    for value in values:
        host = host_of(value.key, value.value)
        kind = unreachable_kind(host) if host else None
        if kind:
            found.append(UnreachableHost(value, kind))
    return found


def host_of(key: str, value: str) -> str | None:
    """The host that a URL key (`url`, `*_url`) or a host key (`host`, `*_host`) names; None for other keys."""
    value = value.strip()
    if not value:
        return None
    try:
        if key == "url" or key.endswith("_url"):
            return urlsplit(value if "://" in value else f"//{value}").hostname
        if key == "host" or key.endswith("_host"):
            bare = value.strip("[]")
            return bare if ip_address_of(bare) is not None else urlsplit(f"//{value}").hostname  # `db:5432` names db
    except ValueError:
        return None  # malformed (an unclosed IPv6 bracket): validate_configuration() reports those
    return None


def ip_address_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%")[0])  # an IPv6 zone (fe80::1%eth0) is not part of the address
    except ValueError:
        return None


def unreachable_kind(host: str) -> str | None:
    """Which kind of unreachable address `host` is, or None; a name other than localhost is not resolved."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return "a loopback address"
    address = ip_address_of(host)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return next((kind for network, kind in UNREACHABLE_NETWORKS if address in network), None)


def confirm_reachable_hosts(values: list[ConfigurationValue], yes: bool, allow_private_hosts: bool) -> None:
    """Refuse or ask when a URL or host names an address Fivetran's cloud cannot reach.

    `--yes` alone never confirms one: a CONNECTOR_BASE_URL=http://127.0.0.1:... left in the shell from a local test
    must not become a production connection's value. Only `--allow-private-hosts` or an explicit answer does.
    """
    unreachable = unreachable_hosts(values)
    if not unreachable or allow_private_hosts:
        return
    warning = (
        "Fivetran runs the connection in its cloud, which cannot reach loopback, private or link-local addresses "
        "(names other than localhost are not resolved, so only literal addresses are caught):\n  - "
        + "\n  - ".join(host.describe() for host in unreachable)
    )
    if yes:
        raise Exit(
            f"Not deploying: {warning}\nIf the connection should use them anyway (a Fivetran Hybrid Deployment agent "
            "or a private link reaches them), add --allow-private-hosts.",
            code=1,
        )
    console.print(warning, markup=False)
    if input("Deploy a connection that uses these addresses anyway? [y/N] ").strip().lower() not in ("y", "yes"):
        raise Exit("Deployment cancelled.", code=1)


def stage_package(connection: str) -> Path:
    """A folder holding only what Fivetran runs, so tasks, tools, tests and local results are never uploaded."""
    package = PACKAGE_ROOT / connection
    if package.exists():
        shutil.rmtree(package)
    package.mkdir(parents=True)
    local.copy_runtime_files(package)  # the same files `invoke test` ran with `fivetran debug`
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


def known_secrets(values: list[ConfigurationValue]) -> list[str]:
    """Every secret this deployment handles: the connector's and the Fivetran API key, in every form it is given."""
    secrets = [value.value for value in values if value.secret]
    secrets += [password_in_url(value.value) for value in values if "://" in value.value]
    secrets += [os.environ.get("FIVETRAN_API_KEY", ""), os.environ.get("FIVETRAN_API_SECRET", ""), api_key() or ""]
    return [secret for secret in secrets if secret]


def redacted(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each secret masked, longest first so that no part of one is left."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


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
