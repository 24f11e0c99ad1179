"""Column types of API and text-file connectors: the declaration a column's values call for, each value converted
exactly to its declared type or refused with the reason, and columns.py extended by `invoke columns` without losing
what its owner wrote. The modules are the template's own files, loaded as a generated project has them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from tests.harness import BIN, REPO

pytestmark = [pytest.mark.unit]
SOURCE_TYPE = "rest_api"


def load(path: str) -> ModuleType:
    name = f"template_{Path(path).stem}"
    spec = importlib.util.spec_from_file_location(name, REPO / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


types = load("template/_shared/declared_types.py")
declarations = load("template/_shared/tools/declarations.py")
DECIMAL_0 = {"type": "DECIMAL", "precision": 38, "scale": 0}


@pytest.mark.parametrize(
    ("values", "declaration"),
    [
        (["007", "10.00", "", "true"], "STRING"),
        ([None, None], "STRING"),
        (["", ""], "STRING"),
        ([1, -(2**63), 2**63 - 1], "LONG"),
        ([1, 2**63], DECIMAL_0),
        ([10**37, -(10**37)], DECIMAL_0),
        ([10**38], "STRING"),
        ([0.1, 1.05, 3, Decimal("10.00")], "DOUBLE"),
        ([Decimal("0.12345678901234567890"), Decimal("10.5")], {"type": "DECIMAL", "precision": 38, "scale": 20}),
        ([0.5, 2**60], {"type": "DECIMAL", "precision": 38, "scale": 1}),
        ([True, False, None], "BOOLEAN"),
        ([[1, 2], {"a": 1}], "JSON"),
        (["a", 1], "STRING"),
        ([True, 1], "STRING"),
        ([Decimal("NaN")], "STRING"),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_a_column_is_declared_with_the_narrowest_type_that_holds_every_value_exactly(values, declaration):
    profile = types.ColumnProfile()
    for value in values:
        profile.add(value)
    assert profile.declaration() == declaration


@pytest.mark.parametrize(
    ("value", "declared", "landed"),
    [
        ("10.00", "STRING", "10.00"),
        ("", "STRING", ""),
        (12, "STRING", "12"),
        (True, "STRING", "true"),
        (Decimal("10.00"), "STRING", "10.00"),
        ({"a": [Decimal("1.5"), 2]}, "STRING", '{"a": [1.5, 2]}'),
        ("42", "LONG", 42),
        (2**63 - 1, "LONG", 2**63 - 1),
        (Decimal("10.50"), {"type": "DECIMAL", "precision": 12, "scale": 2}, "10.50"),
        ("-0.5", {"type": "DECIMAL", "precision": 12, "scale": 2}, "-0.5"),
        (2**64, DECIMAL_0, "18446744073709551616"),
        (Decimal("0.1"), "DOUBLE", 0.1),
        ("FALSE", "BOOLEAN", False),
        ("2024-01-01T10:00:00+05:30", "UTC_DATETIME", datetime(2024, 1, 1, 4, 30, tzinfo=UTC)),
        ("2024-01-01T10:00:00Z", "UTC_DATETIME", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-02-29", "NAIVE_DATE", datetime(2024, 2, 29).date()),
        ([Decimal("2.5"), {"k": Decimal("3")}], "JSON", [2.5, {"k": 3}]),
        (None, "LONG", None),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_a_value_converts_exactly_to_its_declared_type(value, declared, landed):
    converted = types.declared_value(value, declared)
    assert converted == landed and type(converted) is type(landed)


@pytest.mark.parametrize(
    ("value", "declared", "reason"),
    [
        ("4.2", "LONG", "'4.2' is not a whole number"),
        (2**63, "LONG", "is beyond 64 bits"),
        (True, "LONG", "True is not a whole number"),
        (Decimal("10.505"), {"type": "DECIMAL", "precision": 12, "scale": 2}, "does not fit DECIMAL(12,2)"),
        (10**11, {"type": "DECIMAL", "precision": 12, "scale": 2}, "does not fit DECIMAL(12,2)"),
        ("t", "BOOLEAN", "'t' is not true or false"),
        ("abc", "DOUBLE", "'abc' is not a number"),
        ("2024-01-01T10:00:00", "UTC_DATETIME", "has no UTC offset"),
        ("20240101", "NAIVE_DATE", "is not an ISO-8601 date"),
    ],
)
def test_a_value_its_type_cannot_hold_is_refused_with_the_reason(value, declared, reason):
    with pytest.raises(types.DeclaredTypeError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        types.declared_value(value, declared)


def test_the_sync_names_the_table_column_and_fix_of_a_refused_value():
    with pytest.raises(types.DeclaredTypeError) as refused:
        types.destination_row("orders", {"amount": "LONG"}, {"amount": "4.2"}, {})
    assert str(refused.value) == (
        "orders.amount is declared LONG in columns.py, but '4.2' is not a whole number. Change its declaration in "
        "columns.py (STRING holds any value as text), then re-sync the table"
    )


def test_a_declaration_of_an_unknown_type_is_refused_before_any_value():
    with pytest.raises(ValueError, match=r"columns.py: orders.amount is declared 'MONEY'; use one of STRING, LONG"):
        types.checked("orders", {"amount": "MONEY"})


def test_undeclared_columns_are_written_with_the_values_fivetran_types_and_reported():
    undeclared: dict = {}
    row = types.destination_row("orders", {"id": "STRING"}, {"id": "7", "late": "007", "big": 2**64}, undeclared)
    assert row == {"id": "7", "late": "007", "big": "18446744073709551616"}
    warning = types.undeclared_warning("orders", undeclared)
    assert warning.startswith("orders: 2 columns are not declared in columns.py, so Fivetran guesses their types")
    found = declarations.undeclared_columns(f"12:00:00.000 WARNING  connector {warning}\n")
    assert found == {"orders": {"late": "STRING", "big": DECIMAL_0}}


COLUMNS_FILE = '''"""The owner's column types."""

from __future__ import annotations

from typing import Any

COLUMNS: dict[str, dict[str, Any]] = {
    "orders": {
        "id": "LONG",  # the owner's choice
        "note": "STRING",
    },
    "empty": {},
}

# A note after the declarations.
'''


def test_invoke_columns_adds_what_is_missing_keeps_the_owners_types_and_writes_as_ruff_formats(tmp_path, monkeypatch):
    columns_file = tmp_path / "columns.py"
    columns_file.write_text(COLUMNS_FILE)
    monkeypatch.setattr(declarations, "COLUMNS_FILE", columns_file)
    amount = {"type": "DECIMAL", "precision": 38, "scale": 2}
    found = {"orders": {"id": "STRING", "amount": amount}, "new": {"a": "JSON"}}

    added = declarations.declare(found)

    assert added == [("orders", "amount", amount), ("new", "a", "JSON")]
    columns = declarations.declared_columns()
    assert columns == {
        "orders": {"id": "LONG", "note": "STRING", "amount": amount},
        "empty": {},
        "new": {"a": "JSON"},
    }
    text = columns_file.read_text()
    assert text.startswith('"""The owner\'s column types."""') and text.endswith("# A note after the declarations.\n")
    formatted = subprocess.run(
        [str(BIN / "ruff"), "format", "--check", "--diff", str(columns_file)], capture_output=True, text=True
    )
    assert formatted.returncode == 0, formatted.stdout
    assert declarations.tables_without_columns() == ["empty"]
