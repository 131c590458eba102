"""Search keys and person names."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django.utils.translation import gettext_lazy as _

from .errors import invalid, is_blank

NAME_MAX_LENGTH = 100

# Letters NFKD leaves whole, spelt the way a French speaker types them without the key.
_FOLD_LETTERS = {"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ı": "i", "þ": "th"}
# Word joiners that must not glue words together in a key: "Jean-Luc" finds "jean luc".
_FOLD_SPACES = "-‐‑‒–—―−'’‘‛ʼ`´.·"


class _FoldTable(dict[int, int | str | None]):
    """str.translate table filled on first sight of each character.

    Precomputing every code point would cost a second at import; this way a character
    is classified once, and afterwards translate() never leaves C.
    """

    def __missing__(self, code: int) -> int | str | None:
        char = chr(code)
        value: int | str | None
        if char in _FOLD_LETTERS:
            value = _FOLD_LETTERS[char]
        elif char in _FOLD_SPACES:
            value = " "
        elif unicodedata.combining(char):
            value = None
        else:
            category = unicodedata.category(char)
            # Control characters separate words; invisible format characters (soft
            # hyphen, zero-width space) are dropped so that they cannot hide a duplicate.
            value = " " if category == "Cc" else None if category == "Cf" else code
        self[code] = value
        return value


_FOLD_TABLE = _FoldTable()


def _ascii_fold_table() -> bytes:
    # bytes.translate is a plain array lookup, several times faster than str.translate
    # with a dict: worth it on the path nearly every name takes.
    table = bytearray(range(256))
    table[ord("A") : ord("Z") + 1] = bytes(range(ord("a"), ord("z") + 1))
    for code in [*range(0x20), 0x7F, *(ord(c) for c in _FOLD_SPACES if c.isascii())]:
        table[code] = ord(" ")
    return bytes(table)


_ASCII_FOLD = _ascii_fold_table()


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Accent-free, lower-case, single-spaced key for matching and search."""
    if text.isascii():
        return " ".join(text.encode("ascii").translate(_ASCII_FOLD).decode("ascii").split())
    # casefold() can produce characters NFKD would split again (and NFKD can produce
    # capitals, as in '℡'), so normalise on both sides to keep fold() idempotent.
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return " ".join(text.translate(_FOLD_TABLE).split())


# Lower-case particles, when a name follows them: "de Gaulle", "van der Berg".
_PARTICLES = frozenset(
    {"de", "du", "des", "d", "van", "von", "der", "den", "ter", "ten", "da", "di", "del", "della"}
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
# Invisible characters that are never part of a name (controls other than whitespace,
# soft hyphen, zero-width and bidirectional marks): removed, not turned into spaces.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x9f\xad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)
_LETTER = re.compile(r"[^\W\d_]")


def person_name(raw: str | None) -> str | None:
    """A first or last name, tidied and in proper case ('JEAN-LUC' gives 'Jean-Luc').

    Markup is kept as text (pages escape it) but angle brackets and control characters
    go: they are never part of a name and break exports.
    """
    if raw is None or is_blank(raw):
        return None
    if len(raw) > 4 * NAME_MAX_LENGTH:  # cut hostile input short before any work
        raise invalid(_("Nom trop long : {value}"), raw)
    return _person_name(raw)


@lru_cache(maxsize=1 << 16)
def _person_name(raw: str) -> str | None:
    text = raw.strip()
    if text.isalpha() and (text.isascii() or unicodedata.is_normalized("NFC", text)):
        # One plain word, the usual case: only its case to decide.
        if len(text) > NAME_MAX_LENGTH:
            raise invalid(_("Nom trop long : {value}"), raw)
        return _case_part(text, particle_ok=False)
    if not (text.isascii() and text.isprintable()):
        # Files from macOS spell "é" as "e" + accent: store one spelling only.
        text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text)).translate(_APOSTROPHES)
    elif "`" in text:
        text = text.replace("`", "'")
    words = text.replace("<", " ").replace(">", " ").split()
    if not words:
        return None
    last = len(words) - 1
    name = " ".join(_case_word(w, is_last=i == last) for i, w in enumerate(words))
    if len(name) > NAME_MAX_LENGTH:
        raise invalid(_("Nom trop long : {value}"), raw)
    if not _LETTER.search(name):
        raise invalid(_("Nom invalide : {value}"), raw)
    return name


def _case_word(word: str, *, is_last: bool) -> str:
    if "-" not in word:
        return _case_elided(word, particle_ok=not is_last)
    # Inside a compound only a middle part can be a particle: "Marie-de-Lourdes".
    parts = word.split("-")
    last = len(parts) - 1
    return "-".join(_case_elided(p, particle_ok=0 < i < last) for i, p in enumerate(parts))


def _case_elided(word: str, *, particle_ok: bool) -> str:
    """Case a word that may carry elisions: "D'ARTAGNAN" -> "d'Artagnan", "o'brien" -> "O'Brien"."""
    if "'" not in word:
        return _case_part(word, particle_ok=particle_ok)
    parts = word.split("'")
    last = len(parts) - 1
    return "'".join(
        _case_part(p, particle_ok=particle_ok if i == last else True) for i, p in enumerate(parts)
    )


def _case_part(part: str, *, particle_ok: bool) -> str:
    # Someone who typed "McDonald" or "de La Fontaine" knew better than any rule.
    if not (part.isupper() or part.islower()):
        return part
    lower = part.lower()
    if particle_ok and lower in _PARTICLES:
        return lower
    if lower.startswith("mc") and len(lower) > 2:
        return "Mc" + lower[2:].capitalize()
    return lower.capitalize()


# A civility written before a full name: "M. DUPONT Jean", "Mme Léa Martin".
_CIVILITY_BEFORE = re.compile(
    r"(m|mr|mme|mlle|mrs|ms|miss|monsieur|madame|mademoiselle|dr|docteur|pr|me)\.?\s+",
    re.IGNORECASE,
)
_FULL_NAME_PARTICLES = _PARTICLES | {"la", "le", "di", "da", "dos", "das", "st", "ste"}


def split_full_name(raw: str | None) -> tuple[str, str, str] | None:
    """(civility, first name, last name) as written in one "full name" cell, untidied.

    French files write the family name in capitals ("DUPONT Jean", "M. Léa MARTIN-ROUX"):
    the capitals are the last name wherever they stand. "Dupont, Jean" puts it first.
    Otherwise the order is first name then last name, a particle starting the last name
    ("Jean-Marc de la Fontaine"). Any part may come back empty; ``person_name`` and
    ``civility`` tidy and check each afterwards.
    """
    if raw is None or is_blank(raw):
        return None
    if len(raw) > 3 * NAME_MAX_LENGTH or any(ch.isdigit() for ch in raw):
        raise invalid(_("Nom complet illisible : {value}"), raw)
    text = " ".join(raw.split())
    civility = ""
    if (match := _CIVILITY_BEFORE.match(text)) and match.end() < len(text):
        civility, text = match[1], text[match.end() :]
    if "," in text:
        last, _comma, first = text.partition(",")
        return civility, first.strip(" ,"), last.strip()
    words = text.split()
    if len(words) == 1:
        return civility, "", words[0]
    if words[0].lower() in _FULL_NAME_PARTICLES:  # "van der Berg Anna": the family name first
        end = 1
        while end < len(words) - 1 and words[end].lower() in _FULL_NAME_PARTICLES:
            end += 1
        return civility, " ".join(words[end + 1 :]), " ".join(words[: end + 1])
    capitals = [i for i, word in enumerate(words) if _in_capitals(word)]
    if (
        capitals
        and len(capitals) < len(words)
        and capitals == list(range(capitals[0], capitals[-1] + 1))
    ):
        start, end = capitals[0], capitals[-1] + 1
        while start > 0 and words[start - 1].lower() in _FULL_NAME_PARTICLES:
            start -= 1  # "Jean de LA FONTAINE"
        if start == 0 or end == len(words):
            family = words[start:end]
            given = words[:start] + words[end:]
            return civility, " ".join(given), " ".join(family)
    for i in range(1, len(words) - 1):
        if words[i].lower() in _FULL_NAME_PARTICLES:
            return civility, " ".join(words[:i]), " ".join(words[i:])
    return civility, " ".join(words[:-1]), words[-1]


def _in_capitals(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


_NOT_ALNUM = re.compile(r"[^0-9a-z ]")
_SAINTE = re.compile(r"\bste\b")
_SAINT = re.compile(r"\bst\b")


@lru_cache(maxsize=1 << 16)
def lookup_key(text: str) -> str:
    """fold() reduced to letters and digits, 'St'/'Ste' spelt out: the key of our lookup tables.

    Only the tables' own builders and look-ups should use it, so that both sides agree.
    """
    key = fold(text)
    if _NOT_ALNUM.search(key):
        key = " ".join(_NOT_ALNUM.sub(" ", key).split())
    if "st" in key:
        key = _SAINT.sub("saint", _SAINTE.sub("sainte", key))
    return key
