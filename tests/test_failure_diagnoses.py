"""A failed first `invoke test` names the real cause and what to fix, as the connector words it, without a
traceback: a host that does not resolve, a refused connection, TLS on a plain port, a rejected token, a GraphQL
query the API's schema refuses, a refused database login, an empty schema, a file pattern that matches nothing."""

from __future__ import annotations

import runpy
import socket
import sys
from pathlib import Path

import pytest
import requests
import urllib3

from tests.harness import invoke, render
from tests.servers.api_shapes import RECORDS, SHAPES
from tests.servers.base import HOST
from tests.servers.databases import postgres_database
from tests.servers.graphql_api import FakeGraphQLApi, sample_issues
from tests.servers.rest_api import Auth, FakeRestApi, openfda_records, openfda_shape

pytestmark = [pytest.mark.sync]

BROKEN_QUERY = """query Issues($first: Int!, $after: String) {
  issues(first: $first, after: $after) { nodes { id updatedAt scor } pageInfo { hasNextPage endCursor } }
}"""


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]  # nothing listens once the probe closes


def project_module(project: Path, relative: str) -> dict:
    """A module of a rendered project, run with the project's own imports; they are forgotten afterwards."""
    sys.path.insert(0, str(project))
    try:
        return runpy.run_path(str(project / relative))
    finally:
        sys.path.remove(str(project))
        for name in [name for name in sys.modules if name == "tools" or name.startswith("tools.")]:
            del sys.modules[name]


def failed_test(project: Path, environment: dict[str, str]) -> str:
    result = invoke(project, environment, "test", "--skip-unit")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    return output


@pytest.mark.rest_api
def test_a_refused_connection_is_named(template, tool_env, tmp_path):
    project = render(template, tmp_path / "project", {})
    url = f"http://{HOST}:{closed_port()}"
    output = failed_test(project, {**tool_env, "CONNECTOR_BASE_URL": url})
    assert f"{HOST} refused the connection" in output
    assert "Likely cause: connection refused." in output


@pytest.mark.rest_api
def test_tls_on_a_plain_http_port_fails_at_once_and_is_named(template, tool_env, tmp_path):
    project = render(template, tmp_path / "project", {})
    with FakeRestApi(openfda_shape(), records=openfda_records(3)) as server:
        url = server.base_url.replace("http://", "https://")
        output = failed_test(project, {**tool_env, "CONNECTOR_BASE_URL": url})
        assert server.data_requests == 0
    assert "at once (retrying cannot fix TLS)" in output and "retrying in" not in output
    assert "Likely cause: TLS." in output


@pytest.mark.rest_api
def test_a_rejected_token_is_named_without_the_token(template, tool_env, tmp_path):
    project = render(template, tmp_path / "project", {"auth_method": "bearer"})
    with FakeRestApi(openfda_shape(), records=openfda_records(3), auth=Auth(method="bearer")) as server:
        environment = {**tool_env, "CONNECTOR_BASE_URL": server.base_url, "CONNECTOR_BEARER_TOKEN": "wrong-token-9"}
        output = failed_test(project, environment)
    assert "Likely cause: credentials." in output and "bearer_token" in output
    assert "wrong-token-9" not in output


@pytest.mark.graphql
def test_a_graphql_query_the_schema_refuses_is_named(template, tool_env, tmp_path):
    answers = {
        "source_type": "graphql",
        "graphql_url": "https://api.example.com/graphql",
        "graphql_query": BROKEN_QUERY,
        "records_path": "issues.nodes",
        "incremental_field": "",
        "auth_method": "none",
    }
    project = render(template, tmp_path / "project", answers)
    with FakeGraphQLApi(sample_issues(3)) as server:
        output = failed_test(project, {**tool_env, "CONNECTOR_GRAPHQL_URL": server.url})
    assert "Cannot query field 'scor'" in output
    assert "Likely cause: GraphQL query." in output and "Likely cause: URL" not in output


@pytest.mark.parametrize(
    ("override", "message", "cause"),
    [
        ({"user": "nobody_here"}, 'role "nobody_here" does not exist', "database login"),
        ({"schema": "nothing_here"}, "schema 'nothing_here' holds no tables", "empty schema"),
    ],
    ids=["unknown_user", "empty_schema"],
)
@pytest.mark.database
def test_a_database_that_refuses_or_holds_nothing_is_named(override, message, cause, template, tool_env, tmp_path):
    project = render(template, tmp_path / "project", {"source_type": "database"})
    with postgres_database() as database:
        database.execute("CREATE TABLE orders (id integer PRIMARY KEY, updated_at timestamptz)")
        database.execute("CREATE SCHEMA nothing_here")
        configuration = database.configuration(**override)
        environment = {**tool_env, **{f"CONNECTOR_{key.upper()}": value for key, value in configuration.items()}}
        output = failed_test(project, environment)
    assert message in output
    assert f"Likely cause: {cause}." in output


@pytest.mark.file
def test_a_file_pattern_that_matches_nothing_names_pattern_and_folder(template, tool_env, tmp_path):
    project = render(template, tmp_path / "project", {"source_type": "file", "file_pattern": "orders_*.csv"})
    empty = tmp_path / "drop"
    empty.mkdir()
    (empty / "customers.csv").write_text("id\n1\n")
    output = failed_test(project, {**tool_env, "CONNECTOR_FOLDER": str(empty)})
    assert f"no file in folder '{empty}' matches 'orders_*.csv'" in output
    assert "orders: no rows" in output


@pytest.mark.rest_api
def test_a_host_that_does_not_resolve_is_named(template, tmp_path):
    """Without sending a DNS query: the error requests raises for an unknown host, built as requests builds it."""
    project = render(template, tmp_path / "project", {})
    cause = urllib3.exceptions.NewConnectionError(None, "Failed to resolve 'api.example.test'")
    cause.__cause__ = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    retries = urllib3.exceptions.MaxRetryError(None, "/items", reason=cause)
    url = "https://api.example.test/items?token=secret-in-query"
    reason = project_module(project, "api_client.py")["unreachable_reason"](requests.ConnectionError(retries), url)
    diagnosis = project_module(project, "tools/local.py")["diagnose"](reason)
    assert reason.startswith("cannot resolve the host name api.example.test") and "secret" not in reason
    assert diagnosis.startswith("Likely cause: the host name does not resolve.")


@pytest.mark.parametrize(
    ("answers", "output", "cause"),
    [
        ({}, "HTTP 404 from https://api.example.com/items", "Likely cause: URL."),
        ({"source_type": "database"}, "HTTP 404 from https://api.example.com/items", None),
        (
            {"source_type": "database"},
            'role "x" does not exist: refused the connection',
            "Likely cause: database login.",
        ),
        ({"source_type": "file"}, "orders: no file in folder 'drop' matches '*.csv'", "Likely cause: file pattern."),
        ({"source_type": "file"}, "password authentication failed", None),
    ],
    ids=["rest_api_404", "database_no_http_causes", "database_login", "file_pattern", "file_no_database_causes"],
)
def test_a_project_names_only_the_causes_its_source_type_can_have(answers, output, cause, template, tmp_path):
    project = render(template, tmp_path / "project", {**answers, "git_init": False})
    diagnosis = project_module(project, "tools/local.py")["diagnose"](output)
    assert diagnosis.startswith(cause) if cause else diagnosis.startswith("Read the log above"), diagnosis


@pytest.mark.parametrize(
    ("shape", "answers", "message", "cause"),
    [
        ("github_issues", {"records_path": "items"}, "records_path 'items' not found in the response", "records path"),
        ("github_issues", {"primary_key": "issue_id"}, "Primary Key issue_id is null", "primary key"),
        (
            "slack_users",
            {"records_path": "members", "pagination": "cursor", "next_cursor_path": "meta.next"},
            "next_cursor_path 'meta.next' is not in the response",
            "pagination",
        ),
    ],
    ids=["records_path", "primary_key", "next_cursor_path"],
)
@pytest.mark.rest_api
def test_an_api_shaped_otherwise_points_at_the_probe(shape, answers, message, cause, template, tool_env, tmp_path):
    """A REST API whose responses do not have the shape the answers describe: the diagnosis names the answer and the
    commands that read the shape from the API and re-template the project with it."""
    real = SHAPES[shape]
    answers = {"base_url": "https://api.example.com", "endpoint_path": real.shape.path, **real.auth_answers, **answers}
    project = render(template, tmp_path / "project", answers)
    with FakeRestApi(real.shape, real.auth, records=real.records(RECORDS)) as api:
        secrets = {f"CONNECTOR_{key.upper()}": value for key, value in real.secrets.items()}
        output = failed_test(project, {**tool_env, "CONNECTOR_BASE_URL": api.base_url, **secrets})
    assert message in output
    assert f"Likely cause: {cause}." in output
    assert "`invoke probe` shows what the API returns, and `invoke probe --apply` re-templates the project" in output
