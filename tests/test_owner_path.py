"""A generated project in its owner's hands: a fresh virtual environment made only from the project's own
requirements files (none of the template's packages), and the project's own `invoke lint`, `invoke test` and
`invoke verify`, for one project of every source type.

The happy path is quiet: no warning the owner would be told to ignore, the verification table printed once, and
tables that stay readable when the output is a file or a CI log rather than a terminal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.harness import owner_environment, owner_run, owner_venv, render
from tests.servers.databases import Database, postgres_database
from tests.servers.graphql_api import FakeGraphQLApi, sample_issues
from tests.servers.rest_api import FakeRestApi, openfda_records, openfda_shape
from tests.test_render_variants import REALISTIC_VARIANTS

pytestmark = [pytest.mark.sync, pytest.mark.slow]

# What the SDK prints when it sees a dependency problem; on a generated project's happy path none of it may appear.
NOISE = [
    "requirements.txt` file not found",
    "Include the following dependency",
    "dependencies are not needed",
    "Traceback (most recent call last)",
    "WARNING",
]
GRAPHQL_QUERY = """query Issues($first: Int!, $after: String, $since: String) {
  issues(first: $first, after: $after, since: $since) {
    nodes { id number title updatedAt score labels author { login } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@contextmanager
def rest_source() -> Iterator[dict[str, str]]:
    with FakeRestApi(openfda_shape(), records=openfda_records(130)) as server:
        yield {"CONNECTOR_BASE_URL": server.base_url}


@contextmanager
def graphql_source() -> Iterator[dict[str, str]]:
    with FakeGraphQLApi(sample_issues(40), max_page_size=7) as server:
        yield {"CONNECTOR_GRAPHQL_URL": server.url}


@contextmanager
def database_source() -> Iterator[dict[str, str]]:
    with postgres_database() as database:
        seed(database)
        yield {f"CONNECTOR_{key.upper()}": value for key, value in database.configuration().items()}


@contextmanager
def file_source() -> Iterator[dict[str, str]]:
    yield {}  # the project's own sample_data folder


def seed(database: Database) -> None:
    database.execute(
        "CREATE TABLE orders (id integer PRIMARY KEY, amount numeric(10, 2), placed timestamptz,"
        " updated_at timestamptz NOT NULL)",
        "INSERT INTO orders SELECT n, n * 1.25, timestamptz '2024-01-01 10:00+00' + n * interval '1 hour',"
        " timestamptz '2024-02-01 00:00+00' + n * interval '1 minute' FROM generate_series(1, 50) n",
    )


PROJECTS = {
    "rest_openfda_defaults": ({}, rest_source, {"food_enforcement": 130}),
    "graphql_relay": (
        {
            "source_type": "graphql",
            "graphql_url": "https://api.example.com/graphql",
            "graphql_query": GRAPHQL_QUERY,
            "records_path": "issues.nodes",
            "auth_method": "none",
        },
        graphql_source,
        {"issues": 40},
    ),
    "database_postgresql": ({"source_type": "database"}, database_source, {"orders": 50}),
    "file_local_csv": ({"source_type": "file"}, file_source, None),
}


@pytest.mark.parametrize("name", PROJECTS)
def test_a_fresh_project_passes_lint_test_and_verify_in_its_own_venv(name, template, tmp_path):
    answers, source, expected_rows = PROJECTS[name]
    project = render(template, tmp_path / "project", answers)
    environment = owner_environment(owner_venv(project), tmp_path / "home")

    lint = owner_run(project, environment, "invoke", "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr

    with source() as variables:
        environment.update(variables)
        test = owner_run(project, environment, "invoke", "test")
        output = test.stdout + test.stderr
        assert test.returncode == 0, output[-6000:]
        verify = owner_run(project, environment, "invoke", "verify")
    assert verify.returncode == 0, (verify.stdout + verify.stderr)[-4000:]
    assert "Every check passed." in verify.stdout

    assert "All checks passed." in test.stdout
    for noise in NOISE:
        assert noise not in output, f"{noise!r} on the happy path:\n{context(output, noise)}"
    assert test.stdout.count("After the second sync (files/warehouse.db)") == 1
    assert "After the first sync" not in test.stdout  # checked quietly; only problems would be printed
    # Not a terminal: the table still has one line per table, its headers unbroken.
    assert re.search(r"┃ table\s*┃ rows ┃ duplicate keys ┃ null keys ┃", test.stdout), test.stdout[-3000:]

    report = json.loads((project / "files" / "test_report.json").read_text())
    assert report["passed"] is True
    if expected_rows is not None:
        assert report["tables"] == expected_rows
    assert not list(project.glob("*.txt.bak")) and not (project / "tmp_requirements.txt").exists()


def context(output: str, needle: str, width: int = 600) -> str:
    at = output.find(needle)
    return output[max(0, at - width) : at + width]


@pytest.mark.rest_api
def test_an_owner_venv_holds_only_the_projects_requirements(template, tmp_path):
    """The check above means something only if the template's packages are absent from the owner's venv."""
    project = render(template, tmp_path / "project", {})
    environment = owner_environment(owner_venv(project), tmp_path / "home")
    probe = owner_run(project, environment, "python", "-c", "import moto")
    assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr
    assert Path(environment["VIRTUAL_ENV"]).is_relative_to(Path(__file__).resolve().parents[1] / "build")


# The tables a project's connector declares, as its own Python sees them.
TABLES = "import json, connector; print(json.dumps([table['table'] for table in connector.schema({})]))"
FAKE_PROJECTS = {
    "rest_bearer_cursor": {
        "source_name": "Acme Orders",
        "base_url": "https://api.acme.example/v1",
        "endpoint_path": "/orders",
        "records_path": "data",
        "primary_key": "id",
        "auth_method": "bearer",
        "pagination": "cursor",
        "next_cursor_path": "meta.next",
        "incremental_field": "updated_at",
        "incremental_filter": "updated_since={cursor}",
        "start_value": "2020-01-01T00:00:00Z",
    },
    "graphql_defaults": {"source_type": "graphql"},
    # Answers that collide and need escaping: a key named `name`; OData's `$top`, `@odata\\.nextLink`, quotes, unicode.
    "rest_github_labels_key_is_name": REALISTIC_VARIANTS["realistic_rest_github_labels_key_is_name"],
    "rest_msgraph_odata": REALISTIC_VARIANTS["realistic_rest_msgraph_odata"],
}


@pytest.mark.parametrize("name", FAKE_PROJECTS)
def test_invoke_test_fake_syncs_from_the_projects_own_fake_api_without_credentials(name, template, tmp_path):
    project = render(template, tmp_path / "project", FAKE_PROJECTS[name])
    environment = owner_environment(owner_venv(project), tmp_path / "home")

    lint = owner_run(project, environment, "invoke", "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    result = owner_run(project, environment, "invoke", "test", "--fake")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "Syncing from tests/fake_api.py" in output and "All checks passed against the fake API" in output
    for table in json.loads(owner_run(project, environment, "python", "-c", TABLES).stdout):
        assert re.search(rf"│ {table}\s*│ 250\s*│ 0\s*│ 0\s*│", output), output[-3000:]
    # A sync from the fake is no evidence for a deployment: no report that `invoke deploy` would accept.
    assert not (project / "files" / "test_report.json").exists()
    assert "<BEARER_TOKEN>" in (project / "configuration.json").read_text() or name != "rest_bearer_cursor"
