"""Intake: validate and normalise what a channel says into a source record's canonical form.

Every channel calls :func:`normalise_fields`; a value that cannot be understood is dropped
from the normalised form with a warning (the raw text stays in the source record), and a
record with nothing that identifies a person is rejected with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from cordee.collect import normalise as norm
from cordee.customers.matching.features import clean_card_number

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_LIST_SPLIT = re.compile(r"\s*[,;|/+]\s*")
_TRUE = frozenset(
    {"oui", "o", "yes", "y", "1", "true", "vrai", "x", "ok", "optin", "opt-in", "accepte"}
)
_FALSE = frozenset({"non", "n", "no", "0", "false", "faux", "optout", "opt-out", "refuse"})
_SEASONS = {
    "hiver": "winter", "winter": "winter", "ete": "summer", "summer": "summer",
    "les deux": "both", "both": "both", "toutes": "both", "hiver et ete": "both",
    "ete et hiver": "both", "4 saisons": "both", "toute l annee": "both",
}  # fmt: skip
_TEXT_LIMITS = {
    "address_line1": 200,
    "address_line2": 200,
    "region": 100,
    "profession": 100,
    "family_situation": 50,
    "city": 100,
}


@dataclass(slots=True)
class Normalised:
    data: dict[str, Any] = field(default_factory=dict)
    external_id: str = ""
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    error: str | None = None


def clean_text(value: str, limit: int = 200) -> str:
    if value.isascii() and value.isprintable() and "  " not in value:
        return value.strip()[:limit]  # nothing to remove or fold (most values)
    text = _SPACES.sub(" ", _CONTROL.sub("", value)).strip()
    return text[:limit]


def _consent(value: str) -> bool | None:
    folded = norm.fold(value).replace(" ", "")
    if not folded:
        return None
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise norm.InvalidValue(
        _("Réponse de consentement illisible : « %(value)s » (oui ou non attendu)")
        % {"value": value[:40]}
    )


def _children(value: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        number = int(float(text.replace(",", ".")))
    except ValueError:
        raise norm.InvalidValue(
            _("Nombre d'enfants illisible : « %(value)s »") % {"value": text[:40]}
        ) from None
    if not 0 <= number <= 30:
        raise norm.InvalidValue(_("Nombre d'enfants improbable : %(value)s") % {"value": number})
    return number


def _interests(value: str) -> list[str]:
    items = []
    for part in _LIST_SPLIT.split(value):
        item = clean_text(part, 60).lower()
        if item and item not in items:
            items.append(item)
    return items[:30]


def _season(value: str) -> str | None:
    folded = norm.fold(value)
    if not folded:
        return None
    if folded in _SEASONS:
        return _SEASONS[folded]
    raise norm.InvalidValue(
        _("Saison inconnue : « %(value)s » (hiver, été ou les deux)") % {"value": value[:40]}
    )


def normalise_fields(fields: dict[str, str], consents: dict[str, str] | None = None) -> Normalised:
    """Normalise canonical fields given as text. Never raises on bad values: it reports them."""
    out = Normalised()
    data = out.data

    def attempt(name: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except norm.InvalidValue as exc:
            out.warnings.append((name, str(exc.message)))
            return None

    get = fields.get
    external_id = clean_text(get("external_id") or "", 200)
    if len(external_id) > 100:
        out.error = str(_("Identifiant externe trop long (100 caractères au plus)."))
        return out
    out.external_id = external_id

    raw_card = get("card_number")
    if raw_card:
        card = clean_card_number(raw_card)
        if card:
            data["card_number"] = card
        else:
            out.warnings.append(
                (
                    "card_number",
                    str(
                        _(
                            "Numéro de carte de fidélité faux (12 chiffres, chiffre de "
                            "contrôle) : ignoré."
                        )
                    ),
                )
            )

    raw_full = get("full_name")
    if raw_full and not (get("first_name") or get("last_name")):
        # One cell for the whole name ("M. DUPONT Jean"): split, then checked as the others.
        parts = attempt("full_name", norm.split_full_name, raw_full)
        if parts:
            civility, first, last = parts
            fields = {**fields, "first_name": first, "last_name": last}
            if civility and not get("civility"):
                fields["civility"] = civility
            get = fields.get
    for name in ("first_name", "last_name"):
        raw = get(name)
        if raw:
            value = attempt(name, norm.person_name, raw)
            if value:
                data[name] = value
    for name, func in (
        ("civility", norm.civility),
        ("gender", norm.gender),
        ("email", norm.email),
        ("language", norm.language),
    ):
        raw = get(name)
        if raw:
            value = attempt(name, func, raw)
            if value:
                data[name] = value
    raw_country = get("country")
    if raw_country:
        country = attempt("country", norm.country, raw_country)
        if country:
            data["country"] = country
    raw_phone = get("phone")
    if raw_phone:
        phone = attempt("phone", norm.phone, raw_phone, region=data.get("country") or "FR")
        if phone:
            data["phone"] = phone
    raw_birth = get("birth_date")
    if raw_birth:
        birth = attempt("birth_date", norm.birth_date, raw_birth)
        if birth:
            data["birth_date"] = birth.isoformat()
    for name, limit in _TEXT_LIMITS.items():
        raw = get(name)
        if raw:
            value = clean_text(raw, limit)
            if value:
                data[name] = value
    raw_postcode = get("postal_code")
    if raw_postcode:
        postcode = attempt(
            "postal_code", norm.postcode, raw_postcode, country=data.get("country") or "FR"
        )
        if postcode:
            data["postal_code"] = postcode
    _place(data)
    raw_children = get("children")
    if raw_children:
        children = attempt("children", _children, raw_children)
        if children is not None:
            data["children"] = children
    raw_interests = get("interests")
    if raw_interests:
        interests = _interests(raw_interests)
        if interests:
            data["interests"] = interests
    raw_season = get("preferred_season")
    if raw_season:
        season = attempt("preferred_season", _season, raw_season)
        if season:
            data["preferred_season"] = season
    if consents:
        given = {}
        for slug, raw in consents.items():
            if raw:
                answer = attempt(f"consent_{slug}", _consent, raw)
                if answer is not None:
                    given[slug] = answer
        if given:
            data["consents"] = given

    if not (data.get("last_name") or data.get("email") or data.get("phone")):
        out.error = str(
            _("Ni nom, ni e-mail, ni téléphone valable : rien ne permet d'identifier la personne.")
        )
    return out


def _place(data: dict[str, Any]) -> None:
    """Complete a French address from the official postcode list (commune spelling, country)."""
    country = data.get("country")
    if country not in (None, "FR"):
        return
    postcode, city = data.get("postal_code"), data.get("city")
    if not postcode and not city:
        return
    commune = norm.commune_lookup(postcode, city)
    if commune is None:
        return
    if postcode is None or commune.postcode == postcode:
        data["postal_code"] = commune.postcode
        data["city"] = commune.name
        data.setdefault("country", "FR")
