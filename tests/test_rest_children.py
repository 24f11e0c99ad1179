"""Child endpoints: a path such as /v1/orders/{id}/lines read once for each record of its parent endpoint.

Each scenario syncs with the real `fivetran debug` against a local API that lists children under each parent, and
compares both tables with what the API holds: every child row carries its parent's key, a second sync reads only
what changed, rows gone at the source are marked deleted, and a sync killed among the children resumes there.
"""

from __future__ import annotations

import pytest

from tests.harness import (
    SyncFailed,
    assert_table_matches,
    fivetran_debug,
    fivetran_debug_killed,
    read_state,
    render,
    warehouse_rows,
)
from tests.servers.rest_api import ApiShape, ChildResource, FakeRestApi, Faults

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "rest_api"

ORDERS = ApiShape(path="/v1/orders", records_path="data", incremental_filter="since={cursor}")
LINES = ChildResource(
    "/v1/orders/{id}/lines", ApiShape(records_path="data", primary_key=("line",), incremental_filter="since={cursor}")
)
PAGE_SIZE = 2


def answers(parent: ApiShape, child: ChildResource, parent_table: str, child_table: str) -> dict:
    """An answers file with two endpoints, the second read for each record of the first."""

    def endpoint(shape: ApiShape, path: str, table: str) -> dict:
        return {
            "path": path,
            "table": table,
            "records_path": shape.records_path,
            "primary_key": ",".join(shape.primary_key),
            "incremental_field": shape.incremental_field,
            "incremental_filter": shape.incremental_filter,
        }

    return {
        "source_name": "Shop API",
        "base_url": "http://127.0.0.1:9",
        "endpoint_path": parent.path,
        "records_path": parent.records_path,
        "pagination": "offset",
        "offset_param": "skip",
        "page_size_param": "limit",
        "record_order": "ascending",
        "endpoints": [
            endpoint(parent, parent.path, parent_table),
            {**endpoint(child.shape, child.path, child_table), "parent": parent_table},
        ],
    }


def order(number: int, minute: int) -> dict:
    return {"id": number, "updated_at": f"2024-01-01T00:{minute:02d}:00Z", "customer": {"name": f"customer {number}"}}


def line(number: int, minute: int, sku: str = "") -> dict:
    return {"line": number, "updated_at": f"2024-01-01T00:{minute:02d}:00Z", "sku": sku or f"SKU-{number:03d}"}


def with_parent_key(server: FakeRestApi, parent_path: str, column: str) -> list[dict]:
    """The child rows the warehouse should hold: each child list's records with their parent's key."""
    rows = []
    for path, records in server.child_records().items():
        parent_id = int(path.removeprefix(parent_path + "/").split("/")[0])
        rows += [{**record, column: parent_id} for record in records]
    return rows


def live(rows: list[dict]) -> list[dict]:
    return [row for row in rows if not row["_fivetran_deleted"]]


def test_children_of_changed_parents_are_read_from_each_parents_cursor(template, tool_env, tmp_path):
    """Orders are incremental and each order's lines keep their own cursor. The API rate-limits every fourth
    request, answers 503 once and drops a connection once. After a first sync both tables hold exactly what the API
    does; then one order changes (a line changed, a line added) and one order is new: the second sync asks for the
    lines of those orders and of the orders inside the lookback only, each from its own cursor."""
    project = render(template, tmp_path / "project", answers(ORDERS, LINES, "orders", "order_lines"))
    faults = Faults(rate_limit_every=4, retry_after="0.01", fail_first=1, drop_connection_first=1)
    with FakeRestApi(
        ORDERS, faults=faults, records=[order(n, minute=n * 10) for n in range(5)], children=LINES
    ) as server:
        for n in range(5):
            for number in range(3):
                server.upsert_child(f"/v1/orders/{n}/lines", line(number, minute=n * 10))
        configuration = {"base_url": server.base_url, "page_size": str(PAGE_SIZE), "start_date": ""}

        fivetran_debug(project, configuration, tool_env)
        assert_table_matches(project, "orders", server.records(), ("id",))
        assert_table_matches(
            project, "order_lines", with_parent_key(server, "/v1/orders", "orders_id"), ("orders_id", "line")
        )
        state = read_state(project)
        assert state["orders"]["cursor"] == "2024-01-01T00:40:00Z"
        assert state["order_lines"]["cursors"]["/v1/orders/2/lines"] == "2024-01-01T00:20:00Z"

        server.upsert(order(1, minute=50))
        server.upsert_child("/v1/orders/1/lines", line(0, minute=50, sku="SKU-CHANGED"))
        server.upsert_child("/v1/orders/1/lines", line(7, minute=50))
        server.upsert(order(9, minute=55))
        server.upsert_child("/v1/orders/9/lines", line(0, minute=55))
        requests_before = len(server.requests)

        fivetran_debug(project, configuration, tool_env)

        assert_table_matches(project, "orders", server.records(), ("id",))
        assert_table_matches(
            project, "order_lines", with_parent_key(server, "/v1/orders", "orders_id"), ("orders_id", "line")
        )
        asked = {
            log.path for log in server.requests[requests_before:] if log.path.endswith("/lines") and log.status == 200
        }
        # Order 4 is the newest of the first sync, inside the lookback; orders 1 and 9 changed.
        assert asked == {"/v1/orders/4/lines", "/v1/orders/1/lines", "/v1/orders/9/lines"}
        order_1_lines = [log for log in server.requests[requests_before:] if log.path == "/v1/orders/1/lines"]
        assert all(log.query["since"] == ["2024-01-01T00:05:00Z"] for log in order_1_lines)
        assert server.errors == []


REPOS = ApiShape(path="/v1/repos", records_path="items", incremental_field="")
ISSUES = ChildResource(
    "/v1/repos/{id}/issues", ApiShape(records_path="items", primary_key=("number",), incremental_field="")
)


def test_parents_and_children_read_in_full_mark_deleted_rows_and_a_killed_sync_resumes_among_the_children(
    template, tool_env, tmp_path
):
    """Repositories and their issues are read in full. Between syncs a repository goes (with its issues) and one
    issue of another goes. A sync killed among the issues of the last repository resumes there: it reads the
    repositories again but the issues of that repository only, and the tables end as the API is, the gone rows
    marked deleted."""
    project = render(template, tmp_path / "project", answers(REPOS, ISSUES, "repos", "issues"))
    with FakeRestApi(REPOS, records=[{"id": n, "name": f"repo-{n}"} for n in range(6)], children=ISSUES) as server:
        for n in range(6):
            for number in range(1, 4):
                server.upsert_child(f"/v1/repos/{n}/issues", {"number": number, "title": f"issue {number} of {n}"})
        configuration = {"base_url": server.base_url, "page_size": str(PAGE_SIZE)}
        fivetran_debug(project, configuration, tool_env)
        assert_table_matches(
            project, "issues", with_parent_key(server, "/v1/repos", "repos_id"), ("repos_id", "number")
        )

        server.delete({"id": 3})
        for number in range(1, 4):
            server.delete_child("/v1/repos/3/issues", {"number": number})
        server.delete_child("/v1/repos/1/issues", {"number": 2})
        # Records in the order written: page 1 is repos 0 and 1 (2) and their issues (3 + 2); page 2 is repos 2 and
        # 4 (2) and their issues (6); page 3 is repo 5 (1), whose first issue is record 17.
        fivetran_debug_killed(project, configuration, tool_env, at_record=17)
        assert read_state(project)["repos"] == {"children_done": 4}
        requests_before = len(server.requests)

        fivetran_debug(project, configuration, tool_env)

        asked = {log.path for log in server.requests[requests_before:] if log.path.endswith("/issues")}
        assert asked == {"/v1/repos/5/issues"}
        assert "repos" not in read_state(project)
        repos = warehouse_rows(project, "repos")
        assert sorted(row["id"] for row in live(repos)) == [0, 1, 2, 4, 5]
        assert [row["id"] for row in repos if row["_fivetran_deleted"]] == [3]
        issues = warehouse_rows(project, "issues")
        expected = with_parent_key(server, "/v1/repos", "repos_id")
        assert sorted((row["repos_id"], row["number"]) for row in live(issues)) == sorted(
            (record["repos_id"], record["number"]) for record in expected
        )
        gone = sorted((row["repos_id"], row["number"]) for row in issues if row["_fivetran_deleted"])
        assert gone == [(1, 2), (3, 1), (3, 2), (3, 3)]


def test_a_placeholder_the_parent_records_lack_stops_the_sync_naming_it(template, tool_env, tmp_path):
    settings = answers(ORDERS, LINES, "orders", "order_lines")
    settings["endpoints"][1]["path"] = "/v1/orders/{number}/lines"
    project = render(template, tmp_path / "project", settings)
    with FakeRestApi(ORDERS, records=[order(1, minute=1)], children=LINES) as server:
        with pytest.raises(SyncFailed) as failed:
            fivetran_debug(project, {"base_url": server.base_url, "page_size": "2", "start_date": ""}, tool_env)
    assert (
        "/v1/orders/{number}/lines: the orders record has no value for {number} (its fields: customer, id, "
        "updated_at). Fix the placeholder in the path of order_lines" in failed.value.output
    )
