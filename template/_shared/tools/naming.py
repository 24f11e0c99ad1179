"""The names Fivetran gives tables and columns (its default "Fivetran naming"), so that checks and queries refer to
what the destination really holds: `orderId` becomes `order_id`, `address1` becomes `address_1`."""

from __future__ import annotations

import re
import unicodedata

NON_WORD = re.compile(r"\W", re.ASCII)
LEADING_UNDERSCORES = re.compile(r"_+([a-zA-Z]\w*)", re.ASCII)
PLAIN_NAME = re.compile(r"[\w\-.]*", re.ASCII)


def column_name(name: str) -> str:
    """Accents removed, non-word characters as _, snake_case at case and digit boundaries, no leading digit."""
    if not PLAIN_NAME.fullmatch(name):
        decomposed = unicodedata.normalize("NFD", name)
        name = unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))
    words = []
    previous = "\0"
    for character in NON_WORD.sub("_", name):
        if (previous.islower() and character.isupper()) or (previous.isdigit() != character.isdigit()):
            words.append("_")
        words.append(character.lower())
        previous = character
    snake = re.sub("_+", "_", "".join(words))
    return "_" + snake if snake and not re.match(r"\w", snake[0], re.ASCII) else snake


def table_name(name: str) -> str:
    """As a column name, without leading underscores before a letter."""
    snake = column_name(name)
    match = LEADING_UNDERSCORES.fullmatch(snake)
    return match.group(1) if match else snake
