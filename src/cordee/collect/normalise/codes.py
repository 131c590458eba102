"""Coded values: countries, languages, civilities, genders."""

from __future__ import annotations

import gettext
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache

import pycountry
from django.utils.translation import gettext_lazy as _

from .errors import LazyMessage, invalid, is_blank
from .text import lookup_key

_LOOKUP_MAX = 100
_PARENTHESES = re.compile(r"\s*\(([^)]*)\)\s*")
_LEADING_ARTICLE = re.compile(r"(?:the|le|la|les|l) (.+)")


def _name_variants(name: str) -> Iterator[str]:
    """A catalogue name and the forms people write: 'Corée, République de' is also
    'République de Corée'; 'Saint-Siège (état de la cité du Vatican)' is also 'Saint-Siège'."""
    yield name
    bare = _PARENTHESES.sub(" ", name).strip()
    yield bare
    yield from _PARENTHESES.findall(name)
    if ", " in bare:
        head, _comma, tail = bare.partition(", ")
        yield head
        yield f"{tail} {head}"


def _unambiguous(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """key -> code, leaving out keys that several codes claim ('corée')."""
    claims: defaultdict[str, set[str]] = defaultdict(set)
    for name, code in pairs:
        for variant in _name_variants(name):
            if key := lookup_key(variant):
                claims[key].add(code)
    return {key: codes.pop() for key, codes in claims.items() if len(codes) == 1}


def _lookup(index: dict[str, str], raw: str) -> str | None:
    key = lookup_key(raw)
    found = index.get(key)
    if found is None and (match := _LEADING_ARTICLE.fullmatch(key)):
        found = index.get(match[1])  # "la Suisse", "the Netherlands"
    return found


@cache
def _translation(domain: str, language: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language], fallback=True)


# --- countries -------------------------------------------------------------------------

# Names people use that the ISO catalogue does not list (keys are compared after fold()).
_COUNTRY_ALIASES = {
    "GB": "UK, U.K., Angleterre, England, Grande-Bretagne, Great Britain, Britain, Écosse, "
    "Scotland, Pays de Galles, Wales, Irlande du Nord, Northern Ireland",
    "NL": "Hollande, Holland, Nederland",
    "US": "USA, U.S.A., Amérique, America, États-Unis d'Amérique",
    "DE": "Deutschland, RFA",
    "BE": "België, Belgien",
    "CH": "Schweiz, Svizzera, Svizra",
    "AT": "Österreich",
    "ES": "España",
    "IT": "Italia",
    "PT": "Portugal",
    "PL": "Polska",
    "SE": "Sverige",
    "DK": "Danmark",
    "NO": "Norge",
    "FI": "Suomi",
    "IE": "Éire, Eire",
    "CZ": "République tchèque, Czech Republic",
    "RU": "Russie, Russia",
    "BY": "Biélorussie, Belarus",
    "TR": "Turkey, Turquie",
    "CI": "Ivory Coast",
    "CV": "Cape Verde",
    "SZ": "Swaziland",
    "MM": "Burma",
    "VA": "Vatican",
    "MK": "Macédoine, Macedonia",
    "KR": "Corée du Sud, South Korea",
    "RE": "La Réunion",
}

# French display names where the catalogue's sorting form ('Russie, Fédération de') reads badly.
_FRENCH_DISPLAY = {
    "RU": "Russie",
    "PS": "Palestine",
    "FM": "Micronésie",
    "VI": "Îles Vierges des États-Unis",
    "AX": "Îles Åland",
    "CC": "Îles Cocos",
    "CX": "Île Christmas",
    "FK": "Îles Malouines",
    "SB": "Îles Salomon",
    "RE": "La Réunion",
    "VA": "Vatican",
}


@cache
def _country_index() -> dict[str, str]:
    french = _translation("iso3166-1", "fr")
    pairs = []
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            if value := getattr(country, attribute, None):
                pairs += [(value, country.alpha_2), (french.gettext(value), country.alpha_2)]
    index = _unambiguous(pairs)
    for country in pycountry.countries:
        index[lookup_key(country.alpha_2)] = country.alpha_2
        index[lookup_key(country.alpha_3)] = country.alpha_2
    for code, aliases in _COUNTRY_ALIASES.items():
        index.update((lookup_key(alias), code) for alias in aliases.split(", "))
    return index


@lru_cache(maxsize=4096)
def country(raw: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code from a code or a French or English name ('Allemagne' -> 'DE')."""
    if raw is None or is_blank(raw):
        return None
    code = _lookup(_country_index(), raw) if len(raw) <= _LOOKUP_MAX else None
    if code is None:
        raise invalid(_("Pays inconnu : {value}"), raw)
    return code


def country_name(code: str, language: str = "fr") -> str:
    """The country's usual name in ``language`` ('DE' -> 'Allemagne')."""
    record = pycountry.countries.get(alpha_2=code.strip().upper()) if len(code) < 4 else None
    if record is None:
        raise invalid(_("Code pays inconnu : {value}"), code)
    if language == "fr" and record.alpha_2 in _FRENCH_DISPLAY:
        return _FRENCH_DISPLAY[record.alpha_2]
    name: str = getattr(record, "common_name", None) or record.name
    return name if language == "en" else _translation("iso3166-1", language).gettext(name)


# --- languages -------------------------------------------------------------------------

_LANGUAGE_ALIASES = {
    "el": "grec, greek",
    "nl": "flamand, flemish, vlaams, nederlands",
    "es": "castillan, español",
    "de": "deutsch",
    "it": "italiano",
    "pt": "português",
    "zh": "mandarin",
    "en": "english",
    "fr": "français",
}
_LOCALE_TAG = re.compile(r"([a-z]{2,3})[-_](?:[a-z]{2}|[0-9]{3}|[a-z]{4})", re.IGNORECASE)


@cache
def _language_index() -> dict[str, str]:
    french = _translation("iso639-3", "fr")
    pairs = []
    for record in pycountry.languages:
        code = getattr(record, "alpha_2", None)
        if code is None:
            continue  # only languages with a two-letter code can be stored
        for attribute in ("name", "common_name", "inverted_name"):
            if value := getattr(record, attribute, None):
                pairs += [(value, code), (french.gettext(value), code)]
    index = _unambiguous(pairs)
    for record in pycountry.languages:
        if code := getattr(record, "alpha_2", None):
            index[lookup_key(code)] = code
            index[lookup_key(record.alpha_3)] = code
            if bibliographic := getattr(record, "bibliographic", None):
                index[lookup_key(bibliographic)] = code  # 'fre', 'ger': older systems use these
    for code, aliases in _LANGUAGE_ALIASES.items():
        index.update((lookup_key(alias), code) for alias in aliases.split(", "))
    return index


@lru_cache(maxsize=1024)
def language(raw: str | None) -> str | None:
    """ISO 639-1 code from a code, a locale ('fr-FR', 'de_DE') or a French or English name."""
    if raw is None or is_blank(raw):
        return None
    text = raw.strip()
    if match := _LOCALE_TAG.fullmatch(text):
        text = match[1]
    code = _lookup(_language_index(), text) if len(text) <= _LOOKUP_MAX else None
    if code is None:
        raise invalid(_("Langue inconnue : {value}"), raw)
    return code


# --- civility and gender ---------------------------------------------------------------


def _table(groups: dict[str | None, str]) -> dict[str, str | None]:
    return {
        lookup_key(word): value for value, words in groups.items() for word in words.split(", ")
    }


_CIVILITIES = _table(
    {
        "M": "M, Mr, Monsieur, Mister, Sir, Herr, Dhr, Meneer, Sr, Señor, Sig, Signor",
        "MME": "Mme, Madame, Mrs, Ms, Mlle, Mademoiselle, Miss, Frau, Mevr, Mevrouw, Sra, "
        "Señora, Sig.ra, Signora",
        # Known titles that say nothing of a civility: not an error, just no value.
        None: "Dr, Docteur, Doctor, Pr, Professeur, Me, Maître, Mx",
    }
)
_GENDERS = _table(
    {
        "F": "F, Femme, Féminin, Female, W, Woman, Frau, Mme, Madame, 2",
        "M": "H, M, Homme, Masculin, Male, Man, Mr, Monsieur, 1",
        "X": "X, Autre, Other, Non binaire, Non-binary, NB",
        None: "Inconnu, Unknown, U, NC, Non communiqué, Non précisé",
    }
)


def civility(raw: str | None) -> str | None:
    """'M' or 'MME' from the ways civilities are written ('Mr', 'Madame', 'Mlle')."""
    return _coded(_CIVILITIES, raw, _("Civilité inconnue : {value}"))


def gender(raw: str | None) -> str | None:
    """'F', 'M' or 'X'. '1' and '2' are read as INSEE sex codes (1 male, 2 female)."""
    return _coded(_GENDERS, raw, _("Genre inconnu : {value}"))


def _coded(table: dict[str, str | None], raw: str | None, message: str | LazyMessage) -> str | None:
    if raw is None or is_blank(raw):
        return None
    key = lookup_key(raw) if len(raw) <= _LOOKUP_MAX else ""
    if key not in table:
        raise invalid(message, raw)
    return table[key]
