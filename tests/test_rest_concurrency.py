"""Generated REST connectors wait for the API in the background: pages are requested ahead of the one being
written, several at once where the pagination says where every page starts, and every thread shares one rate
limit. What lands is still exactly what the API holds, and a sync that fails leaves a state that resumes exactly.

The fake API answers each request after a delay, as a distant API does; the tests read when each request arrived
and was answered from the server's log, never from the clock of the test.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.harness import SyncFailed, assert_state_not_past_written, assert_table_matches, fivetran_debug, render
from tests.servers.rest_api import ApiShape, FakeRestApi, Faults, RequestLog, sample_records
from tests.test_rest_children import LINES, ORDERS, answers, line, order, with_parent_key
from tests.test_rest_sync import Scenario, answers_for, configuration_for

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "rest_api"

# Offset pagination with the total in every answer: once the first page answers, every page's offset is known.
WITH_TOTAL = ApiShape(path="/v1/items", records_path="data", total_path="meta.total")
PAGE_SIZE, RECORDS = 10, 120
# Long enough that requests sent together overlap at the server, short enough for a quick test.
DELAY_SECONDS = 0.1
# How long after the server answered a request the client may still be sending others it started before it read the
# answer: generous, for a busy machine.
IN_TRANSIT_SECONDS = 0.25


def data_requests(server: FakeRestApi) -> list[RequestLog]:
    return [request for request in server.requests if request.path == WITH_TOTAL.path]


def sync_against(server: FakeRestApi, project, tool_env, **configuration: str) -> str:
    scenario = Scenario(WITH_TOTAL, page_size=PAGE_SIZE, records=RECORDS)
    return fivetran_debug(project, {**configuration_for(scenario, server), **configuration}, tool_env)


@pytest.fixture
def project(template, tmp_path):
    return render(template, tmp_path / "project", answers_for(Scenario(WITH_TOTAL, page_size=PAGE_SIZE)))


def test_pages_are_requested_several_at_once_and_land_exactly_in_order(project, tool_env):
    faults = Faults(delay_seconds=DELAY_SECONDS)
    with FakeRestApi(WITH_TOTAL, faults=faults, records=sample_records(RECORDS)) as server:
        sync_against(server, project, tool_env)
        assert server.max_in_flight > 1
        assert_table_matches(project, "items", server.records(), ("id",))

        # One request at a time when the owner asks for it.
        server.faults = Faults()
        server.upsert({"id": 9000, "updated_at": "2030-01-01T00:00:00Z", "name": "new"})
        sequential = FakeRestApi(WITH_TOTAL, faults=Faults(delay_seconds=0.02), records=server.records())
    with sequential:
        sync_against(sequential, project, tool_env, max_concurrency="1")
        assert sequential.max_in_flight == 1
        assert_table_matches(project, "items", sequential.records(), ("id",))


def test_a_429_pauses_every_request_for_as_long_as_it_asks_then_resumes_without_a_burst(project, tool_env):
    """Every 9th request is refused with Retry-After: 1. No request of any thread starts within that second, and
    in the first moments after it no more than half the usual requests are in flight at once."""
    faults = Faults(delay_seconds=DELAY_SECONDS, rate_limit_every=9, retry_after="1")
    with FakeRestApi(WITH_TOTAL, faults=faults, records=sample_records(RECORDS)) as server:
        sync_against(server, project, tool_env, max_concurrency="4")
        requests = data_requests(server)
        assert_table_matches(project, "items", server.records(), ("id",))
    limited = [request for request in requests if request.status == 429]
    assert limited and server.max_in_flight > 1
    for refusal in limited:
        resumes_at = refusal.answered_at + 1.0
        # A request sent just before the client read the 429 may arrive just after it was answered.
        during_pause = [
            request
            for request in requests
            if refusal.answered_at + IN_TRANSIT_SECONDS < request.received_at < resumes_at
        ]
        assert not during_pause, "a request started while every thread should have been waiting"
        # Each request takes DELAY_SECONDS, so requests arriving within that time after the pause ran at once.
        first_moments = [r for r in requests if resumes_at <= r.received_at < resumes_at + DELAY_SECONDS * 0.9]
        assert len(first_moments) <= 2


def test_a_client_that_reads_the_allowance_headers_never_overruns_them(project, tool_env):
    """The API allows 8 requests each half second and says so in X-RateLimit-Remaining and X-RateLimit-Reset
    (epoch seconds). Reading one request at a time, the connector waits for each reset and is never refused;
    with several at once, only requests already in flight when the allowance ran out can be, and are retried."""
    faults = Faults(delay_seconds=0.01, quota=8, quota_seconds=0.5)
    with FakeRestApi(WITH_TOTAL, faults=faults, records=sample_records(RECORDS)) as server:
        sync_against(server, project, tool_env, max_concurrency="1")
        assert not [request for request in data_requests(server) if request.status == 429]
        assert_table_matches(project, "items", server.records(), ("id",))

        server.upsert({"id": 9000, "updated_at": "2030-01-01T00:00:00Z", "name": "new"})
        sync_against(server, project, tool_env, max_concurrency="4")
        assert_table_matches(project, "items", server.records(), ("id",))


def test_a_request_that_fails_stops_the_sync_with_its_error_and_the_next_sync_resumes_exactly(project, tool_env):
    """The 6th request is refused while others are in flight: the sync fails naming that refusal, the state it
    leaves never points past a record it did not write, and the next sync lands every record exactly once."""
    faults = Faults(delay_seconds=DELAY_SECONDS, fail_request=6)
    with FakeRestApi(WITH_TOTAL, faults=faults, records=sample_records(RECORDS)) as server:
        with pytest.raises(SyncFailed) as failed:
            sync_against(server, project, tool_env)
        assert "HTTP 400" in failed.value.output and "request 6 is refused" in failed.value.output
        assert server.max_in_flight > 1
        assert_state_not_past_written(project, "items", server.records(), "updated_at")

        server.faults = replace(faults, fail_request=0)
        sync_against(server, project, tool_env)
        assert_table_matches(project, "items", server.records(), ("id",))


def test_the_children_of_several_parents_are_requested_at_once_and_land_exactly(template, tool_env, tmp_path):
    """Each order's lines are one request per order: the connector asks for several orders' lines at once, and
    every line lands once, with its order's key."""
    project = render(template, tmp_path / "project", answers(ORDERS, LINES, "orders", "order_lines"))
    faults = Faults(delay_seconds=DELAY_SECONDS)
    with FakeRestApi(ORDERS, faults=faults, records=[order(n, minute=n) for n in range(12)], children=LINES) as server:
        for n in range(12):
            for number in range(2):
                server.upsert_child(f"/v1/orders/{n}/lines", line(number, minute=n))
        # One page of orders: besides the lines, only the request for a next page (empty) can be in flight.
        configuration = {"base_url": server.base_url, "page_size": "20", "start_date": ""}
        fivetran_debug(project, configuration, tool_env)
        assert server.max_in_flight > 2
        assert_table_matches(project, "orders", server.records(), ("id",))
        lines = with_parent_key(server, "/v1/orders", "orders_id")
        assert_table_matches(project, "order_lines", lines, ("orders_id", "line"))
