"""Generated GraphQL connectors sync from a local GraphQL API (graphql-core) into DuckDB with the real
`fivetran debug`, exactly, and a second sync after changes reflects them with nothing lost or repeated. Errors in
the response (including partial data) stop the sync with the API's message; bad queries are refused at copy time."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field

import pytest

from tests.exact_values import EXPECTED_DECLARATIONS, assert_table_exact, declared_columns, exact_records, later_records
from tests.harness import (
    BIN,
    SyncFailed,
    assert_state_not_past_written,
    assert_table_matches,
    fivetran_debug,
    fivetran_debug_killed,
    invoke,
    read_state,
    render,
    warehouse_rows,
)
from tests.servers.graphql_api import FakeGraphQLApi, GraphQLFaults, sample_issues
from tests.servers.rest_api import Auth

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "graphql"

RELAY_NODES = """query Issues($first: Int!, $after: String, $since: String) {
  issues(first: $first, after: $after, since: $since) {
    nodes { id number title updatedAt score labels author { login profile { country } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
RELAY_EDGES = """query Issues($first: Int!, $after: String, $since: String) {
  issues(first: $first, after: $after, since: $since) {
    edges { node { id number title updatedAt score labels author { login profile { country } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
# The API filters by epoch seconds, an Int: the saved ISO-8601 cursor goes formatted.
RELAY_EPOCH = """query Issues($first: Int!, $after: String, $updatedAfter: Int) {
  issues(first: $first, after: $after, updatedAfter: $updatedAfter) {
    nodes { id number title updatedAt score labels author { login profile { country } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
OFFSET = """query Issues($limit: Int!, $offset: Int!, $since: String) {
  issuePage(limit: $limit, offset: $offset, since: $since) {
    items { id number title updatedAt score labels author { login profile { country } } }
    total
  }
}"""


@dataclass
class Scenario:
    answers: dict
    auth: Auth = field(default_factory=Auth)
    faults: GraphQLFaults = field(default_factory=GraphQLFaults)


def answers(query: str, records_path: str, **extra) -> dict:
    pagination = "offset" if "$offset" in query else "relay"
    return {
        "source_type": "graphql",
        "source_name": "Issues API",
        "graphql_url": "http://127.0.0.1:9/graphql",
        "graphql_query": query,
        "graphql_pagination": pagination,
        "records_path": records_path,
        "table_name": "issues",
        "primary_key": "id",
        "incremental_field": "updatedAt",
        "incremental_variable": "since",
        "page_size": 10,
        **extra,
    }


SCENARIOS = {
    "relay_nodes_capped_pages_bearer": Scenario(
        answers(RELAY_NODES, "issues.nodes", auth_method="bearer"), auth=Auth(method="bearer")
    ),
    "relay_edges_api_key_rate_limited": Scenario(
        answers(
            RELAY_EDGES, "issues.edges", auth_method="api_key", api_key_location="header", api_key_name="X-Api-Key"
        ),
        auth=Auth(method="api_key_header", name="X-Api-Key"),
        faults=GraphQLFaults(graphql_rate_limit_first=1, rate_limit_every=4, retry_after="0.05"),
    ),
    "offset_oauth2_tokens_expire": Scenario(
        answers(OFFSET, "issuePage.items", auth_method="oauth2_client_credentials"),
        auth=Auth(method="oauth2", expire_tokens_after_requests=3),
    ),
    "relay_nodes_cursor_as_epoch_int_503_and_429": Scenario(
        answers(RELAY_EPOCH, "issues.nodes", incremental_variable="updatedAfter={cursor:epoch}"),
        faults=GraphQLFaults(fail_first=1, rate_limit_every=5, retry_after="0.01"),
    ),
    # The refresh token rotates on every use and only the newest works: the second sync authenticates only with the
    # token the first one kept in its state.
    "relay_nodes_oauth2_refresh_token_rotates": Scenario(
        answers(RELAY_NODES, "issues.nodes", auth_method="oauth2_refresh_token"),
        auth=Auth(method="oauth2_refresh", expire_tokens_after_requests=3),
    ),
}


def configuration_for(scenario: Scenario, server: FakeGraphQLApi) -> dict[str, str]:
    auth = scenario.auth
    configuration = {"graphql_url": server.url, "page_size": "10", "start_date": ""}
    configuration.update(
        {
            "api_key_header": {"api_key": auth.secret},
            "bearer": {"bearer_token": auth.secret},
            "oauth2": {
                "client_id": auth.client_id,
                "client_secret": auth.client_secret,
                "token_url": server.base_url + auth.token_path,
            },
            "oauth2_refresh": {
                "client_id": auth.client_id,
                "client_secret": auth.client_secret,
                "refresh_token": auth.refresh_token,
                "token_url": server.base_url + auth.token_path,
            },
        }.get(auth.method, {})
    )
    return configuration


@pytest.mark.parametrize("name", SCENARIOS)
def test_two_syncs_hold_exactly_what_the_api_holds(name, template, tool_env, tmp_path):
    scenario = SCENARIOS[name]
    project = render(template, tmp_path / "project", scenario.answers)
    with FakeGraphQLApi(sample_issues(45), auth=scenario.auth, faults=scenario.faults, max_page_size=7) as server:
        configuration = configuration_for(scenario, server)
        output = fivetran_debug(project, configuration, tool_env)
        assert_table_matches(project, "issues", server.records(), ("id",))
        first_requests = server.graphql_requests

        changed = dict(server.records()[4], title="changed", updatedAt="2030-01-02T00:00:00Z")
        server.upsert(changed)
        server.upsert(dict(server.records()[0], id="I_9000", updatedAt="2030-01-01T00:00:00Z"))
        output += fivetran_debug(project, configuration, tool_env)
        assert_table_matches(project, "issues", server.records(), ("id",))
        assert read_state(project)["issues"]["cursor"] == "2030-01-02T00:00:00Z"
        assert server.graphql_requests - first_requests < first_requests  # the second sync asked only for changes
        assert not server.errors
        refresh_tokens = server.refresh_tokens if scenario.auth.method == "oauth2_refresh" else []
    if scenario.auth.method != "none":
        assert scenario.auth.secret not in output and scenario.auth.client_secret not in output
    for refresh_token in refresh_tokens:
        assert refresh_token not in output


@pytest.mark.parametrize(
    ("faults", "query", "message"),
    [
        (GraphQLFaults(partial_error_on_id="I_0003"), RELAY_NODES, "the GraphQL API answered with errors"),
        (GraphQLFaults(repeat_cursor=True), RELAY_NODES, "came a second time"),
        (GraphQLFaults(), RELAY_NODES.replace("score", "scor"), "Cannot query field 'scor'"),
    ],
    ids=["partial_data_refused", "repeating_cursor", "unknown_field"],
)
def test_errors_stop_the_sync_with_the_apis_message(faults, query, message, template, tool_env, tmp_path):
    project = render(template, tmp_path / "project", answers(query, "issues.nodes"))
    with FakeGraphQLApi(sample_issues(12), faults=faults, max_page_size=5) as server:
        with pytest.raises(SyncFailed) as failure:
            fivetran_debug(project, configuration_for(Scenario({}), server), tool_env)
    assert message in failure.value.output


def test_a_query_that_does_not_parse_is_refused_at_copy_time(template, tmp_path):
    destination = tmp_path / "project"
    broken = RELAY_NODES.replace("pageInfo {", "pageInfo {{")
    broken = broken + "}"  # braces balance, so only graphql-core can tell
    command = [
        str(BIN / "copier"),
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        "--data",
        "source_type=graphql",
        "--data",
        f"graphql_query={broken}",
        str(template),
        str(destination),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "graphql_query (issues): not valid GraphQL" in result.stderr
    assert not destination.exists()


EXACT_QUERY = RELAY_NODES.replace("author { login profile { country } } }", "fields }")
# The issue's own fields as the server's schema types them, then everything in `fields`, flattened under its name.
EXACT_DECLARATIONS = {
    "id": "STRING",
    "number": "LONG",
    "title": "STRING",
    "updatedAt": "STRING",
    "score": "STRING",
    "labels": "JSON",
    **{f"fields_{name}": declaration for name, declaration in EXPECTED_DECLARATIONS.items() if name != "id"},
}
EXACT_DECLARATIONS.pop("fields_updated_at")


def exact_issue(number: int, record: dict) -> dict:
    """A GraphQL issue around one of tests/exact_values.py's records: its id and cursor, the rest under `fields`."""
    fields = {name: value for name, value in record.items() if name not in ("id", "updated_at")}
    return {
        "id": record["id"],
        "number": number,
        "title": f"issue {number}",
        "updatedAt": record["updated_at"],
        "score": None,
        "labels": [],
        "fields": fields,
    }


def test_every_value_lands_with_the_type_and_value_the_api_sent(template, tool_env, tmp_path):
    """`invoke test` declares the columns from its first sync, and every field of every issue then lands exactly,
    before and after a change."""
    project = render(template, tmp_path / "project", answers(EXACT_QUERY, "issues.nodes", page_size=3))
    issues = [exact_issue(number, record) for number, record in enumerate(exact_records(), start=1)]
    with FakeGraphQLApi(issues, max_page_size=3) as server:
        environment = {**tool_env, "CONNECTOR_GRAPHQL_URL": server.url}
        tested = invoke(project, environment, "test", "--skip-unit")
        assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
        assert declared_columns(project) == {"issues": EXACT_DECLARATIONS}
        assert_table_exact(project, "issues", server.records(), ("id",), EXACT_DECLARATIONS)

        for number, record in enumerate(later_records(), start=90):
            server.upsert(exact_issue(number, record))
        fivetran_debug(project, configuration_for(Scenario({}), server), tool_env)
        assert_table_exact(project, "issues", server.records(), ("id",), EXACT_DECLARATIONS)


def test_a_sync_killed_mid_page_resumes_and_lands_exactly_the_api(template, tool_env, tmp_path):
    """SIGKILL inside the third page: the state never points past what was written, and the next sync lands every
    issue exactly once."""
    scenario = SCENARIOS["relay_nodes_capped_pages_bearer"]
    project = render(template, tmp_path / "project", {**scenario.answers, "page_size": 5})
    with FakeGraphQLApi(sample_issues(30), auth=scenario.auth, max_page_size=5) as server:
        configuration = {**configuration_for(scenario, server), "page_size": "5"}
        fivetran_debug_killed(project, configuration, tool_env, at_record=13)
        assert_state_not_past_written(project, "issues", server.records(), "updatedAt")
        fivetran_debug(project, configuration, tool_env)
        assert_table_matches(project, "issues", server.records(), ("id",))
        assert not any(row["_fivetran_deleted"] for row in warehouse_rows(project, "issues"))


COMMENTS = """query Comments($first: Int!, $after: String, $issueId: ID!, $since: String) {
  issue(id: $issueId) {
    comments(first: $first, after: $after, since: $since) {
      nodes { id body createdAt }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


def comment(number: int, minute: int, body: str = "") -> dict:
    return {"id": f"C_{number}", "body": body or f"comment {number}", "createdAt": f"2024-01-01T00:{minute:02d}:00Z"}


def test_a_child_query_runs_for_each_changed_parent_from_that_parents_cursor(template, tool_env, tmp_path):
    """Comments are a nested list that needs its own paging, so a child query fetches them for each issue, its
    $issueId filled from the issue's id, with its own cursor per issue. With 429s and a 503 injected both tables
    hold exactly what the API does after a first sync, and after a change the second sync runs the child query only
    for the changed issue and those inside the lookback, each from its own cursor."""
    settings = answers(RELAY_NODES, "issues.nodes", page_size=2)
    settings["graphql_queries"] = [
        {"table": "issues", "query": RELAY_NODES, "records_path": "issues.nodes", "primary_key": "id"},
        {
            "table": "issue_comments",
            "parent": "issues",
            "parent_variables": {"issueId": "id"},
            "query": COMMENTS,
            "records_path": "issue.comments.nodes",
            "primary_key": "id",
            "incremental_field": "createdAt",
            "incremental_variable": "since",
        },
    ]
    project = render(template, tmp_path / "project", settings)
    issues = [{**record, "updatedAt": f"2024-01-01T00:{10 * n:02d}:00Z"} for n, record in enumerate(sample_issues(5))]
    faults = GraphQLFaults(fail_first=1, rate_limit_every=4, retry_after="0.01")
    with FakeGraphQLApi(issues, faults=faults, max_page_size=2) as server:
        for issue in issues:
            for number in range(3):
                server.upsert_comment(issue["id"], comment(number, minute=number))
        configuration = {"graphql_url": server.url, "page_size": "2", "start_date": ""}

        fivetran_debug(project, configuration, tool_env)
        assert_table_matches(project, "issues", server.records(), ("id",))
        assert_table_matches(project, "issue_comments", comment_rows(server), ("issues_id", "id"))
        cursors = read_state(project)["issue_comments"]["cursors"]
        assert cursors[f'{{"issueId": "{issues[2]["id"]}"}}'] == "2024-01-01T00:02:00Z"

        changed = issues[1]["id"]
        server.upsert({**server.records()[1], "updatedAt": "2024-01-01T00:50:00Z"})
        server.upsert_comment(changed, comment(0, minute=0, body="edited, same time"))
        server.upsert_comment(changed, comment(7, minute=30))
        requests_before = len(server.requests)

        fivetran_debug(project, configuration, tool_env)

        assert_table_matches(project, "issues", server.records(), ("id",))
        assert_table_matches(project, "issue_comments", comment_rows(server), ("issues_id", "id"))
        variables_sent = [(log.payload or {}).get("variables") or {} for log in server.requests[requests_before:]]
        asked = [variables for variables in variables_sent if "issueId" in variables]
        # The newest issue of the first sync is inside the lookback; the changed one is new to this sync.
        assert {variables["issueId"] for variables in asked} == {issues[4]["id"], changed}
        # From the changed issue's saved comment cursor (00:02) less the lookback of 5 minutes.
        assert {variables["since"] for variables in asked if variables["issueId"] == changed} == {
            "2023-12-31T23:57:00Z"
        }
        assert not server.errors


def comment_rows(server: FakeGraphQLApi) -> list[dict]:
    return [{**found, "issues_id": issue_id} for issue_id, comments in server.comments().items() for found in comments]
