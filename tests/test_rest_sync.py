"""Generated REST connectors sync from a local API into DuckDB with the real `fivetran debug`, exactly.

Each scenario renders a connector for one API shape, syncs it, compares the warehouse with what the server holds,
then changes the server (new records, a changed record) and checks that a second sync reflects it with nothing
lost and nothing repeated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import pytest

from tests.exact_values import EXPECTED_DECLARATIONS, assert_table_exact, declared_columns, exact_records, later_records
from tests.harness import (
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
from tests.servers.rest_api import ApiShape, Auth, FakeRestApi, Faults, openfda_records, openfda_shape, sample_records

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "rest_api"

SECRETS = {"s3cret-key", "pass", "client-secret", "refresh-token-0"}


@dataclass
class Scenario:
    shape: ApiShape
    auth: Auth = field(default_factory=Auth)
    faults: Faults = field(default_factory=Faults)
    page_size: int = 10
    records: int = 47


def answers_for(scenario: Scenario) -> dict:
    shape, auth = scenario.shape, scenario.auth
    answers = {
        "source_name": "Test API",
        "base_url": "http://127.0.0.1:9",
        "endpoint_path": shape.path,
        "table_name": "items",
        "records_path": shape.records_path,
        "primary_key": ",".join(shape.primary_key),
        "incremental_field": shape.incremental_field,
        "incremental_filter": shape.incremental_filter,
        "record_order": shape.order,
        "pagination": shape.pagination,
        "page_size": scenario.page_size,
        "page_size_param": shape.page_size_param,
        "offset_param": shape.offset_param,
        "page_param": shape.page_param,
        "first_page": shape.first_page,
        "total_path": shape.total_path,
        "total_pages_path": shape.total_pages_path,
        "has_more_path": shape.has_more_path,
        "cursor_param": shape.cursor_param,
        "next_cursor_path": shape.next_cursor_path,
        "cursor_record_field": shape.primary_key[0],
        "next_url_path": shape.next_url_path,
        "empty_result_404_text": shape.empty_search_404,
        "extra_params": {},
        "request_method": shape.method,
    }
    if shape.method == "POST":
        answers["request_body"] = SEARCH_BODY
    methods = {
        "none": {"auth_method": "none"},
        "api_key_header": {"auth_method": "api_key", "api_key_location": "header", "api_key_name": auth.name},
        "api_key_query": {"auth_method": "api_key", "api_key_location": "query", "api_key_name": auth.name},
        "api_key_basic": {"auth_method": "api_key", "api_key_location": "basic_username"},
        "bearer": {"auth_method": "bearer"},
        "basic": {"auth_method": "basic"},
        "oauth2": {"auth_method": "oauth2_client_credentials"},
        "oauth2_refresh": {"auth_method": "oauth2_refresh_token"},
    }
    return {**answers, **methods[auth.method]}


def configuration_for(scenario: Scenario, server: FakeRestApi) -> dict[str, str]:
    auth = scenario.auth
    configuration = {"base_url": server.base_url, "page_size": str(scenario.page_size), "start_date": ""}
    configuration.update(
        {
            "api_key_header": {"api_key": auth.secret},
            "api_key_query": {"api_key": auth.secret},
            "api_key_basic": {"api_key": auth.secret},
            "bearer": {"bearer_token": auth.secret},
            "basic": {"username": auth.username, "password": auth.password},
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


def change_source(server: FakeRestApi, shape: ApiShape) -> None:
    """Two new records and one changed record, all later than anything synced so far."""
    if shape.path == "/food/enforcement.json":
        changed = dict(server.records()[5], status="Terminated", report_date="20300102")
        new = [
            dict(record, recall_number=f"F-{9000 + n}-2030", report_date="20300101")
            for n, record in enumerate(openfda_records(2))
        ]
    else:
        changed = dict(server.records()[5], name="changed", updated_at="2030-01-02T00:00:00Z")
        new = [{"id": 9000 + n, "updated_at": "2030-01-01T00:00:00Z", "name": f"new {n}"} for n in range(2)]
    for record in [changed, *new]:
        server.upsert(record)


ITEMS = ApiShape(path="/v1/items", records_path="data")
# A search API's fixed body; the connector adds paging values and the filter at their dotted paths.
SEARCH_BODY = {"sorts": [{"property": "updated_at", "direction": "ascending"}], "archived": False}
# Notion-like: POST with start_cursor and page_size in the body, the filter nested in it.
POST_CURSOR = replace(
    ITEMS,
    path="/v1/items/search",
    method="POST",
    pagination="cursor",
    cursor_param="start_cursor",
    next_cursor_path="next_cursor",
    has_more_path="has_more",
    page_size_param="page_size",
    incremental_filter="filter.updated_after={cursor}",
)
# HubSpot-like: POST with the offset and size nested in the body, the filter a JSON list holding the cursor in epoch
# milliseconds.
POST_OFFSET_JSON_FILTER = replace(
    ITEMS,
    path="/v1/items/search",
    method="POST",
    offset_param="paging.from",
    page_size_param="paging.size",
    has_more_path="meta.has_more",
    incremental_filter='filterGroups=[{"filters":[{"propertyName":"updated_at","operator":"GTE","value":"{cursor:epoch_ms}"}]}]',
)
SCENARIOS = {
    # openFDA itself: skip/limit, total at meta.results.total, search filter, and a page cap below the size asked.
    "offset_total_openfda_capped": Scenario(replace(openfda_shape(), max_page_size=40), page_size=100, records=250),
    "offset_has_more": Scenario(replace(ITEMS, has_more_path="meta.has_more", incremental_filter="since={cursor}")),
    "offset_short_page_capped": Scenario(replace(ITEMS, max_page_size=6), page_size=10),
    "page_number_total_pages": Scenario(
        replace(ITEMS, pagination="page_number", page_size_param="per_page", total_pages_path="meta.pages")
    ),
    "page_number_zero_based_capped": Scenario(
        replace(ITEMS, pagination="page_number", first_page=0, max_page_size=4, page_size_param="per_page")
    ),
    "cursor_token": Scenario(replace(ITEMS, pagination="cursor", next_cursor_path="meta.next_cursor")),
    "cursor_from_last_record": Scenario(
        replace(
            ITEMS, pagination="cursor", next_cursor_path="", cursor_param="starting_after", has_more_path="has_more"
        )
    ),
    "next_url_absolute": Scenario(replace(ITEMS, pagination="next_url", next_url_path="links.next")),
    "next_url_relative": Scenario(replace(ITEMS, pagination="next_url", next_url_relative=True)),
    "link_header": Scenario(replace(ITEMS, pagination="link_header", records_path="")),
    "no_pagination": Scenario(replace(ITEMS, pagination="none", max_page_size=10_000)),
    "newest_first_with_filter": Scenario(replace(ITEMS, order="descending", incremental_filter="since={cursor}")),
    "unknown_order_without_filter": Scenario(replace(ITEMS, order="unknown")),
    "api_key_header": Scenario(ITEMS, auth=Auth(method="api_key_header", name="X-Api-Token")),
    "api_key_query": Scenario(replace(ITEMS, pagination="next_url"), auth=Auth(method="api_key_query", name="key")),
    "api_key_as_basic_user_empty_password": Scenario(ITEMS, auth=Auth(method="api_key_basic")),
    "bearer": Scenario(ITEMS, auth=Auth(method="bearer")),
    "basic": Scenario(ITEMS, auth=Auth(method="basic")),
    "oauth2_tokens_expire": Scenario(ITEMS, auth=Auth(method="oauth2", expire_tokens_after_requests=2)),
    # Access tokens serve two requests; the refresh token rotates on every use and only the newest works, so the
    # second sync authenticates only with the token the first one kept in its state.
    "oauth2_refresh_token_rotates": Scenario(ITEMS, auth=Auth(method="oauth2_refresh", expire_tokens_after_requests=2)),
    "rate_limited_with_retry_after": Scenario(ITEMS, faults=Faults(rate_limit_every=3, retry_after="0.05")),
    "dropped_connection_and_503": Scenario(ITEMS, faults=Faults(drop_connection_first=1, fail_first=1)),
    "post_cursor_in_body_with_faults": Scenario(
        POST_CURSOR, faults=Faults(rate_limit_every=3, retry_after="0.01", drop_connection_first=1, fail_first=1)
    ),
    "post_offset_nested_json_filter": Scenario(POST_OFFSET_JSON_FILTER, auth=Auth(method="bearer")),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_two_syncs_hold_exactly_what_the_server_holds(name, template, tool_env, tmp_path):
    scenario = SCENARIOS[name]
    shape = scenario.shape
    project = render(template, tmp_path / "project", answers_for(scenario))
    records = (
        openfda_records(scenario.records)
        if shape.path == "/food/enforcement.json"
        else sample_records(scenario.records)
    )
    with FakeRestApi(shape, auth=scenario.auth, faults=scenario.faults, records=records) as server:
        configuration = configuration_for(scenario, server)

        output = fivetran_debug(project, configuration, tool_env)
        assert_table_matches(
            project, "items" if shape.path != "/food/enforcement.json" else "items", server.records(), shape.primary_key
        )
        first_requests = server.data_requests
        cursor = read_state(project)["items"]["cursor"]
        assert cursor == max(r[shape.incremental_field] for r in server.records())

        change_source(server, shape)
        output += fivetran_debug(project, configuration, tool_env)
        assert_table_matches(project, "items", server.records(), shape.primary_key)
        assert read_state(project)["items"]["cursor"] in ("20300102", "2030-01-02T00:00:00Z")
        if shape.incremental_filter and shape.pagination != "none":
            # The second sync asks only for what changed, so it needs fewer pages than the first.
            assert server.data_requests - first_requests < first_requests
        assert server.duplicate_param_requests == 0
    auth = scenario.auth
    for secret in SECRETS & {auth.secret, auth.password, auth.client_secret, auth.refresh_token}:
        if scenario.auth.method != "none":
            assert secret not in output


def test_openfda_404_for_an_empty_search_means_no_records(template, tool_env, tmp_path):
    scenario = Scenario(openfda_shape(), page_size=100, records=30)
    project = render(template, tmp_path / "project", answers_for(scenario))
    with FakeRestApi(scenario.shape, records=openfda_records(30)) as server:
        configuration = {**configuration_for(scenario, server), "start_date": "20990101"}
        fivetran_debug(project, configuration, tool_env)
        assert any(log.status == 404 for log in server.requests)
    assert read_state(project)["items"]["cursor"] == "20990101"


@pytest.mark.parametrize(
    ("name", "faults", "shape_change", "message"),
    [
        ("non_json_body", Faults(non_json_body=True), {}, "not JSON"),
        ("html_error_page", Faults(html_error_status=500), {}, "HTTP 500"),
        ("missing_records_path", Faults(), {"records_path": "payload"}, "records_path 'data' not found"),
        ("repeating_cursor", Faults(repeat_cursor=True), {"pagination": "cursor"}, "a second time"),
        ("wrong_credentials", Faults(), {}, "HTTP 401"),
    ],
)
def test_bad_responses_stop_the_sync_with_a_clear_error(
    name, faults, shape_change, message, template, tool_env, tmp_path
):
    answers_shape = replace(ITEMS, **{key: value for key, value in shape_change.items() if key == "pagination"})
    server_shape = replace(answers_shape, **{k: v for k, v in shape_change.items() if k == "records_path"})
    auth = Auth(method="bearer") if name == "wrong_credentials" else Auth()
    scenario = Scenario(answers_shape, auth=auth)
    project = render(template, tmp_path / "project", answers_for(scenario))
    with FakeRestApi(server_shape, auth=auth, faults=faults, records=sample_records(12)) as server:
        configuration = configuration_for(scenario, server)
        if name == "wrong_credentials":
            configuration["bearer_token"] = "wrong-token-value"
        with pytest.raises(SyncFailed) as failure:
            fivetran_debug(project, configuration, tool_env)
    assert message in failure.value.output
    assert "wrong-token-value" not in failure.value.output


def test_fixed_headers_and_parameters_are_sent(template, tool_env, tmp_path):
    scenario = Scenario(ITEMS, records=12)
    answers = {**answers_for(scenario), "extra_headers": {"X-Account-Id": "42"}, "extra_params": {"state": "all"}}
    project = render(template, tmp_path / "project", answers)
    with FakeRestApi(scenario.shape, records=sample_records(12)) as server:
        fivetran_debug(project, configuration_for(scenario, server), tool_env)
        data_requests = [log for log in server.requests if log.path == ITEMS.path]
    assert data_requests and all(log.headers.get("X-Account-Id") == "42" for log in data_requests)
    assert data_requests[0].query["state"] == ["all"]


EXACT = replace(ITEMS, has_more_path="meta.has_more", incremental_filter="since={cursor}")


def test_every_value_lands_with_the_type_and_value_the_api_sent(template, tool_env, tmp_path):
    """`invoke test` declares the columns from its first sync; then every field of every record lands exactly, on a
    first sync and after a change, and a column the API adds later is reported until `invoke columns` declares it."""
    scenario = Scenario(EXACT, page_size=3)
    project = render(template, tmp_path / "project", answers_for(scenario))
    with FakeRestApi(EXACT, records=exact_records()) as server:
        environment = {**tool_env, "CONNECTOR_BASE_URL": server.base_url}
        tested = invoke(project, environment, "test", "--skip-unit")
        assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
        assert "columns declared in columns.py" in tested.stdout
        assert declared_columns(project) == {"items": EXPECTED_DECLARATIONS}
        configuration = configuration_for(scenario, server)
        fivetran_debug(project, configuration, tool_env)  # resumes from invoke test's state: nothing new
        assert_table_exact(project, "items", server.records(), ("id",), EXPECTED_DECLARATIONS)

        for record in later_records():
            server.upsert(record)
        fivetran_debug(project, configuration, tool_env)
        assert_table_exact(project, "items", server.records(), ("id",), EXPECTED_DECLARATIONS)

        server.upsert({**later_records()[1], "id": "late", "updated_at": "2030-02-01T00:00:00Z", "late_field": "00123"})
        output = fivetran_debug(project, configuration, tool_env)
        assert 'undeclared columns: {"table": "items", "columns": {"late_field": "STRING"}}' in output
        retested = invoke(project, environment, "test", "--skip-unit")
        assert retested.returncode != 0
        assert "columns.py does not declare late_field" in retested.stdout
        assert "run `invoke columns` to declare them" in retested.stdout

        declared = invoke(project, environment, "columns")
        assert declared.returncode == 0, declared.stdout[-3000:] + declared.stderr[-2000:]
        assert declared_columns(project)["items"] == {**EXPECTED_DECLARATIONS, "late_field": "STRING"}
        retested = invoke(project, environment, "test", "--skip-unit")
        assert retested.returncode == 0, retested.stdout[-4000:]
        assert_table_exact(
            project, "items", server.records(), ("id",), {**EXPECTED_DECLARATIONS, "late_field": "STRING"}
        )


LATE = replace(ITEMS, incremental_filter="since={cursor}")


@pytest.mark.parametrize("lookback_minutes", ["5", "0"])
def test_a_record_committed_late_is_read_within_the_lookback(lookback_minutes, template, tool_env, tmp_path):
    """After a sync, the API gains a record whose cursor is two minutes older than the newest synced (a transaction
    that set it early and committed late) and one that ties with it. With the default lookback of 5 minutes the next
    sync reads both, re-reading only the records of the last 5 minutes; without one, the late record is lost."""
    scenario = Scenario(LATE, page_size=5, records=40)
    project = render(template, tmp_path / "project", answers_for(scenario))
    with FakeRestApi(LATE, records=sample_records(40)) as server:
        configuration = {**configuration_for(scenario, server), "lookback_minutes": lookback_minutes}
        fivetran_debug(project, configuration, tool_env)
        newest = read_state(project)["items"]["cursor"]
        assert newest == "2024-01-01T00:19:00Z"
        late = {"id": 9001, "updated_at": "2024-01-01T00:17:00Z", "name": "committed late"}
        tie = {"id": 0, "updated_at": newest, "name": "same time as the newest, smaller key"}
        server.upsert(late)
        server.upsert(tie)
        served_before = server.records_served

        fivetran_debug(project, configuration, tool_env)

        synced = {row["id"] for row in warehouse_rows(project, "items")}
        assert tie["id"] in synced
        if lookback_minutes == "5":
            assert_table_matches(project, "items", server.records(), ("id",))
            # The cost: the records of the window (minutes 14 to 19: 12 of them) and the two new ones, read again.
            assert server.records_served - served_before == 14
        else:
            assert late["id"] not in synced
        assert read_state(project)["items"]["cursor"] == newest


@pytest.mark.parametrize("at_record", [13, 40])
def test_a_sync_killed_mid_page_resumes_and_lands_exactly_the_source(at_record, template, tool_env, tmp_path):
    """SIGKILL inside the third page (record 13) or on the last record: the state never points past what was
    written, and the next sync lands every record exactly once."""
    scenario = Scenario(LATE, page_size=5, records=40)
    project = render(template, tmp_path / "project", answers_for(scenario))
    with FakeRestApi(LATE, records=sample_records(40)) as server:
        configuration = configuration_for(scenario, server)
        fivetran_debug_killed(project, configuration, tool_env, at_record)
        assert_state_not_past_written(project, "items", server.records(), "updated_at")
        fivetran_debug(project, configuration, tool_env)
        assert_table_matches(project, "items", server.records(), ("id",))
        assert not any(row["_fivetran_deleted"] for row in warehouse_rows(project, "items"))


ROTATING = Auth(method="oauth2_refresh", expire_tokens_after_requests=2)


def test_a_rotated_refresh_token_survives_a_killed_sync_and_never_shows(template, tool_env, tmp_path):
    """The server rotates the refresh token on every use and accepts only the newest; an access token serves two
    requests. A sync killed inside the third page, just after the rotation that page needed, has already
    checkpointed the new refresh token, so the next sync authenticates and lands every record. A configured
    refresh_token that changed (the app authorized again) is used; a refused one stops the sync saying what to do.
    No refresh token ever appears in the output, nor in what `invoke test` prints and saves."""
    scenario = Scenario(LATE, auth=ROTATING, page_size=5, records=40)
    project = render(template, tmp_path / "project", answers_for(scenario))
    with FakeRestApi(LATE, auth=ROTATING, records=sample_records(40)) as server:
        configuration = configuration_for(scenario, server)
        output = fivetran_debug_killed(project, configuration, tool_env, at_record=13)
        assert len(server.refresh_tokens) == 3  # the authorized one, the one of the start, the one of page 3
        assert "sealed_refresh_token" in read_state(project)["oauth2"]
        assert_state_not_past_written(project, "items", server.records(), "updated_at")

        output += fivetran_debug(project, configuration, tool_env)
        assert_table_matches(project, "items", server.records(), ("id",))  # it authenticated with the kept token

        server.authorize_again("refresh-token-authorized-again")
        reauthorized = {**configuration, "refresh_token": "refresh-token-authorized-again"}
        output += fivetran_debug(project, reauthorized, tool_env)
        output += fivetran_debug(project, reauthorized, tool_env)  # from the token the one before kept

        with pytest.raises(SyncFailed) as refused:
            fivetran_debug(project, {**configuration, "refresh_token": "refresh-token-revoked"}, tool_env)
        assert "invalid_grant" in refused.value.output
        assert "Authorize the app again and set the new refresh_token" in refused.value.output
        output += refused.value.output

        environment = {**tool_env, **{f"CONNECTOR_{key.upper()}": value for key, value in reauthorized.items()}}
        tested = invoke(project, environment, "test", "--skip-unit")
        assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
        assert "'oauth2': '***'" in tested.stdout
        output += tested.stdout + tested.stderr + (project / "files" / "test_report.json").read_text()
        refresh_tokens = server.refresh_tokens
    for secret in [ROTATING.client_secret, "refresh-token-revoked", *refresh_tokens]:
        assert secret not in output


FULL = replace(ITEMS, incremental_field="")


def test_a_table_read_in_full_marks_deleted_rows_and_a_killed_read_marks_none(template, tool_env, tmp_path):
    """Records gone from an endpoint read in full are marked deleted by the next sync; a sync killed part-way
    through the re-read marks nothing deleted, and the one after it marks exactly the gone ones."""
    scenario = Scenario(FULL, page_size=5, records=20)
    project = render(template, tmp_path / "project", answers_for(scenario))
    with FakeRestApi(FULL, records=sample_records(20)) as server:
        configuration = configuration_for(scenario, server)
        fivetran_debug(project, configuration, tool_env)
        gone = server.records()[3]
        server.delete(gone)

        fivetran_debug_killed(project, configuration, tool_env, at_record=8)
        assert not any(row["_fivetran_deleted"] for row in warehouse_rows(project, "items"))

        fivetran_debug(project, configuration, tool_env)
        rows = warehouse_rows(project, "items")
        assert {row["id"] for row in rows if row["_fivetran_deleted"]} == {gone["id"]}
        live = [row for row in rows if not row["_fivetran_deleted"]]
        assert sorted(row["id"] for row in live) == sorted(record["id"] for record in server.records())


NESTED = replace(ITEMS, incremental_field="fields.updated", incremental_filter="since={cursor}")


def nested_records(count: int) -> list[dict]:
    return [{"id": n, "fields": {"updated": f"2024-01-01T00:{n:02d}:00Z", "title": f"issue {n}"}} for n in range(count)]


def test_a_nested_cursor_field_given_as_the_api_shows_it_drives_incremental_syncs(template, tool_env, tmp_path):
    """incremental_field `fields.updated` is the flattened column fields_updated: the cursor is saved and the second
    sync asks only for what changed."""
    scenario = Scenario(NESTED, page_size=5, records=12)
    project = render(template, tmp_path / "project", answers_for(scenario))
    assert 'incremental_field="fields_updated"' in (project / "endpoints.py").read_text()
    with FakeRestApi(NESTED, records=nested_records(12)) as server:
        configuration = {**configuration_for(scenario, server), "lookback_minutes": "0"}
        fivetran_debug(project, configuration, tool_env)
        assert read_state(project)["items"]["cursor"] == "2024-01-01T00:11:00Z"
        server.upsert({"id": 99, "fields": {"updated": "2024-01-01T00:30:00Z", "title": "new"}})
        served = server.records_served
        fivetran_debug(project, configuration, tool_env)
        assert server.records_served - served == 2  # the record at the saved cursor, and the new one
        assert_table_matches(project, "items", server.records(), ("id",))


def test_a_cursor_field_no_record_holds_fails_invoke_test_naming_it(template, tool_env, tmp_path):
    scenario = Scenario(replace(NESTED, incremental_field="updatedAt"), page_size=5, records=6)
    project = render(template, tmp_path / "project", answers_for(scenario))
    with FakeRestApi(NESTED, records=nested_records(6)) as server:
        tested = invoke(project, {**tool_env, "CONNECTOR_BASE_URL": server.base_url}, "test", "--skip-unit")
    assert tested.returncode != 0
    assert "items: 6 records held no value for the cursor field 'updatedAt', so the cursor cannot move" in tested.stdout


def test_a_next_page_path_missing_from_a_full_page_stops_the_sync_naming_it(template, tool_env, tmp_path):
    """`@odata.nextLink` written without escaping its dot names a path no response has: the first page is full, so
    the sync fails naming the path, the keys the response has and the escaped form, rather than stopping early."""
    odata = replace(ITEMS, pagination="next_url", next_url_path="@odata\\.nextLink")
    scenario = Scenario(odata, page_size=5, records=12)
    project = render(template, tmp_path / "project", {**answers_for(scenario), "next_url_path": "@odata.nextLink"})
    with FakeRestApi(odata, records=sample_records(12)) as server:
        with pytest.raises(SyncFailed) as failed:
            fivetran_debug(project, configuration_for(scenario, server), tool_env)
    assert (
        "next_url_path '@odata.nextLink' is not in the response from /v1/items, though the page was full (5 records)"
        in failed.value.output
    )
    assert "(found: @odata.nextLink, data); the key @odata.nextLink holds dots, so write it as @odata\\.nextLink" in (
        failed.value.output
    )


@pytest.mark.parametrize(
    "incremental_filter",
    ["created_gte={cursor:epoch}", "since_ms={cursor:epoch_ms}", "jql=updated >= '{cursor:%Y-%m-%d %H:%M}'"],
    ids=["epoch_seconds", "epoch_milliseconds", "jql_minutes"],
)
def test_a_filter_that_needs_the_cursor_formatted_reads_only_what_changed(
    incremental_filter, template, tool_env, tmp_path
):
    """The saved cursor is ISO-8601; the filter sends it as the API takes it, so the second sync asks only for the
    records of the lookback window and the new ones."""
    shape = replace(ITEMS, incremental_filter=incremental_filter)
    scenario = Scenario(shape, page_size=5, records=30)
    project = render(template, tmp_path / "project", answers_for(scenario))
    with FakeRestApi(shape, records=sample_records(30)) as server:
        configuration = configuration_for(scenario, server)
        fivetran_debug(project, configuration, tool_env)
        server.upsert({"id": 500, "updated_at": "2024-01-01T01:00:00Z", "name": "new"})
        served = server.records_served
        fivetran_debug(project, configuration, tool_env)
        # The window of 5 minutes before the saved cursor (00:14): minutes 9 to 14 hold 12 records, plus the new one.
        assert server.records_served - served == 13
        assert_table_matches(project, "items", server.records(), ("id",))
        assert read_state(project)["items"]["cursor"] == "2024-01-01T01:00:00Z"


def test_a_post_endpoint_sends_its_body_with_the_paging_values_and_the_filter_inside(template, tool_env, tmp_path):
    """Every request of a POST endpoint is the fixed body plus the page size and the page cursor at their paths;
    once a cursor is saved, the filter too, from the saved cursor less the lookback; no query string."""
    scenario = Scenario(POST_CURSOR, page_size=5, records=12)
    project = render(template, tmp_path / "project", answers_for(scenario))
    with FakeRestApi(POST_CURSOR, records=sample_records(12)) as server:
        configuration = configuration_for(scenario, server)
        fivetran_debug(project, configuration, tool_env)
        first_sync = len(server.requests)
        fivetran_debug(project, configuration, tool_env)
        bodies = [json.loads(log.body) for log in server.requests if log.path == POST_CURSOR.path]
        assert all(log.method == "POST" and not log.query for log in server.requests)
    assert bodies[0] == {**SEARCH_BODY, "page_size": 5}
    assert bodies[1] == {**SEARCH_BODY, "page_size": 5, "start_cursor": bodies[1]["start_cursor"]}
    assert bodies[first_sync] == {**SEARCH_BODY, "page_size": 5, "filter": {"updated_after": "2024-01-01T00:00:00Z"}}
