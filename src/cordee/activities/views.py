"""Pages: the timeline's forms on the customer page, my follow-ups, the loyalty card (its
public page and the desk's entry form), and the seasons for the hub."""

from __future__ import annotations

import datetime as dt

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cordee.activities.cards import card_by_number, card_by_token, loyalty_card_issue
from cordee.activities.forms import (
    ActivityLogForm,
    CardScanForm,
    FollowUpForm,
    SeasonForm,
    SeasonRuleForm,
)
from cordee.activities.models import Activity, ActivityKind, Season
from cordee.activities.queries import follow_ups_of
from cordee.activities.seasons import season_rule_save, season_save, season_windows
from cordee.activities.services import activity_record, follow_up_done
from cordee.core.views import SignedInRequest
from cordee.customers.models import Channel
from cordee.partners.models import Partner, PartnerKind
from cordee.privacy.access import Actor, customer_for
from cordee.privacy.audit import audit_log, client_ip
from cordee.privacy.preferences import preference_token


def _acting_partner(request: SignedInRequest) -> Partner:
    """The organisation a user records activities for: their own (the office for hub users)."""
    partner = request.user.partner
    if partner is None:
        partner = Partner.objects.filter(kind=PartnerKind.HUB).first()
    if partner is None or not partner.is_active:
        raise PermissionDenied(_("Votre organisation ne peut pas enregistrer d'activités."))
    return partner


def _back(customer_id: int) -> HttpResponse:
    return redirect(reverse("customers:detail", args=[customer_id]) + "#chronologie")


@require_POST
def activity_log(request: SignedInRequest, customer_id: int) -> HttpResponse:
    actor = Actor.for_user(request.user)
    customer = customer_for(actor, customer_id)
    form = ActivityLogForm(request.POST, prefix="log")
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return _back(customer.pk)
    data = form.cleaned_data
    fields = {
        "kind": data["kind"],
        "starts_on": data["starts_on"],
        "product": data["product"],
        "amount": data["amount"],
        "details": {"note": data["note"]} if data["note"] else {},
    }
    channel = Channel.PHONE if data["kind"] == ActivityKind.CALL else Channel.DESK
    try:
        activity_record(
            customer=customer, partner=_acting_partner(request), actor=actor, channel=channel,
            fields=fields, owner=request.user, ip=client_ip(request),
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(customer.pk)
    messages.success(request, _("Activité enregistrée."))
    return _back(customer.pk)


@require_POST
def follow_up_create(request: SignedInRequest, customer_id: int) -> HttpResponse:
    actor = Actor.for_user(request.user)
    customer = customer_for(actor, customer_id)
    form = FollowUpForm(request.POST, prefix="fu", partner=request.user.partner, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return _back(customer.pk)
    data = form.cleaned_data
    try:
        activity_record(
            customer=customer, partner=_acting_partner(request), actor=actor, channel=Channel.DESK,
            fields={
                "kind": ActivityKind.FOLLOW_UP, "starts_on": dt.date.today(),
                "due_on": data["due_on"], "product": data["product"],
            },
            owner=data["owner"], ip=client_ip(request),
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(customer.pk)
    messages.success(request, _("Relance créée."))
    return _back(customer.pk)


def follow_up_list(request: SignedInRequest) -> HttpResponse:
    follow_ups = list(follow_ups_of(request.user)[:500])
    return render(request, "activities/follow_ups.html", {"follow_ups": follow_ups})


@require_POST
def follow_up_mark_done(request: SignedInRequest, activity_id: int) -> HttpResponse:
    actor = Actor.for_user(request.user)
    activity = get_object_or_404(Activity, pk=activity_id, kind=ActivityKind.FOLLOW_UP)
    customer_for(actor, activity.customer_id)  # 404 for a customer out of sight
    mine = activity.owner_id == request.user.pk
    same_org = (
        request.user.partner_id is not None and activity.partner_id == request.user.partner_id
    )
    if not (mine or same_org or actor.sees_everything):
        raise Http404
    if follow_up_done(activity=activity, actor=actor):
        messages.success(request, _("Relance faite."))
    nxt = request.POST.get("next", "")
    if nxt == "customer":
        return _back(activity.customer_id)
    return redirect("activities:follow_ups")


@require_POST
def card_issue(request: SignedInRequest, customer_id: int) -> HttpResponse:
    actor = Actor.for_user(request.user)
    customer = customer_for(actor, customer_id)
    loyalty_card_issue(customer=customer, actor=actor)
    messages.success(request, _("Carte de fidélité créée."))
    return _back(customer.pk)


def card_desk(request: SignedInRequest) -> HttpResponse:
    """A partner's desk: the card is shown, its number typed or scanned, the visit recorded."""
    actor = Actor.for_user(request.user)
    form = CardScanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        card = card_by_number(data["number"])
        if card is None:
            form.add_error("number", _("Aucune carte ne porte ce numéro."))
        else:
            try:
                activity_record(
                    customer=card.customer, partner=_acting_partner(request), actor=actor,
                    channel=Channel.DESK, owner=request.user, ip=client_ip(request),
                    fields={
                        "kind": data["kind"], "starts_on": dt.date.today(),
                        "amount": data["amount"], "product": data["product"],
                        "details": {"card": card.number},
                    },
                )  # fmt: skip
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(
                    request,
                    _("Passage enregistré pour la carte %(number)s.")
                    % {"number": card.display_number},
                )
                return redirect("activities:card_desk")
    return render(request, "activities/card_desk.html", {"form": form})


@login_not_required
@never_cache
def card_page(request: HttpRequest, token: str) -> HttpResponse:
    """The card on the customer's phone: no sign-in, the secret token in the address."""
    card = card_by_token(token)
    if card is None:
        raise Http404
    qr = segno.make(card.number, error="m")
    # segno writes the SVG itself from the digits: no user text reaches it.
    svg = mark_safe(qr.svg_inline(scale=8, dark="#111", light="#fff", omitsize=True))  # noqa: S308
    audit_log(
        actor=Actor.system("card-page"),
        action="loyalty_card.view",
        obj=card.customer,
        ip=client_ip(request),
    )
    response = render(
        request,
        "activities/card.html",
        {
            "card": card,
            "qr": svg,
            "first_name": card.customer.first_name,
            "hub": Partner.objects.filter(kind=PartnerKind.HUB).first(),
            # The visitor reaches their preference centre from their card (a fresh signed link).
            "preferences_url": f"{reverse('preferences')}?t={preference_token(card.customer)}",
        },
    )
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _hub_admin(request: SignedInRequest) -> None:
    if not request.user.can_manage_partners:
        raise PermissionDenied(_("Seuls les administrateurs de l'office gèrent les saisons."))


def season_list(request: SignedInRequest) -> HttpResponse:
    _hub_admin(request)
    actor = Actor.for_user(request.user)
    form = SeasonForm(request.POST or None, prefix="season")
    rule_form = SeasonRuleForm(request.POST or None, prefix="rule")
    if request.method == "POST":
        target = request.POST.get("form")
        try:
            if target == "season" and form.is_valid():
                existing = None
                if request.POST.get("season_id"):
                    existing = get_object_or_404(Season, pk=request.POST["season_id"])
                season_save(
                    kind=form.cleaned_data["kind"], starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"], actor=actor, season=existing,
                )  # fmt: skip
                messages.success(request, _("Saison enregistrée."))
                return redirect("activities:seasons")
            if target == "rule" and rule_form.is_valid():
                season_rule_save(
                    kind=rule_form.cleaned_data["kind"], start=rule_form.month_day("start"),
                    end=rule_form.month_day("end"), actor=actor,
                )  # fmt: skip
                messages.success(request, _("Dates habituelles enregistrées."))
                return redirect("activities:seasons")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except ValueError:
            messages.error(request, _("Saison inconnue."))
    seasons = Season.objects.order_by("-starts_on")
    return render(
        request,
        "activities/seasons.html",
        {
            "seasons": seasons,
            "windows": list(season_windows().values()),
            "form": form,
            "rule_form": rule_form,
        },
    )
