"""Recognise the columns of a partner's customer file.

``recognise()`` maps each header to the import's vocabulary — the canonical
customer fields and ``consent_<purpose>`` columns — from the usual French
and English headers, ignoring case, accents and punctuation. A ``Mapping``
(written by hand or by the import page) names what recognition cannot guess.

Mapping file, JSON or TOML (chosen by extension)::

    # partenaire-hotel.toml
    [columns]                       # header as written in the file -> target
    "Tél. portable" = "phone"
    "Code adhérent" = "external_id"
    "Accepte nos offres" = "consent_partner_offers"
    "Remarques" = ""                # "" = ignore the column (still kept in the raw record)

    [defaults]                      # canonical field -> value when the cell is empty
    country = "FR"
    language = "fr"

    {"columns": {"Tél. portable": "phone"}, "defaults": {"country": "FR"}}

Headers the mapping does not name are still recognised automatically. A
consent cannot have a default: it must come from the person.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext_lazy as _

IDENTIFICATION = (
    "external_id",
    "card_number",
    "civility",
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "birth_date",
    "gender",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "language",
)
QUALIFICATION = ("profession", "family_situation", "children", "interests", "preferred_season")
CANONICAL: tuple[str, ...] = IDENTIFICATION + QUALIFICATION
CONSENT_PREFIX = "consent_"
_SLUG = re.compile(r"[a-z0-9_]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

# Folded headers (see fold()) that name each field.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "id", "identifiant", "id client", "identifiant client", "n client", "no client",
        "num client", "numero client", "numero de client", "reference", "reference client",
        "ref", "ref client", "code client", "customer id", "customer number", "client id",
    ),
    "card_number": (
        "carte", "carte fidelite", "carte de fidelite", "n carte", "no carte", "num carte",
        "numero carte", "numero de carte", "numero carte fidelite",
        "numero de carte de fidelite", "loyalty card", "loyalty card number", "card number",
        "card", "member card",
    ),
    "civility": ("civilite", "civ", "titre", "title", "salutation"),
    "first_name": ("prenom", "first name", "firstname", "given name", "forename"),
    "full_name": (
        "nom complet", "nom et prenom", "nom prenom", "prenom nom", "prenom et nom",
        "nom et prenom du client", "client", "nom du client", "full name", "fullname",
        "customer name", "client name", "guest name", "guest",
    ),
    "last_name": (
        "nom", "nom de famille", "last name", "lastname", "surname", "family name", "name",
    ),
    "email": (
        "email", "e mail", "courriel", "mail", "adresse mail", "adresse e mail",
        "adresse email", "email address", "e mail address",
    ),
    "phone": (
        "telephone", "tel", "portable", "mobile", "gsm", "phone", "telephone number",
        "phone number", "mobile phone", "cell phone", "numero de telephone", "tel portable",
        "telephone portable", "telephone mobile", "tel mobile", "telephone fixe", "tel fixe",
    ),
    "birth_date": (
        "date de naissance", "ne le", "ne e le", "nee le", "naissance", "date naissance",
        "date naiss", "date de naiss", "date nais", "naiss", "ddn", "birth date", "birthdate",
        "date of birth", "dob", "birthday",
    ),
    "gender": ("sexe", "genre", "gender", "sex"),
    "address_line1": (
        "adresse", "adresse 1", "adresse1", "adresse ligne 1", "rue", "address", "street",
        "address line 1", "address 1", "street address",
    ),
    "address_line2": (
        "complement d adresse", "complement adresse", "adresse 2", "adresse2",
        "adresse ligne 2", "address line 2", "address 2",
    ),
    "postal_code": (
        "cp", "code postal", "postcode", "post code", "zip", "zip code", "zipcode",
        "postal code",
    ),
    "city": ("ville", "commune", "localite", "city", "town"),
    "region": ("region", "state"),
    "country": ("pays", "country"),
    "language": ("langue", "language", "lang"),
    "profession": ("profession", "metier", "occupation", "job"),
    "family_situation": (
        "situation familiale", "situation de famille", "marital status", "family status",
    ),
    "children": ("enfants", "nombre d enfants", "nb enfants", "children", "number of children"),
    "interests": (
        "centres d interet", "centre d interet", "interets", "loisirs", "interests", "hobbies",
        "activites preferees",
    ),
    "preferred_season": ("saison preferee", "preferred season"),
}  # fmt: skip
# Words that decorate a header without changing its meaning ("Prénom du client",
# "Mail contact"); not applied to identifiers, where "N°" alone is a row number.
_NOISE = {"client", "cliente", "customer", "contact", "du", "de", "des", "la", "le", "l", "d"}
_CONSENT_WORDS = (
    "consentement", "consent", "accepte", "accord", "opt in", "optin", "abonne", "inscrit",
    "inscription",
)  # fmt: skip
_CONSENT_HEADER = re.compile(r"consent_([a-z0-9_]+)")
_CONSENT_ALONE = {"newsletter": "newsletter"}
_ARTICLES = {"le", "la", "les", "l", "de", "du", "des", "d", "aux", "a", "au", "the", "to"}

LABELS = {
    "external_id": _("identifiant client"),
    "card_number": _("numéro de carte de fidélité"),
    "civility": _("civilité"),
    "first_name": _("prénom"),
    "full_name": _("nom complet (prénom et nom)"),
    "last_name": _("nom"),
    "email": _("e-mail"),
    "phone": _("téléphone"),
    "birth_date": _("date de naissance"),
    "gender": _("genre"),
    "address_line1": _("adresse"),
    "address_line2": _("complément d'adresse"),
    "postal_code": _("code postal"),
    "city": _("ville"),
    "region": _("région"),
    "country": _("pays"),
    "language": _("langue"),
    "profession": _("profession"),
    "family_situation": _("situation familiale"),
    "children": _("enfants"),
    "interests": _("centres d'intérêt"),
    "preferred_season": _("saison préférée"),
}

SAME_HEADER_TWICE = _("La colonne « %(header)s » apparaît deux fois : la première est utilisée.")
SAME_HEADER_MANY = _(
    "La colonne « %(header)s » apparaît %(count)s fois : la première est utilisée."
)
SAME_TARGET = _(
    "Les colonnes « %(kept)s » et « %(other)s » désignent toutes deux « %(target)s » : "
    "« %(kept)s » est utilisée."
)
MAPPED_BUT_ABSENT = _(
    "La colonne « %(header)s » prévue par la correspondance est absente du fichier."
)


class MappingError(Exception):
    """A mapping that cannot be used; ``message`` says why, in French."""

    def __init__(self, message: object) -> None:
        self.message = str(message)
        super().__init__(self.message)


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_columns(self.columns)
        _check_defaults(self.defaults)


@dataclass
class ColumnPlan:
    fields: dict[str, int]
    consents: dict[str, int]
    ignored: list[tuple[int, str]]
    warnings: list[str]
    headers: list[str] = field(default_factory=list)

    def describe(self) -> list[tuple[str, str | None]]:
        """(header, what it feeds) in file order; None for an unused column."""
        targets: dict[int, str] = {index: name for name, index in self.fields.items()}
        targets.update({index: CONSENT_PREFIX + slug for slug, index in self.consents.items()})
        return [(header, targets.get(index)) for index, header in enumerate(self.headers)]


def fold(text: str) -> str:
    """Lower-case, without accents, punctuation collapsed to single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = plain.replace("œ", "oe").replace("æ", "ae")
    return _NOT_ALNUM.sub(" ", plain).strip()


def _without(words: set[str], folded: str) -> str:
    return " ".join(word for word in folded.split() if word not in words)


def _build_lookup() -> tuple[dict[str, str], dict[str, str]]:
    exact = {fold(name): name for name in CANONICAL}
    loose: dict[str, str] = {}
    for name, synonyms in _SYNONYMS.items():
        for synonym in synonyms:
            exact[synonym] = name
            if name != "external_id" and (key := _without(_NOISE, synonym)):
                loose.setdefault(key, name)
    return exact, loose


_EXACT, _LOOSE = _build_lookup()


def guess(header: str) -> str | None:
    """The canonical name or ``consent_<slug>`` a header stands for, if recognised."""
    if match := _CONSENT_HEADER.fullmatch(header.strip().lower()):
        return CONSENT_PREFIX + match[1]
    folded = fold(header)
    if not folded:
        return None
    if slug := _consent_slug(folded):
        return CONSENT_PREFIX + slug
    if name := _EXACT.get(folded):
        return name
    return _LOOSE.get(_without(_NOISE, folded))


def _consent_slug(folded: str) -> str | None:
    if folded in _CONSENT_ALONE:
        return _CONSENT_ALONE[folded]
    for word in _CONSENT_WORDS:
        if folded.startswith(word + " "):
            purpose = _without(_ARTICLES, folded[len(word) + 1 :])
            return purpose.replace(" ", "_") or None
    return None


def recognise(headers: list[str], mapping: Mapping | None = None) -> ColumnPlan:
    """Decide which column feeds which field; the mapping's choices come first."""
    targets = _targets(headers, mapping)
    # Mapped columns claim their target before recognised ones; the file order
    # decides between columns of the same kind.
    claims: dict[str, list[int]] = {}
    for index in sorted(targets, key=lambda i: (not targets[i][1], i)):
        if target := targets[index][0]:
            claims.setdefault(target, []).append(index)
    plan = ColumnPlan(fields={}, consents={}, ignored=[], warnings=[], headers=list(headers))
    for target, indexes in sorted(claims.items(), key=lambda item: item[1][0]):
        if target.startswith(CONSENT_PREFIX):
            plan.consents[target.removeprefix(CONSENT_PREFIX)] = indexes[0]
        else:
            plan.fields[target] = indexes[0]
        plan.warnings.extend(_duplicate_warnings([headers[i] for i in indexes], target))
    used = {indexes[0] for indexes in claims.values()}
    plan.ignored = [(index, header) for index, header in enumerate(headers) if index not in used]
    if mapping:
        plan.warnings.extend(_absent(mapping, headers))
    return plan


def looks_like_header(cells: list[str], mapping: Mapping | None = None) -> bool:
    """Whether a row names the file's columns: two of its cells (or its only one) are known.

    A title above the header ("Export clients — 22/11/2026") names nothing; a row of
    customer data names nothing either, which keeps the test safe when the real header is
    not recognised at all (the first row then stays the header, as before).
    """
    filled = [cell for cell in cells if cell.strip()]
    if not filled:
        return False
    known = sum(1 for target, _mapped in _targets(filled, mapping).values() if target)
    return known >= min(2, len(filled))


def _targets(headers: list[str], mapping: Mapping | None) -> dict[int, tuple[str | None, bool]]:
    """For each column: its target ('' when the mapping ignores it) and whether it is mapped."""
    by_header = mapping.columns if mapping else {}
    by_fold = {fold(header): target for header, target in by_header.items()}
    targets: dict[int, tuple[str | None, bool]] = {}
    for index, header in enumerate(headers):
        if header in by_header:
            targets[index] = (by_header[header], True)
        elif (folded := fold(header)) and folded in by_fold:
            targets[index] = (by_fold[folded], True)
        else:
            targets[index] = (guess(header), False)
    return targets


def _duplicate_warnings(headers: list[str], target: str) -> list[str]:
    """Warnings for the columns, after the first, that feed the same target."""
    kept, others = headers[0].strip(), [header.strip() for header in headers[1:]]
    warnings: list[str] = []
    if repeats := others.count(kept):
        message = SAME_HEADER_TWICE if repeats == 1 else SAME_HEADER_MANY
        warnings.append(message % {"header": kept, "count": repeats + 1})
    label = LABELS.get(target) or target
    for other in dict.fromkeys(other for other in others if other != kept):
        warnings.append(SAME_TARGET % {"kept": kept, "other": other, "target": label})
    return warnings


def _absent(mapping: Mapping, headers: Iterable[str]) -> list[str]:
    present = {fold(header) for header in headers}
    return [
        MAPPED_BUT_ABSENT % {"header": header}
        for header in mapping.columns
        if fold(header) not in present
    ]


# --- mapping files --------------------------------------------------------

UNKNOWN_FORMAT = _("Le fichier de correspondance doit être au format JSON (.json) ou TOML (.toml).")
CANNOT_READ = _("Le fichier de correspondance ne peut pas être lu : %(reason)s")
BAD_SYNTAX = _("Le fichier de correspondance n'est pas un %(format)s valide (ligne %(line)s).")
NOT_UTF8 = _("Le fichier de correspondance doit être enregistré en UTF-8.")
ROOT_NOT_TABLE = _(
    "Le fichier de correspondance doit contenir une table (un objet en JSON) avec « columns » "
    "et « defaults »."
)
NOT_A_TABLE = _("« %(key)s » doit être une table associant des noms à des valeurs.")
UNKNOWN_KEY = _(
    "Clé inconnue « %(key)s » dans le fichier de correspondance : seules « columns » et "
    "« defaults » sont permises."
)
BAD_HEADER = _(
    "Les en-têtes de « columns » doivent être des textes non vides (trouvé : %(value)s)."
)
NOT_TEXT = _("La valeur associée à « %(key)s » doit être un texte (trouvé : %(value)s).")
UNKNOWN_TARGET = _(
    "« %(target)s » (pour la colonne « %(header)s ») n'est pas une colonne connue. Colonnes "
    'possibles : %(choices)s, consent_<finalité> ou "" pour ignorer la colonne.'
)
BAD_CONSENT = _(
    "« %(target)s » (pour la colonne « %(header)s ») : après consent_, la finalité ne doit "
    "contenir que des minuscules sans accent, des chiffres et « _ »."
)
UNKNOWN_DEFAULT = _(
    "« %(name)s » n'est pas une colonne connue et ne peut pas avoir de valeur par défaut. "
    "Colonnes possibles : %(choices)s."
)
CONSENT_DEFAULT = _(
    "« %(name)s » ne peut pas avoir de valeur par défaut : un consentement doit venir de la "
    "personne elle-même."
)


def load_mapping(path: str | Path, *, filename: str | None = None) -> Mapping:
    """Read and check a JSON or TOML mapping file (format in the module docstring).

    The extension of ``filename`` (the user's name for an upload), or else of
    ``path``, tells JSON from TOML.
    """
    path = Path(path)
    suffix = Path(filename or path.name).suffix.lower()
    if suffix not in (".json", ".toml"):
        raise MappingError(UNKNOWN_FORMAT)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MappingError(CANNOT_READ % {"reason": exc.strerror or exc}) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MappingError(NOT_UTF8) from exc
    try:
        data = json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise MappingError(BAD_SYNTAX % {"format": "JSON", "line": exc.lineno}) from exc
    except tomllib.TOMLDecodeError as exc:
        # Python 3.12's error has no line attribute, only its message does.
        line = match[1] if (match := re.search(r"line (\d+)", str(exc))) else "?"
        raise MappingError(BAD_SYNTAX % {"format": "TOML", "line": line}) from exc
    return _mapping_from(data)


def _mapping_from(data: object) -> Mapping:
    if not isinstance(data, dict):
        raise MappingError(ROOT_NOT_TABLE)
    for key in data:
        if key not in ("columns", "defaults"):
            raise MappingError(UNKNOWN_KEY % {"key": key})
    columns, defaults = data.get("columns", {}), data.get("defaults", {})
    for key, value in (("columns", columns), ("defaults", defaults)):
        if not isinstance(value, dict):
            raise MappingError(NOT_A_TABLE % {"key": key})
    return Mapping(columns=dict(columns), defaults=dict(defaults))


def _check_columns(columns: dict[str, str]) -> None:
    for header, target in columns.items():
        if not isinstance(header, str) or not header.strip():
            raise MappingError(BAD_HEADER % {"value": json.dumps(header, ensure_ascii=False)})
        if not isinstance(target, str):
            value = json.dumps(target, ensure_ascii=False, default=str)
            raise MappingError(NOT_TEXT % {"key": header, "value": value})
        if target == "" or target in CANONICAL:
            continue
        if not target.startswith(CONSENT_PREFIX):
            raise MappingError(
                UNKNOWN_TARGET
                % {"target": target, "header": header, "choices": ", ".join(CANONICAL)}
            )
        if not _SLUG.fullmatch(target.removeprefix(CONSENT_PREFIX)):
            raise MappingError(BAD_CONSENT % {"target": target, "header": header})


def _check_defaults(defaults: dict[str, str]) -> None:
    for name, value in defaults.items():
        if isinstance(name, str) and name.startswith(CONSENT_PREFIX):
            raise MappingError(CONSENT_DEFAULT % {"name": name})
        if name not in CANONICAL:
            raise MappingError(UNKNOWN_DEFAULT % {"name": name, "choices": ", ".join(CANONICAL)})
        if not isinstance(value, str):
            value_text = json.dumps(value, ensure_ascii=False, default=str)
            raise MappingError(NOT_TEXT % {"key": name, "value": value_text})
