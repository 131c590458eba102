"""/api/v1/activities, a customer's activities and consents, and loyalty-card look-up.

A key writes activities for its own partner only, and for customers it can name: its own
customer id (``customer_external_id``), a Cordée id or an e-mail or phone among the customers
it may see, or a loyalty card number (the card is shown by its holder). It reads the
activities it reported itself; the tourist office's keys read them all.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Annotated, Any, Literal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictInt, WithJsonSchema

from cordee.activities.joins import Keys, card_digits, customers_find
from cordee.activities.models import Activity, ActivityKind
from cordee.activities.services import NewActivity, activities_record_bulk
from cordee.activities.values import activity_values
from cordee.api.auth import BearerKey, KeyRequest, actor_of
from cordee.api.customers import IdempotencyKey
from cordee.api.errors import APIError, Error
from cordee.api.idempotency import idempotent
from cordee.api.schemas import COMMON_ERRORS, Text
from cordee.collect import normalise as norm
from cordee.core.bulk import gc_paused
from cordee.customers.models import Channel
from cordee.privacy.access import Actor, customer_for, customers_visible_to
from cordee.privacy.audit import audit_log, client_ip

router = Router(tags=["activités"])

activities_write = BearerKey("activities:write")
activities_read = BearerKey("activities:read")

MAX_BULK = 10_000
MAX_ID = 2**63 - 1
CUSTOMER_KEYS = ("customer_id", "customer_external_id", "card_number", "email", "phone")
ACTIVITY_FIELDS = (
    "kind", "starts_on", "ends_on", "amount", "currency", "quantity", "payment_means",
    "product", "satisfaction", "external_id", "details",
)  # fmt: skip
ALLOWED = frozenset(CUSTOMER_KEYS + ACTIVITY_FIELDS)


def _no_nul(value: str | None) -> str | None:
    if value is not None and ("\x00" in value or not value.isascii() and _has_surrogate(value)):
        raise ValueError(_("Caractère interdit (NUL ou caractère Unicode isolé)."))
    return value


def _has_surrogate(value: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in value)


def _no_nul_ok(value: str) -> bool:
    return "\x00" not in value and (value.isascii() or not _has_surrogate(value))


def _number_or_text(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Loose = Annotated[
    str | None,
    BeforeValidator(_number_or_text),
    AfterValidator(_no_nul),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "maxLength": 40}, {"type": "number"}, {"type": "null"}]}
    ),
]


class ActivityIn(Schema):
    """One activity as a partner's system knows it, and how to find its customer."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    customer_id: StrictInt | None = Field(
        None, ge=1, le=MAX_ID, description="Identifiant Cordée du client."
    )
    customer_external_id: Text = Field(
        None, max_length=100, description="Identifiant du client chez le partenaire."
    )
    card_number: Text = Field(None, max_length=40, description="Numéro de carte de fidélité.")
    email: Text = Field(None, max_length=320)
    phone: Text = Field(None, max_length=50)
    kind: str = Field(
        ...,
        max_length=60,
        description="Type : " + ", ".join(ActivityKind.values) + " (ou son nom en français).",
        examples=["stay"],
    )
    starts_on: str = Field(..., max_length=40, examples=["2026-02-14", "14/02/2026"])
    ends_on: Text = Field(None, max_length=40)
    amount: Loose = Field(None, examples=["1234.50"])
    currency: Text = Field(None, max_length=3, examples=["EUR"])
    quantity: Loose = Field(None)
    payment_means: Text = Field(None, max_length=200)
    product: Text = Field(None, max_length=200)
    satisfaction: int | None = Field(None, ge=0, le=10)
    external_id: Text = Field(
        None,
        max_length=100,
        description="Référence chez le partenaire (n° de réservation, de billet) : la même "
        "activité renvoyée n'est pas comptée deux fois.",
    )
    details: dict[str, Any] | None = Field(None, max_length=50)


class ActivityOut(Schema):
    id: int
    customer_id: int
    partner: str
    kind: str
    channel: str
    external_id: str
    starts_on: dt.date
    ends_on: dt.date | None
    season: str | None
    amount: str | None
    currency: str
    quantity: int | None
    payment_means: str
    product: str
    satisfaction: int | None
    details: dict[str, Any]
    due_on: dt.date | None
    done_at: dt.datetime | None
    created_at: dt.datetime


class ActivityResult(Schema):
    status: Literal["created", "updated", "unchanged"]
    activity: ActivityOut


class BulkActivitiesIn(Schema):
    model_config = ConfigDict(extra="forbid")

    activities: Annotated[
        list[Any],
        WithJsonSchema(
            {
                "type": "array",
                "items": ActivityIn.model_json_schema(),
                "minItems": 1,
                "maxItems": MAX_BULK,
            }
        ),
    ] = Field(..., min_length=1, max_length=MAX_BULK)


class BulkActivityItem(Schema):
    index: int
    status: Literal["created", "updated", "unchanged", "duplicate", "rejected"]
    activity_id: int | None = None
    errors: list[str] = []


class BulkActivitiesResult(Schema):
    created: int
    updated: int
    unchanged: int
    duplicate: int
    rejected: int
    results: list[BulkActivityItem]


class ActivityPage(Schema):
    results: list[ActivityOut]
    next: str | None
    cursor: str | None


def _json(status: int, data: Any) -> HttpResponse:
    return HttpResponse(
        json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _out(activity: Activity, partner_slug: str, season_code: str | None) -> dict[str, Any]:
    return {
        "id": activity.pk,
        "customer_id": activity.customer_id,
        "partner": partner_slug,
        "kind": activity.kind,
        "channel": activity.channel,
        "external_id": activity.external_id,
        "starts_on": activity.starts_on,
        "ends_on": activity.ends_on,
        "season": season_code,
        "amount": str(activity.amount) if activity.amount is not None else None,
        "currency": activity.currency,
        "quantity": activity.quantity,
        "payment_means": activity.payment_means,
        "product": activity.product,
        "satisfaction": activity.satisfaction,
        "details": activity.details or {},
        "due_on": activity.due_on,
        "done_at": activity.done_at,
        "created_at": activity.created_at,
    }


_NORMALISED_KEYS = (("email", norm.email), ("phone", norm.phone))


def _keys_of(item: dict[str, Any]) -> tuple[Keys, list[str]]:
    """The customer keys of one item, normalised; errors say which key is unreadable."""
    errors: list[str] = []
    ref = item.get("customer_external_id")
    keys = Keys(customer_ref=(ref if ref.__class__ is str else str(ref or "")).strip()[:100])
    card = item.get("card_number")
    if card is not None and card != "":
        keys.card_number = card_digits(str(card))[:20]
    for name, normalise in _NORMALISED_KEYS:
        raw = item.get(name)
        if raw is None or raw == "":
            continue
        try:
            setattr(keys, name, normalise(str(raw)) or "")
        except norm.InvalidValue as exc:
            errors.append(f"{name} : {exc.message}")
    return keys, errors


def _resolve(
    actor: Actor,
    key_partner: Any,
    items: list[dict[str, Any]],
    skip: set[int],
    known_keys: dict[int, Keys] | None = None,
) -> list[tuple[int | None, int | None, str]]:
    """(customer id, source record id, reason) for each item."""
    wanted = [
        item.get("customer_id")
        for i, item in enumerate(items)
        if i not in skip and item.get("customer_id") is not None
    ]
    visible: set[int] = set()
    if wanted:
        ids = [
            w for w in wanted if isinstance(w, int) and not isinstance(w, bool) and 0 < w <= MAX_ID
        ]
        visible = set(customers_visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
    found_keys: list[Keys] = []
    positions: list[int] = []
    out: list[tuple[int | None, int | None, str]] = [(None, None, "")] * len(items)
    for i, item in enumerate(items):
        if i in skip:
            continue
        customer_id = item.get("customer_id")
        if customer_id is not None:
            if customer_id in visible:
                out[i] = (customer_id, None, "")
            else:
                out[i] = (None, None, _("client introuvable (customer_id)"))
            continue
        keys = known_keys.get(i) if known_keys else None
        if keys is None:
            keys, _errors = _keys_of(item)
        found_keys.append(keys)
        positions.append(i)
    for i, found in zip(
        positions, customers_find(partner=key_partner, keys=found_keys), strict=True
    ):
        out[i] = (found.customer_id, found.source_record_id, found.reason)
    return out


_KEY_NAMES = ("customer_external_id", "card_number", "email", "phone")


def _check_item(item: Any) -> tuple[dict[str, Any], list[str]]:
    if not isinstance(item, dict):
        return {}, [_("objet JSON attendu")]
    errors: list[str] = []
    if not item.keys() <= ALLOWED:
        unknown = item.keys() - ALLOWED
        errors = [
            _("champ inconnu : %(name)s") % {"name": str(name)[:40]} for name in sorted(unknown)[:5]
        ]
    customer_id = item.get("customer_id")
    if customer_id is not None and customer_id.__class__ is not int:
        errors.append(_("customer_id : nombre entier attendu"))
    for name in _KEY_NAMES:
        value = item.get(name)
        if value is None:
            continue
        if value.__class__ is str:  # the usual case
            if len(value) > 320:
                errors.append(_("%(name)s : texte trop long") % {"name": name})
            elif not _no_nul_ok(value):
                errors.append(
                    _("%(name)s : caractère interdit (NUL ou caractère Unicode isolé)")
                    % {"name": name}
                )
        elif not isinstance(value, str | int):
            errors.append(_("%(name)s : texte attendu") % {"name": name})
        elif len(str(value)) > 320:
            errors.append(_("%(name)s : texte trop long") % {"name": name})
        elif isinstance(value, str) and not _no_nul_ok(value):
            errors.append(
                _("%(name)s : caractère interdit (NUL ou caractère Unicode isolé)") % {"name": name}
            )
    return item, errors


def _submit(request: KeyRequest, raw_items: list[Any]) -> tuple[list[dict[str, Any]], Any]:
    """Clean, resolve and write; one result dict per item."""
    actor = actor_of(request)
    partner = request.auth.partner
    results: list[dict[str, Any]] = [
        {"index": i, "status": "rejected", "activity_id": None, "errors": []}
        for i in range(len(raw_items))
    ]
    items: list[dict[str, Any]] = []
    cleaned_values: list[dict[str, Any] | None] = []
    skip: set[int] = set()
    item_keys: dict[int, Keys] = {}
    for i, raw in enumerate(raw_items):
        item, errors = _check_item(raw)
        items.append(item)
        cleaned_values.append(None)
        if errors:
            results[i]["errors"] = errors
            skip.add(i)
            continue
        # activity_values reads the activity's fields only: the item itself serves, unless
        # its kind must be cut first.
        kind = item.get("kind")
        if kind.__class__ is str and len(kind) > 60:
            cleaned = activity_values({**item, "kind": kind[:60]})
        else:
            cleaned = activity_values(item)
        item_keys[i], key_errors = _keys_of(item)
        if not cleaned.ok or key_errors:
            results[i]["errors"] = [
                f"{name} : {message}" for name, message in cleaned.errors.items()
            ] + key_errors
            skip.add(i)
            continue
        cleaned_values[i] = cleaned.values
    who = _resolve(actor, partner, items, skip, item_keys)
    to_write: list[NewActivity] = []
    positions: list[int] = []
    for i, (customer_id, source_id, reason) in enumerate(who):
        if i in skip:
            continue
        if customer_id is None:
            results[i]["errors"] = [reason]
            continue
        values = cleaned_values[i]
        assert values is not None
        to_write.append(
            NewActivity(customer_id=customer_id, values=values, source_record_id=source_id)
        )
        positions.append(i)
    written = activities_record_bulk(
        partner=partner, items=to_write, actor=actor, channel=Channel.API, ip=client_ip(request)
    )
    for i, outcome in zip(positions, written.results, strict=True):
        results[i]["status"] = outcome.status
        results[i]["activity_id"] = outcome.activity_id
    return results, written


def _parsed(request: KeyRequest) -> Any:
    return getattr(request, "_cordee_json", None)


@router.post(
    "/activities",
    auth=activities_write,
    response={200: ActivityResult, 201: ActivityResult, 409: Error, **COMMON_ERRORS},
    summary="Enregistrer une activité",
    description=(
        "Un séjour, une visite, un achat, un forfait... pour un client désigné par "
        "`customer_external_id` (votre identifiant), `card_number`, `email`, `phone` ou "
        "`customer_id`. 201 quand l'activité est créée ; 200 quand sa référence "
        "(`external_id`) était déjà connue : `unchanged`, ou `updated` si elle a changé. "
        "422 quand une valeur est illisible ou que le client est introuvable."
    ),
)
def activity_submit(
    request: KeyRequest, payload: ActivityIn, idempotency_key: str | None = IdempotencyKey
) -> HttpResponse:
    def produce() -> HttpResponse:
        item = payload.model_dump(exclude_none=True)
        results, written = _submit(request, [item])
        result = results[0]
        if result["status"] == "rejected":
            errors = result["errors"]
            raise APIError(
                422,
                errors[0]
                if len(errors) == 1
                else _("Activité refusée : %(n)s erreurs.") % {"n": len(errors)},
                [{"loc": ["body"], "msg": e, "type": "invalid"} for e in errors],
            )
        # A created activity is answered from the row just written; another is read back.
        created = written.activity(0) if written.results else None
        if created is not None:
            activity = created
            season = written.season_codes.get(activity.season_id) if activity.season_id else None
        else:
            activity = (
                Activity.objects.select_related("season").get(pk=result["activity_id"])
                if (result["activity_id"] is not None)
                else _by_reference(request, item)
            )
            season = activity.season.code if activity.season else None
        body = {
            "status": "unchanged" if result["status"] == "duplicate" else result["status"],
            "activity": _out(activity, request.auth.partner.slug, season),
        }
        return _json(201 if result["status"] == "created" else 200, body)

    return idempotent(request, request.auth, _parsed(request), produce)


def _by_reference(request: KeyRequest, item: dict[str, Any]) -> Activity:
    cleaned = activity_values({n: item[n] for n in ACTIVITY_FIELDS if n in item})
    return Activity.objects.select_related("season").get(
        partner=request.auth.partner,
        kind=cleaned.values["kind"],
        external_id=cleaned.values.get("external_id", ""),
    )


@router.post(
    "/activities/bulk",
    auth=activities_write,
    response={200: BulkActivitiesResult, 409: Error, **COMMON_ERRORS},
    summary=f"Enregistrer jusqu'à {MAX_BULK:,} activités".replace(",", " "),
    description=(
        "Un résultat par activité, dans l'ordre : `created`, `updated`, `unchanged`, "
        "`duplicate` (même référence plus haut dans l'appel) ou `rejected` avec ses erreurs. "
        "Les activités valables sont enregistrées même si d'autres sont refusées. Corps de "
        "16 Mo au plus."
    ),
)
def activity_bulk(
    request: KeyRequest, payload: BulkActivitiesIn, idempotency_key: str | None = IdempotencyKey
) -> HttpResponse:
    def produce() -> HttpResponse:
        with gc_paused():
            results, _written = _submit(request, payload.activities)
        counts = {
            s: sum(1 for r in results if r["status"] == s)
            for s in ("created", "updated", "unchanged", "duplicate", "rejected")
        }
        return _json(200, {**counts, "results": results})

    return idempotent(request, request.auth, _parsed(request), produce)


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["after"]
        if isinstance(after, int) and not isinstance(after, bool) and 0 <= after <= MAX_ID:
            return after
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError):
        pass
    raise APIError(422, _("Curseur invalide : reprenez celui de la page précédente."))


class ActivityQuery(Schema):
    cursor: str | None = Field(None, max_length=200, description="Curseur de la page précédente.")
    limit: int = Field(100, ge=1, le=500)


@router.get(
    "/customers/{customer_id}/activities",
    auth=activities_read,
    response={200: ActivityPage, 404: Error, **COMMON_ERRORS},
    summary="Lire les activités d'un client",
    description=(
        "Dans l'ordre où elles ont été enregistrées, page par page (suivez `next`). Une clé "
        "de partenaire lit les activités de son partenaire ; une clé de l'office les lit toutes."
    ),
)
def customer_activities(
    request: KeyRequest, customer_id: int, query: Query[ActivityQuery]
) -> dict[str, Any]:
    if not 1 <= customer_id <= MAX_ID:
        raise APIError(404, _("Introuvable."))
    actor = actor_of(request)
    customer = customer_for(actor, customer_id)
    activities = Activity.objects.filter(customer=customer).select_related("season", "partner")
    if not actor.sees_everything:
        activities = activities.filter(partner=request.auth.partner)
    if query.cursor:
        activities = activities.filter(pk__gt=_decode_cursor(query.cursor))
    rows = list(activities.order_by("pk")[: query.limit + 1])
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    cursor = _encode_cursor(rows[-1].pk) if more else None
    following = None
    if cursor:
        params = request.GET.copy()
        params["cursor"] = cursor
        following = f"{request.path}?{params.urlencode()}"
    audit_log(
        actor=actor,
        action="activity.api_list",
        obj=customer,
        ip=client_ip(request),
        results=len(rows),
    )
    return {
        "results": [_out(a, a.partner.slug, a.season.code if a.season else None) for a in rows],
        "next": following,
        "cursor": cursor,
    }
