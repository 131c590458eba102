"""The front desk's entry page and its live suggestions (see :mod:`cordee.customers.desk`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cordee.activities.models import ActivityKind
from cordee.core.views import SignedInRequest
from cordee.customers.candidates import customer_candidates
from cordee.customers.desk import DeskForm, desk_customer_create, desk_partner, suggestion_data
from cordee.customers.models import Customer
from cordee.partners.models import Partner
from cordee.privacy.access import Actor, customers_readable_fields, customers_visible_to
from cordee.privacy.audit import audit_log_many, client_ip

AGREEING = ("same", "close")
# The customers already shown at this desk entry (session key): each is written to the audit
# trail once per entry, not at every pause in the typing.
SEEN = "desk_seen"
SEEN_MAX = 500


@dataclass
class Suggestion:
    customer: Customer
    agreeing: list[str]
    probability: float | None


def _partner(request: SignedInRequest) -> Partner:
    partner = desk_partner(request.user)
    if partner is None:
        raise PermissionDenied(_("Votre rôle ne permet pas de créer des clients."))
    return partner


def _label(name: str) -> str:
    if name == "loyalty_card":
        return _("carte de fidélité")
    try:
        field = Customer._meta.get_field(name)
    except FieldDoesNotExist:  # an evidence field that is no column: its name
        return name
    return str(getattr(field, "verbose_name", name))


def desk_new(request: SignedInRequest) -> HttpResponse:
    partner = _partner(request)
    actor = Actor.for_user(request.user)
    form = DeskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = desk_customer_create(
                form=form, partner=partner, user=request.user, actor=actor, ip=client_ip(request)
            )
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            if result.repeated:
                messages.info(
                    request, _("Ce client était déjà enregistré (formulaire envoyé deux fois).")
                )
            elif result.created:
                messages.success(request, _("Client créé."))
            else:
                messages.success(
                    request, _("Cette personne était déjà connue : sa fiche est complétée.")
                )
            return redirect("customers:detail", result.customer.pk)
    if request.method == "GET":
        request.session.pop(SEEN, None)  # a new entry: what it shows is logged afresh
    return render(request, "customers/desk.html", {"form": form, "suggestions": []})


@require_GET
def desk_suggestions(request: SignedInRequest) -> HttpResponse:
    """The likely existing customers for what is typed so far: a fragment, never the form."""
    _partner(request)
    actor = Actor.for_user(request.user)
    incoming = suggestion_data(request.GET)
    suggestions: list[Suggestion] = []
    if (
        incoming.get("last_name")
        or incoming.get("email")
        or incoming.get("phone")
        or incoming.get("card_number")
    ):
        base = customers_visible_to(actor)
        found = customer_candidates(incoming, base=base, limit=5)
        by_id = base.in_bulk([c.customer_id for c in found])
        readable = customers_readable_fields(actor, list(by_id))
        for candidate in found:
            customer = by_id.get(candidate.customer_id)
            if customer is None:
                continue
            fields = readable[customer.pk]
            # Of a shared customer, only what the reader may read is compared out loud; one
            # that agrees on nothing readable (found by a phone it did not share...) is not
            # suggested: that would tell the value.
            names = [
                name
                for name, verdict in candidate.evidence.items()
                if verdict in AGREEING and (fields is None or name in fields)
            ]
            if not names:
                continue
            customer.hidden_fields = (  # type: ignore[attr-defined]
                frozenset() if fields is None else frozenset({"postal_code"}) - fields
            )
            agreeing = [_label(name) for name in names]
            suggestions.append(Suggestion(customer, agreeing, candidate.probability))
        if suggestions:
            _audit_shown(request, actor, [s.customer for s in suggestions])
    return render(
        request,
        "customers/_desk_suggestions.html",
        {
            "suggestions": suggestions,
            "visit": ActivityKind.VISIT.value,
            "today": dt.date.today().isoformat(),
        },
    )


def _audit_shown(request: SignedInRequest, actor: Actor, shown: list[Customer]) -> None:
    """Log who saw which customer among the suggestions: one entry per customer the first
    time this desk entry shows it (never what was typed: it may be a name)."""
    seen = set(request.session.get(SEEN, []))
    new = [customer for customer in shown if customer.pk not in seen]
    if not new:
        return
    audit_log_many(
        actor=actor,
        action="customer.desk_suggest",
        details=[{"obj": customer, "ip": client_ip(request)} for customer in new],
    )
    request.session[SEEN] = ([*seen, *(c.pk for c in new)])[-SEEN_MAX:]
