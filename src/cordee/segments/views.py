from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from cordee.activities.models import ActivityKind, Season, SeasonKind
from cordee.core.views import SignedInRequest
from cordee.customers.exports import EXPORT_FIELDS, csv_cells, iter_customer_rows
from cordee.partners.models import PartnerKind
from cordee.privacy.access import Actor, customers_visible_to
from cordee.privacy.audit import audit_log, client_ip
from cordee.privacy.models import Purpose
from cordee.segments.builder import Node, definition_from_form, nodes_from_definition
from cordee.segments.churn import FEATURES, _model
from cordee.segments.compiler import definition_queryset, segment_queryset
from cordee.segments.definition import FIELDS, DefinitionError
from cordee.segments.geography import REGIONS, ZONES
from cordee.segments.models import LoyaltyGroup, Segment
from cordee.segments.queries import (
    definition_parse,
    profile_compare,
    segment_size,
    segments_visible_to,
    timed_count,
)
from cordee.segments.services import segment_save, segment_snapshot
from cordee.segments.typology import reference_season, typology_flow

FIELD_GROUPS = (
    (_l("Identité et qualification"), ("gender", "civility", "age", "departement", "zone", "region", "country", "postal_code", "city", "language", "profession", "family_situation", "children", "interests", "preferred_season", "created_at")),
    (_l("Comportement"), ("activities", "activity_count", "amount_total", "days_since_last", "first_on", "last_on", "winter_seasons", "summer_seasons", "satisfaction_avg", "complaints")),
    (_l("Fidélité et valeur"), ("loyalty_group", "rfm_r", "rfm_f", "rfm_m", "rfm_total", "churn_risk")),
    (_l("Foyer"), ("household", "household_size")),
    (_l("Consentement et segments"), ("consent", "segment")),
)  # fmt: skip
OPS = {
    "eq": "=", "ne": "≠", "in": _l("parmi"), "not_in": _l("hors de"), "gt": ">", "gte": "≥",
    "lt": "<", "lte": "≤", "between": _l("entre"), "contains": _l("contient"),
    "not_contains": _l("ne contient pas"), "startswith": _l("commence par"), "empty": _l("est vide"),
    "granted": _l("accordé"), "not_granted": _l("non accordé"),
    "member": _l("en fait partie"),
}  # fmt: skip
METRIC_LABELS = {"count": _l("nombre"), "amount": _l("montant (€)"), "seasons": _l("saisons"), "days_since_last": _l("jours depuis la dernière")}  # fmt: skip


def _actor(request: SignedInRequest) -> Actor:
    return Actor.for_user(request.user)


def _choices() -> dict[str, Any]:
    return {
        "field_groups": [
            (label, [(f, FIELDS[f].label) for f in names]) for label, names in FIELD_GROUPS
        ],
        "ops": OPS,
        "field_ops": {name: spec.ops for name, spec in FIELDS.items()},
        "metrics": METRIC_LABELS,
        "activity_kinds": ActivityKind.choices,
        "partner_kinds": PartnerKind.choices,
        "season_kinds": SeasonKind.choices,
        "purposes": Purpose.objects.filter(is_active=True).order_by("position", "slug"),
        "zones": [(k, v[0]) for k, v in ZONES.items()],
        "regions": [(k, v[0]) for k, v in REGIONS.items()],
        "groups": LoyaltyGroup.choices,
    }


def segment_list(request: SignedInRequest) -> HttpResponse:
    actor = _actor(request)
    segments = [(s, segment_size(s, actor)) for s in segments_visible_to(actor)]
    return render(
        request,
        "segments/list.html",
        {"segments": segments, "total": customers_visible_to(actor).count()},
    )


def _segment_for(actor: Actor, slug: str) -> Segment:
    segment = segments_visible_to(actor).filter(slug=slug).first()
    if segment is None:
        raise Http404
    return segment


def segment_builder(request: SignedInRequest, slug: str | None = None) -> HttpResponse:
    actor = _actor(request)
    segment = _segment_for(actor, slug) if slug else None
    if request.method == "POST":
        definition = definition_from_form(request.POST)
        if request.POST.get("action") == "json":
            try:
                definition = definition_parse(request.POST.get("json", ""))
            except DefinitionError as exc:
                return _workspace(request, actor, {"all": []}, segment, errors=exc.errors)
        if request.POST.get("action") == "save":
            return _save(request, actor, definition, segment)
        return _workspace(request, actor, definition, segment)
    definition = segment.definition if segment else {"all": []}
    return _workspace(request, actor, definition or {"all": []}, segment)


def _workspace(
    request: SignedInRequest,
    actor: Actor,
    definition: dict[str, Any],
    segment: Segment | None,
    errors: list[str] | None = None,
) -> HttpResponse:
    count = None
    errors = list(errors or [])
    if not errors:
        try:
            count = timed_count(
                definition_queryset(definition, actor, slug=segment.slug if segment else None)
            )
        except DefinitionError as exc:
            errors = exc.errors
    template = "segments/_update.html" if request.htmx else "segments/builder.html"
    if request.htmx and request.POST.get("live") == "count":
        template = "segments/_count.html"  # a typed value: the count, never the fields typed in
    return render(
        request,
        template,
        {
            "segment": segment,
            "root": _decorate(nodes_from_definition(definition)),
            "definition_json": json.dumps(definition, ensure_ascii=False, indent=1),
            "count": count,
            "errors": errors,
            "total": customers_visible_to(actor).count(),
            "can_export": request.user.can_import,
            "builder_url": reverse("segments:edit", args=[segment.slug])
            if segment
            else reverse("segments:new"),
            # What was typed is sent back: a live update must not wipe the name being typed.
            "name": request.POST.get("name", segment.name if segment else "")[:120],
            **_choices(),
        },
    )


def _decorate(node: Node) -> Node:
    """What each condition's widgets need: its operators and the values it accepts."""
    name = node.data.get("field", "")
    spec = FIELDS.get(name)
    if spec is not None:
        node.data["ops"] = [(op, OPS.get(op, op)) for op in spec.ops]
        hints = {
            "zone": ", ".join(ZONES),
            "region": ", ".join(REGIONS),
            "loyalty_group": ", ".join(LoyaltyGroup.values),
        }
        node.data["hint"] = hints.get(name) or ", ".join(spec.choices)
        node.data["type"] = spec.type
    for child in node.children:
        _decorate(child)
    return node


def _save(
    request: SignedInRequest, actor: Actor, definition: dict[str, Any], segment: Segment | None
) -> HttpResponse:
    name = request.POST.get("name", "").strip()[:120]
    slug = segment.slug if segment else slugify(name)[:60]
    errors = []
    if not name or not slug:
        errors.append(_("Donnez un nom au segment."))
    elif segment is None and Segment.objects.filter(slug=slug).exists():
        errors.append(_("Un segment porte déjà l'identifiant « %(slug)s ».") % {"slug": slug})
    if not errors:
        try:
            saved = segment_save(
                actor=actor, slug=slug, name=name, definition=definition, segment=segment
            )
        except DefinitionError as exc:
            errors = exc.errors
        else:
            saved_url = reverse("segments:edit", args=[saved.slug])
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = saved_url
                return response
            return redirect(saved_url)
    return _workspace(request, actor, definition, segment, errors=errors)


@require_POST
def segment_preview(request: SignedInRequest) -> HttpResponse:
    actor = _actor(request)
    definition = definition_from_form(request.POST)
    try:
        members = list(
            definition_queryset(definition, actor)
            .select_related("stats")
            .order_by("last_name_key", "first_name_key", "pk")[:25]
        )
    except DefinitionError as exc:
        return render(request, "segments/_preview.html", {"errors": exc.errors})
    audit_log(actor=actor, action="segment.preview", ip=client_ip(request), shown=len(members))
    return render(request, "segments/_preview.html", {"members": members})


@require_POST
def segment_profile(request: SignedInRequest) -> HttpResponse:
    actor = _actor(request)
    definition = definition_from_form(request.POST)
    try:
        members = definition_queryset(definition, actor)
        comparison = profile_compare(members, actor, dt.date.today().year)
    except DefinitionError as exc:
        return render(request, "segments/_profile.html", {"errors": exc.errors})
    return render(request, "segments/_profile.html", {"cmp": comparison})


class _Echo:
    def write(self, value: str) -> str:
        return value


def segment_export(request: SignedInRequest, slug: str) -> StreamingHttpResponse:
    """The members the user may see, as CSV (formula cells neutralised); snapshot and audit."""
    if not request.user.can_import:
        raise PermissionDenied(_("Votre rôle ne permet pas d'exporter."))
    actor = _actor(request)
    segment = _segment_for(actor, slug)
    import csv

    writer = csv.writer(_Echo(), lineterminator="\r\n")
    snapshot = segment_snapshot(segment, "export csv (page)", actor=actor)
    audit_log(
        actor=actor,
        action="segment.export",
        obj=segment,
        ip=client_ip(request),
        format="csv",
        count=snapshot.size,
    )

    def rows() -> Any:
        yield writer.writerow(EXPORT_FIELDS)
        for row in iter_customer_rows(segment_queryset(segment, actor), actor=actor):
            yield writer.writerow(csv_cells(row, EXPORT_FIELDS))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.slug}.csv"'
    return response


def loyalty_dashboard(request: SignedInRequest) -> HttpResponse:
    """The 3F groups of a season, the moves since the previous one, and the churn model."""
    actor = _actor(request)
    seasons = list(Season.objects.order_by("-starts_on"))
    code = request.GET.get("saison", "")
    season = next((s for s in seasons if s.code == code), None) or reference_season()
    flow = typology_flow(season, customers_visible_to(actor)) if season else None
    labels = dict(LoyaltyGroup.choices)
    rows = []
    if flow:
        for before in flow["groups"]:
            rows.append(
                (
                    labels[before],
                    [flow["matrix"][before][after] for after in flow["groups"]],
                    flow["previous_totals"][before],
                )
            )
    model = _model()
    factors = []
    if model:
        factors = sorted(
            ((str(FEATURES[i][1]), round(c, 2)) for i, c in enumerate(model["coef"])),
            key=lambda f: -abs(f[1]),
        )[:6]
    at_risk = customers_visible_to(actor).filter(stats__churn_risk__gte=0.6).count()
    return render(
        request,
        "segments/loyalty.html",
        {
            "season": season,
            "seasons": seasons,
            "flow": flow,
            "labels": [labels[g] for g in flow["groups"]] if flow else [],
            "totals": [(labels[g], g, flow["totals"][g]) for g in flow["groups"]] if flow else [],
            "rows": rows,
            "model": model,
            "factors": factors,
            "at_risk": at_risk,
        },
    )
