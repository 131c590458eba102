from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from cordee.core.views import SignedInRequest
from cordee.customers.forms import CustomerSearchForm
from cordee.customers.identity import customer_identity
from cordee.customers.models import Customer, SourceRecord
from cordee.customers.queries import Filters, customer_page, customer_sources
from cordee.partners.models import Partner
from cordee.privacy.access import (
    Actor,
    customer_for,
    customer_readable_fields,
    customers_readable_fields,
    customers_visible_count,
    customers_visible_to,
    readable_condition,
)
from cordee.privacy.audit import audit_log, client_ip
from cordee.privacy.queries import consent_overview

# The golden record as the customer page shows it: (section, [(field, provenance key)]).
# The département is derived from the postcode, so it shares the postcode's source.
IDENTIFICATION = (
    ("civility", "civility"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("email", "email"),
    ("phone", "phone"),
    ("phone_other", "phone_other"),
    ("address_line1", "address_line1"),
    ("address_line2", "address_line2"),
    ("postal_code", "postal_code"),
    ("city", "city"),
    ("departement", "postal_code"),
    ("region", "region"),
    ("country", "country"),
    ("birth_date", "birth_date"),
    ("language", "language"),
)
QUALIFICATION = (
    ("gender", "gender"),
    ("profession", "profession"),
    ("family_situation", "family_situation"),
    ("children", "children"),
    ("interests", "interests"),
    ("preferred_season", "preferred_season"),
)


@dataclass
class Value:
    name: str
    label: str
    value: Any
    source: SourceRecord | None
    # A value brought by a partner whose records this reader may not see.
    from_elsewhere: bool = False
    # A field the customer did not agree to share with this reader: shown as "non partagé".
    hidden: bool = False


def customer_list(request: SignedInRequest) -> HttpResponse:
    actor = Actor.for_user(request.user)
    visible = customers_visible_to(actor)
    partners = Partner.objects.order_by("name") if actor.sees_everything else None
    form = CustomerSearchForm(request.GET or None, partners=partners)
    filters = form.filters() if form.is_bound else Filters()
    page = customer_page(
        visible,
        filters,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        count_visible=lambda cap: customers_visible_count(actor, cap=cap),
        readable=lambda field: readable_condition(actor, field),
    )
    # The columns a partner may read of each shared customer: two queries for the page.
    readable = customers_readable_fields(actor, [c.pk for c in page.customers])
    for customer in page.customers:
        fields = readable[customer.pk]
        customer.hidden_fields = (  # type: ignore[attr-defined]
            frozenset() if fields is None else frozenset({"phone", "postal_code"}) - fields
        )
    if filters.active():
        # The kind of search and the filters used, never what was typed: it may be a name.
        used = [
            name for name in ("city", "departement", "country", "partner") if getattr(filters, name)
        ]
        audit_log(
            actor=actor,
            action="customer.search",
            ip=client_ip(request),
            kind=page.understood_as or "filters",
            filters=used,
            results=page.count,
        )
    template = "customers/list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    response = render(request, template, {"form": form, "page": page, "filters": filters})
    patch_vary_headers(response, ("HX-Request",))
    return response


def customer_detail(request: SignedInRequest, customer_id: int) -> HttpResponse:
    actor = Actor.for_user(request.user)
    customer = customer_for(actor, customer_id)
    sources = customer_sources(customer)
    if not actor.sees_everything:
        # A partner reads the records it brought; what other partners told the destination
        # is theirs (the golden values show, their origin stays anonymous).
        sources = [
            s for s in sources if actor.partner is not None and s.partner_id == actor.partner.pk
        ]
    readable = customer_readable_fields(actor, customer)
    scope = "full" if readable is None else "shared"
    audit_log(actor=actor, action="customer.view", obj=customer, ip=client_ip(request), scope=scope)
    by_id = {source.pk: source for source in sources}
    # Shared through the person's consents: only what the purposes granted name
    # (privacy.access), the other fields shown as not shared.
    identification = _values(customer, IDENTIFICATION, by_id, readable)
    qualification = _values(customer, QUALIFICATION, by_id, readable)
    attributes = sorted((customer.attributes or {}).items()) if readable is None else []
    batch_visible = request.user.can_import
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "identification": identification,
            "qualification": qualification,
            "attributes": attributes,
            "scope": scope,
            "sources": sources,
            "batch_visible": batch_visible,
            "consents": consent_overview(customer, actor),
            "identity": customer_identity(customer, actor),
        },
    )


def _values(
    customer: Customer,
    fields: tuple[tuple[str, str], ...],
    by_id: dict[int, SourceRecord],
    readable: frozenset[str] | None,
) -> list[Value]:
    values = []
    for name, provenance_key in fields:
        if readable is not None and name not in readable:
            # Whether the customer has a value at all is not shared either.
            values.append(
                Value(name=name, label=_verbose_name(name), value=None, source=None, hidden=True)
            )
            continue
        value = getattr(customer, name)
        if value in (None, "", [], {}):
            continue
        display = getattr(customer, f"get_{name}_display", None)
        if display is not None:
            value = display()
        source_id = (customer.provenance or {}).get(provenance_key)
        source = by_id.get(source_id) if source_id is not None else None
        values.append(
            Value(
                name=name,
                label=str(_verbose_name(name)),
                value=value,
                source=source,
                from_elsewhere=source_id is not None and source is None,
            )
        )
    return values


def _verbose_name(name: str) -> str:
    field = Customer._meta.get_field(name)
    return str(getattr(field, "verbose_name", name))
