"""The lookback of API connectors: the saved cursor moved back by some minutes, written the way the API wrote it,
for the next sync to ask from. Tested on records.py as a rendered REST project has it."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from tests.harness import render

pytestmark = [pytest.mark.render]
SOURCE_TYPE = "rest_api"

CASES = [
    ("2024-01-01T00:03:00Z", 5, "2023-12-31T23:58:00Z"),
    ("2024-01-01T10:00:00.123Z", 5, "2024-01-01T09:55:00.123Z"),
    ("2024-01-01T10:00:00.123456+05:30", 90, "2024-01-01T08:30:00.123456+05:30"),
    ("2024-01-01 10:00:00", 5, "2024-01-01 09:55:00"),
    ("2024-03-01", 5, "2024-02-29"),
    ("2024-03-01", 2880, "2024-02-28"),
    ("20240301", 5, "20240229"),
    (1704103200, 5, 1704102900),
    (1704103200000, 5, 1704102900000),
    ("1704103200", 5, "1704102900"),
    (Decimal("1704103200.000010"), 5, Decimal("1704102900.000010")),
    (42, 5, 42),
    ("v42-abc", 5, "v42-abc"),
    ("2024-01-01T00:03:00Z", 0, "2024-01-01T00:03:00Z"),
    (None, 5, None),
]


@pytest.fixture(scope="module")
def project(template, tmp_path_factory):
    return render(template, tmp_path_factory.mktemp("lookback") / "project", {})


def test_each_kind_of_cursor_moves_back_in_its_own_form(project):
    program = (
        "import sys; from decimal import Decimal; sys.path.insert(0, '.'); from records import cursor_minus\n"
        f"cases = {CASES!r}\n"
        "print([cursor_minus(cursor, minutes) for cursor, minutes, _ in cases])"
    )
    moved = subprocess.run([sys.executable, "-c", program], cwd=project, capture_output=True, text=True, check=True)
    assert moved.stdout.strip() == repr([expected for _, _, expected in CASES])
