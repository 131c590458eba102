"""Postcodes, départements and regions."""

from __future__ import annotations

import re
from functools import lru_cache

from django.utils.translation import gettext_lazy as _

from .errors import InvalidValue, invalid, is_blank

# Countries whose post goes through La Poste's five-digit codes: France, its overseas
# départements and collectivities, and Monaco (980xx).
_FRENCH_POSTAL = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "MC"})
_CEDEX = re.compile(r"\s*CEDEX(?:\s*[0-9]{1,3})?\s*$")
_FRENCH_PREFIX = re.compile(r"^FR?\s*-\s*|^FR?(?=[0-9])")
_EXCEL_FLOAT = re.compile(r"[0-9]+\.0+")
_FOREIGN = re.compile(r"[0-9A-Z][0-9A-Z -]*")
_FOREIGN_MAX = 12
_MESSAGE = _("Code postal invalide : {value}")


def postcode(raw: str | None, *, country: str | None = "FR") -> str | None:
    """A French postcode as five digits ('1000' -> '01000'); another country's, tidied."""
    if raw is None or is_blank(raw):
        return None
    if len(raw) > 40:
        raise invalid(_MESSAGE, raw)
    if country is not None and country.upper() in _FRENCH_POSTAL:
        return _french_postcode(raw)
    text = " ".join(raw.split()).upper()
    if len(text) > _FOREIGN_MAX or not _FOREIGN.fullmatch(text):
        raise invalid(_MESSAGE, raw)
    return text


@lru_cache(maxsize=1 << 14)
def _french_postcode(raw: str) -> str:
    text = _FRENCH_PREFIX.sub("", _CEDEX.sub("", raw.strip().upper()))
    if _EXCEL_FLOAT.fullmatch(text):
        text = text.partition(".")[0]  # a spreadsheet stored it as a number: '1000.0'
    digits = "".join(text.split())
    if len(digits) == 4:
        digits = "0" + digits  # a spreadsheet dropped the leading zero: '1000' is Bourg-en-Bresse
    if len(digits) != 5 or not (digits.isascii() and digits.isdigit()) or digits[:2] == "00":
        raise invalid(_MESSAGE, raw)
    return digits


# Overseas collectivities with a COG code of their own beside the départements.
_COLLECTIVITIES = frozenset({"975", "986", "987", "988"})


@lru_cache(maxsize=1 << 12)
def departement_of(postcode: str) -> str | None:
    """The département a French postcode belongs to ('20200' -> '2B'); None for Monaco."""
    try:
        code = _french_postcode(postcode)
    except InvalidValue:
        return None
    if code.startswith("20"):
        # Corsica kept the postcodes of the single département it was until 1976:
        # 200xx-201xx went to Corse-du-Sud, the rest to Haute-Corse.
        return "2A" if code[2] in "01" else "2B"
    if code.startswith("97"):
        return code[:3]
    if code.startswith("98"):
        return code[:3] if code[:3] in _COLLECTIVITIES else None
    return code[:2]


_REGIONS = {
    "Auvergne-Rhône-Alpes": "01 03 07 15 26 38 42 43 63 69 73 74",
    "Bourgogne-Franche-Comté": "21 25 39 58 70 71 89 90",
    "Bretagne": "22 29 35 56",
    "Centre-Val de Loire": "18 28 36 37 41 45",
    "Corse": "2A 2B 20",
    "Grand Est": "08 10 51 52 54 55 57 67 68 88",
    "Hauts-de-France": "02 59 60 62 80",
    "Île-de-France": "75 77 78 91 92 93 94 95",
    "Normandie": "14 27 50 61 76",
    "Nouvelle-Aquitaine": "16 17 19 23 24 33 40 47 64 79 86 87",
    "Occitanie": "09 11 12 30 31 32 34 46 48 65 66 81 82",
    "Pays de la Loire": "44 49 53 72 85",
    "Provence-Alpes-Côte d'Azur": "04 05 06 13 83 84",
    "Guadeloupe": "971",
    "Martinique": "972",
    "Guyane": "973",
    "La Réunion": "974",
    "Mayotte": "976",
}
_REGION_OF = {dep: region for region, deps in _REGIONS.items() for dep in deps.split()}


def region_of(departement: str) -> str | None:
    """The region (2016 map, French name) of a département code ('74' -> 'Auvergne-Rhône-Alpes')."""
    code = departement.strip().upper()
    return _REGION_OF.get(code.zfill(2) if len(code) == 1 else code)
