"""Values as their columns' declared Fivetran types, and the type to declare for a column from the values it holds.

A declared column keeps its values exact: a string stays the same string however much it looks like a number or a
date, an integer beyond 64 bits stays whole, and "" stays apart from null. A column without a declaration is typed by
Fivetran from its values, which turns "10.00" into 10.0 and "007" into 7, so the sync reports every such column with
the declaration that would keep it exact (sync.py), and `invoke columns` writes those declarations into columns.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

# A column's type as schema() declares it: "STRING", or {"type": "DECIMAL", "precision": 38, "scale": 2}.
Declaration = str | dict[str, Any]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
DECIMAL_DIGITS = 38  # the most digits a Fivetran DECIMAL holds


class DeclaredTypeError(ValueError):
    """A value its column's declared type cannot hold exactly."""


def type_name(declared: Declaration) -> str:
    return declared if isinstance(declared, str) else str(declared.get("type", ""))


def checked(table: str, columns: Mapping[str, Declaration]) -> Mapping[str, Declaration]:
    """The table's declarations, refused with the column to fix when one names no type this module converts."""
    for name, declared in columns.items():
        if type_name(declared) not in CONVERSIONS:
            raise ValueError(
                f"columns.py: {table}.{name} is declared {declared!r}; use one of {', '.join(CONVERSIONS)} "
                '(DECIMAL as {"type": "DECIMAL", "precision": 38, "scale": 2})'
            )
    return columns


def declared_value(value: Any, declared: Declaration) -> Any:
    """The value as the declared type takes it, exactly; DeclaredTypeError says why it cannot be."""
    if value is None:
        return None
    convert = CONVERSIONS.get(type_name(declared))
    if convert is None:
        raise DeclaredTypeError(
            f"{declared!r} is not a type columns.py may declare; use one of {', '.join(CONVERSIONS)}"
        )
    return convert(value, declared)


def as_string(value: Any, declared: Declaration) -> str:
    """Text as it came; any other value as its JSON text (true, 12, 10.00, {"a": 1})."""
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, (date, datetime)):
        return iso_text(value)
    return json.dumps(json_ready(value), ensure_ascii=False)


def as_long(value: Any, declared: Declaration) -> int:
    number = whole_number(value)
    if INT64_MIN <= number <= INT64_MAX:
        return number
    raise DeclaredTypeError(f"{value!r} is beyond 64 bits")


def as_decimal(value: Any, declared: Declaration) -> str:
    """The number's digits as text, which is how the SDK takes a DECIMAL; one that the declared precision and scale
    would round or cut is refused rather than changed."""
    number = decimal_number(value)
    precision = int(declared.get("precision", DECIMAL_DIGITS)) if isinstance(declared, dict) else DECIMAL_DIGITS
    scale = int(declared.get("scale", 0)) if isinstance(declared, dict) else 0
    if not number.is_finite() or decimal_scale(number) > scale or whole_digits(number) > precision - scale:
        raise DeclaredTypeError(f"{value} does not fit DECIMAL({precision},{scale}) without rounding")
    return format(number, "f")


def as_double(value: Any, declared: Declaration) -> float:
    return float(decimal_number(value))


def as_boolean(value: Any, declared: Declaration) -> bool:
    """JSON's true and false, or the same words as text (any case), as a CSV file holds them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise DeclaredTypeError(f"{value!r} is not true or false")


def whole_number(value: Any) -> int:
    """An integer, or text that spells one (a CSV field): 42, "-7"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise DeclaredTypeError(f"{value!r} is not a whole number")


def decimal_number(value: Any) -> Decimal:
    """A number, or text that spells one (a CSV field), as an exact Decimal."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except ArithmeticError:
            pass
    raise DeclaredTypeError(f"{value!r} is not a number")


def as_utc_datetime(value: Any, declared: Declaration) -> datetime:
    """An ISO-8601 timestamp with a UTC offset or Z; one without an offset is refused, since its instant is unknown."""
    moment = value if isinstance(value, datetime) else iso_moment(value)
    if moment.tzinfo is None:
        raise DeclaredTypeError(f"{value!r} has no UTC offset, so its instant is unknown (declare NAIVE_DATETIME)")
    return moment.astimezone(timezone.utc)


def as_naive_datetime(value: Any, declared: Declaration) -> datetime:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, datetime.min.time())  # a spreadsheet's date cell in a date-time column
    moment = value if isinstance(value, datetime) else iso_moment(value)
    if moment.tzinfo is not None:
        raise DeclaredTypeError(f"{value!r} has a UTC offset (declare UTC_DATETIME)")
    return moment


def as_naive_date(value: Any, declared: Declaration) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    moment = iso_moment(value)
    if moment.time() != datetime.min.time() or moment.tzinfo is not None or "T" in str(value) or " " in str(value):
        raise DeclaredTypeError(f"{value!r} is not an ISO-8601 date (YYYY-MM-DD)")
    return moment.date()


def as_json(value: Any, declared: Declaration) -> Any:
    return json_ready(value)


# ISO-8601 in its extended form, as APIs and exports write it: a date, or a date and time (seconds, a fraction of up
# to 9 digits, and an offset or Z optional). Parsed here rather than by datetime.fromisoformat, whose forms differ
# between Python 3.10 and 3.11.
ISO_MOMENT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?)?"
)


def iso_moment(value: Any) -> datetime:
    """A datetime from ISO-8601 text, aware when the text has an offset; a fraction beyond microseconds is refused
    rather than rounded."""
    match = ISO_MOMENT.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise DeclaredTypeError(f"{value!r} is not an ISO-8601 date or timestamp")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if fraction and len(fraction) > 6 and set(fraction[6:]) != {"0"}:
        raise DeclaredTypeError(f"{value!r} has more than microseconds, which a timestamp column cannot hold")
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
        )
    except ValueError as error:
        raise DeclaredTypeError(f"{value!r} is not a valid date or time: {error}") from None
    if offset is None:
        return moment
    if offset in ("Z", "z"):
        return moment.replace(tzinfo=timezone.utc)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    return moment.replace(tzinfo=timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))))


CONVERSIONS: dict[str, Callable[[Any, Declaration], Any]] = {
    "STRING": as_string,
    "LONG": as_long,
    "DECIMAL": as_decimal,
    "DOUBLE": as_double,
    "BOOLEAN": as_boolean,
    "UTC_DATETIME": as_utc_datetime,
    "NAIVE_DATETIME": as_naive_datetime,
    "NAIVE_DATE": as_naive_date,
    "JSON": as_json,
}


def inferred_value(value: Any) -> Any:
    """A value of an undeclared column in the form Fivetran types best from it.

    A Python float would be written as a 32-bit FLOAT (0.1 arrives as 0.10000000149); a Decimal's digits arrive as a
    DOUBLE with the digits the source sent. Integers beyond 64 bits arrive as text; nested values as JSON.
    """
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        return str(value)
    if isinstance(value, (dict, list)):
        return json_ready(value)
    if isinstance(value, (date, datetime)):
        return iso_text(value)  # as ISO text Fivetran types it a date or timestamp; a naive datetime it would not
    return value


def iso_text(value: date) -> str:
    """A date as YYYY-MM-DD, a datetime as YYYY-MM-DDTHH:MM:SS[.ffffff], in UTC with Z when it has a zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def json_ready(value: Any) -> Any:
    """A value json.dumps can write: decimals inside become numbers again (whole ones exactly, others as the nearest
    double, whose shortest repr json.dumps writes)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.is_finite() else float(value)
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    if isinstance(value, (date, datetime)):
        return iso_text(value)
    return value


def decimal_scale(number: Decimal) -> int:
    return max(-int(number.as_tuple().exponent), 0)


def whole_digits(number: Decimal) -> int:
    return max(number.adjusted() + 1, 0)


@dataclass
class ColumnProfile:
    """What the values of one column have been so far: enough to declare the type that holds them all exactly."""

    kinds: set[str] = field(default_factory=set)
    smallest: int = 0
    largest: int = 0
    scale: int = 0  # most digits after the point of any number
    digits: int = 0  # most digits before the point of any number
    doubles: bool = True  # every number reads back unchanged from a double
    # The values seen call for STRING, and no value added to them would make a narrower type hold them all (every
    # set of kinds that is not STRING has only subsets that are not STRING either): later values need no look.
    settled: bool = False

    def add(self, value: Any) -> None:
        if value is None or self.settled:
            return
        kinds_before = len(self.kinds)
        self._add(value)
        if len(self.kinds) != kinds_before:
            self.settled = self.declaration() == "STRING"

    def _add(self, value: Any) -> None:
        if isinstance(value, bool):
            self.kinds.add("boolean")
        elif isinstance(value, int):
            self.kinds.add("integer")
            self.smallest, self.largest = min(self.smallest, value), max(self.largest, value)
            self.digits = max(self.digits, len(str(abs(value))))
            self.doubles = self.doubles and abs(value) <= 2**53  # beyond that a double skips whole numbers
        elif isinstance(value, (float, Decimal)):
            self.kinds.add("number")
            number = Decimal(repr(value)) if isinstance(value, float) else value
            if not number.is_finite():
                self.kinds.add("text")  # NaN or Infinity: only text holds them exactly
                return
            self.scale = max(self.scale, decimal_scale(number))
            self.digits = max(self.digits, whole_digits(number))
            self.doubles = self.doubles and Decimal(repr(float(number))) == number
        elif isinstance(value, (dict, list)):
            self.kinds.add("json")
        elif isinstance(value, datetime):
            self.kinds.add("utc_datetime" if value.tzinfo is not None else "naive_datetime")
        elif isinstance(value, date):
            self.kinds.add("date")
        else:
            self.kinds.add("text")

    def declaration(self) -> Declaration:
        """The narrowest type that holds every value seen exactly; STRING when the values disagree."""
        if self.kinds == {"boolean"}:
            return "BOOLEAN"
        if self.kinds == {"integer"}:
            if INT64_MIN <= self.smallest and self.largest <= INT64_MAX:
                return "LONG"
            return decimal_type(self.digits, 0)
        if self.kinds == {"number"} or self.kinds == {"integer", "number"}:
            return "DOUBLE" if self.doubles else decimal_type(self.digits, self.scale)
        if self.kinds == {"json"}:
            return "JSON"
        if self.kinds == {"utc_datetime"}:
            return "UTC_DATETIME"
        if self.kinds and self.kinds <= {"date", "naive_datetime"}:  # a date is a date-time at midnight
            return "NAIVE_DATE" if self.kinds == {"date"} else "NAIVE_DATETIME"
        return "STRING"


def decimal_type(digits: int, scale: int) -> Declaration:
    if digits + scale > DECIMAL_DIGITS:
        return "STRING"
    return {"type": "DECIMAL", "precision": DECIMAL_DIGITS, "scale": scale}


def destination_row(
    table: str, columns: Mapping[str, Declaration], record: dict[str, Any], undeclared: dict[str, ColumnProfile]
) -> dict[str, Any]:
    """The record with each value in its column's declared type. Values of columns without a declaration are left
    for Fivetran to type, and profiled in `undeclared` so that the sync can say how to declare them."""
    row: dict[str, Any] = {}
    for name, value in record.items():
        declared = columns.get(name)
        if declared is None:
            profile = undeclared.get(name)
            if profile is None:
                profile = undeclared[name] = ColumnProfile()
            profile.add(value)
            # Text and nulls, most values of most APIs, go as they are: a shortcut on the path every row takes.
            row[name] = value if value is None or type(value) is str else inferred_value(value)
            continue
        try:
            row[name] = declared_value(value, declared)
        except DeclaredTypeError as error:
            raise DeclaredTypeError(
                f"{table}.{name} is declared {type_name(declared)} in columns.py, but {error}. Change its declaration "
                "in columns.py (STRING holds any value as text), then re-sync the table"
            ) from None
    return row


# `invoke columns` finds the declarations in this part of the sync's warning.
UNDECLARED_MARK = "undeclared columns: "


def undeclared_warning(table: str, undeclared: dict[str, ColumnProfile]) -> str:
    """The warning for columns that columns.py does not declare, with the declarations that keep them exact."""
    suggested = {name: profile.declaration() for name, profile in undeclared.items()}
    return (
        f"{table}: {len(suggested)} columns are not declared in columns.py, so Fivetran guesses their types; "
        f"`invoke columns` declares them. {UNDECLARED_MARK}{json.dumps({'table': table, 'columns': suggested})}"
    )
