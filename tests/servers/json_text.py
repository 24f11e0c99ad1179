"""JSON as an API writes it, numbers digit for digit: a Decimal in a payload is written as the number it spells
(10.00, 0.12345678901234567890), which json.dumps cannot do, so that tests can serve numbers no float holds."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any


def json_text(payload: Any) -> str:
    marker = uuid.uuid4().hex
    numbers: dict[str, str] = {}

    def placeholder(value: Any) -> str:
        if not isinstance(value, Decimal):
            raise TypeError(f"{type(value).__name__} is not JSON")
        token = f"{marker}{len(numbers)}"
        numbers[token] = format(value, "f") if value.is_finite() else str(value)
        return token

    text = json.dumps(payload, ensure_ascii=False, default=placeholder)
    for token, number in numbers.items():
        text = text.replace(f'"{token}"', number)
    return text
