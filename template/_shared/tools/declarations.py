"""columns.py, the owner's column types: the declarations a sync reports missing, added to the ones already there.

A sync logs one warning per table whose records hold columns that columns.py does not declare, ending in
`undeclared columns: {"table": ..., "columns": {name: declaration}}` (declared_types.undeclared_warning). This module
reads those warnings from a sync's output and rewrites COLUMNS with them added; declarations already in the file
stay as they are, in their order, so an owner's edits survive.
"""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any

COLUMNS_FILE = Path(__file__).resolve().parent.parent / "columns.py"
UNDECLARED = re.compile(r"undeclared columns: (?P<report>\{.*\})\s*$", re.MULTILINE)
LITERAL_START = "COLUMNS: dict[str, dict[str, Any]] = {"


def undeclared_columns(output: str) -> dict[str, dict[str, Any]]:
    """Table -> column -> the declaration the sync suggests, for every undeclared column the output reports."""
    found: dict[str, dict[str, Any]] = {}
    for match in UNDECLARED.finditer(output):
        report = json.loads(match.group("report"))
        found.setdefault(report["table"], {}).update(report["columns"])
    return found


def declared_columns() -> dict[str, dict[str, Any]]:
    return runpy.run_path(str(COLUMNS_FILE))["COLUMNS"]


def tables_without_columns() -> list[str]:
    """The tables columns.py lists with nothing declared yet, as a new project has them."""
    return [table for table, declared in declared_columns().items() if not declared]


def declare(found: dict[str, dict[str, Any]]) -> list[tuple[str, str, Any]]:
    """Add the found declarations to columns.py; returns (table, column, declaration) for each one added."""
    columns = declared_columns()
    added = []
    for table, suggested in found.items():
        declared = columns.setdefault(table, {})
        for name, declaration in suggested.items():
            if name not in declared:
                declared[name] = declaration
                added.append((table, name, declaration))
    if added:
        write(columns)
    return added


def write(columns: dict[str, dict[str, Any]]) -> None:
    """Rewrite the COLUMNS literal as `ruff format` would write it; everything around it in the file stays."""
    text = COLUMNS_FILE.read_text(encoding="utf-8")
    if LITERAL_START not in text:
        raise ValueError(f"columns.py no longer holds `{LITERAL_START}`: restore that line, then run this again")
    lines = [LITERAL_START]
    for table, declared in columns.items():
        if not declared:
            lines.append(f"    {literal(table)}: {{}},")
            continue
        lines.append(f"    {literal(table)}: {{")
        for name, declaration in declared.items():
            if isinstance(declaration, dict):
                lines.append(f"        {literal(name)}: {{")
                lines += [f"            {literal(key)}: {literal(value)}," for key, value in declaration.items()]
                lines.append("        },")
            else:
                lines.append(f"        {literal(name)}: {literal(declaration)},")
        lines.append("    },")
    lines.append("}")
    start = text.index(LITERAL_START)
    end = text.find("\n}\n", start)
    after = text[end + 3 :] if end != -1 else ""
    COLUMNS_FILE.write_text(text[:start] + "\n".join(lines) + "\n" + after, encoding="utf-8")


def literal(value: Any) -> str:
    """A Python literal of a str or int, double-quoted like `ruff format` writes it."""
    return json.dumps(value, ensure_ascii=False)


def describe(declaration: Any) -> str:
    if isinstance(declaration, dict) and declaration.get("type") == "DECIMAL":
        return f"DECIMAL({declaration.get('precision')},{declaration.get('scale')})"
    return str(declaration)
