"""Values that look like other values, as APIs send them, and the strict comparison of what lands in DuckDB.

Each field holds a kind of value that type guessing gets wrong: string keys that read as the same number, text that
looks like a number, a date or a boolean, "" next to null, integers at and beyond 64 bits, numbers no float holds,
nested objects and lists, and a field whose values disagree in type. A connector is exact when every one of them
lands with the type and value the API sent, on the first sync and after a change.
"""

from __future__ import annotations

import json
import runpy
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.harness import column_name, flatten, warehouse_rows

# The declaration each field should get from the values below (invoke columns), and so the type it lands as.
EXPECTED_DECLARATIONS: dict[str, Any] = {
    "id": "STRING",
    "updated_at": "STRING",
    "amount_text": "STRING",
    "digits": "STRING",
    "true_text": "STRING",
    "empty_or_text": "STRING",
    "always_empty": "STRING",
    "always_null": "STRING",
    "int64": "LONG",
    "beyond_int64": {"type": "DECIMAL", "precision": 38, "scale": 0},
    "beyond_decimal": "STRING",
    "ratio": "DOUBLE",
    "money": {"type": "DECIMAL", "precision": 38, "scale": 20},
    "flag": "BOOLEAN",
    "local_time": "STRING",
    "nested_a_b": "STRING",
    "nested_a_n": "LONG",
    "tags": "JSON",
    "mixed": "STRING",
}


DIGITS_20 = "0.12345678901234567890"  # 20 digits after the point: no double holds them


def exact_records() -> list[dict[str, Any]]:
    """Four records; the keys "1704103200.000010" and "1704103200.00001" are one double but two strings."""
    return [
        record("1704103200.000010", 1, "10.00", "20240101", "true", "", 2**63 - 1, 2**63, 10**40, 0.1, "10.00", True),
        record("1704103200.00001", 2, "10.0", "007", "false", "x", -(2**63), -(2**63) - 1, 1, 1.05, DIGITS_20, False),
        record("1704103200.000100", 3, "-0.50", "0", "TRUE", "", 0, 10**37, 2, -2.5, "-3.5", True),
        record("0042", 4, "1e5", "18446744073709551616", "t", " ", 42, 1, 3, 1e-7, "1", False),
    ]


def record(
    key: str,
    day: int,
    amount_text: str,
    digits: str,
    true_text: str,
    empty_or_text: str,
    int64: int,
    beyond_int64: int,
    beyond_decimal: int,
    ratio: float,
    money: str,
    flag: bool,
) -> dict[str, Any]:
    return {
        "id": key,
        "updated_at": f"2024-01-0{day}T10:00:00.{day:06d}Z",
        "amount_text": amount_text,
        "digits": digits,
        "true_text": true_text,
        "empty_or_text": empty_or_text,
        "always_empty": "",
        "always_null": None,
        "int64": int64,
        "beyond_int64": beyond_int64,
        "beyond_decimal": beyond_decimal,
        "ratio": ratio,
        "money": Decimal(money) if "." in money else int(money),
        "flag": flag,
        "local_time": f"2024-01-0{day}T10:00:00+05:30",
        "nested": {"a": {"b": f"0{day}", "n": day}, "empty": {}},
        "tags": [day, "a", None, {"k": 1.5}],
        "mixed": ["a", 1, True, None][(day - 1) % 4],
    }


def later_records() -> tuple[dict[str, Any], dict[str, Any]]:
    """A changed record and a new one, both after every cursor so far, with values of the same kinds."""
    changed = dict(exact_records()[3], amount_text="010.10", updated_at="2030-01-02T00:00:00Z", money=Decimal("2.50"))
    new = record("1704103200.0000100", 9, "+1", "00", "f", "", 7, -1, 4, 3.0, "9.99", True)
    new["updated_at"] = "2030-01-01T00:00:00Z"
    return changed, new


def declared_columns(project: Path) -> dict[str, dict[str, Any]]:
    """The COLUMNS of a project's columns.py, as `invoke columns` or its owner left them."""
    return runpy.run_path(str(project / "columns.py"))["COLUMNS"]


def landed(value: Any, declaration: Any) -> Any:
    """What a source value should be in DuckDB under its declaration."""
    if value is None:
        return None
    kind = declaration if isinstance(declaration, str) else declaration["type"]
    if kind == "STRING":
        return value if isinstance(value, str) else json.dumps(json_ready(value))
    if kind == "DECIMAL":
        return Decimal(value)
    if kind == "DOUBLE":
        return float(value)
    if kind == "JSON":
        return json_ready(value)
    return value


def json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    return value


def same_exactly(expected: Any, actual: Any, declaration: Any) -> bool:
    """Equal value and the declared type's Python type: a string is the same string, not an equal number."""
    kind = declaration if isinstance(declaration, str) else declaration["type"]
    if expected is None:
        return actual is None
    if kind == "JSON":
        return isinstance(actual, str) and json.loads(actual) == expected
    expected_type = {"STRING": str, "LONG": int, "DECIMAL": Decimal, "DOUBLE": float, "BOOLEAN": bool}[kind]
    return type(actual) is expected_type and actual == expected


def assert_table_exact(
    project: Path,
    table: str,
    source: list[dict[str, Any]],
    primary_key: tuple[str, ...],
    declarations: dict,
    flattened: bool = True,
) -> None:
    """Count, keys, columns, and every field of every row by type and value, as the declarations say it lands.
    Nested objects are flattened into parent_child columns, as API connectors write them, unless `flattened` is
    false (files keep them as JSON)."""
    fields_of = flatten if flattened else dict
    rows = warehouse_rows(project, table)
    key_columns = [column_name(key) for key in primary_key]
    by_key = {tuple(row[column] for column in key_columns): row for row in rows}
    assert len(by_key) == len(rows) == len(source), f"{table}: {len(rows)} rows for {len(source)} records"
    expected_columns = {column_name(name) for record in source for name in fields_of(record)}
    synced_columns = {name for name in rows[0] if not name.startswith("_fivetran")} if rows else set()
    assert synced_columns == expected_columns, f"{table}: columns differ: {synced_columns ^ expected_columns}"
    for record in source:
        key = tuple(landed(record[name], declarations[name]) for name in primary_key)
        assert key in by_key, f"{table}: the record with key {key!r} is missing"
        row = by_key[key]
        for name, value in fields_of(record).items():
            declaration = declarations[name]
            expected = landed(value, declaration)
            actual = row[column_name(name)]
            assert same_exactly(expected, actual, declaration), (
                f"{table} {key} {name}: the API sent {value!r}, expected {expected!r}, landed {actual!r}"
            )
