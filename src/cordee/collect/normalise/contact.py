"""E-mail addresses and phone numbers, the deterministic keys of identity resolution."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import phonenumbers
from django.utils.translation import gettext_lazy as _
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from .errors import InvalidValue, invalid, is_blank

# --- e-mail ----------------------------------------------------------------------------

# Plain ASCII addresses, which are nearly all of them, are settled by this expression;
# anything it does not accept (IDN, Unicode, odd but legal forms) goes to email-validator.
# It is a strict subset of what email-validator accepts, so both paths agree.
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL_FAST = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[a-z]{{2,63}}")
_SPECIAL_SUFFIXES = tuple("." + name for name in SPECIAL_USE_DOMAIN_NAMES)
_EMAIL_MAX = 254
_LOCAL_MAX = 64
_EMAIL_MESSAGE = _("Adresse e-mail invalide : {value}")


def email(raw: str | None) -> str | None:
    """The address trimmed and lower-cased, its syntax checked (no DNS look-up)."""
    if raw is None or is_blank(raw):
        return None
    address = raw.strip().lower()
    if len(address) > 4 * _EMAIL_MAX or "\r" in address or "\n" in address:
        # CR/LF in an address is a header-injection attempt, not a typo.
        raise invalid(_EMAIL_MESSAGE, raw)
    if "<" in address or address.startswith("mailto:"):
        address = _bare_address(address)
    if len(address) > _EMAIL_MAX:
        raise invalid(_EMAIL_MESSAGE, raw)
    if _is_plain_address(address):
        return address
    if len(address.rpartition("@")[0].encode()) > _LOCAL_MAX:
        # RFC 5321's limit, which email-validator only enforces in strict mode.
        raise invalid(_EMAIL_MESSAGE, raw)
    try:
        normalized = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise invalid(_EMAIL_MESSAGE, raw) from None
    # email-validator composes Unicode (NFC) and shows IDN domains in Unicode; lower-case
    # again and recompose so that the result normalises to itself.
    return unicodedata.normalize("NFC", normalized.lower())


# What address books and mail programs export: "Jean Dupont <jean@exemple.fr>", a link.
_DISPLAY_NAME = re.compile(r'(?:"[^"<>]*"|[^"<>@]*)\s*<([^<>\s]+)>')
_MAILTO = re.compile(r"mailto:([^?\s]+)(?:\?.*)?")


def _bare_address(text: str) -> str:
    """The address out of a display-name form or a mailto link; anything else unchanged
    (and then refused by the syntax check)."""
    if match := _DISPLAY_NAME.fullmatch(text):
        text = match[1]
    if match := _MAILTO.fullmatch(text):
        text = match[1]
    return text


def _is_plain_address(address: str) -> bool:
    if not address.isascii() or _EMAIL_FAST.fullmatch(address) is None:
        return False
    local, _at, domain = address.rpartition("@")
    return (
        len(local) <= _LOCAL_MAX
        and "--" not in domain  # maybe an IDN ("xn--"): email-validator checks those
        and domain not in SPECIAL_USE_DOMAIN_NAMES
        and not domain.endswith(_SPECIAL_SUFFIXES)
    )


# --- phone -----------------------------------------------------------------------------

_PHONE_MESSAGE = _("Numéro de téléphone invalide : {value}")
_PHONE_MAX = 64
_SEPARATORS = re.compile(r"[ .\-/()\t\u00a0\u202f]")
_EXCEL_FLOAT = re.compile(r"[0-9]+\.0+")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _french_number_pattern() -> re.Pattern[str]:
    """Every allocated French national number, from phonenumbers' own metadata.

    Taking the patterns from the library keeps the fast path and the slow path in
    agreement when the numbering plan changes.
    """
    meta = phonenumbers.PhoneMetadata.metadata_for_region("FR")
    assert meta is not None
    descs = (
        meta.fixed_line,
        meta.mobile,
        meta.toll_free,
        meta.premium_rate,
        meta.shared_cost,
        meta.voip,
        meta.uan,
    )
    patterns = [d.national_number_pattern for d in descs if d and d.national_number_pattern]
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_FRENCH_NUMBER = _french_number_pattern()


def phone(raw: str | None, *, region: str = "FR") -> str | None:
    """The number in E.164 ('+33612345678'), read as a number of ``region`` if national.

    A cell holding more than a number ("06 12 34 56 78 / 04 50 12 34 56",
    "+33 6 12 34 56 78 (portable)") gives its first number that reads as one.
    """
    if raw is None or is_blank(raw):
        return None
    try:
        return _phone(raw, region)
    except InvalidValue:
        if len(raw) > _PHONE_MAX:
            raise
        for candidate in _NUMBER_IN_TEXT.findall(raw):
            if candidate.strip() != raw.strip() and sum(map(str.isdigit, candidate)) >= 6:
                try:
                    return _phone(candidate, region)
                except InvalidValue:
                    continue
        raise


# A number inside a longer text: digits with the usual separators, "+" or "(0)" allowed.
_NUMBER_IN_TEXT = re.compile(r"\+?[0-9](?:[0-9 .\-\u00a0]|\(0\))*[0-9]")


def _phone(raw: str, region: str) -> str | None:
    text = raw.strip()
    if len(text) > _PHONE_MAX:
        raise invalid(_PHONE_MESSAGE, raw)
    if _EXCEL_FLOAT.fullmatch(text):
        # A spreadsheet stored the number as a float: '612345678.0'.
        text = text.partition(".")[0]
    if "(" in text:
        text = text.replace("(0)", "")  # '+33 (0)6 ...': the trunk zero, shown as optional
    # Three replace() calls beat one regex on the usual separators; the regex takes the rest.
    compact = text.replace(" ", "").replace(".", "").replace("-", "")
    if not compact.isalnum():
        compact = _SEPARATORS.sub("", compact)
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if digits.isascii() and digits.isdigit():
        national = _french_national(digits, plus=plus, region=region)
        if national is not None:
            if _FRENCH_NUMBER.fullmatch(national) is None:
                raise invalid(_PHONE_MESSAGE, raw)
            return "+33" + national
        if plus:
            foreign = _foreign_e164(digits)
            if foreign is not None:
                return foreign
        elif digits.startswith("00"):
            # International prefix written out; parse it the same whatever the region.
            text = "+" + digits[2:]
    return _phone_slow(text, raw=raw, region=region)


_NUMBER_TYPES = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail", "fixed_line", "mobile",
)  # fmt: skip
_Desc = tuple[re.Pattern[str], frozenset[int]]


@lru_cache(maxsize=512)
def _plan_of(country_code: int) -> tuple[_Desc, tuple[_Desc, ...]] | None:
    """The numbering plan of a calling code that one country alone uses, or None.

    Taken from phonenumbers' metadata: the general description and each type's, as
    (pattern, possible lengths), which is what its is_valid_number() checks.
    """
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if len(regions) != 1:
        return None
    meta = phonenumbers.PhoneMetadata.metadata_for_region(regions[0])
    if meta is None or meta.national_prefix_for_parsing not in (None, "0"):
        return None

    def desc(d: Any) -> _Desc | None:
        if d is None or d.national_number_pattern is None:
            return None
        return re.compile(d.national_number_pattern), frozenset(d.possible_length)

    general = desc(meta.general_desc)
    if general is None:
        return None
    kinds = tuple(k for name in _NUMBER_TYPES if (k := desc(getattr(meta, name, None))))
    return general, kinds


def _matches(desc: _Desc, national: str) -> bool:
    pattern, lengths = desc
    return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None


def _foreign_e164(digits: str) -> str | None:
    """An international number written in E.164 form ('+41 79 …'), checked without parsing.

    Only for calling codes of a single country whose trunk prefix is '0' or none, and a
    national number that does not start with '0': phonenumbers would then read the digits
    exactly as they are, and this applies the same validity rule. None means "let
    phonenumbers decide" (other plans, or a number this does not accept).
    """
    for size in (1, 2, 3):
        code = int(digits[:size]) if len(digits) > size else 0
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    if national.startswith("0") or not 2 <= len(national) <= 17:
        return None
    plan = _plan_of(code)
    if plan is None:
        return None
    general, kinds = plan
    if _matches(general, national) and any(_matches(kind, national) for kind in kinds):
        return "+" + digits
    return None


def _french_national(digits: str, *, plus: bool, region: str) -> str | None:
    """The 9 national digits when the input is clearly a French number, else None."""
    if plus:
        if not digits.startswith("33"):
            return None
        rest = digits[2:]
    elif digits.startswith("0033"):
        rest = digits[4:]
    elif region != "FR":
        return None
    elif len(digits) == 10 and digits[0] == "0":
        return digits[1:]
    elif len(digits) == 11 and digits.startswith("33"):
        rest = digits[2:]  # '33612345678': the '+' was lost
    elif len(digits) == 9 and digits[0] != "0":
        return digits  # '612345678': a spreadsheet dropped the leading zero
    else:
        return None
    if len(rest) == 10 and rest[0] == "0":
        rest = rest[1:]  # '+33 06 12 34 56 78': trunk zero kept by mistake
    return rest if len(rest) == 9 else None


def _phone_slow(text: str, *, raw: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise invalid(_PHONE_MESSAGE, raw) from None
    if not phonenumbers.is_valid_number(number):
        raise invalid(_PHONE_MESSAGE, raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_FRENCH_KINDS = {"6": "mobile", "7": "mobile", "1": "fixed", "2": "fixed", "3": "fixed"}
_FRENCH_KINDS |= {"4": "fixed", "5": "fixed", "9": "fixed"}
_KINDS = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixed",
}


def phone_kind(e164: str) -> str:
    """'mobile', 'fixed' or 'other' for a number phone() returned.

    A number that may be either (the whole North American plan) is 'other': nothing
    tells whether it can receive an SMS.
    """
    if _E164.fullmatch(e164) is None:
        raise invalid(_PHONE_MESSAGE, e164)
    if e164.startswith("+33") and len(e164) == 12:
        return _FRENCH_KINDS.get(e164[3], "other")
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        raise invalid(_PHONE_MESSAGE, e164) from None
    return _KINDS.get(phonenumbers.number_type(number), "other")
