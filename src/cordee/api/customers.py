"""/api/v1/customers: partners' systems push and read customers, within what their key may see."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import Field

from cordee.api.auth import KeyRequest, actor_of, read_key, write_key
from cordee.api.errors import APIError, Error
from cordee.api.idempotency import VALID_KEY, idempotent
from cordee.api.schemas import (
    COMMON_ERRORS,
    CURSOR_PATTERN,
    BulkIn,
    BulkItem,
    BulkResult,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerResult,
    FieldWarning,
    IsoDateTime,
    LookupResult,
)
from cordee.api.services import Submitted, customers_submit
from cordee.collect import normalise as norm
from cordee.customers.candidates import customer_candidates
from cordee.customers.exports import EXPORT_FIELDS
from cordee.customers.models import GOLDEN_FIELDS, Customer
from cordee.privacy.access import (
    Actor,
    customer_for,
    customer_redacted,
    customers_readable_fields,
    customers_visible_to,
    readable_condition,
    rows_redact,
)
from cordee.privacy.audit import audit_log, client_ip
from cordee.privacy.crypto import email_index, phone_index

router = Router(tags=["clients"])

MAX_ID = 2**63 - 1
LOOKUP_LIMIT = 20
IdempotencyKey = Header(
    None,
    alias="Idempotency-Key",
    max_length=255,
    pattern=VALID_KEY.pattern,
    description="Clé choisie par le client : la même requête rejouée avec la même clé "
    "reçoit la même réponse (24 h), sans seconde écriture.",
)


def _json(status: int, schema: Schema) -> HttpResponse:
    # Rendered like ninja renders the GET answers (same date format), here by hand because
    # the idempotency record stores the exact bytes.
    return HttpResponse(
        json.dumps(schema.model_dump(), cls=NinjaJSONEncoder),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _warnings(outcome: Submitted) -> list[FieldWarning]:
    return [FieldWarning(field=f, message=m) for f, m in outcome.warnings]


def _rows(actor: Actor, customers: QuerySet[Customer]) -> list[dict[str, Any]]:
    # A partner reads a shared customer it did not bring through the shared fields only.
    return rows_redact(actor, list(customers.values(*EXPORT_FIELDS)))


def _parsed_body(request: KeyRequest) -> Any:
    return getattr(request, "_cordee_json", None)


class LikelyExisting(Schema):
    id: int
    probability: float | None = Field(
        description="Probabilité que ce soit la même personne (null : même e-mail ou "
        "téléphone, sans modèle de rapprochement appris)."
    )
    evidence: dict[str, str] = Field(description="Par champ : same, close, different ou missing.")


class CustomerSubmitted(CustomerResult):
    likely_existing: list[LikelyExisting] = Field(
        default=[],
        description="Quand la fiche vient d'être créée : les clients existants, visibles "
        "par cette clé, qui sont probablement la même personne (doublon possible).",
    )


def _likely_existing(customer: Customer, actor: Any) -> list[LikelyExisting]:
    data = {f: getattr(customer, f) for f in GOLDEN_FIELDS}
    base = customers_visible_to(actor).exclude(pk=customer.pk)
    candidates = customer_candidates(data, base=base)
    readable = customers_readable_fields(actor, [c.customer_id for c in candidates])
    # A shared customer's hidden fields (birth date...) are not compared out loud either.
    return [
        LikelyExisting(
            id=c.customer_id,
            probability=c.probability,
            evidence=_evidence_readable(c.evidence, readable[c.customer_id]),
        )
        for c in candidates
    ]


def _evidence_readable(evidence: dict[str, str], readable: frozenset[str] | None) -> dict[str, str]:
    if readable is None:
        return evidence
    return {k: v for k, v in evidence.items() if k in readable}


@router.post(
    "/customers",
    auth=write_key,
    response={200: CustomerSubmitted, 201: CustomerSubmitted, 409: Error, **COMMON_ERRORS},
    summary="Créer ou mettre à jour un client",
    description=(
        "Les champs sont lus comme les cellules d'un fichier importé, puis normalisés "
        "(e-mail, téléphone E.164, nom, date...) ; une valeur illisible est écartée et "
        "signalée dans `warnings`. 201 quand la fiche est créée, 200 quand l'enregistrement "
        "rejoint une fiche existante (même identifiant externe, e-mail ou téléphone ; ou, "
        "avec un modèle de rapprochement appris, une fiche que la clé voit en entier et qui "
        "est sûrement la même personne) ou a déjà été reçu à l'identique. 422 quand rien "
        "n'identifie la personne."
    ),
)
def customer_submit(
    request: KeyRequest,
    payload: CustomerIn,
    idempotency_key: str | None = IdempotencyKey,
) -> HttpResponse:
    def produce() -> HttpResponse:
        actor = actor_of(request)
        (outcome,) = customers_submit(
            key=request.auth, actor=actor, items=[payload], ip=client_ip(request)
        )
        if outcome.status == "rejected":
            raise APIError(
                422,
                outcome.errors[0],
                [{"loc": ["body", f], "msg": m, "type": "unreadable"} for f, m in outcome.warnings],
            )
        if outcome.customer_id is None:
            raise APIError(
                422, _("Cet enregistrement a déjà été reçu et sa fiche client n'existe plus.")
            )
        customer = customer_for(actor, outcome.customer_id)
        result = CustomerSubmitted(
            created=outcome.status == "created",
            status=outcome.status,  # type: ignore[arg-type]
            customer=CustomerOut.model_validate(customer_redacted(actor, customer)),
            warnings=_warnings(outcome),
            likely_existing=_likely_existing(customer, actor)
            if outcome.status == "created"
            else [],
        )
        return _json(201 if outcome.status == "created" else 200, result)

    return idempotent(request, request.auth, _parsed_body(request), produce)


@router.post(
    "/customers/bulk",
    auth=write_key,
    response={200: BulkResult, 409: Error, **COMMON_ERRORS},
    summary="Créer ou mettre à jour jusqu'à 1 000 clients",
    description=(
        "Un résultat par enregistrement, dans l'ordre : `created`, `matched`, `unchanged` ou "
        "`rejected` (avec ses erreurs). Les enregistrements valables sont enregistrés même si "
        "d'autres sont rejetés, en une transaction. Un enregistrement mal formé (type, champ "
        "inconnu) refuse tout l'appel avec 422 et sa position."
    ),
)
def customer_bulk(
    request: KeyRequest,
    payload: BulkIn,
    idempotency_key: str | None = IdempotencyKey,
) -> HttpResponse:
    def produce() -> HttpResponse:
        outcomes = customers_submit(
            key=request.auth,
            actor=actor_of(request),
            items=payload.records,
            ip=client_ip(request),
        )
        items = [
            BulkItem(
                index=o.index,
                status=o.status,  # type: ignore[arg-type]
                customer_id=o.customer_id,
                warnings=_warnings(o),
                errors=o.errors,
            )
            for o in outcomes
        ]
        counts = {
            s: sum(1 for o in outcomes if o.status == s)
            for s in ("created", "matched", "unchanged", "rejected")
        }
        return _json(200, BulkResult(results=items, **counts))

    return idempotent(request, request.auth, _parsed_body(request), produce)


def _normalised_query(name: str, value: str, normalise: Any, empty: str) -> str:
    """One query parameter normalised like the intake does, or a 422 saying why not."""
    try:
        normalised = normalise(value)
    except norm.InvalidValue as exc:
        raise APIError(
            422,
            str(exc.message),
            [{"loc": ["query", name], "msg": str(exc.message), "type": "invalid"}],
        ) from None
    if not normalised:
        raise APIError(422, empty)
    return str(normalised)


def _contact_condition(email: str | None, phone: str | None) -> Q:
    """Exact match on the normalised e-mail or phone, through their keyed hashes only."""
    condition = Q()
    if email is not None:
        normalised = _normalised_query("email", email, norm.email, _("E-mail vide."))
        condition &= Q(email_hash=email_index(normalised))
    if phone is not None:
        normalised = _normalised_query("phone", phone, norm.phone, _("Téléphone vide."))
        condition &= Q(phone_hash=phone_index(normalised))
    return condition


class ListQuery(Schema):
    cursor: str | None = Field(
        None,
        max_length=200,
        pattern=CURSOR_PATTERN,
        description="Curseur donné par la page précédente.",
    )
    limit: int = Field(100, ge=1, le=500)
    updated_since: IsoDateTime | None = Field(
        None, description="Clients modifiés depuis cette date (ISO 8601)."
    )
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=50)


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        after = value["after"]
        if isinstance(after, int) and not isinstance(after, bool) and 0 <= after <= MAX_ID:
            return after
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError):
        pass
    raise APIError(422, _("Curseur invalide : reprenez celui de la page précédente."))


def _since(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise APIError(422, _("Date hors limites.")) from None


@router.get(
    "/customers",
    auth=read_key,
    response={200: CustomerPage, **COMMON_ERRORS},
    summary="Lister les clients visibles par la clé",
    description=(
        "Par ordre d'identifiant, page par page : suivez `next` jusqu'à ce qu'il soit null. "
        "Pour une synchronisation, passez `updated_since` (la date du début de la "
        "synchronisation précédente)."
    ),
)
def customer_list(request: KeyRequest, query: Query[ListQuery]) -> dict[str, Any]:
    actor = actor_of(request)
    customers = customers_visible_to(actor)
    if query.updated_since is not None:
        customers = customers.filter(updated_at__gte=_since(query.updated_since))
    if query.email is not None or query.phone is not None:
        customers = customers.filter(_contact_condition(query.email, query.phone))
    if query.phone is not None:
        customers = customers.filter(readable_condition(actor, "phone"))
    if query.cursor:
        customers = customers.filter(pk__gt=_decode_cursor(query.cursor))
    rows = _rows(actor, customers.order_by("pk")[: query.limit + 1])
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    cursor = _encode_cursor(rows[-1]["id"]) if more else None
    following = None
    if cursor:
        params = request.GET.copy()
        params["cursor"] = cursor
        following = f"{request.path}?{params.urlencode()}"
    audit_log(
        actor=actor,
        action="customer.api_list",
        ip=client_ip(request),
        filters=[n for n in ("updated_since", "email", "phone", "cursor") if getattr(query, n)],
        results=len(rows),
    )
    return {"results": rows, "next": following, "cursor": cursor}


class LookupQuery(Schema):
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=50)


@router.get(
    "/customers/lookup",
    auth=read_key,
    response={200: LookupResult, **COMMON_ERRORS},
    summary="Retrouver un client par e-mail ou téléphone",
    description=(
        "Correspondance exacte sur l'e-mail ou le téléphone normalisés (une famille peut "
        "partager un téléphone : la réponse est une liste, vide si personne)."
    ),
)
def customer_lookup(request: KeyRequest, query: Query[LookupQuery]) -> dict[str, Any]:
    if (query.email is None) == (query.phone is None):
        raise APIError(422, _("Indiquez soit email, soit phone."))
    actor = actor_of(request)
    found = customers_visible_to(actor).filter(_contact_condition(query.email, query.phone))
    if query.phone is not None:
        # Finding a shared customer by a phone it did not agree to share would tell the phone.
        found = found.filter(readable_condition(actor, "phone"))
    rows = _rows(actor, found.order_by("pk")[:LOOKUP_LIMIT])
    audit_log(
        actor=actor,
        action="customer.search",
        ip=client_ip(request),
        kind="email" if query.email is not None else "phone",
        filters=[],
        results=len(rows),
    )
    return {"results": rows}


@router.get(
    "/customers/{customer_id}",
    auth=read_key,
    response={200: CustomerOut, 404: Error, **COMMON_ERRORS},
    summary="Lire un client",
    description="404 pour un client que la clé ne peut pas voir, comme pour un client inexistant.",
)
def customer_detail(request: KeyRequest, customer_id: int) -> Customer:
    if not 1 <= customer_id <= MAX_ID:
        raise APIError(404, _("Introuvable."))
    actor = actor_of(request)
    customer = customer_for(actor, customer_id)
    audit_log(actor=actor, action="customer.view", obj=customer, ip=client_ip(request))
    return customer_redacted(actor, customer)
