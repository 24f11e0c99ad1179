"""`invoke deploy`, `invoke status` and `invoke start` of a generated project, against a local fake of the Fivetran
REST API, with the real `fivetran deploy` CLI pointed at it through an isolated HOME.

Every test checks what the fake received and that no secret (the source's token, the Fivetran API secret) reached
the output or any file the project holds.

The project's configuration.json names a public base URL; its local test ran against a fake API on 127.0.0.1 through
CONNECTOR_BASE_URL, the way an owner tests. A deployment leaves that variable out unless a test is about it.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.harness import invoke, render, tool_environment
from tests.servers.fivetran_api import FakeFivetranApi, sdk_home
from tests.servers.rest_api import ApiShape, Auth, FakeRestApi, sample_records

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "rest_api"  # but where a test is marked otherwise

SOURCE_TOKEN = "source-token-7f3a9c"
API_KEY, API_SECRET = "fivetran-key", "fivetran-secret-51d2"
SHAPE = ApiShape(path="/v1/items", records_path="data")
PUBLIC_BASE_URL = "https://api.items.example.com"
LOOPBACK_BASE_URL = "http://127.0.0.1:8765/api"
URL_PASSWORD = "url-password-2b8e"


@pytest.fixture(scope="module")
def tested_project(template, tmp_path_factory):
    """A bearer-token connector whose `invoke test` passed against a local API that stays up for the module."""
    answers = {
        "source_name": "Items API",
        "base_url": PUBLIC_BASE_URL,
        "endpoint_path": SHAPE.path,
        "table_name": "items",
        "records_path": "data",
        "primary_key": "id",
        "incremental_field": "updated_at",
        "incremental_filter": "",
        "auth_method": "bearer",
        "pagination": "offset",
        "page_size": 10,
        "offset_param": "skip",
    }
    root = tmp_path_factory.mktemp("deploy")
    project = render(template, root / "items_api", answers)
    with FakeRestApi(SHAPE, auth=Auth(method="bearer", secret=SOURCE_TOKEN), records=sample_records(25)) as source:
        environment = {
            **tool_environment(root / "home"),
            "CONNECTOR_BASE_URL": source.base_url,
            "CONNECTOR_BEARER_TOKEN": SOURCE_TOKEN,
        }
        result = invoke(project, environment, "test")
        assert result.returncode == 0, result.stdout[-3000:]
        yield project, environment


@pytest.fixture
def project(tested_project, tmp_path):
    source, _ = tested_project
    copy = tmp_path / "items_api"
    shutil.copytree(source, copy)
    return copy


def deploy_environment(tested_project, tmp_path, fivetran: FakeFivetranApi, **overrides: str) -> dict[str, str]:
    _, environment = tested_project
    home = tmp_path / "fivetran_home"
    secrets = {
        key: value for key, value in environment.items() if key.startswith("CONNECTOR_") and key != "CONNECTOR_BASE_URL"
    }
    environment = {**tool_environment(home), **secrets}
    sdk_home(home, fivetran.base_url)
    environment.update(
        FIVETRAN_API_KEY=API_KEY,
        FIVETRAN_API_SECRET=API_SECRET,
        NO_PROXY="127.0.0.1,localhost",
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
    )
    environment.pop("CI", None)
    environment.update(overrides)
    return environment


def assert_no_secret_leaked(project: Path, result: subprocess.CompletedProcess) -> None:
    for secret in (SOURCE_TOKEN, API_SECRET, URL_PASSWORD):
        assert secret not in result.stdout and secret not in result.stderr
        for path in project.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"{secret} written to {path}"


def table_row(output: str, key: str) -> str:
    """The line of the configuration table that shows `key`."""
    return next(line for line in output.splitlines() if line.strip(" │|").startswith(key + " "))


def deployed_configuration(request_body: dict) -> dict[str, str]:
    return {item["key"]: item["value"] for item in request_body["config"]["secrets_list"]}


def test_first_deploy_creates_the_connection_and_records_it(project, tested_project, tmp_path):
    with FakeFivetranApi(api_key=API_KEY, api_secret=API_SECRET) as fivetran:
        result = invoke(project, deploy_environment(tested_project, tmp_path, fivetran), "deploy", "--yes")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        created = fivetran.requests_to("POST", "/v1/connectors")
        assert len(created) == 1
        body = created[0].json
        assert body["group_id"] == "group_1" and body["config"]["schema"] == "items_api"
        configuration = deployed_configuration(body)
        assert configuration["bearer_token"] == SOURCE_TOKEN  # the real secret went to Fivetran, and only there
        assert configuration["base_url"] == PUBLIC_BASE_URL
        package = zipfile.ZipFile(io.BytesIO(next(iter(fivetran.packages.values())))).namelist()
        assert "connector.py" in package and "tasks.py" not in package
        assert not any(name.startswith(("tests/", "tools/")) for name in package)
        assert not fivetran.errors
    record = json.loads((project / ".deployment.json").read_text())
    assert record["connection_id"] == "conn_1" and record["destination"] == "my_warehouse"
    assert "https://fivetran.com/dashboard/connections/conn_1/status" in result.stdout
    assert "Deployment summary" in result.stdout and "items: 25" in result.stdout
    assert "--api-key ***" in result.stdout
    token_row = table_row(result.stdout, "bearer_token")
    assert "***" in token_row and "CONNECTOR_BEARER_TOKEN (environment)" in token_row
    assert "configuration.json" in table_row(result.stdout, "base_url")
    assert_no_secret_leaked(project, result)


def test_redeploy_updates_the_same_connection(project, tested_project, tmp_path):
    with FakeFivetranApi(api_key=API_KEY, api_secret=API_SECRET) as fivetran:
        environment = deploy_environment(tested_project, tmp_path, fivetran)
        assert invoke(project, environment, "deploy", "--yes").returncode == 0
        result = invoke(project, environment, "deploy", "--yes")
        assert result.returncode == 0, result.stdout[-3000:]
        assert len(fivetran.requests_to("POST", "/v1/connectors")) == 1
        updates = fivetran.requests_to("PATCH", "/v1/connectors/conn_1")
        assert len(updates) == 1 and updates[0].json["config"]["package_id"] == "pkg_2"
    assert json.loads((project / ".deployment.json").read_text())["connection_id"] == "conn_1"
    assert_no_secret_leaked(project, result)


@pytest.mark.parametrize(
    ("fake", "overrides", "explanation"),
    [
        ({}, {"FIVETRAN_API_SECRET": "wrong-secret"}, "Fivetran rejected the API key"),
        ({"groups": {"analytics": "group_9"}}, {}, "There is no destination named 'my_warehouse'"),
        ({"setup_tests_fail": True}, {}, "its setup tests failed"),
        # Fivetran's message quotes the secret: the task masks it in everything it prints.
        ({"reject_configuration": f"bearer_token {SOURCE_TOKEN} is malformed"}, {}, "bearer_token *** is malformed"),
    ],
    ids=["bad_api_key", "unknown_destination", "setup_tests_fail", "configuration_rejected"],
)
def test_known_failures_are_explained(fake, overrides, explanation, project, tested_project, tmp_path):
    with FakeFivetranApi(api_key=API_KEY, api_secret=API_SECRET, **fake) as fivetran:
        result = invoke(project, deploy_environment(tested_project, tmp_path, fivetran, **overrides), "deploy", "--yes")
    assert result.returncode != 0
    assert explanation in result.stderr
    assert not (project / ".deployment.json").exists()
    assert_no_secret_leaked(project, result)


def test_status_and_start(project, tested_project, tmp_path):
    with FakeFivetranApi(api_key=API_KEY, api_secret=API_SECRET) as fivetran:
        environment = deploy_environment(tested_project, tmp_path, fivetran)
        assert invoke(project, environment, "deploy", "--yes").returncode == 0
        fivetran.set_status("conn_1", sync_state="syncing", succeeded_at="2026-11-25T10:00:00Z")
        status = invoke(project, environment, "status")
        assert status.returncode == 0, status.stderr
        assert "syncing" in status.stdout and "2026-11-25T10:00:00Z" in status.stdout
        started = invoke(project, environment, "start", "--yes")
        assert started.returncode == 0, started.stderr
        assert [r.json for r in fivetran.requests_to("PATCH", "/v1/connections/conn_1")] == [{"paused": False}]
        assert len(fivetran.requests_to("POST", "/v1/connections/conn_1/sync")) == 1
        assert fivetran.connections["conn_1"]["paused"] is False


def test_start_asks_for_confirmation(project, tested_project, tmp_path):
    with FakeFivetranApi(api_key=API_KEY, api_secret=API_SECRET) as fivetran:
        environment = deploy_environment(tested_project, tmp_path, fivetran)
        assert invoke(project, environment, "deploy", "--yes").returncode == 0
        refused = invoke(project, environment, "start", stdin="n\n")
        assert refused.returncode != 0 and "Not started." in refused.stderr
        assert not fivetran.requests_to("POST", "/v1/connections/conn_1/sync")


@pytest.mark.parametrize(
    "case",
    [
        "placeholder_left",
        "no_local_test",
        "conflict_markers",
        "code_changed",
        "no_api_key",
        "unknown_local_key",
        "secret_in_configuration_json",
    ],
)
def test_preflight_refuses_and_sends_nothing(case, project, tested_project, tmp_path):
    overrides: dict[str, str] = {}
    expected = {
        "placeholder_left": "set CONNECTOR_BEARER_TOKEN",
        "no_local_test": "No local test yet: run `invoke test`",
        "conflict_markers": "hooks.py:",
        "code_changed": "changed since the last `invoke test`",
        "no_api_key": "No Fivetran API key",
        "unknown_local_key": "configuration.local.json sets bearer-token, which configuration.json does not have",
        "secret_in_configuration_json": "configuration.json holds a value for the secret bearer_token",
    }[case]
    if case == "no_local_test":
        (project / "files" / "test_report.json").unlink()
    elif case == "conflict_markers":
        hooks = project / "hooks.py"
        hooks.write_text(hooks.read_text() + "<<<<<<< before updating\n=======\n>>>>>>> after updating\n")
    elif case == "code_changed":
        connector = project / "connector.py"
        connector.write_text(connector.read_text() + "\n# an edit after the local test\n")
    elif case == "unknown_local_key":
        (project / "configuration.local.json").write_text(json.dumps({"bearer-token": SOURCE_TOKEN}))
    elif case == "secret_in_configuration_json":
        configuration = json.loads((project / "configuration.json").read_text())
        (project / "configuration.json").write_text(json.dumps({**configuration, "bearer_token": SOURCE_TOKEN}))
    with FakeFivetranApi(api_key=API_KEY, api_secret=API_SECRET) as fivetran:
        environment = deploy_environment(tested_project, tmp_path, fivetran, **overrides)
        if case == "placeholder_left":
            environment.pop("CONNECTOR_BEARER_TOKEN")
        if case == "no_api_key":
            environment.pop("FIVETRAN_API_KEY")
            environment.pop("FIVETRAN_API_SECRET")
        result = invoke(project, environment, "deploy", "--yes")
        assert fivetran.requests == []
    assert result.returncode != 0
    assert "Not deploying yet" in result.stderr and expected in result.stderr


def test_deploy_asks_for_confirmation(project, tested_project, tmp_path):
    with FakeFivetranApi(api_key=API_KEY, api_secret=API_SECRET) as fivetran:
        environment = deploy_environment(tested_project, tmp_path, fivetran)
        refused = invoke(project, environment, "deploy", stdin="n\n")
        assert refused.returncode != 0 and "Deployment cancelled." in refused.stderr
        assert "Deploying items_api to the Fivetran destination my_warehouse" in refused.stdout
        assert fivetran.requests == []


@pytest.mark.parametrize(
    ("url", "shown", "source", "refusal"),
    [
        (
            LOOPBACK_BASE_URL,
            LOOPBACK_BASE_URL,
            "CONNECTOR_BASE_URL (environment)",
            "is a loopback address, from CONNECTOR_BASE_URL (environment): unset CONNECTOR_BASE_URL",
        ),
        (
            "http://10.20.30.40/api",
            "http://10.20.30.40/api",
            "configuration.local.json",
            "is a private address, from configuration.local.json: remove base_url from configuration.local.json",
        ),
        (
            f"http://reader:{URL_PASSWORD}@[fd12:3456::7]:8080/api?key=abc123",
            "http://reader:***@[fd12:3456::7]:8080/api?key=***",
            "CONNECTOR_BASE_URL (environment)",
            "is a private address, from CONNECTOR_BASE_URL (environment)",
        ),
    ],
    ids=["loopback_from_environment", "private_from_local_file", "private_ipv6_with_credentials"],
)
def test_unreachable_host_is_shown_and_refused_with_yes(url, shown, source, refusal, project, tested_project, tmp_path):
    """`--yes` alone never deploys a URL that Fivetran's cloud cannot reach; the table shows where it came from."""
    overrides = {}
    if source == "configuration.local.json":
        (project / "configuration.local.json").write_text(json.dumps({"base_url": url}))
    else:
        overrides["CONNECTOR_BASE_URL"] = url
    with FakeFivetranApi(api_key=API_KEY, api_secret=API_SECRET) as fivetran:
        result = invoke(project, deploy_environment(tested_project, tmp_path, fivetran, **overrides), "deploy", "--yes")
        assert fivetran.requests == []  # no package uploaded, no connection created
    assert result.returncode != 0
    row = table_row(result.stdout, "base_url")
    assert shown in row and source in row
    assert "Not deploying" in result.stderr and f"base_url = {shown} {refusal}" in result.stderr
    assert "add --allow-private-hosts" in result.stderr
    assert "***" in table_row(result.stdout, "bearer_token")
    assert_no_secret_leaked(project, result)


def test_unreachable_host_asks_a_specific_question(project, tested_project, tmp_path):
    with FakeFivetranApi(api_key=API_KEY, api_secret=API_SECRET) as fivetran:
        environment = deploy_environment(tested_project, tmp_path, fivetran, CONNECTOR_BASE_URL=LOOPBACK_BASE_URL)
        refused = invoke(project, environment, "deploy", stdin="\n")
        assert fivetran.requests == []
        assert refused.returncode != 0 and "Deployment cancelled." in refused.stderr
        assert "is a loopback address, from CONNECTOR_BASE_URL (environment)" in refused.stdout
        assert "Deploy a connection that uses these addresses anyway? [y/N]" in refused.stdout
        assert "Continue?" not in refused.stdout  # the general question comes only after this one

        confirmed = invoke(project, environment, "deploy", stdin="y\ny\n")  # this question, then "Continue?"
        assert confirmed.returncode == 0, confirmed.stdout[-3000:] + confirmed.stderr[-2000:]
        (created,) = fivetran.requests_to("POST", "/v1/connectors")
        assert deployed_configuration(created.json)["base_url"] == LOOPBACK_BASE_URL
    assert_no_secret_leaked(project, confirmed)


def test_unreachable_host_deploys_with_allow_private_hosts(project, tested_project, tmp_path):
    """The owner's explicit flag: e.g. a Fivetran Hybrid Deployment agent reaches the address."""
    with FakeFivetranApi(api_key=API_KEY, api_secret=API_SECRET) as fivetran:
        environment = deploy_environment(tested_project, tmp_path, fivetran, CONNECTOR_BASE_URL=LOOPBACK_BASE_URL)
        result = invoke(project, environment, "deploy", "--yes", "--allow-private-hosts")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        (created,) = fivetran.requests_to("POST", "/v1/connectors")
        assert deployed_configuration(created.json)["base_url"] == LOOPBACK_BASE_URL
    assert "CONNECTOR_BASE_URL (environment)" in table_row(result.stdout, "base_url")
    assert_no_secret_leaked(project, result)


@pytest.mark.file
def test_local_folder_file_connector_is_refused(template, tmp_path):
    """A local folder exists only on this machine: the refusal says so and what to choose instead."""
    project = render(template, tmp_path / "vendor_files", {"source_type": "file", "file_storage": "local"})
    with FakeFivetranApi(api_key=API_KEY, api_secret=API_SECRET) as fivetran:
        environment = {
            **tool_environment(tmp_path / "home"),
            "FIVETRAN_API_KEY": API_KEY,
            "FIVETRAN_API_SECRET": API_SECRET,
        }
        sdk_home(tmp_path / "home", fivetran.base_url)
        result = invoke(project, environment, "deploy", "--yes")
        assert fivetran.requests == []
    assert result.returncode != 0
    assert "this connector reads files from a local folder" in result.stderr
    assert "Fivetran runs deployed connectors in its cloud, where that folder does not exist" in result.stderr
    assert "copier update --trust --data file_storage=s3" in result.stderr
