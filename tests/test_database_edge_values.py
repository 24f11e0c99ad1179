"""Values no Fivetran type holds, read from the real PostgreSQL and MariaDB servers: PostgreSQL's `infinity` and
`-infinity`, dates and times beyond the years 1 to 9999, NaN and ±Infinity; MySQL's zero dates and the year 0.

Each table holds every such value next to ordinary ones and goes through two real `fivetran debug` syncs: the first
checkpoints in batches of two, and the second resumes from positions that lie on such values, reading the rows at
them again (a read that resumed from a stand-in would skip rows, or read every row again). The warehouse must then hold
what the generated
README's rules say, value by value and type by type, written out here by hand rather than computed by the connector's
code; and each sync must warn once per table and column, with the counts."""

from __future__ import annotations

import json
import math
import re
import struct
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.harness import fivetran_debug, read_state, render
from tests.servers.databases import mariadb_database, postgres_database

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "database"

# The ends of Fivetran's date and time types, where values beyond them land.
LATEST_UTC = datetime.max.replace(tzinfo=UTC)
EARLIEST_UTC = datetime.min.replace(tzinfo=UTC)
INF = math.inf

# The rules as the warnings name them (column_types.py of a generated project).
AFTER = "infinity or after the year 9999"
BEFORE = "-infinity or before the year 1"
NO_SUCH_DAY = "no such day (a zero date, month or day)"
NAN = "NaN"
WARNING = re.compile(
    r"(\w+)\.(\w+): values its type cannot hold, replaced by the rules of README\.md "
    r"\(Values no destination type holds\): (.+)$",
    re.MULTILINE,
)

POSTGRES_SEED = [
    """CREATE TABLE edge_values (
        id int PRIMARY KEY, updated_at timestamptz NOT NULL, day date, moment timestamp, moment_tz timestamptz,
        exact numeric(10, 2), unbounded numeric, single real, dbl double precision, days date[], numbers float8[],
        span daterange, clock time)""",
    """INSERT INTO edge_values VALUES
        (1, '2024-01-01 00:00:00+00', '2024-02-29', '2024-01-01 12:00:00.123456', '2024-01-01 12:00:00+05:30', 1.25,
         1.25, 1.5, 0.1, '{2024-01-01}', '{1.5}', '[2024-01-01,2024-02-01)', '12:00:00.5'),
        (2, 'infinity', 'infinity', 'infinity', 'infinity', 'NaN', 'Infinity', 'Infinity', 'Infinity',
         '{infinity,2024-01-01}', '{NaN,Infinity,-Infinity}', '[2024-01-01,infinity)', '24:00:00'),
        (3, '-infinity', '-infinity', '-infinity', '-infinity', NULL, '-Infinity', '-Infinity', '-Infinity',
         '{-infinity}', NULL, '(-infinity,2024-01-01)', NULL),
        (4, '0500-06-01 00:00:00+00 BC', '0044-03-15 BC', '4713-01-01 00:00:00 BC', '0001-12-31 23:59:59+00 BC',
         'NaN', 'NaN', 'NaN', 'NaN', '{0044-03-15 BC}', NULL, NULL, NULL),
        (5, '10000-01-01 00:00:00+00', '12000-01-01', '294276-12-31 23:59:59.999999', '10000-01-01 00:00:00+00',
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (6, '9999-12-31 23:59:59.999999+00', '9999-12-31', '9999-12-31 23:59:59.999999', '0001-01-01 00:00:00+00',
         99999999.99, -0.0000001, -2.5, 1.7976931348623157e308, NULL, NULL, NULL, NULL),
        (7, '2024-01-02 00:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
    # A date in the primary key: infinity and -infinity land at the ends and stay distinct keys.
    """CREATE TABLE validity (product_id int, valid_to date, updated_at timestamp NOT NULL, price numeric(8, 2),
        PRIMARY KEY (product_id, valid_to))""",
    """INSERT INTO validity VALUES (1, '2024-12-31', '2024-01-01', 10.00), (1, 'infinity', '2024-01-01', 12.00),
        (2, '-infinity', '2024-01-01', 'NaN')""",
    # The first sync's position lands on a BC moment, after -infinity.
    "CREATE TABLE eras (id int PRIMARY KEY, updated_at timestamptz NOT NULL)",
    "INSERT INTO eras VALUES (1, '-infinity'), (2, '0044-03-15 00:00:00+00 BC')",
]
POSTGRES_CHANGES = [
    # Ties with the saved position (infinity, 2): the same cursor value, larger keys.
    """INSERT INTO edge_values (id, updated_at, day, moment, moment_tz, exact, single, dbl) VALUES
        (8, 'infinity', 'infinity', '20000-01-01 00:00:00', '-infinity', 'NaN', '-Infinity', 'NaN'),
        (9, 'infinity', '2024-03-01', NULL, NULL, 2.50, NULL, NULL)""",
    "UPDATE validity SET price = 'NaN', updated_at = '2024-02-01' WHERE product_id = 1 AND valid_to = 'infinity'",
    "INSERT INTO validity VALUES (2, '12000-01-01', '2024-02-01', 5.00)",
    # After the saved BC position: read, as it would not be after the stand-in 0001-01-01.
    "INSERT INTO eras VALUES (3, '0010-01-01 00:00:00+00 BC')",
]
POSTGRES_TYPES = {
    "edge_values": {
        "id": "INTEGER",
        "updated_at": "TIMESTAMP WITH TIME ZONE",
        "day": "DATE",
        "moment": "TIMESTAMP",
        "moment_tz": "TIMESTAMP WITH TIME ZONE",
        "exact": "DECIMAL(10,2)",
        "unbounded": "VARCHAR",
        "single": "FLOAT",
        "dbl": "DOUBLE",
        "days": "JSON",
        "numbers": "JSON",
        "span": "VARCHAR",
        "clock": "VARCHAR",
    },
    "validity": {"product_id": "INTEGER", "valid_to": "DATE", "updated_at": "TIMESTAMP", "price": "DECIMAL(8,2)"},
    "eras": {"id": "INTEGER", "updated_at": "TIMESTAMP WITH TIME ZONE"},
}


def row(table_types: dict[str, str], **values: Any) -> tuple:
    """A warehouse row in the order of the table's columns; the columns not named are NULL."""
    return tuple(values.get(column) for column in table_types)


def pg_edge(**values: Any) -> tuple:
    return row(POSTGRES_TYPES["edge_values"], **values)


def pg_validity(product_id: int, valid_to: date, updated_at: datetime, price: Decimal | None) -> tuple:
    return (product_id, valid_to), (product_id, valid_to, updated_at, price)


# What each source row must become by the README's rules, by primary key.
POSTGRES_FIRST = {
    "edge_values": {
        (1,): pg_edge(
            id=1,
            updated_at=datetime(2024, 1, 1, tzinfo=UTC),
            day=date(2024, 2, 29),
            moment=datetime(2024, 1, 1, 12, 0, 0, 123456),
            moment_tz=datetime(2024, 1, 1, 6, 30, tzinfo=UTC),
            exact=Decimal("1.25"),
            unbounded="1.25",
            single=1.5,
            dbl=0.1,
            days=["2024-01-01"],
            numbers=[1.5],
            span="[2024-01-01,2024-02-01)",
            clock="12:00:00.500000",
        ),
        (2,): pg_edge(
            id=2,
            updated_at=LATEST_UTC,
            day=date.max,
            moment=datetime.max,
            moment_tz=LATEST_UTC,
            exact=None,  # NaN
            unbounded="Infinity",
            single=INF,
            dbl=INF,
            days=["infinity", "2024-01-01"],
            numbers=["NaN", "Infinity", "-Infinity"],
            span="[2024-01-01,infinity)",
            clock="24:00:00",  # a time Python cannot hold: PostgreSQL's text
        ),
        (3,): pg_edge(
            id=3,
            updated_at=EARLIEST_UTC,
            day=date.min,
            moment=datetime.min,
            moment_tz=EARLIEST_UTC,
            unbounded="-Infinity",
            single=-INF,
            dbl=-INF,
            days=["-infinity"],
            span="(-infinity,2024-01-01)",
        ),
        (4,): pg_edge(  # BC; NaN everywhere
            id=4,
            updated_at=EARLIEST_UTC,
            day=date.min,
            moment=datetime.min,
            moment_tz=EARLIEST_UTC,
            unbounded="NaN",
            days=["0044-03-15 BC"],
        ),
        (5,): pg_edge(id=5, updated_at=LATEST_UTC, day=date.max, moment=datetime.max, moment_tz=LATEST_UTC),
        # The ends themselves, which the source may hold too: they land as they are.
        (6,): pg_edge(
            id=6,
            updated_at=LATEST_UTC,
            day=date.max,
            moment=datetime.max,
            moment_tz=EARLIEST_UTC,
            exact=Decimal("99999999.99"),
            unbounded="-0.0000001",
            single=-2.5,
            dbl=1.7976931348623157e308,
        ),
        (7,): pg_edge(id=7, updated_at=datetime(2024, 1, 2, tzinfo=UTC)),
    },
    "validity": dict(
        [
            pg_validity(1, date(2024, 12, 31), datetime(2024, 1, 1), Decimal("10.00")),
            pg_validity(1, date.max, datetime(2024, 1, 1), Decimal("12.00")),  # infinity
            pg_validity(2, date.min, datetime(2024, 1, 1), None),  # -infinity; NaN
        ]
    ),
    "eras": {(1,): (1, EARLIEST_UTC), (2,): (2, EARLIEST_UTC)},
}
POSTGRES_SECOND = {
    "edge_values": {
        **POSTGRES_FIRST["edge_values"],
        (8,): pg_edge(
            id=8, updated_at=LATEST_UTC, day=date.max, moment=datetime.max, moment_tz=EARLIEST_UTC, single=-INF
        ),
        (9,): pg_edge(id=9, updated_at=LATEST_UTC, day=date(2024, 3, 1), exact=Decimal("2.50")),
    },
    "validity": {
        **POSTGRES_FIRST["validity"],
        **dict(
            [
                pg_validity(1, date.max, datetime(2024, 2, 1), None),  # NaN now
                pg_validity(2, date.max, datetime(2024, 2, 1), Decimal("5.00")),  # 12000-01-01
            ]
        ),
    },
    "eras": {**POSTGRES_FIRST["eras"], (3,): (3, EARLIEST_UTC)},
}
# Every warning of each sync: (table, column) -> {rule: "count as landed"}.
POSTGRES_FIRST_WARNINGS = {
    ("edge_values", "updated_at"): {
        BEFORE: "2 as 0001-01-01T00:00:00+00:00",
        AFTER: "2 as 9999-12-31T23:59:59.999999+00:00",
    },
    ("edge_values", "day"): {BEFORE: "2 as 0001-01-01", AFTER: "2 as 9999-12-31"},
    ("edge_values", "moment"): {BEFORE: "2 as 0001-01-01T00:00:00", AFTER: "2 as 9999-12-31T23:59:59.999999"},
    ("edge_values", "moment_tz"): {
        BEFORE: "2 as 0001-01-01T00:00:00+00:00",
        AFTER: "2 as 9999-12-31T23:59:59.999999+00:00",
    },
    ("edge_values", "exact"): {NAN: "2 as NULL"},
    ("edge_values", "single"): {NAN: "1 as NULL"},
    ("edge_values", "dbl"): {NAN: "1 as NULL"},
    ("validity", "valid_to"): {BEFORE: "1 as 0001-01-01", AFTER: "1 as 9999-12-31"},
    ("validity", "price"): {NAN: "1 as NULL"},
    ("eras", "updated_at"): {BEFORE: "2 as 0001-01-01T00:00:00+00:00"},
}
# The second sync reads again the rows at each saved position (a cursor value beyond Python's range is not moved
# back, so only the rows sharing it): edge_values row 2, validity (1, infinity) and (2, -infinity), eras row 2.
POSTGRES_SECOND_WARNINGS = {
    ("edge_values", "updated_at"): {AFTER: "3 as 9999-12-31T23:59:59.999999+00:00"},
    ("edge_values", "day"): {AFTER: "2 as 9999-12-31"},
    ("edge_values", "moment"): {AFTER: "2 as 9999-12-31T23:59:59.999999"},
    ("edge_values", "moment_tz"): {
        BEFORE: "1 as 0001-01-01T00:00:00+00:00",
        AFTER: "1 as 9999-12-31T23:59:59.999999+00:00",
    },
    ("edge_values", "exact"): {NAN: "2 as NULL"},
    ("edge_values", "dbl"): {NAN: "1 as NULL"},
    ("validity", "valid_to"): {BEFORE: "1 as 0001-01-01", AFTER: "2 as 9999-12-31"},
    ("validity", "price"): {NAN: "2 as NULL"},
    ("eras", "updated_at"): {BEFORE: "2 as 0001-01-01T00:00:00+00:00"},
}

MARIADB_SEED = [
    # MariaDB's default sql_mode allows zero dates; ALLOW_INVALID_DATES also keeps 2023-02-30.
    "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'",
    """CREATE TABLE edge_values (id int PRIMARY KEY, updated_at datetime(6) NOT NULL, day date, moment datetime(6),
        stamp timestamp(6) NULL, dbl double)""",
    """INSERT INTO edge_values VALUES
        (1, '2024-01-01 00:00:00', '2024-02-29', '2024-01-01 12:00:00.123456', '2024-01-01 12:00:00.654321', 0.1),
        (2, '0000-00-00 00:00:00', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', NULL),
        (3, '2019-00-00 00:00:00', '2019-05-00', '2019-00-05 10:00:00', NULL, NULL),
        (4, '0000-01-01 00:00:00', '0000-01-01', '0000-02-29 00:00:00', NULL, NULL),
        (5, '2023-02-30 00:00:00', '2023-02-30', '2023-02-29 12:00:00', NULL, NULL),
        (6, '9999-12-31 23:59:59.999999', '0001-01-01', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999',
         -1.7976931348623157e308),
        (7, '2024-01-02 00:00:00', NULL, NULL, NULL, NULL)""",
    # A zero date in the primary key, which cannot land as NULL.
    "CREATE TABLE daily (account int, day date, amount int, PRIMARY KEY (account, day))",
    "INSERT INTO daily VALUES (1, '0000-00-00', 5), (1, '2024-01-01', 6), (2, '2024-05-00', 7)",
    # The first sync's position lands on a date that names no day.
    "CREATE TABLE legacy (id int PRIMARY KEY, updated_at datetime NOT NULL)",
    "INSERT INTO legacy VALUES (1, '0000-00-00 00:00:00'), (2, '2019-00-00 00:00:00')",
]
MARIADB_CHANGES = [
    "SET SESSION sql_mode = ''",
    # A tie with the saved position (9999-12-31 23:59:59.999999, 6): the same cursor value, a larger key.
    """INSERT INTO edge_values VALUES
        (8, '9999-12-31 23:59:59.999999', '0000-00-00', '2024-00-00 00:00:00', '0000-00-00 00:00:00', NULL)""",
    "INSERT INTO daily VALUES (3, '0000-00-00', 1)",
    # After the saved position: a tie with a larger key, and the first real day after it.
    "INSERT INTO legacy VALUES (3, '2019-00-00 00:00:00'), (4, '2019-01-01 00:00:00')",
]
MARIADB_TYPES = {
    "edge_values": {
        "id": "INTEGER",
        "updated_at": "TIMESTAMP",
        "day": "DATE",
        "moment": "TIMESTAMP",
        "stamp": "TIMESTAMP WITH TIME ZONE",
        "dbl": "DOUBLE",
    },
    "daily": {"account": "INTEGER", "day": "DATE", "amount": "INTEGER"},
    "legacy": {"id": "INTEGER", "updated_at": "TIMESTAMP"},
}


def maria_edge(**values: Any) -> tuple:
    return row(MARIADB_TYPES["edge_values"], **values)


MARIADB_FIRST = {
    "edge_values": {
        (1,): maria_edge(
            id=1,
            updated_at=datetime(2024, 1, 1),
            day=date(2024, 2, 29),
            moment=datetime(2024, 1, 1, 12, 0, 0, 123456),
            stamp=datetime(2024, 1, 1, 12, 0, 0, 654321, tzinfo=UTC),
            dbl=0.1,
        ),
        (2,): maria_edge(id=2),  # the zero date everywhere
        (3,): maria_edge(id=3),  # zero months and days
        (4,): maria_edge(id=4, updated_at=datetime.min, day=date.min, moment=datetime.min),  # the year 0
        (5,): maria_edge(id=5),  # 30 February, and 29 February 2023
        (6,): maria_edge(
            id=6,
            updated_at=datetime.max,
            day=date.min,
            moment=datetime.max,
            stamp=datetime(2038, 1, 19, 3, 14, 7, 999999, tzinfo=UTC),
            dbl=-1.7976931348623157e308,
        ),
        (7,): maria_edge(id=7, updated_at=datetime(2024, 1, 2)),
    },
    # Zero dates in the key land as the earliest date, which keeps the keys distinct here.
    "daily": {
        (1, date.min): (1, date.min, 5),
        (1, date(2024, 1, 1)): (1, date(2024, 1, 1), 6),
        (2, date.min): (2, date.min, 7),
    },
    "legacy": {(1,): (1, None), (2,): (2, None)},
}
MARIADB_SECOND = {
    "edge_values": {**MARIADB_FIRST["edge_values"], (8,): maria_edge(id=8, updated_at=datetime.max)},
    "daily": {**MARIADB_FIRST["daily"], (3, date.min): (3, date.min, 1)},
    "legacy": {**MARIADB_FIRST["legacy"], (3,): (3, None), (4,): (4, datetime(2019, 1, 1))},
}
NO_SUCH_DAY_IN_KEY = f"{NO_SUCH_DAY}, in the primary key"
MARIADB_FIRST_WARNINGS = {
    ("edge_values", "updated_at"): {NO_SUCH_DAY: "3 as NULL", BEFORE: "1 as 0001-01-01T00:00:00"},
    ("edge_values", "day"): {NO_SUCH_DAY: "3 as NULL", BEFORE: "1 as 0001-01-01"},
    ("edge_values", "moment"): {NO_SUCH_DAY: "3 as NULL", BEFORE: "1 as 0001-01-01T00:00:00"},
    ("edge_values", "stamp"): {NO_SUCH_DAY: "1 as NULL"},
    ("daily", "day"): {NO_SUCH_DAY_IN_KEY: "2 as 0001-01-01"},
    ("legacy", "updated_at"): {NO_SUCH_DAY: "2 as NULL"},
}
MARIADB_SECOND_WARNINGS = {
    ("edge_values", "day"): {NO_SUCH_DAY: "1 as NULL"},
    ("edge_values", "moment"): {NO_SUCH_DAY: "1 as NULL"},
    ("edge_values", "stamp"): {NO_SUCH_DAY: "1 as NULL"},
    ("daily", "day"): {NO_SUCH_DAY_IN_KEY: "3 as 0001-01-01"},  # read in full again
    ("legacy", "updated_at"): {NO_SUCH_DAY: "2 as NULL"},  # row 2, at the saved position, read again; row 3
}


def same(expected: Any, actual: Any, warehouse_type: str) -> bool:
    """Whether a warehouse value is exactly the value the rules give, in the type declared for its column."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if warehouse_type == "JSON":
        return json.loads(actual) == expected
    if warehouse_type == "FLOAT":  # 32-bit: the expected values above are exact in 32 bits
        return isinstance(actual, float) and struct.pack("<f", expected) == struct.pack("<f", actual)
    if warehouse_type == "TIMESTAMP WITH TIME ZONE":
        return isinstance(actual, datetime) and actual.utcoffset() == timedelta(0) and actual == expected
    return type(actual) is type(expected) and actual == expected


def assert_landed(project: Path, types: dict[str, dict[str, str]], expected: dict[str, dict[tuple, tuple]]) -> None:
    """Each table holds exactly the expected rows: same count, same keys, every column's type and value."""
    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as warehouse:
        for table, rows in expected.items():
            columns = tuple(types[table])
            declared = dict(
                warehouse.execute(f"SELECT column_name, column_type FROM (DESCRIBE tester.{table})").fetchall()
            )
            assert {name: declared.get(name) for name in columns} == types[table], f"{table}: column types"
            assert not set(declared) - set(columns) - {"_fivetran_synced", "_fivetran_deleted"}, f"{table}: columns"
            landed = warehouse.execute(f"SELECT {', '.join(columns)} FROM tester.{table}").fetchall()
            key_length = len(next(iter(rows)))
            by_key = {row[:key_length]: row for row in landed}
            assert len(by_key) == len(landed), f"{table}: a primary key repeats in the warehouse"
            assert sorted(by_key) == sorted(rows), f"{table}: keys differ from the rules' expectation"
            for key, values in rows.items():
                for column, value, actual in zip(columns, values, by_key[key], strict=True):
                    assert same(value, actual, types[table][column]), (
                        f"{table} {key} {column} ({types[table][column]}): expected {value!r}, landed {actual!r}"
                    )


def warnings(output: str) -> dict[tuple[str, str], dict[str, str]]:
    """The sync's warnings about replaced values, by table and column; a column warned twice fails."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for table, column, counts in WARNING.findall(output):
        assert (table, column) not in found, f"{table}.{column} warned more than once"
        found[table, column] = dict(part.rsplit(": ", 1) for part in counts.strip().split("; "))
    return found


def upserts(output: str) -> int:
    return int(re.search(r"Upserts\s*\|\s*(\d+)", output).group(1))


def test_postgresql_infinity_far_years_and_nan_land_by_their_rules_in_both_syncs(template, tool_env, tmp_path):
    with postgres_database() as database:
        database.execute(*POSTGRES_SEED)
        project = render(template, tmp_path / "pg", {"source_type": "database", "connector_name": "pg_edges"})
        configuration = database.configuration(batch_size="2")

        first = fivetran_debug(project, configuration, tool_env)
        assert_landed(project, POSTGRES_TYPES, POSTGRES_FIRST)
        assert warnings(first) == POSTGRES_FIRST_WARNINGS
        # Positions keep PostgreSQL's own text, so that the next read resumes exactly after them.
        assert read_state(project)["edge_values"]["after"] == [["str", "infinity"], ["int", "2"]]
        assert read_state(project)["eras"]["after"] == [["str", "0044-03-15 00:00:00+00 BC"], ["int", "2"]]

        database.execute(*POSTGRES_CHANGES)
        second = fivetran_debug(project, configuration, tool_env)

    # The new rows (edge_values 2, validity 2, eras 1), and the rows at each saved position again (1, 2, 1).
    assert upserts(second) == 2 + 2 + 1 + 1 + 2 + 1
    assert_landed(project, POSTGRES_TYPES, POSTGRES_SECOND)
    assert warnings(second) == POSTGRES_SECOND_WARNINGS
    assert read_state(project)["edge_values"]["after"] == [["str", "infinity"], ["int", "9"]]


def test_mariadb_zero_dates_and_the_year_0_land_by_their_rules_in_both_syncs(template, tool_env, tmp_path):
    with mariadb_database() as database:
        database.execute(*MARIADB_SEED)
        project = render(template, tmp_path / "maria", {"source_type": "database", "db_engine": "mysql"})
        configuration = database.configuration(batch_size="2")

        first = fivetran_debug(project, configuration, tool_env)
        assert_landed(project, MARIADB_TYPES, MARIADB_FIRST)
        assert warnings(first) == MARIADB_FIRST_WARNINGS
        assert read_state(project)["edge_values"]["after"] == [["datetime", "9999-12-31T23:59:59.999999"], ["int", "6"]]
        assert read_state(project)["legacy"]["after"] == [["str", "2019-00-00 00:00:00"], ["int", "2"]]

        database.execute(*MARIADB_CHANGES)
        second = fivetran_debug(project, configuration, tool_env)

    # The tie, daily read in full, the tie and the day after 2019-00-00; and the rows at each saved position again:
    # edge_values row 6, within the lookback of 9999-12-31 23:59:59.999999, and legacy row 2.
    assert upserts(second) == 1 + 4 + 2 + 1 + 1
    assert_landed(project, MARIADB_TYPES, MARIADB_SECOND)
    assert warnings(second) == MARIADB_SECOND_WARNINGS
