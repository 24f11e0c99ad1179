"""What the connector declares about each table it fills.

schema() sends these declarations to Fivetran, and `invoke test` checks the synced tables against them: one
declaration per table, whatever the source, so neither has to know how the source describes its tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Stream:
    table: str
    primary_key: tuple[str, ...]
    # The field whose latest value is saved as the sync cursor; "" when the table is read in full on every sync.
    cursor: str = ""
    # Column name to declared type, for the columns whose type is known; Fivetran infers the others from values.
    columns: Mapping[str, Any] = field(default_factory=dict)

    def declaration(self) -> dict[str, Any]:
        """The table as schema() declares it to Fivetran."""
        declaration: dict[str, Any] = {"table": self.table, "primary_key": list(self.primary_key)}
        if self.columns:
            declaration["columns"] = dict(self.columns)
        return declaration
