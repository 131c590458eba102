"""/api/v1/customers/{id}/consents and /api/v1/cards/{number}: consents with their proof, and
the loyalty card looked up by its number."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Path, Router, Schema
from pydantic import ConfigDict, Field

from cordee.activities.api import MAX_ID, IdempotencyKey, _json, _parsed
from cordee.activities.cards import card_by_number, card_number_clean
from cordee.api.auth import BearerKey, KeyRequest, actor_of, read_key
from cordee.api.errors import APIError, Error
from cordee.api.idempotency import idempotent
from cordee.api.schemas import COMMON_ERRORS, CustomerOut
from cordee.privacy.access import customer_for, customers_visible_to
from cordee.privacy.audit import audit_log, client_ip
from cordee.privacy.models import ConsentChannel, ConsentWording, WordingKind
from cordee.privacy.queries import consent_overview
from cordee.privacy.services import consent_record

consents_router = Router(tags=["consentements"])
cards_router = Router(tags=["carte de fidélité"])
consents_write = BearerKey("consents:write")
consents_read = BearerKey("consents:read")

# A card number as people type it: 12 digits, in groups of four or not.
CARD_PATTERN = r"^[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}$"
CARD_FORMAT = re.compile(CARD_PATTERN)


# --- consents ---------------------------------------------------------------


class ConsentOut(Schema):
    id: int
    purpose: str
    status: Literal["granted", "refused", "withdrawn"]
    controller: str = Field(description="À qui le consentement est donné (slug du partenaire).")
    collected_by: str = Field(description="Qui l'a recueilli, quand la clé peut le savoir.")
    channel: str
    at: dt.datetime
    wording_version: int | None


class ConsentList(Schema):
    results: list[ConsentOut]


class ConsentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(..., pattern=r"^[a-z0-9_]{1,50}$", examples=["newsletter"])
    status: Literal["granted", "refused", "withdrawn"]
    channel: Literal[
        "api", "form", "desk", "phone", "email", "contest", "survey", "preferences"
    ] = Field("api", description="Où la personne a répondu.")
    wording_version: int | None = Field(
        None, ge=1, le=32767, description="Version du texte présenté (par défaut : l'actuelle)."
    )
    language: Literal["fr", "en"] | None = Field(None, description="Langue du texte présenté.")
    page: str | None = Field(
        None,
        max_length=500,
        pattern=r"^https?://[^\s\x00-\x1f]+$",
        description="Adresse de la page du formulaire.",
    )


def _consent_out(event: Any, collected_by: str) -> dict[str, Any]:
    return {
        "id": event.pk,
        "purpose": event.purpose.slug,
        "status": event.status,
        "controller": event.controller.slug,
        "collected_by": collected_by,
        "channel": event.channel,
        "at": event.at,
        "wording_version": event.wording.version if event.wording else None,
    }


@consents_router.get(
    "/customers/{customer_id}/consents",
    auth=consents_read,
    response={200: ConsentList, 404: Error, **COMMON_ERRORS},
    summary="Lire l'état des consentements d'un client",
    description=(
        "L'état actuel par finalité et par responsable. Une clé de partenaire voit les "
        "consentements donnés à son partenaire et à l'office, jamais ceux donnés à un autre "
        "partenaire."
    ),
)
def customer_consents(request: KeyRequest, customer_id: int) -> dict[str, Any]:
    if not 1 <= customer_id <= MAX_ID:
        raise APIError(404, _("Introuvable."))
    actor = actor_of(request)
    customer = customer_for(actor, customer_id)
    lines = [line for entry in consent_overview(customer, actor) for line in entry.current]
    audit_log(actor=actor, action="consent.api_read", obj=customer, ip=client_ip(request))
    return {"results": [_consent_out(line.event, line.collected_by) for line in lines]}


@consents_router.post(
    "/customers/{customer_id}/consents",
    auth=consents_write,
    response={201: ConsentOut, 404: Error, 409: Error, **COMMON_ERRORS},
    summary="Enregistrer un consentement avec sa preuve",
    description=(
        "Ajoute ce que la personne a répondu pour une finalité (l'historique n'est jamais "
        "modifié), avec le texte qui lui a été présenté (`wording_version`, `language`) et "
        "la page où elle a répondu. Le consentement est donné à l'office pour ses finalités, "
        "à votre partenaire pour les siennes."
    ),
)
def customer_consent_record(
    request: KeyRequest,
    customer_id: int,
    payload: ConsentIn,
    idempotency_key: str | None = IdempotencyKey,
) -> HttpResponse:
    if not 1 <= customer_id <= MAX_ID:
        raise APIError(404, _("Introuvable."))

    def produce() -> HttpResponse:
        actor = actor_of(request)
        customer = customer_for(actor, customer_id)
        wording = None
        if payload.wording_version is not None:
            wording = ConsentWording.objects.filter(
                purpose__slug=payload.purpose,
                kind=WordingKind.SHOWN,
                version=payload.wording_version,
                language=payload.language or customer.language or "fr",
            ).first()
            if wording is None:
                raise APIError(
                    422,
                    _("Texte de consentement inconnu : version %(v)s de « %(p)s ».")
                    % {"v": payload.wording_version, "p": payload.purpose},
                )
        try:
            event = consent_record(
                customer=customer,
                purpose=payload.purpose,
                status=payload.status,
                channel=ConsentChannel(payload.channel),
                actor=actor,
                wording=wording,
                page=payload.page or "",
            )
        except ValidationError as exc:
            raise APIError(422, " ".join(exc.messages)) from None
        return _json(201, _consent_out(event, request.auth.partner.name))

    return idempotent(request, request.auth, _parsed(request), produce)


# --- loyalty card ------------------------------------------------------------


class CardOut(Schema):
    number: str
    customer_id: int | None = Field(
        description="Le client, quand la clé peut le voir ; null sinon (la carte reste "
        "utilisable pour enregistrer une activité avec `card_number`)."
    )
    customer: CustomerOut | None


@cards_router.get(
    "/cards/{number}",
    auth=read_key,
    response={200: CardOut, 404: Error, **COMMON_ERRORS},
    summary="Retrouver une carte de fidélité par son numéro",
    description="422 quand le numéro est mal formé ; 404 quand aucune carte ne le porte, "
    "notamment quand son chiffre de contrôle est faux (une faute de frappe).",
)
def card_lookup(
    request: KeyRequest,
    number: str = Path(
        ...,
        pattern=CARD_PATTERN,
        description="Les 12 chiffres, groupés ou non (1234 5678 9012, 1234-5678-9012).",
    ),
) -> dict[str, Any]:
    try:
        digits = card_number_clean(number[:100])
    except ValidationError as exc:
        if CARD_FORMAT.match(number):  # well formed, but no card can bear it
            raise APIError(404, " ".join(exc.messages)) from None
        raise APIError(422, " ".join(exc.messages)) from None
    card = card_by_number(digits)
    if card is None:
        raise APIError(404, _("Aucune carte ne porte ce numéro."))
    actor = actor_of(request)
    customer = customers_visible_to(actor).filter(pk=card.customer_id).first()
    audit_log(
        actor=actor,
        action="loyalty_card.lookup",
        obj=customer,
        ip=client_ip(request),
        visible=customer is not None,
    )
    return {
        "number": card.number,
        "customer_id": customer.pk if customer else None,
        "customer": customer,
    }
