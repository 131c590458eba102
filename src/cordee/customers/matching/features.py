"""Matching features: what identity resolution compares, one row per source record.

A source record's normalised ``data`` (as :func:`cordee.collect.intake.normalise_fields`
writes it) becomes one row of an Arrow table: folded names, birth date, e-mail, E.164 phone,
postcode, commune, address tokens. Two kinds of values are nulled out before matching,
because they look like evidence and are not:

- placeholders typed to get past a mandatory field (``test@test.com``, ``0600000000``,
  ``xxx``, ``Client``, ``Anonyme``, 01/01/1900...);
- over-shared contact details: an e-mail or phone used by more than ``max_sharing``
  different people (a hotel's front desk, a company's switchboard, a travel agency). Two
  records that only share such an address say nothing about being one person.

Null means "unknown" to the model: it neither helps nor hurts a pair.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from cordee.collect.normalise import fold

__all__ = [
    "DEFAULT_MAX_SHARING",
    "FEATURE_SCHEMA",
    "SourceInput",
    "build_features",
    "clean_birth_date",
    "clean_card_number",
    "clean_email",
    "clean_name",
    "clean_phone",
    "feature_row",
    "is_placeholder_key",
]

# An e-mail or phone used by more than this many different people is a shared desk's.
DEFAULT_MAX_SHARING = 8


class SourceInput(NamedTuple):
    """One source record as the matcher sees it."""

    partner: str
    external_id: str
    data: Mapping[str, Any]


FEATURE_SCHEMA = pa.schema(
    [
        ("unique_id", pa.int64()),
        ("partner", pa.string()),
        ("external_id", pa.string()),
        ("first_name", pa.string()),  # folded: "jean luc"
        ("last_name", pa.string()),  # folded, particles kept: "de la fontaine"
        ("name_key", pa.string()),  # all name words sorted: the same when swapped
        ("birth_date", pa.string()),  # ISO
        ("birth_year", pa.int32()),
        ("email", pa.string()),
        ("email_local", pa.string()),  # "jean.martin" without "+tag", dots kept
        ("phone", pa.string()),  # E.164
        ("postcode", pa.string()),
        ("commune", pa.string()),  # folded
        ("address", pa.string()),  # folded, abbreviations expanded
        ("address_tokens", pa.list_(pa.string())),
    ]
)

# -- placeholders ------------------------------------------------------------------------

# Folded names that stand for "nobody in particular".
_PLACEHOLDER_NAMES = frozenset(
    {
        "x", "xx", "xxx", "xxxx", "xxxxx", "a", "aa", "aaa", "z", "zz", "zzz",
        "test", "tests", "essai", "demo", "toto", "tata", "titi", "foo", "bar",
        "client", "cliente", "clients", "customer", "guest", "invite", "visiteur",
        "anonyme", "anonymous", "anon", "inconnu", "inconnue", "unknown",
        "nc", "nr", "na", "n a", "nd", "sans", "sans nom", "aucun", "aucune", "none",
        "null", "nil", "vide", "non renseigne", "non communique", "a completer",
        "monsieur", "madame", "mademoiselle", "m", "mr", "mme", "mlle", "mrs", "ms",
        "famille", "fam", "comptoir", "accueil", "reception", "passage", "divers",
    }
)  # fmt: skip
# E-mail local parts and domains that nobody reads.
_PLACEHOLDER_LOCALS = frozenset(
    {
        "test", "tests", "essai", "xxx", "xx", "x", "aaa", "a", "toto", "foo",
        "noemail", "no-email", "no.email", "nomail", "no-mail", "pasdemail", "pas-de-mail",
        "sansemail", "sans-email", "aucun", "aucunmail", "none", "null", "na",
        "nc", "noreply", "no-reply", "donotreply", "ne-pas-repondre", "client", "anonyme",
        "inconnu", "unknown", "email", "mail", "e-mail", "nobody", "personne",
    }
)  # fmt: skip
_PLACEHOLDER_DOMAINS = frozenset(
    {
        "test.com", "test.fr", "test.test", "example.com", "example.org", "example.net",
        "exemple.com", "exemple.fr", "xxx.com", "xxx.fr", "aaa.com", "toto.com", "toto.fr",
        "nomail.com", "noemail.com", "mail.com.invalid", "domain.com", "domaine.fr",
        "email.com", "mailinator.com", "yopmail.com", "jetable.org",
    }
)  # fmt: skip
_PLACEHOLDER_POSTCODES = frozenset({"00000", "99999", "11111", "12345"})
_PLACEHOLDER_BIRTH_DATES = frozenset(
    {"1900-01-01", "1899-12-30", "1899-12-31", "1901-01-01", "1970-01-01", "2000-01-01"}
)
_PLACEHOLDER_ADDRESSES = frozenset(
    {"x", "xx", "xxx", "nc", "na", "inconnu", "inconnue", "aucune", "sans", "test",
     "non renseigne", "sans adresse", "adresse", "sdf", "vide"}
)  # fmt: skip
_SAME_CHARACTER = re.compile(r"^(.)\1*$")
_ASCENDING = "01234567890123456789"

# Street words written short, as the files do: expanded so "av." meets "avenue".
_STREET_WORDS = {
    "av": "avenue", "ave": "avenue", "bd": "boulevard", "bld": "boulevard", "blvd": "boulevard",
    "ch": "chemin", "chem": "chemin", "pl": "place", "rte": "route", "rt": "route",
    "imp": "impasse", "r": "rue", "all": "allee", "sq": "square", "fbg": "faubourg",
    "st": "saint", "ste": "sainte", "res": "residence", "lot": "lotissement",
    "qu": "quai", "crs": "cours", "pte": "porte", "ham": "hameau", "lieu dit": "lieu-dit",
}  # fmt: skip
# Words that tell nothing apart in an address.
_ADDRESS_STOP = frozenset(
    {"de", "du", "des", "la", "le", "les", "l", "d", "a", "au", "aux", "et", "rue", "avenue",
     "boulevard", "chemin", "place", "route", "impasse", "allee", "square", "quai", "cours"}
)  # fmt: skip


def clean_name(value: object) -> str | None:
    """The folded name, or None for a placeholder ("Client", "XXX", "Anonyme", "M.")."""
    if not value:
        return None
    folded = fold(str(value))
    if not folded or folded in _PLACEHOLDER_NAMES:
        return None
    letters = folded.replace(" ", "")
    if not any(char.isalpha() for char in letters) or _SAME_CHARACTER.match(letters):
        return None
    return folded


def clean_email(value: object) -> str | None:
    """The lower-cased e-mail, or None for a placeholder (test@test.com, noemail@...)."""
    if not value:
        return None
    address = str(value).strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return None
    base = local.split("+", 1)[0]
    if base in _PLACEHOLDER_LOCALS or domain in _PLACEHOLDER_DOMAINS:
        return None
    if _SAME_CHARACTER.match(base.replace(".", "")):
        return None
    return address


def clean_phone(value: object) -> str | None:
    """The E.164 number, or None for a placeholder (0600000000, 0612345678, 0101010101)."""
    if not value:
        return None
    number = str(value).strip()
    digits = number.lstrip("+")
    if number.startswith("+33"):
        national = digits[2:]  # nine digits after the country code
        subscriber = national[1:]
        if (
            _SAME_CHARACTER.match(subscriber)
            or subscriber in _ASCENDING
            or subscriber in _ASCENDING[::-1]
            or len(set(national[1:])) <= 2  # 06 01 01 01 01, 06 12 12 12 12
        ):
            return None
    elif len(set(digits[-8:])) <= 1:
        return None
    return number


# The destination's loyalty card: 12 digits, the last a Luhn check digit (the rule of
# cordee.activities.cards, repeated here because this module runs without Django).
CARD_LENGTH = 12
_CARD_SEPARATORS = re.compile(r"[\s.\-_/]")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits[:-1])):
        digit = int(char)
        if i % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10) == digits[-1]


def clean_card_number(value: object) -> str | None:
    """A loyalty card number as typed, scanned or exported (spaces and dashes allowed): its
    12 digits when the check digit holds, else None (a typo identifies nobody)."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    digits = _CARD_SEPARATORS.sub("", str(value)[:100])
    if len(digits) != CARD_LENGTH or not (digits.isascii() and digits.isdigit()):
        return None
    return digits if _luhn_ok(digits) else None


def is_placeholder_key(email: object, phone: object) -> tuple[bool, bool]:
    """Whether an e-mail, a phone is a placeholder too plain to serve as an exact key.

    Narrower than :func:`clean_email` and :func:`clean_phone` (which also drop what merely
    looks typed at random for the probabilistic model): the addresses and domains nobody
    reads, and the numbers typed to get past a mandatory field (06 00 00 00 00, 06 12 34
    56 78, 06 98 76 54 32).
    """
    bad_email = False
    if email:
        local, _at, domain = str(email).strip().lower().rpartition("@")
        bad_email = local.split("+", 1)[0] in _PLACEHOLDER_LOCALS or domain in _PLACEHOLDER_DOMAINS
    bad_phone = False
    if phone:
        digits = str(phone).strip().lstrip("+")
        subscriber = digits[3:] if digits.startswith("33") else digits[-8:]
        bad_phone = (
            set(subscriber) <= {"0"} or subscriber in _ASCENDING or subscriber in _ASCENDING[::-1]
        )
    return bad_email, bad_phone


def clean_birth_date(value: object) -> str | None:
    """The ISO birth date, or None for a placeholder (01/01/1900, 01/01/1970) or the future."""
    if not value:
        return None
    text = str(value)[:10]
    if text in _PLACEHOLDER_BIRTH_DATES:
        return None
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        return None
    if day.year < 1900 or day > datetime.date.today():
        return None
    return text


def _clean_postcode(value: object) -> str | None:
    if not value:
        return None
    code = str(value).strip().upper()
    return None if code in _PLACEHOLDER_POSTCODES else code


def _address(value: object) -> tuple[str | None, list[str] | None]:
    if not value:
        return None, None
    words = fold(str(value)).replace(",", " ").split()
    expanded = [_STREET_WORDS.get(word, word) for word in words]
    text = " ".join(expanded)
    if not text or text in _PLACEHOLDER_ADDRESSES:
        return None, None
    tokens = sorted({word for word in expanded if word not in _ADDRESS_STOP})
    return text, tokens or None


def _identity(first: str | None, last: str | None) -> str | None:
    """Who a record says it is, for counting how many people share a contact detail."""
    if first is None and last is None:
        return None
    return f"{first or ''}|{last or ''}"


def feature_row(data: Mapping[str, Any]) -> dict[str, Any]:
    """One record's matching features (without the sharing rule, which needs the others)."""
    first = clean_name(data.get("first_name"))
    last = clean_name(data.get("last_name"))
    birth = clean_birth_date(data.get("birth_date"))
    email = clean_email(data.get("email"))
    address, tokens = _address(data.get("address_line1"))
    city = data.get("city")
    words = sorted((first or "").split() + (last or "").split())
    return {
        "unique_id": None,
        "partner": None,
        "external_id": None,
        "first_name": first,
        "last_name": last,
        "name_key": " ".join(words) if first and last else None,
        "birth_date": birth,
        "birth_year": int(birth[:4]) if birth else None,
        "email": email,
        "email_local": email.rpartition("@")[0].split("+", 1)[0] if email else None,
        "phone": clean_phone(data.get("phone")),
        "postcode": _clean_postcode(data.get("postal_code")),
        "commune": clean_name(city) if city else None,
        "address": address,
        "address_tokens": tokens,
    }


def build_features(
    records: Iterable[SourceInput], *, max_sharing: int = DEFAULT_MAX_SHARING
) -> pa.Table:
    """The feature table of `records`; `unique_id` is the record's position (0, 1, ...).

    An e-mail or a phone is nulled when more than `max_sharing` different people use it:
    different (first name, last name) pairs, each record without a name counting as a
    person of its own. Counting people rather than records keeps a customer imported ten
    times by ten partners matchable, and still catches a front desk's address.
    """
    columns: dict[str, list[Any]] = {name: [] for name in FEATURE_SCHEMA.names}
    for position, record in enumerate(records):
        row = feature_row(record.data)
        row["unique_id"], row["partner"], row["external_id"] = (
            position,
            record.partner,
            record.external_id,
        )
        for name, values in columns.items():
            values.append(row[name])
    _null_over_shared(columns, ("email", "phone"), max_sharing)
    # The local part of a nulled e-mail goes too: "reception" of hotel-x.fr is no clue.
    for index, email in enumerate(columns["email"]):
        if email is None:
            columns["email_local"][index] = None
    return pa.table(columns, schema=FEATURE_SCHEMA)


def _null_over_shared(columns: dict[str, list[Any]], names: Iterable[str], limit: int) -> None:
    # Each record without a name is a person of its own: "#<position>".
    identities = pa.array(
        [
            _identity(first, last) or f"#{index}"
            for index, (first, last) in enumerate(
                zip(columns["first_name"], columns["last_name"], strict=True)
            )
        ],
        pa.string(),
    )
    for name in names:
        values = pa.array(columns[name], pa.string())
        counts = (
            pa.table({"value": values, "who": identities})
            .filter(pc.is_valid(values))
            .group_by("value")
            .aggregate([("who", "count_distinct")])
        )
        shared = counts.filter(pc.greater(counts["who_count_distinct"], limit))["value"]
        if len(shared):
            mask = pc.is_in(values, value_set=shared).to_pylist()
            column = columns[name]
            for index, hit in enumerate(mask):
                if hit:
                    column[index] = None


def shared_values(table: pa.Table, column: str) -> dict[str, int]:
    """How many records hold each value of `column` more than once (for reports)."""
    counts = Counter(value for value in table.column(column).to_pylist() if value is not None)
    return {value: count for value, count in counts.items() if count > 1}
