"""Verification checks: one definition, rendered by sqlglot into every destination dialect and into DuckDB, where
they run against a real synced warehouse and must agree with what the source holds. Names that need care (a
reserved word as table, mixed case, digits) go through Fivetran's naming first."""

from __future__ import annotations

import re
import sys

import duckdb
import pytest
import sqlglot

from tests.harness import fivetran_debug, invoke, render
from tests.servers.rest_api import ApiShape, FakeRestApi

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "rest_api"

DIALECTS = ("snowflake", "bigquery", "postgres", "redshift", "databricks")
AWKWARD = ApiShape(path="/v1/order", records_path="data", primary_key=("userId",), incremental_field="updatedAt")


def awkward_records(count: int) -> list[dict]:
    return [
        {
            "userId": n,
            "updatedAt": f"2024-03-{1 + n // 4:02d}T10:00:00Z",
            "Select": "x",
            "group": f"g{n % 3}",
            "address1": f"{n} Main St",
        }
        for n in range(count)
    ]


ORDER_BOOK = {
    "source_name": "Order Book",
    "base_url": "http://127.0.0.1:9",
    "endpoint_path": AWKWARD.path,
    "table_name": "order",
    "records_path": "data",
    "primary_key": "userId",
    "incremental_field": "updatedAt",
    "incremental_filter": "",
    "pagination": "offset",
    "offset_param": "skip",
    "page_size": 7,
    "destination_type": "bigquery",
}


@pytest.fixture(scope="module")
def synced(template, tool_env, tmp_path_factory):
    """A connector with awkward names, synced once from a local API: (project, source records)."""
    project = render(template, tmp_path_factory.mktemp("verification") / "project", ORDER_BOOK)
    records = awkward_records(30)
    with FakeRestApi(AWKWARD, records=records) as server:
        fivetran_debug(project, {"base_url": server.base_url, "page_size": "7", "start_date": ""}, tool_env)
    return project, records


def test_verify_passes_on_a_sound_warehouse_and_shows_the_checks(synced, tool_env):
    project, records = synced
    result = invoke(project, tool_env, "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Every check passed." in result.stdout


def test_duckdb_rendering_agrees_with_the_source(synced):
    project, records = synced
    sys.path.insert(0, str(project))
    try:
        from tools.verification import TableSpec, checks_for
        from tools.verification import render as render_sql

        spec = TableSpec.from_source("order", ["userId"], "updatedAt")
        assert spec == TableSpec("order", ("user_id",), "updated_at")
        with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as connection:
            answers = {
                c.name: connection.execute(render_sql(c, "duckdb")).fetchall()
                for c in checks_for(spec, "tester", "duckdb")
            }
    finally:
        sys.path.remove(str(project))
        for module in [name for name in sys.modules if name == "tools" or name.startswith("tools.")]:
            del sys.modules[module]
    assert answers["row_count"] == [(len(records),)]
    assert answers["duplicate_keys"] == [(0,)] and answers["null_keys"] == [(0,)]
    first, last = answers["cursor_range"][0]
    assert (first.isoformat(), last.isoformat()) == ("2024-03-01T10:00:00+00:00", "2024-03-08T10:00:00+00:00")
    assert answers["fivetran_columns"][0][0] == 0  # no deleted rows


def test_verify_fails_when_keys_repeat(synced, tool_env):
    project, _ = synced
    with duckdb.connect(str(project / "files" / "warehouse.db")) as connection:
        connection.execute('CREATE TABLE tester.order_backup AS SELECT * FROM tester."order"')
    try:
        with duckdb.connect(str(project / "files" / "warehouse.db")) as connection:
            connection.execute(
                'CREATE OR REPLACE TABLE tester."order" AS SELECT * FROM tester.order_backup '
                "UNION ALL SELECT * FROM tester.order_backup WHERE user_id = 0"
            )
        result = invoke(project, tool_env, "verify")
        assert result.returncode != 0
        assert "order: 1 primary keys that appear more than once" in result.stdout
    finally:
        with duckdb.connect(str(project / "files" / "warehouse.db")) as connection:
            connection.execute('CREATE OR REPLACE TABLE tester."order" AS SELECT * FROM tester.order_backup')
            connection.execute("DROP TABLE tester.order_backup")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_parses_back_and_names_tables_its_way(dialect, synced, tool_env):
    project, _ = synced
    result = invoke(project, tool_env, "queries", "--dialect", dialect)
    assert result.returncode == 0, result.stderr
    sql = (project / "queries" / f"{dialect}.sql").read_text()
    statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    assert len(statements) == 6  # row_count, sample, duplicate_keys, null_keys, cursor_range, fivetran_columns
    table = {
        "snowflake": '"ORDER_BOOK"."ORDER"',
        "bigquery": "`your_gcp_project`.`order_book`.`order`",
        "postgres": '"order_book"."order"',
        "redshift": '"order_book"."order"',
        "databricks": "`order_book`.`order`",
    }[dialect]
    assert table in sql
    key = (
        '"USER_ID"'
        if dialect == "snowflake"
        else ("`user_id`" if dialect in ("bigquery", "databricks") else '"user_id"')
    )
    assert key in sql


def test_default_dialect_is_the_destination_type(synced, tool_env):
    project, _ = synced
    result = invoke(project, tool_env, "queries")
    assert result.returncode == 0
    assert re.search(r"^-- Verification queries for schema order_book \(bigquery\)", result.stdout, re.MULTILINE)


def test_declared_column_types_are_listed_and_checked(template, tool_env, tmp_path):
    """The checks list each declared column with its type, in every dialect; locally they fail when the warehouse
    holds a declared column as another type."""
    project = render(template, tmp_path / "project", {**ORDER_BOOK, "table_name": "orders"})
    with FakeRestApi(AWKWARD, records=awkward_records(12)) as server:
        environment = {**tool_env, "CONNECTOR_BASE_URL": server.base_url}
        tested = invoke(project, environment, "test", "--skip-unit")
        assert tested.returncode == 0, tested.stdout[-3000:]
    for dialect in DIALECTS:
        assert invoke(project, tool_env, "queries", "--dialect", dialect).returncode == 0
        sql = (project / "queries" / f"{dialect}.sql").read_text()
        assert len([s for s in sqlglot.parse(sql, read=dialect) if s is not None]) == 7
        assert "column_types, the columns and their types, declared: user_id LONG, updated_at STRING, select " in sql

    with duckdb.connect(str(project / "files" / "warehouse.db")) as connection:
        connection.execute('ALTER TABLE tester.orders ALTER "group" TYPE BIGINT USING length("group")')
    result = invoke(project, tool_env, "verify")
    assert result.returncode != 0
    assert "orders: 1 declared columns missing or of another type: group (BIGINT, declared STRING)" in result.stdout
