"""`invoke probe` in a REST project: from the base URL, the endpoint's path and the auth alone, it finds the answers
the API's documentation gives (records path, pagination and its parameters, page size parameter, key, cursor field and
order, a filter that verifiably works), and `invoke probe --apply` re-templates the project with them, after which the
project's own `invoke test` passes and its syncs land every record exactly.

The APIs are local fakes of fifteen real APIs' shapes (tests/servers/api_shapes.py). What the probe cannot tell it
says, with what it saw; it never prints a secret.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from tests.exact_values import assert_table_exact, declared_columns
from tests.harness import owner_environment, owner_run, owner_venv, render, table_name
from tests.servers.api_shapes import RECORDS, SHAPES, RealShape
from tests.servers.graphql_api import FakeGraphQLApi, sample_issues
from tests.servers.rest_api import ApiShape, Auth, FakeRestApi

pytestmark = [pytest.mark.sync, pytest.mark.slow]


def least_answers(real: RealShape) -> dict[str, str]:
    """What a person knows before reading any documentation: where the API is, the list's path, how to log in."""
    return {
        "source_name": real.name.replace("_", " ").title(),
        "base_url": "https://api.example.com",
        "endpoint_path": real.shape.path,
        **real.auth_answers,
    }


@contextmanager
def served(real: RealShape, environment: dict[str, str], records: list[dict]) -> Iterator[FakeRestApi]:
    with FakeRestApi(real.shape, real.auth, records=records) as api:
        environment.update(CONNECTOR_BASE_URL=api.base_url)
        environment.update({f"CONNECTOR_{key.upper()}": value for key, value in real.secrets.items()})
        yield api
    assert not api.errors, api.errors


def owner_note(project: Path) -> str:
    """An owner's edit of a file the template writes, committed as `copier update` wants; `--apply` must keep it."""
    note = "Ask Ana before raising the page size: the API bills per request."
    readme = project / "README.md"
    readme.write_text(readme.read_text() + f"\n{note}\n")
    git = ["git", "-c", "user.name=owner", "-c", "user.email=owner@example.com"]
    subprocess.run([*git, "commit", "-qam", "An owner's note"], cwd=project, check=True)
    return note


def answers_file(project: Path) -> dict[str, str]:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return {key: "" if value is None else str(value) for key, value in answers.items()}


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


@pytest.mark.rest_api
@pytest.mark.parametrize("name", SHAPES)
def test_probe_apply_and_two_syncs_are_exact(name, template, tmp_path):
    real = SHAPES[name]
    project = render(template, tmp_path / "project", least_answers(real))
    environment = owner_environment(owner_venv(project), tmp_path / "home")
    records = real.records(RECORDS)
    note = owner_note(project)

    with served(real, environment, records) as api:
        probed = owner_run(project, environment, "invoke", "probe", "--apply")
        assert probed.returncode == 0, output_of(probed)[-5000:]
        tested = owner_run(project, environment, "invoke", "test")
        assert tested.returncode == 0, output_of(tested)[-5000:]
        # A record the first syncs have not seen: the next sync, resuming from the state, brings it.
        newer = real.records(RECORDS + 1)[-1]
        api.upsert(newer)
        records.append(newer)
        synced = owner_run(project, environment, "invoke", "sync")
        assert synced.returncode == 0, output_of(synced)[-5000:]

    assert note in (project / "README.md").read_text(), "the owner's edit was lost"
    answers = answers_file(project)
    found = {question: answers.get(question, "") for question in real.answers}
    assert found == real.answers
    table = answers["table_name"]
    declarations = declared_columns(project)[table]
    # The destination names the table as Fivetran does (crm_v3_objects_contacts lands as crm_v_3_objects_contacts).
    assert_table_exact(project, table_name(table), records, real.shape.primary_key, declarations)
    for secret in real.secrets.values():
        for result in (probed, tested, synced):
            assert secret not in output_of(result)


@pytest.fixture(scope="module")
def probe_project(template, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A project made from the least answers of an API with a Bearer token, for the probe's other behaviours."""
    project = render(template, tmp_path_factory.mktemp("probe") / "project", least_answers(SHAPES["github_issues"]))
    return project, owner_environment(owner_venv(project), tmp_path_factory.mktemp("home"))


def probe(project: Path, environment: dict[str, str], shape: ApiShape, records: list[dict], *options: str):
    with FakeRestApi(shape, Auth("bearer", secret="ghp_fake0123456789"), records=records) as api:
        secrets = {"CONNECTOR_BASE_URL": api.base_url, "CONNECTOR_BEARER_TOKEN": "ghp_fake0123456789"}
        return owner_run(project, {**environment, **secrets}, "invoke", "probe", *options)


@pytest.mark.rest_api
def test_what_the_probe_cannot_tell_it_says_and_does_not_answer(probe_project):
    """Paging parameters of names no API commonly uses: the body says more records follow, and the probe says so
    rather than answering `none`, which would sync the first page alone."""
    project, environment = probe_project
    shape = ApiShape(
        path=SHAPES["github_issues"].shape.path,
        records_path="items",
        pagination="offset",
        offset_param="position",
        page_size_param="n",
        default_page_size=10,
        total_path="total",
    )
    result = probe(project, environment, shape, SHAPES["github_issues"].records(40))
    output = " ".join(output_of(result).split())
    assert result.returncode == 0, output
    assert "? pagination: the first page holds 10 records and says more follow (`total` is 40)" in output
    assert "'none'" not in output and "'offset'" not in output
    assert "`invoke probe --apply` re-templates the project" in output  # the records path it did find


@pytest.mark.rest_api
def test_an_endpoint_without_records_stops_the_probe_with_what_it_saw(probe_project):
    project, environment = probe_project
    result = probe(project, environment, ApiShape(path=SHAPES["github_issues"].shape.path, records_path="data"), [])
    assert result.returncode == 1
    assert "returned no records (empty lists at: data); probe an endpoint with them" in output_of(result)


@pytest.mark.rest_api
def test_apply_refuses_a_project_with_uncommitted_changes(probe_project):
    project, environment = probe_project
    readme = project / "README.md"
    original = readme.read_text()
    readme.write_text(original + "\nAn owner's note.\n")
    try:
        real = SHAPES["github_issues"]
        result = probe(project, environment, real.shape, real.records(60), "--apply")
    finally:
        readme.write_text(original)
    assert result.returncode == 1
    assert "Commit your changes first: `copier update` needs a clean git working tree." in output_of(result)
    assert answers_file(project)["pagination"] == "link_header"  # the default, untouched


# GraphQL: the person writes the query (it declares the variables it pages and filters with); the probe answers
# where its records are, how it pages, and its key, cursor, order and filter variable.
GRAPHQL_QUERIES = {
    "relay_nodes": (
        """query Issues($first: Int!, $after: String, $since: String) {
  issues(first: $first, after: $after, since: $since) {
    nodes { id number title updatedAt score labels author { login } }
    pageInfo { hasNextPage endCursor }
  }
}""",
        {
            "records_path": "issues.nodes",
            "graphql_pagination": "relay",
            "page_info_path": "issues.pageInfo",
            "page_size_variable": "first",
            "cursor_variable": "after",
            "incremental_field": "updatedAt",
            "incremental_variable": "since",
            "record_order": "ascending",
        },
    ),
    "relay_edges_epoch_filter": (
        """query Issues($first: Int!, $after: String, $after_epoch: Int) {
  issues(first: $first, after: $after, updatedAfter: $after_epoch) {
    edges { node { id number title updatedAt } cursor }
    pageInfo { hasNextPage endCursor }
  }
}""",
        {
            "records_path": "issues.edges",
            "graphql_pagination": "relay",
            "page_info_path": "issues.pageInfo",
            "cursor_variable": "after",
            "incremental_field": "updatedAt",
            "incremental_variable": "after_epoch={cursor:epoch}",
        },
    ),
    "offset_items": (
        """query Issues($limit: Int!, $offset: Int, $updated: String) {
  issuePage(limit: $limit, offset: $offset, since: $updated) { items { id number title updatedAt } total }
}""",
        {
            "records_path": "issuePage.items",
            "graphql_pagination": "offset",
            "page_size_variable": "limit",
            "offset_variable": "offset",
            "incremental_field": "updatedAt",
            "incremental_variable": "updated",
        },
    ),
}


def selected(record: dict, query: str) -> dict:
    """The fields of a sample issue the query asks for."""
    fields = {name: record[name] for name in ("id", "number", "title", "updatedAt") if name in record}
    if "score" in query:
        fields.update(score=record["score"], labels=record["labels"])
        fields["author"] = None if record["author"] is None else {"login": record["author"]["login"]}
    return fields


@pytest.mark.graphql
@pytest.mark.parametrize("name", GRAPHQL_QUERIES)
def test_graphql_probe_apply_and_two_syncs_are_exact(name, template, tmp_path):
    query, expected = GRAPHQL_QUERIES[name]
    answers = {"source_type": "graphql", "graphql_url": "https://api.example.com/graphql", "graphql_query": query}
    if "$limit" in query:  # the defaults page with Relay cursors; this query's page size variable must exist
        answers.update(graphql_pagination="offset", page_size_variable="limit")
    project = render(template, tmp_path / "project", {**answers, "auth_method": "bearer"})
    environment = owner_environment(owner_venv(project), tmp_path / "home")
    issues = sample_issues(137)

    with FakeGraphQLApi(issues, auth=Auth("bearer", secret="gql-secret-1"), max_page_size=50) as api:
        environment.update(CONNECTOR_GRAPHQL_URL=api.url, CONNECTOR_BEARER_TOKEN="gql-secret-1")
        probed = owner_run(project, environment, "invoke", "probe", "--apply")
        assert probed.returncode == 0, output_of(probed)[-5000:]
        tested = owner_run(project, environment, "invoke", "test")
        assert tested.returncode == 0, output_of(tested)[-5000:]
        newer = {**sample_issues(138)[-1]}
        api.upsert(newer)
        issues.append(newer)
        synced = owner_run(project, environment, "invoke", "sync")
        assert synced.returncode == 0, output_of(synced)[-5000:]
    assert not api.errors, api.errors

    found = answers_file(project)
    assert {question: found.get(question, "") for question in expected} == expected
    table = found["table_name"]
    declarations = declared_columns(project)[table]
    records = [selected(issue, query) for issue in issues]
    assert_table_exact(project, table_name(table), records, ("id",), declarations)
    for result in (probed, tested, synced):
        assert "gql-secret-1" not in output_of(result)
