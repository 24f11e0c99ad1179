"""One definition of the checks that prove a sync is sound, rendered with sqlglot into each destination's SQL.

The same checks run on the local DuckDB warehouse (`invoke verify`, `invoke test`) and are printed for the
destination (`invoke queries`), so what was verified locally is what gets verified in production.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from tools.naming import column_name, table_name

DESTINATION_DIALECTS = ("snowflake", "bigquery", "postgres", "redshift", "databricks")
LOCAL_SCHEMA = "tester"  # where `fivetran debug` writes
BIGQUERY_PROJECT = "your_gcp_project"  # BigQuery names tables project.dataset.table; replace with yours


@dataclass(frozen=True)
class TableSpec:
    """A destination table as Fivetran names it, with its primary key and cursor columns, and the columns whose type
    the connector declares, each with that type ("STRING", "DECIMAL(38,2)")."""

    name: str
    primary_key: tuple[str, ...]
    cursor: str = ""
    columns: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_source(
        cls, table: str, primary_key: Sequence[str], cursor: str = "", columns: Mapping[str, Any] | None = None
    ) -> TableSpec:
        declared = tuple((column_name(name), type_text(declared)) for name, declared in (columns or {}).items())
        return cls(
            table_name(table),
            tuple(column_name(key) for key in primary_key),
            column_name(cursor) if cursor else "",
            declared,
        )


def type_text(declared: Any) -> str:
    """A declared type as one word: "STRING", or "DECIMAL(38,2)" for {"type": "DECIMAL", ...}."""
    if isinstance(declared, str):
        return declared
    if declared.get("type") == "DECIMAL":
        return f"DECIMAL({declared.get('precision', 38)},{declared.get('scale', 0)})"
    return str(declared.get("type"))


# The DuckDB type the local tester gives each declared type, as Fivetran's core does.
LOCAL_TYPES = {
    "BOOLEAN": "BOOLEAN",
    "SHORT": "SMALLINT",
    "INT": "INTEGER",
    "LONG": "BIGINT",
    "FLOAT": "FLOAT",
    "DOUBLE": "DOUBLE",
    "NAIVE_DATE": "DATE",
    "NAIVE_DATETIME": "TIMESTAMP",
    "UTC_DATETIME": "TIMESTAMP WITH TIME ZONE",
    "BINARY": "BLOB",
    "XML": "VARCHAR",
    "STRING": "VARCHAR",
    "JSON": "JSON",
}


def local_type(declared: str) -> str:
    """The local type of a declared one; a DECIMAL's precision and scale are kept within what DuckDB holds."""
    decimal = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", declared)
    if decimal:
        precision = min(max(int(decimal.group(1)), 1), 38)
        return f"DECIMAL({precision},{min(int(decimal.group(2)), precision)})"
    return LOCAL_TYPES.get(declared, declared)


@dataclass(frozen=True)
class Check:
    table: str
    name: str
    description: str
    query: exp.Select
    # The check fails when this column of its single result row is above zero (or, for row_count, is zero).
    failing_column: str = ""
    # column_types only: the declared (column, type) pairs its rows are compared with.
    declared: tuple[tuple[str, str], ...] = ()


def identifier(name: str, dialect: str) -> exp.Identifier:
    """A quoted identifier in the case the destination stores: Snowflake folds Fivetran's names to upper case."""
    return exp.to_identifier(name.upper() if dialect == "snowflake" else name, quoted=True)


def table_reference(schema: str, table: str, dialect: str) -> exp.Table:
    catalog = identifier(BIGQUERY_PROJECT, dialect) if dialect == "bigquery" else None
    return exp.Table(this=identifier(table, dialect), db=identifier(schema, dialect), catalog=catalog)


def checks_for(spec: TableSpec, schema: str, dialect: str) -> list[Check]:
    """Rows, a sample, the cursor's range, duplicate and null primary keys, and Fivetran's system columns."""
    table = table_reference(schema, spec.name, dialect)
    column = lambda name: exp.column(identifier(name, dialect))  # noqa: E731 - a short alias keeps the queries legible
    checks = [
        Check(
            spec.name,
            "row_count",
            "rows in the table",
            exp.select(exp.Count(this=exp.Star()).as_("row_count")).from_(table),
            "row_count",
        ),
        Check(
            spec.name,
            "sample",
            "the five rows synced last",
            exp.select("*").from_(table).order_by(exp.Ordered(this=column("_fivetran_synced"), desc=True)).limit(5),
        ),
    ]
    if spec.primary_key:
        keys = [column(key) for key in spec.primary_key]
        grouped = (
            exp.select(*keys)
            .from_(table)
            .group_by(*keys)
            .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
        )
        checks.append(
            Check(
                spec.name,
                "duplicate_keys",
                "primary keys that appear more than once",
                exp.select(exp.Count(this=exp.Star()).as_("duplicate_keys")).from_(grouped.subquery("repeated")),
                "duplicate_keys",
            )
        )
        checks.append(
            Check(
                spec.name,
                "null_keys",
                "rows with a null primary key column",
                exp.select(exp.Count(this=exp.Star()).as_("null_keys"))
                .from_(table)
                .where(exp.or_(*(key.is_(exp.null()) for key in keys))),
                "null_keys",
            )
        )
    if spec.cursor:
        checks.append(
            Check(
                spec.name,
                "cursor_range",
                f"range of the cursor column {spec.cursor}",
                exp.select(
                    exp.Min(this=column(spec.cursor)).as_("first_cursor"),
                    exp.Max(this=column(spec.cursor)).as_("last_cursor"),
                ).from_(table),
            )
        )
    if spec.columns:
        listed = ", ".join(f"{name} {declared}" for name, declared in spec.columns)
        checks.append(
            Check(
                spec.name,
                "column_types",
                f"the columns and their types, declared: {listed}",
                columns_query(schema, spec.name, dialect),
                declared=spec.columns,
            )
        )
    deleted = exp.Case(
        ifs=[exp.If(this=column("_fivetran_deleted"), true=exp.Literal.number(1))], default=exp.Literal.number(0)
    )
    checks.append(
        Check(
            spec.name,
            "fivetran_columns",
            "Fivetran's system columns: deleted rows and sync times",
            exp.select(
                exp.Sum(this=deleted).as_("deleted_rows"),
                exp.Min(this=column("_fivetran_synced")).as_("first_synced"),
                exp.Max(this=column("_fivetran_synced")).as_("last_synced"),
            ).from_(table),
        )
    )
    return checks


def columns_query(schema: str, table: str, dialect: str) -> exp.Select:
    """The table's columns and their types, from the destination's information schema."""
    if dialect == "bigquery":
        source = exp.Table(
            this=exp.to_identifier("COLUMNS"),
            db=exp.to_identifier("INFORMATION_SCHEMA"),
            catalog=identifier(schema, dialect),
        )
        where = exp.column("table_name").eq(exp.Literal.string(table))
    else:
        source = exp.Table(this=exp.to_identifier("columns"), db=exp.to_identifier("information_schema"))
        folded = (lambda name: name.upper()) if dialect == "snowflake" else (lambda name: name)
        where = exp.and_(
            exp.column("table_schema").eq(exp.Literal.string(folded(schema))),
            exp.column("table_name").eq(exp.Literal.string(folded(table))),
        )
    return (
        exp.select(exp.column("column_name"), exp.column("data_type"))
        .from_(source)
        .where(where)
        .order_by(exp.column("column_name"))
    )


def render(check: Check, dialect: str) -> str:
    return check.query.sql(dialect=dialect, pretty=True)


def queries_file(specs: list[TableSpec], schema: str, dialect: str) -> str:
    """Every check of every table as one SQL script for the destination."""
    parts = [f"-- Verification queries for schema {schema} ({dialect}), generated by `invoke queries`."]
    for spec in specs:
        for check in checks_for(spec, schema, dialect):
            parts.append(f"-- {check.table}: {check.name}, {check.description}\n{render(check, dialect)};")
    return "\n\n".join(parts) + "\n"


@dataclass
class Result:
    check: Check
    columns: list[str]
    rows: list[tuple]

    @property
    def problem(self) -> str:
        if self.check.name == "column_types":
            return self.column_type_problem()
        if not self.check.failing_column or not self.rows:
            return ""
        value = self.rows[0][self.columns.index(self.check.failing_column)]
        if self.check.name == "row_count":
            return "no rows" if value == 0 else ""
        return f"{value} {self.check.description}" if value else ""

    def column_type_problem(self) -> str:
        """Declared columns that the local warehouse lacks or holds as another type than the declared one."""
        found = dict(self.rows)
        wrong = [
            f"{name} ({found.get(name, 'missing')}, declared {declared})"
            for name, declared in self.check.declared
            if found.get(name) != local_type(declared)
        ]
        return f"{len(wrong)} declared columns missing or of another type: {', '.join(wrong)}" if wrong else ""


def run_locally(connection: Any, specs: list[TableSpec]) -> list[Result]:
    """Run every check on the local DuckDB warehouse; a missing table is a failed row_count."""
    existing = {
        row[0]
        for row in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [LOCAL_SCHEMA]
        ).fetchall()
    }
    results = []
    for spec in specs:
        checks = checks_for(spec, LOCAL_SCHEMA, "duckdb")
        if spec.name not in existing:
            results.append(Result(checks[0], ["row_count"], [(0,)]))
            continue
        for check in checks:
            cursor = connection.execute(render(check, "duckdb"))
            results.append(Result(check, [column[0] for column in cursor.description], cursor.fetchall()))
    return results
