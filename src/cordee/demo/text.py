"""Small text helpers shared by the people and the files they end up in."""

from __future__ import annotations

import unicodedata
from functools import cache


def _ascii_table() -> dict[int, str]:
    # One translate() table: much faster than decomposing each string of a million rows.
    table = {ord(k): v for k, v in {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"}.items()}
    table[ord("’")] = "'"
    for code in range(0xC0, 0x250):
        char = chr(code)
        if code in table:
            continue
        base = unicodedata.normalize("NFKD", char)[:1]
        if base.isascii() and base != char:
            table[code] = base
    return table


_ASCII = _ascii_table()


def strip_accents(text: str) -> str:
    """'Hélène Lefèvre' -> 'Helene Lefevre', as a keyboard without accents types it."""
    return text.translate(_ASCII)


@cache
def slug(name: str) -> str:
    """A name as it appears in an e-mail address: 'de La Fontaine' -> 'delafontaine'."""
    return strip_accents(name).lower().replace(" ", "").replace("'", "")
