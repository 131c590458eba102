"""Normalisation shared by every channel: one function per kind of value.

Each function takes the raw text a channel received and returns the canonical value,
None for an empty value, or raises InvalidValue with a French reason to show the
person who sent it. Empty means blank or a placeholder that exports write for an empty
cell: 'NULL', 'N/A', '#N/A', '-', '?' (any case). Functions are pure and fast (an
import normalises a million lines): no I/O except reading the commune list once.
"""

from .codes import civility, country, country_name, gender, language
from .communes import Commune, all_communes, commune_lookup, communes_for_postcode
from .contact import email, phone, phone_kind
from .dates import birth_date, date
from .errors import InvalidValue
from .places import departement_of, postcode, region_of
from .text import fold, person_name, split_full_name

__all__ = [
    "Commune",
    "InvalidValue",
    "all_communes",
    "birth_date",
    "civility",
    "commune_lookup",
    "communes_for_postcode",
    "country",
    "country_name",
    "date",
    "departement_of",
    "email",
    "fold",
    "gender",
    "language",
    "person_name",
    "split_full_name",
    "phone",
    "phone_kind",
    "postcode",
    "region_of",
]
