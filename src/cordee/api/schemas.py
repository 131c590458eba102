"""What the API accepts and answers, as pydantic models (they also write the OpenAPI schema).

Incoming fields are text, read leniently like a file's cells and normalised by the intake
(cordee.collect.intake): a number is taken as its text, ``null`` or "" as absent. Unknown
fields are refused with 422 rather than ignored: a misspelt field (``emial``) silently
dropped would lose the data it carried.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)

from cordee.api.errors import Error

MAX_BULK = 1000
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def _storable(value: str | None) -> str | None:
    # PostgreSQL cannot store NUL in text or JSON, nor can UTF-8 carry a lone surrogate.
    if value is not None and _UNSTORABLE.search(value):
        raise ValueError(_("Caractère interdit (NUL ou caractère Unicode isolé)."))
    return value


Text = Annotated[str | None, AfterValidator(_storable)]
# A page's cursor as the API writes it (URL-safe base64 without padding).
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,200}$"
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


def _iso_text(value: object) -> object:
    # pydantic also reads a number ("0.5") as seconds since 1970: a client that sends one has
    # made a mistake, which is answered rather than guessed.
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        return value.strip()
    raise ValueError(_("Date et heure ISO 8601 attendues (ex. 2026-11-22T10:00:00+01:00)."))


IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_text)]
ConsentSlug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9_]{1,50}$"), AfterValidator(_storable)
]


def _joined(value: object) -> object:
    """A list of interests is taken as the text a file would hold: "ski, randonnée"."""
    if isinstance(value, list):
        if len(value) > 60 or not all(isinstance(v, str) and len(v) <= 60 for v in value):
            raise ValueError(_("Liste de 60 textes de 60 caractères au plus attendue."))
        return ", ".join(value)
    return value


Interests = Annotated[
    str | None,
    BeforeValidator(_joined),
    AfterValidator(_storable),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": 4000},
                {"type": "array", "items": {"type": "string", "maxLength": 60}, "maxItems": 60},
                {"type": "null"},
            ],
            "description": "Centres d'intérêt : texte séparé par des virgules, ou liste.",
        }
    ),
]


class CustomerIn(Schema):
    """One customer as a partner's system knows it. At least a last name, an e-mail or a phone."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    external_id: Text = Field(None, max_length=100, description="Identifiant chez le partenaire.")
    card_number: Text = Field(
        None,
        max_length=40,
        description="Numéro de la carte de fidélité de la destination (12 chiffres) : "
        "rattache l'enregistrement à son titulaire, sauf si le prénom ou la date de "
        "naissance le contredisent.",
        examples=["1234 5678 9012"],
    )
    civility: Text = Field(None, max_length=20, examples=["Mme"])
    first_name: Text = Field(None, max_length=200, examples=["Élodie"])
    last_name: Text = Field(None, max_length=200, examples=["Martin"])
    email: Text = Field(None, max_length=320, examples=["elodie.martin@example.fr"])
    phone: Text = Field(None, max_length=50, examples=["06 12 34 56 78"])
    birth_date: Text = Field(None, max_length=40, examples=["1985-03-14", "14/03/1985"])
    gender: Text = Field(None, max_length=20)
    address_line1: Text = Field(None, max_length=300)
    address_line2: Text = Field(None, max_length=300)
    postal_code: Text = Field(None, max_length=20, examples=["74000"])
    city: Text = Field(None, max_length=200, examples=["Annecy"])
    region: Text = Field(None, max_length=200)
    country: Text = Field(None, max_length=100, examples=["FR", "France"])
    language: Text = Field(None, max_length=40, examples=["fr"])
    profession: Text = Field(None, max_length=200)
    family_situation: Text = Field(None, max_length=100)
    children: Text = Field(None, max_length=10, examples=["2"])
    interests: Interests = Field(None, max_length=4000, examples=["ski, randonnée"])
    preferred_season: Text = Field(None, max_length=40, examples=["hiver", "été", "les deux"])
    consents: dict[ConsentSlug, StrictBool | None] | None = Field(
        None,
        max_length=50,
        description="Consentements par finalité : true (accepté), false (refusé).",
        examples=[{"newsletter": True, "partner_offers": False}],
    )


class BulkIn(Schema):
    model_config = ConfigDict(extra="forbid")

    records: list[CustomerIn] = Field(..., min_length=1, max_length=MAX_BULK)


class FieldWarning(Schema):
    field: str
    message: str


class CustomerOut(Schema):
    """A golden record as the key may read it: a field the customer did not agree to share with
    this partner is null and named in ``hidden`` (docs/privacy.md)."""

    id: int
    civility: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    phone_other: str | None
    birth_date: dt.date | None
    gender: str | None
    address_line1: str | None
    address_line2: str | None
    postal_code: str | None
    city: str | None
    region: str | None
    country: str | None
    language: str | None
    profession: str | None
    family_situation: str | None
    children: int | None
    interests: list[str] | None
    preferred_season: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    hidden: list[str] = Field(
        [],
        description="Les champs que la personne n'a pas accepté de partager avec ce partenaire "
        "(leur valeur est null) : un client partagé que le partenaire n'a pas apporté se lit "
        "selon les finalités accordées.",
    )


class CustomerResult(Schema):
    created: bool = Field(description="true si la fiche client vient d'être créée.")
    status: Literal["created", "matched", "unchanged"] = Field(
        description="created : nouveau client ; matched : rattaché à un client existant ; "
        "unchanged : enregistrement déjà reçu à l'identique."
    )
    customer: CustomerOut
    warnings: list[FieldWarning] = Field(description="Valeurs écartées et pourquoi.")


class BulkItem(Schema):
    index: int
    status: Literal["created", "matched", "unchanged", "rejected"]
    customer_id: int | None = None
    warnings: list[FieldWarning] = []
    errors: list[str] = []


class BulkResult(Schema):
    created: int
    matched: int
    unchanged: int
    rejected: int
    results: list[BulkItem]


class CustomerPage(Schema):
    results: list[CustomerOut]
    next: str | None = Field(description="Adresse de la page suivante, null à la fin.")
    cursor: str | None = Field(description="Curseur de la page suivante, null à la fin.")


class LookupResult(Schema):
    results: list[CustomerOut]


# The answers every operation may give besides its success.
COMMON_ERRORS: dict[int, type[Error]] = {
    400: Error,
    401: Error,
    403: Error,
    413: Error,
    415: Error,
    422: Error,
    429: Error,
}
