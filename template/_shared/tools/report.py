"""How check results are shown: one readable table per warehouse table, and a list of what failed."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from tools.verification import Result

# Rich assumes 80 columns when the output is a file or a CI log, and folds every table to fit; give it room instead.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def collect_problems(results: list[Result]) -> list[str]:
    """The problems the checks found, each naming its table."""
    return [f"{result.check.table}: {result.problem}" for result in results if result.problem]


def show_results(title: str, results: list[Result], samples: bool = True) -> list[str]:
    """Print the results table by table; return the problems found, each naming its table."""
    summary = Table(title=title)
    for column in ("table", "rows", "duplicate keys", "null keys", "cursor range", "deleted", "last synced"):
        summary.add_column(column, overflow="fold")
    by_table: dict[str, dict[str, Result]] = {}
    for result in results:
        by_table.setdefault(result.check.table, {})[result.check.name] = result
    for table, checks in by_table.items():
        summary.add_row(
            table,
            value(checks, "row_count", 0),
            value(checks, "duplicate_keys", 0),
            value(checks, "null_keys", 0),
            " to ".join(value(checks, "cursor_range", index) for index in (0, 1)) if "cursor_range" in checks else "-",
            value(checks, "fivetran_columns", 0),
            value(checks, "fivetran_columns", 2),
        )
    console.print(summary)
    for table, checks in by_table.items():
        sample = checks.get("sample")
        if samples and sample and sample.rows:
            show_sample(table, sample)
    return collect_problems(results)


def value(checks: dict[str, Result], name: str, index: int) -> str:
    result = checks.get(name)
    if result is None or not result.rows:
        return "-"
    return str(result.rows[0][index])


def show_sample(table: str, sample: Result, max_columns: int = 5) -> None:
    """A few synced rows; only the first columns, since wide API records do not fit a terminal."""
    columns = [name for name in sample.columns if not name.startswith("_fivetran")][:max_columns]
    view = Table(title=f"{table}: rows synced last (first {len(columns)} columns)")
    for column in columns:
        view.add_column(column, no_wrap=True, max_width=28)
    for row in sample.rows:
        view.add_row(*(str(row[sample.columns.index(column)])[:28] for column in columns))
    console.print(view)
