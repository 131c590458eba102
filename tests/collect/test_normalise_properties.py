"""Properties that must hold for any input, not just the examples we thought of."""

from __future__ import annotations

import datetime
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cordee.collect.normalise import (
    InvalidValue,
    date,
    email,
    fold,
    person_name,
    phone,
    postcode,
)

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# The first call may load a table (commune list, phone metadata): no per-example deadline.
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(st.text())
@example("℡ Œ ß İ ﬁ")
@example("e\u0301\u0327")
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert once == once.strip() and "  " not in once


@given(st.text())
def test_fold_has_no_capitals_nor_joiners(text: str) -> None:
    assert not any(c in fold(text) for c in "ABCXYZ-'.’")


@relaxed
@given(st.emails() | st.text(max_size=40))
def test_email_output_normalises_to_itself(raw: str) -> None:
    try:
        normalised = email(raw)
    except InvalidValue:
        return
    if normalised is not None:
        assert normalised == normalised.strip().lower()
        assert email(normalised) == normalised


@relaxed
@given(st.emails())
def test_email_ignores_case_and_spaces(address: str) -> None:
    try:
        normalised = email(address)
    except InvalidValue:
        return  # hypothesis may build addresses email-validator refuses (too long...)
    assert email(f"  {address.upper()} ") == normalised


french_digits = st.text(alphabet="0123456789", min_size=8, max_size=8)


@st.composite
def french_phone_numbers(draw: st.DrawFn) -> str:
    """A French number, valid or not, written any of the ways people write it."""
    prefix = draw(st.sampled_from("123456789"))
    rest = draw(french_digits)
    digits = f"0{prefix}{rest}"
    pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
    layout = draw(st.sampled_from(["spaces", "dots", "dashes", "plain", "plus", "00", "excel"]))
    return {
        "spaces": " ".join(pairs),
        "dots": ".".join(pairs),
        "dashes": "-".join(pairs),
        "plain": digits,
        "plus": f"+33 ({digits[0]}){digits[1:]}",
        "00": f"0033 {digits[1:]}",
        "excel": f"{digits[1:]}.0",
    }[layout]


@relaxed
@given(french_phone_numbers() | st.text(alphabet="0123456789 +-.()", max_size=20) | st.text())
def test_phone_output_is_e164_and_normalises_to_itself(raw: str) -> None:
    try:
        normalised = phone(raw)
    except InvalidValue:
        return
    if normalised is not None:
        assert E164.fullmatch(normalised)
        assert phone(normalised) == normalised


@relaxed
@given(french_phone_numbers())
def test_phone_fast_path_agrees_with_phonenumbers(raw: str) -> None:
    import phonenumbers

    try:
        ours: str | None = phone(raw)
    except InvalidValue:
        ours = None
    digits = re.sub(r"[^0-9]", "", raw.removesuffix(".0"))
    national = digits[-9:]
    number = phonenumbers.parse("+33" + national)
    theirs = f"+33{national}" if phonenumbers.is_valid_number(number) else None
    assert ours == theirs


@given(st.text())
@example("99999999999999999999")
@example("9999-99-99")
@example("29/02/00")
def test_date_raises_nothing_but_invalid_value(raw: str) -> None:
    try:
        result = date(raw)
    except InvalidValue:
        return
    assert result is None or isinstance(result, datetime.date)


@given(st.dates(min_value=datetime.date(1000, 1, 1)), st.sampled_from(["iso", "fr", "dots"]))
def test_date_reads_back_what_it_would_write(day: datetime.date, style: str) -> None:
    text = {
        "iso": day.isoformat(),
        "fr": day.strftime("%d/%m/") + f"{day.year:04d}",
        "dots": day.strftime("%d.%m.") + f"{day.year:04d}",
    }[style]
    assert date(text) == day


@given(st.text(max_size=60))
@example("DE LA FONTAINE")
@example("d'")
def test_person_name_normalises_to_itself(raw: str) -> None:
    try:
        normalised = person_name(raw)
    except InvalidValue:
        return
    if normalised is not None:
        assert person_name(normalised) == normalised


@given(st.integers(min_value=1000, max_value=98999))
def test_french_postcode_is_five_digits(number: int) -> None:
    code = postcode(str(number))
    assert code is not None and len(code) == 5 and code.isdigit()
    assert postcode(code) == code
