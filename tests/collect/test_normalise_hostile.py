"""What a hostile or broken file can put in a cell: every normaliser answers a value,
None or InvalidValue, never anything else, and placeholders mean "empty" everywhere."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cordee.collect import normalise
from cordee.collect.normalise import InvalidValue

NORMALISERS: dict[str, Callable[[str], object]] = {
    "email": normalise.email,
    "phone": normalise.phone,
    "person_name": normalise.person_name,
    "date": normalise.date,
    "birth_date": normalise.birth_date,
    "country": normalise.country,
    "language": normalise.language,
    "civility": normalise.civility,
    "gender": normalise.gender,
    "postcode": normalise.postcode,
    "foreign postcode": lambda raw: normalise.postcode(raw, country="GB"),
}

PLACEHOLDERS = ["", "   ", "\t\n", "NULL", "null", "Null", "N/A", "n/a", "#N/A", "-", "?", " - "]

HOSTILE = [
    "<script>alert(1)</script>",
    "'; DROP TABLE customers; --",
    '=HYPERLINK("http://evil.example")',
    "😀🎿⛷️",
    "\x00\x01\x02",
    "\u202eevil",
    "\ufeffBOM",
    "a" * 10_000,
    "0" * 10_000,
    "é" * 10_000,
    "\u0301" * 50,
    "None",
    "undefined",
]


@pytest.mark.parametrize("name", NORMALISERS)
@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_placeholders_are_empty_for_every_field(name: str, placeholder: str) -> None:
    assert NORMALISERS[name](placeholder) is None


@pytest.mark.parametrize("name", NORMALISERS)
@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_input_gives_a_value_none_or_invalid_value(name: str, raw: str) -> None:
    try:
        result = NORMALISERS[name](raw)
    except InvalidValue as error:
        message = str(error)
        assert message and len(message) < 200  # a 10,000-character cell is quoted cut short
        return
    if isinstance(result, str):
        assert "<" not in result and ">" not in result and "\x00" not in result


def test_none_is_empty_too() -> None:
    # Channels that pass a missing field straight through get None back, not a crash.
    for normaliser in NORMALISERS.values():
        assert normaliser(None) is None  # type: ignore[arg-type]


def test_lookups_never_raise() -> None:
    for raw in [*HOSTILE, *PLACEHOLDERS]:
        assert normalise.departement_of(raw) is None
        assert normalise.communes_for_postcode(raw) == []
        assert normalise.commune_lookup(raw, raw) is None
        assert isinstance(normalise.fold(raw), str)


def test_messages_are_lazy_and_french() -> None:
    with pytest.raises(InvalidValue) as caught:
        normalise.email("pas une adresse")
    # A lazy message, rendered when shown (in the user's language), not at import.
    assert not isinstance(caught.value.message, str)
    assert str(caught.value.message) == "Adresse e-mail invalide : pas une adresse"
    assert isinstance(caught.value, ValueError)


def test_quoted_value_is_cut_and_printable() -> None:
    with pytest.raises(InvalidValue) as caught:
        normalise.phone("\x00" + "9" * 500)
    message = str(caught.value)
    assert message.endswith("…")
    assert "\x00" not in message
