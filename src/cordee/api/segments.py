"""/api/v1/segments: list, count, read the members of, create and update segments.

Everything goes through the privacy gate: a definition is compiled for the key's partner
(household members included), so a count or a page of members never holds a customer the key
may not see; a shared customer it did not bring is read through the shared fields only. The
definitions are those of docs/segments.md, checked with the same French messages as the
builder page.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import ConfigDict, Field

from cordee.api.auth import BearerKey, KeyRequest, actor_of
from cordee.api.errors import APIError, Error
from cordee.api.idempotency import VALID_KEY, idempotent
from cordee.api.schemas import COMMON_ERRORS, CURSOR_PATTERN, CustomerOut
from cordee.customers.exports import EXPORT_FIELDS
from cordee.privacy.access import Actor, rows_redact
from cordee.privacy.audit import audit_log, client_ip
from cordee.segments.compiler import definition_queryset, segment_queryset
from cordee.segments.definition import DefinitionError
from cordee.segments.models import Segment
from cordee.segments.queries import MAX_DEFINITION_BYTES, segments_visible_to, timed_count
from cordee.segments.services import segment_save

router = Router(tags=["segments"])
segments_read = BearerKey("segments:read")
segments_write = BearerKey("segments:write")

MAX_ID = 2**63 - 1
SLUG = r"^[a-z0-9][a-z0-9-]{0,59}$"
IdempotencyKey = Header(
    None,
    alias="Idempotency-Key",
    max_length=255,
    pattern=VALID_KEY.pattern,
    description="Clé choisie par le client : la même requête rejouée avec la même clé "
    "reçoit la même réponse (24 h), sans seconde écriture.",
)
DEFINITION_HELP = (
    "Définition JSON d'un segment (docs/segments.md) : un groupe `all` / `any` / `not` ou une "
    'condition, par ex. `{"all": [{"field": "age", "op": "between", "value": [18, 35]}]}`. '
    "`{}` : toute la base visible."
)


class SegmentOut(Schema):
    slug: str
    name: str
    description: str
    kind: str = Field(description="dynamic : réévalué à chaque usage ; frozen : liste figée.")
    builtin: bool = Field(description="Segment prédéfini (fidèles, forcés, fuyants).")
    mine: bool = Field(description="true si la clé peut le modifier.")
    definition: dict[str, Any]
    updated_at: dt.datetime
    size: int | None = Field(
        None, description="Membres visibles par la clé (quand `size=true` ou sur un segment)."
    )


class SegmentList(Schema):
    results: list[SegmentOut]


class ListQuery(Schema):
    size: bool = Field(False, description="Compter aussi les membres de chaque segment.")


class CountIn(Schema):
    model_config = ConfigDict(extra="forbid")
    definition: dict[str, Any] = Field(description=DEFINITION_HELP)


class CountOut(Schema):
    count: int = Field(description="Clients visibles par la clé qui répondent à la définition.")
    milliseconds: float = Field(description="Durée du comptage.")


class SegmentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    slug: str | None = Field(
        None,
        pattern=SLUG,
        description="Identifiant (minuscules, chiffres, tirets) ; tiré du nom si absent.",
    )
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=2000)
    definition: dict[str, Any] = Field(description=DEFINITION_HELP)


class SegmentUpdate(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=2000)
    definition: dict[str, Any] = Field(description=DEFINITION_HELP)


class MembersQuery(Schema):
    cursor: str | None = Field(
        None,
        max_length=200,
        pattern=CURSOR_PATTERN,
        description="Curseur donné par la page précédente.",
    )
    limit: int = Field(100, ge=1, le=500)


class MemberPage(Schema):
    results: list[CustomerOut]
    next: str | None = Field(description="Adresse de la page suivante, null à la fin.")
    cursor: str | None = Field(description="Curseur de la page suivante, null à la fin.")


def _mine(actor: Actor, segment: Segment) -> bool:
    if segment.is_builtin:
        return False
    if actor.sees_everything:
        return True
    return actor.partner is not None and segment.owner_id == actor.partner.pk


def _out(actor: Actor, segment: Segment, size: int | None = None) -> SegmentOut:
    return SegmentOut(
        slug=segment.slug,
        name=segment.name,
        description=segment.description,
        kind=segment.kind,
        builtin=segment.is_builtin,
        mine=_mine(actor, segment),
        definition=segment.definition or {},
        updated_at=segment.updated_at,
        size=size,
    )


# Paths of their own under /segments/: a segment with such a slug could not be read here.
RESERVED_SLUGS = frozenset({"count"})


def _segment_for(actor: Actor, slug: str) -> Segment:
    segment = segments_visible_to(actor).filter(slug=slug).first()
    if segment is None:
        raise APIError(404, _("Segment introuvable."))
    return segment


def _refused(exc: DefinitionError) -> APIError:
    errors = [{"loc": ["body", "definition"], "msg": e, "type": "definition"} for e in exc.errors]
    detail = exc.errors[0] if len(exc.errors) == 1 else _("Définition à corriger.")
    return APIError(422, detail, errors)


def _checked(definition: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(definition, ensure_ascii=False)) > MAX_DEFINITION_BYTES:
        raise _refused(DefinitionError([_("définition trop longue (200 000 caractères au plus).")]))
    return definition


def _json(status: int, schema: Schema) -> HttpResponse:
    # Rendered by hand like customers.py: the idempotency record stores the exact bytes.
    return HttpResponse(
        json.dumps(schema.model_dump(), cls=NinjaJSONEncoder),
        status=status,
        content_type="application/json; charset=utf-8",
    )


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


@router.get(
    "/segments",
    auth=segments_read,
    response={200: SegmentList, **COMMON_ERRORS},
    summary="Lister les segments",
    description="Les segments de l'office de tourisme et ceux du partenaire de la clé, par "
    "identifiant. Avec `size=true`, le nombre de membres visibles par la clé.",
)
def segment_list(request: KeyRequest, query: Query[ListQuery]) -> dict[str, Any]:
    actor = actor_of(request)
    segments = list(segments_visible_to(actor)[:500])
    results = []
    for segment in segments:
        size = None
        if query.size:
            try:
                size = segment_queryset(segment, actor).count()
            except DefinitionError:
                size = None  # a segment whose reference disappeared: no size, not an error
        results.append(_out(actor, segment, size))
    return {"results": results}


@router.post(
    "/segments/count",
    auth=segments_read,
    response={200: CountOut, 409: Error, **COMMON_ERRORS},
    summary="Compter une définition",
    description="Le nombre de clients visibles par la clé qui répondent à la définition, et "
    "le temps du comptage. 422 avec chaque problème de la définition, en français.",
)
def segment_count(
    request: KeyRequest, payload: CountIn, idempotency_key: str | None = IdempotencyKey
) -> HttpResponse:
    def produce() -> HttpResponse:
        actor = actor_of(request)
        try:
            timed = timed_count(definition_queryset(_checked(payload.definition), actor))
        except DefinitionError as exc:
            raise _refused(exc) from None
        audit_log(actor=actor, action="segment.api_count", ip=client_ip(request), count=timed.count)
        return _json(200, CountOut(count=timed.count, milliseconds=timed.milliseconds))

    return idempotent(request, request.auth, payload.model_dump(), produce)


@router.get(
    "/segments/{slug}",
    auth=segments_read,
    response={200: SegmentOut, 404: Error, 405: Error, **COMMON_ERRORS},
    summary="Lire un segment",
    description="Sa définition et le nombre de ses membres visibles par la clé.",
)
def segment_read(request: KeyRequest, slug: str = Path(..., max_length=60)) -> SegmentOut:
    actor = actor_of(request)
    segment = _segment_for(actor, slug)
    try:
        size = segment_queryset(segment, actor).count()
    except DefinitionError:
        size = None
    return _out(actor, segment, size)


@router.get(
    "/segments/{slug}/members",
    auth=segments_read,
    response={200: MemberPage, 404: Error, **COMMON_ERRORS},
    summary="Lister les membres d'un segment",
    description="Les membres visibles par la clé, par ordre d'identifiant, page par page : "
    "suivez `next` jusqu'à ce qu'il soit null. Un client partagé que le partenaire n'a pas "
    "apporté n'est lu que par les champs que ses consentements ouvrent (les autres "
    "valent null et sont nommés dans `hidden`).",
)
def segment_members(
    request: KeyRequest, query: Query[MembersQuery], slug: str = Path(..., max_length=60)
) -> dict[str, Any]:
    actor = actor_of(request)
    segment = _segment_for(actor, slug)
    try:
        members = segment_queryset(segment, actor)
    except DefinitionError as exc:
        raise _refused(exc) from None
    if query.cursor:
        members = members.filter(pk__gt=_decode_cursor(query.cursor))
    rows = rows_redact(
        actor, list(members.order_by("pk").values(*EXPORT_FIELDS)[: query.limit + 1])
    )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    cursor = _encode_cursor(rows[-1]["id"]) if more else None
    following = None
    if cursor:
        params = request.GET.copy()
        params["cursor"] = cursor
        following = f"{request.path}?{params.urlencode()}"
    audit_log(
        actor=actor, action="segment.api_members", obj=segment, ip=client_ip(request),
        results=len(rows),
    )  # fmt: skip
    return {"results": rows, "next": following, "cursor": cursor}


@router.post(
    "/segments",
    auth=segments_write,
    response={201: SegmentOut, 409: Error, **COMMON_ERRORS},
    summary="Créer un segment",
    description="Un segment dynamique, à l'office de tourisme pour une clé de l'office, au "
    "partenaire sinon. 409 si l'identifiant est déjà pris (ou la clé d'idempotence "
    "réutilisée), 422 si la définition est à corriger (un segment qui s'inclut lui-même "
    "compris).",
)
def segment_create(
    request: KeyRequest, payload: SegmentIn, idempotency_key: str | None = IdempotencyKey
) -> HttpResponse:
    def produce() -> HttpResponse:
        actor = actor_of(request)
        slug = payload.slug or slugify(payload.name)[:60].strip("-")
        if not slug:
            raise APIError(
                422,
                _("Donnez un identifiant (slug) : le nom n'en donne aucun."),
                [{"loc": ["body", "slug"], "msg": _("Identifiant vide."), "type": "missing"}],
            )
        if slug in RESERVED_SLUGS:
            raise APIError(
                422,
                _("« %(slug)s » est réservé : choisissez un autre identifiant.") % {"slug": slug},
                [{"loc": ["body", "slug"], "msg": _("Identifiant réservé."), "type": "value"}],
            )
        if Segment.objects.filter(slug=slug).exists():
            raise APIError(
                409, _("Un segment porte déjà l'identifiant « %(slug)s ».") % {"slug": slug}
            )
        try:
            with transaction.atomic():
                segment = segment_save(
                    actor=actor,
                    slug=slug,
                    name=payload.name,
                    description=payload.description,
                    definition=_checked(payload.definition),
                )
        except DefinitionError as exc:
            raise _refused(exc) from None
        except IntegrityError:  # the same slug created meanwhile
            raise APIError(
                409, _("Un segment porte déjà l'identifiant « %(slug)s ».") % {"slug": slug}
            ) from None
        return _json(201, _out(actor, segment, segment_queryset(segment, actor).count()))

    return idempotent(request, request.auth, payload.model_dump(), produce)


@router.put(
    "/segments/{slug}",
    auth=segments_write,
    response={200: SegmentOut, 404: Error, 405: Error, **COMMON_ERRORS},
    summary="Modifier un segment",
    description="Nom, description et définition d'un segment que la clé peut modifier "
    "(`mine`) : pas un segment prédéfini, ni, pour un partenaire, un segment de l'office. "
    "`count` n'est pas un identifiant de segment : ce chemin est celui du comptage (405).",
)
def segment_update(
    request: KeyRequest, payload: SegmentUpdate, slug: str = Path(..., max_length=60)
) -> SegmentOut:
    actor = actor_of(request)
    segment = _segment_for(actor, slug)
    if not _mine(actor, segment):
        raise APIError(403, _("Cette clé ne peut pas modifier ce segment."))
    if segment.kind != "dynamic":
        raise APIError(403, _("Une liste figée ne se modifie pas."))
    try:
        segment = segment_save(
            actor=actor,
            slug=segment.slug,
            name=payload.name,
            description=payload.description,
            definition=_checked(payload.definition),
            segment=segment,
        )
    except DefinitionError as exc:
        raise _refused(exc) from None
    return _out(actor, segment, segment_queryset(segment, actor).count())
