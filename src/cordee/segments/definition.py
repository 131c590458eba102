"""Checking a segment definition (the JSON of docs/segments.md) before anything runs.

Every error says where (a path such as ``all[2].any[0]``) and what, in French; values are never
pasted into SQL (the compiler passes them as query parameters), so checking is about shape,
types and limits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from cordee.activities.models import ActivityKind, SeasonKind
from cordee.customers.models import Civility, Gender
from cordee.customers.models import Season as PreferredSeason
from cordee.partners.models import PartnerKind
from cordee.segments.geography import REGIONS, ZONES
from cordee.segments.models import LoyaltyGroup

MAX_DEPTH = 8
MAX_CONDITIONS = 100
MAX_LIST = 500
MAX_TEXT = 200


class DefinitionError(ValueError):
    """A definition that cannot be used; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class FieldSpec:
    label: str
    type: str  # text | choice | number | date | bool | special
    ops: tuple[str, ...]
    choices: tuple[str, ...] = ()


TEXT_OPS = ("eq", "ne", "in", "not_in", "contains", "startswith", "empty")
CHOICE_OPS = ("eq", "ne", "in", "not_in", "empty")
NUMBER_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "between", "empty")
DATE_OPS = ("eq", "gt", "gte", "lt", "lte", "between", "empty")

FIELDS: dict[str, FieldSpec] = {
    # Identification and qualification (the golden record)
    "civility": FieldSpec("civilité", "choice", CHOICE_OPS, tuple(Civility.values)),
    "gender": FieldSpec("genre", "choice", CHOICE_OPS, tuple(Gender.values)),
    "age": FieldSpec("âge", "number", NUMBER_OPS),
    "postal_code": FieldSpec("code postal", "text", TEXT_OPS),
    "city": FieldSpec("ville", "text", TEXT_OPS),
    "departement": FieldSpec("département", "text", TEXT_OPS),
    "region": FieldSpec("région", "choice", ("in", "not_in"), tuple(REGIONS)),
    "zone": FieldSpec("zone", "choice", ("in", "not_in"), tuple(ZONES)),
    "country": FieldSpec("pays", "text", TEXT_OPS),
    "language": FieldSpec("langue", "text", TEXT_OPS),
    "profession": FieldSpec("profession", "text", TEXT_OPS),
    "family_situation": FieldSpec("situation familiale", "text", TEXT_OPS),
    "children": FieldSpec("nombre d'enfants", "number", NUMBER_OPS),
    "interests": FieldSpec("centres d'intérêt", "text", ("contains", "not_contains", "empty")),
    "preferred_season": FieldSpec(
        "saison préférée", "choice", CHOICE_OPS, tuple(PreferredSeason.values)
    ),
    "created_at": FieldSpec("date de création", "date", DATE_OPS),
    # Aggregates (segments.CustomerStats)
    "activity_count": FieldSpec("nombre d'activités", "number", NUMBER_OPS),
    "amount_total": FieldSpec("dépense totale", "number", NUMBER_OPS),
    "days_since_last": FieldSpec("jours depuis la dernière activité", "number", NUMBER_OPS),
    "first_on": FieldSpec("date de la première activité", "date", DATE_OPS),
    "last_on": FieldSpec("date de la dernière activité", "date", DATE_OPS),
    "winter_seasons": FieldSpec("saisons d'hiver fréquentées", "number", NUMBER_OPS),
    "summer_seasons": FieldSpec("saisons d'été fréquentées", "number", NUMBER_OPS),
    "satisfaction_avg": FieldSpec("satisfaction moyenne", "number", NUMBER_OPS),
    "complaints": FieldSpec("réclamations", "number", NUMBER_OPS),
    "rfm_r": FieldSpec("RFM : récence", "number", NUMBER_OPS),
    "rfm_f": FieldSpec("RFM : fréquence", "number", NUMBER_OPS),
    "rfm_m": FieldSpec("RFM : montant", "number", NUMBER_OPS),
    "rfm_total": FieldSpec("RFM : total (3 à 15)", "number", NUMBER_OPS),
    "loyalty_group": FieldSpec(
        "groupe 3F", "choice", ("eq", "ne", "in", "not_in"), tuple(LoyaltyGroup.values)
    ),
    "churn_risk": FieldSpec("risque de départ (0 à 1)", "number", NUMBER_OPS),
    # Special conditions with their own keys
    "activities": FieldSpec(
        "activités", "special", ("eq", "ne", "gt", "gte", "lt", "lte", "between")
    ),
    "consent": FieldSpec("consentement", "special", ("granted", "not_granted")),
    "segment": FieldSpec("autre segment", "special", ("in", "not_in")),
    # Households (identity resolution's household links), counted within the reader's view
    "household": FieldSpec("appartient à un foyer", "special", ("member",)),
    "household_size": FieldSpec("taille du foyer", "number", NUMBER_OPS),
}

METRICS = ("count", "amount", "seasons", "days_since_last")
ACTIVITY_KEYS = {
    "field", "op", "value", "metric", "kind", "partner", "partner_kind", "product",
    "since_days", "from", "to", "seasons", "season",
}  # fmt: skip
LEAF_KEYS = {"field", "op", "value", "season"}
CONSENT_KEYS = {"field", "op", "purpose", "controller"}
HOUSEHOLD_KEYS = {"field", "op", "where"}
HOUSEHOLD_FIELDS = ("household", "household_size")


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.count = 0
        self.in_household = False  # checking the « where » of a household condition

    def error(self, path: str, message: str) -> None:
        if len(self.errors) < 20:
            self.errors.append(f"{path or 'racine'} : {message}")

    def node(self, node: Any, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.error(
                path, _("trop d'imbrications (%(max)s niveaux au plus).") % {"max": MAX_DEPTH}
            )
            return
        if not isinstance(node, dict):
            self.error(path, _("une condition doit être un objet JSON."))
            return
        groups = [k for k in ("all", "any", "not") if k in node]
        if groups:
            if len(node) != 1:
                self.error(
                    path, _("un groupe « all », « any » ou « not » ne prend pas d'autre clé.")
                )
                return
            key = groups[0]
            if key == "not":
                self.node(node["not"], f"{path}.not" if path else "not", depth + 1)
                return
            children = node[key]
            if not isinstance(children, list):
                self.error(path, _("« %(key)s » attend une liste de conditions.") % {"key": key})
                return
            for i, child in enumerate(children):
                if self.count > MAX_CONDITIONS:
                    return
                self.node(child, f"{path + '.' if path else ''}{key}[{i}]", depth + 1)
            return
        self.count += 1
        if self.count == MAX_CONDITIONS + 1:
            self.error(path, _("trop de conditions (%(max)s au plus).") % {"max": MAX_CONDITIONS})
            return
        self.leaf(node, path, depth)

    def leaf(self, node: dict[str, Any], path: str, depth: int = 1) -> None:
        name = node.get("field")
        if not isinstance(name, str) or name not in FIELDS:
            shown = str(name)[:40] if name is not None else ""
            self.error(
                path,
                _("champ inconnu « %(name)s ».") % {"name": shown}
                if shown
                else _("il manque le champ (« field »)."),
            )
            return
        spec = FIELDS[name]
        allowed = {
            "activities": ACTIVITY_KEYS,
            "consent": CONSENT_KEYS,
            "household": HOUSEHOLD_KEYS,
        }.get(name, LEAF_KEYS)
        extra = sorted(set(node) - allowed)
        if extra:
            self.error(
                path,
                _("clé inconnue « %(key)s » pour « %(field)s ».")
                % {"key": str(extra[0])[:40], "field": name},
            )
        op = node.get("op")
        if op not in spec.ops:
            self.error(
                path,
                _("opérateur « %(op)s » impossible pour « %(field)s » (possibles : %(ops)s).")
                % {"op": str(op)[:20], "field": name, "ops": ", ".join(spec.ops)},
            )
            return
        if name in HOUSEHOLD_FIELDS and self.in_household:
            self.error(
                path,
                _("une condition sur le foyer ne peut pas porter sur le foyer d'un membre."),
            )
            return
        if name == "consent":
            self.consent(node, path)
            return
        if name == "household":
            self.household(node, path, depth)
            return
        if name == "activities":
            self.activities(node, path)
        if name == "segment":
            self.text(node.get("value"), path, "value")
            return
        if "season" in node and name != "activities":
            if name not in ("loyalty_group", "rfm_r", "rfm_f", "rfm_m"):
                self.error(path, _("« season » ne s'applique qu'au groupe 3F et au RFM."))
            self.text(node["season"], path, "season")
        self.value(
            spec, op, node.get("value"), path, "activities" if name == "activities" else name
        )

    def text(self, value: Any, path: str, key: str) -> None:
        if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
            self.error(
                path,
                _("« %(key)s » doit être un texte non vide de %(max)s caractères au plus.")
                % {"key": key, "max": MAX_TEXT},
            )
        elif any(ord(c) < 32 for c in value):
            self.error(path, _("« %(key)s » contient des caractères de contrôle.") % {"key": key})

    def value(self, spec: FieldSpec, op: str, value: Any, path: str, name: str) -> None:
        if op == "empty":
            if not isinstance(value, bool):
                self.error(path, _("« empty » attend true ou false."))
            return
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value or len(value) > MAX_LIST:
                self.error(
                    path,
                    _("« %(op)s » attend une liste non vide de %(max)s valeurs au plus.")
                    % {"op": op, "max": MAX_LIST},
                )
                return
            for item in value:
                self.scalar(spec, item, path)
            return
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                self.error(path, _("« between » attend une liste de deux bornes [min, max]."))
                return
            for item in value:
                self.scalar(spec, item, path)
            return
        self.scalar(spec, value, path)

    def scalar(self, spec: FieldSpec, value: Any, path: str) -> None:
        if spec.type in ("number", "special"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.error(
                    path, _("valeur numérique attendue, pas « %(v)s ».") % {"v": str(value)[:40]}
                )
            elif abs(value) > 1e12:
                self.error(path, _("valeur hors limites."))
        elif spec.type == "date":
            try:
                dt.date.fromisoformat(value) if isinstance(value, str) else (_ for _ in ()).throw(
                    ValueError
                )
            except ValueError:
                self.error(
                    path,
                    _("date attendue au format AAAA-MM-JJ, pas « %(v)s ».")
                    % {"v": str(value)[:40]},
                )
        elif spec.type == "choice":
            if value not in spec.choices:
                self.error(
                    path,
                    _("valeur « %(v)s » inconnue (possibles : %(c)s).")
                    % {"v": str(value)[:40], "c": ", ".join(spec.choices)},
                )
        elif not isinstance(value, str) or len(value) > MAX_TEXT:
            self.error(path, _("texte de %(max)s caractères au plus attendu.") % {"max": MAX_TEXT})
        elif any(ord(c) < 32 for c in value):
            self.error(path, _("la valeur contient des caractères de contrôle."))

    def activities(self, node: dict[str, Any], path: str) -> None:
        metric = node.get("metric", "count")
        if metric not in METRICS:
            self.error(
                path,
                _("mesure « %(m)s » inconnue (possibles : %(all)s).")
                % {"m": str(metric)[:20], "all": ", ".join(METRICS)},
            )
        for key, choices in (("kind", ActivityKind.values), ("partner_kind", PartnerKind.values)):
            if key in node:
                items = node[key] if isinstance(node[key], list) else [node[key]]
                for item in items:
                    if item not in choices:
                        self.error(
                            path,
                            _("« %(key)s » : valeur « %(v)s » inconnue.")
                            % {"key": key, "v": str(item)[:40]},
                        )
        if "partner" in node:
            items = node["partner"] if isinstance(node["partner"], list) else [node["partner"]]
            if not items or len(items) > MAX_LIST:
                self.error(
                    path, _("« partner » attend un ou plusieurs identifiants de partenaire.")
                )
            for item in items:
                self.text(item, path, "partner")
        if "product" in node:
            self.text(node["product"], path, "product")
        if "since_days" in node and (
            isinstance(node["since_days"], bool)
            or not isinstance(node["since_days"], int)
            or not 0 < node["since_days"] <= 36_500
        ):
            self.error(path, _("« since_days » attend un nombre de jours entre 1 et 36 500."))
        for key in ("from", "to"):
            if key in node:
                self.scalar(FieldSpec("", "date", ()), node[key], path)
        if "seasons" in node:
            seasons = node["seasons"]
            if (
                not isinstance(seasons, dict)
                or set(seasons) - {"kind", "last"}
                or seasons.get("kind") not in SeasonKind.values
                or isinstance(seasons.get("last"), bool)
                or not isinstance(seasons.get("last"), int)
                or not 0 < seasons["last"] <= 50
            ):
                self.error(
                    path, _('« seasons » attend {"kind": "winter" ou "summer", "last": 1 à 50}.')
                )
        if "season" in node:
            self.text(node["season"], path, "season")

    def household(self, node: dict[str, Any], path: str, depth: int) -> None:
        """``where``: what one other member of the household matches (optional: without it,
        the customer belongs to a household). Checked like a definition, one level deeper,
        within the same limits."""
        if "value" in node:
            self.error(path, _("« household » ne prend pas de « value » (voir « where »)."))
        if "where" not in node:
            return
        where = node["where"]
        if not isinstance(where, dict):
            self.error(path, _("« where » attend une condition ou un groupe (un objet JSON)."))
            return
        if not where:
            return
        self.in_household = True
        try:
            self.node(where, f"{path}.where" if path else "where", depth + 1)
        finally:
            self.in_household = False

    def consent(self, node: dict[str, Any], path: str) -> None:
        self.text(node.get("purpose"), path, "purpose")
        if "controller" in node:
            self.text(node["controller"], path, "controller")


def definition_check(definition: Any) -> None:
    """Raise :class:`DefinitionError` listing every problem (at most 20) of ``definition``."""
    checker = _Checker()
    if definition in ({}, None):
        return  # the whole base
    checker.node(definition, "", 1)
    if checker.errors:
        raise DefinitionError(checker.errors)
