"""The hub's pages for the channels: forms and their entries, embed codes, sites, webhooks."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cordee.channels.models import (
    EntryStatus,
    FeedFile,
    PublicForm,
    SiteOrigin,
    WebhookEndpoint,
    WebhookEvent,
)
from cordee.channels.origins import origin_normalise
from cordee.channels.webhooks import url_check
from cordee.core.views import SignedInRequest
from cordee.partners.models import Partner
from cordee.privacy.access import Actor, customers_visible_to, partners_visible_to
from cordee.privacy.audit import audit_log, client_ip


def _partners(request: SignedInRequest) -> QuerySet[Partner]:
    return partners_visible_to(Actor.for_user(request.user))


def _manager(request: SignedInRequest) -> None:
    if not request.user.can_manage_partners:
        raise PermissionDenied(_("Réservé aux administrateurs de l'office de tourisme."))


def channel_list(request: SignedInRequest) -> HttpResponse:
    partners = _partners(request)
    public_forms = (
        PublicForm.objects.filter(partner__in=partners)
        .select_related("partner")
        .annotate(
            entry_count=Count("entries"),
            pending_count=Count("entries", filter=Q(entries__status=EntryStatus.PENDING)),
            confirmed_count=Count("entries", filter=Q(entries__status=EntryStatus.CONFIRMED)),
        )
        .order_by("partner__name", "slug")
    )
    return render(
        request,
        "channels/list.html",
        {
            "public_forms": public_forms,
            "origins": SiteOrigin.objects.filter(partner__in=partners).select_related("partner"),
            "webhooks": WebhookEndpoint.objects.filter(partner__in=partners).select_related(
                "partner"
            ),
            "feed_files": FeedFile.objects.filter(partner__in=partners).select_related("partner")[
                :50
            ],
            "can_manage": request.user.can_manage_partners,
        },
    )


def form_detail(request: SignedInRequest, slug: str) -> HttpResponse:
    public_form = get_object_or_404(
        PublicForm.objects.select_related("partner"), slug=slug, partner__in=_partners(request)
    )
    entries = list(public_form.entries.order_by("-submitted_at")[:200])
    # Only the customers this user may see are linked; the others stay a bare status line.
    visible = set(
        customers_visible_to(Actor.for_user(request.user))
        .filter(pk__in=[e.customer_id for e in entries if e.customer_id])
        .values_list("pk", flat=True)
    )
    form_url = request.build_absolute_uri(reverse("channels:form", args=[slug]))
    script_url = request.build_absolute_uri("/static/cordee/embed.js")
    return render(
        request,
        "channels/form_detail.html",
        {
            "public_form": public_form,
            "entries": entries,
            "visible": visible,
            "iframe_code": f'<iframe src="{form_url}?embed=1" title="{escape(public_form.title_fr)}" '
            'style="width:100%;max-width:40rem;height:640px;border:0"></iframe>',
            "script_code": f'<script src="{script_url}" data-form="{slug}" async></script>',
            "form_url": form_url,
        },
    )


class PublicFormForm(forms.ModelForm):
    class Meta:
        model = PublicForm
        fields = ["partner", "slug", "kind", "title_fr", "title_en", "rules_fr", "rules_en"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "contest" and not data.get("rules_fr"):
            self.add_error("rules_fr", _("Un jeu-concours doit publier son règlement."))
        return data


def form_new(request: SignedInRequest) -> HttpResponse:
    _manager(request)
    form = PublicFormForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        public_form = form.save()
        audit_log(
            actor=Actor.for_user(request.user),
            action="form.create",
            obj=public_form,
            ip=client_ip(request),
            partner=public_form.partner.slug,
        )
        messages.success(request, _("Formulaire créé."))
        return redirect("channels:form_detail", slug=public_form.slug)
    return render(request, "channels/edit.html", {"form": form, "title": _("Nouveau formulaire")})


class OriginForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.all(), label=gettext_lazy("Partenaire")
    )
    origin = forms.CharField(
        label=gettext_lazy("Site (origine)"),
        max_length=200,
        help_text=gettext_lazy("Par exemple https://www.hotel-des-alpes.fr"),
    )

    def clean_origin(self) -> str:
        return origin_normalise(self.cleaned_data["origin"])


def origin_new(request: SignedInRequest) -> HttpResponse:
    _manager(request)
    form = OriginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        site, _created = SiteOrigin.objects.get_or_create(
            partner=form.cleaned_data["partner"], origin=form.cleaned_data["origin"]
        )
        audit_log(
            actor=Actor.for_user(request.user),
            action="site_origin.add",
            obj=site,
            ip=client_ip(request),
            origin=site.origin,
        )
        messages.success(request, _("Site enregistré."))
        return redirect("channels:list")
    return render(
        request, "channels/edit.html", {"form": form, "title": _("Nouveau site partenaire")}
    )


class WebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Événements"),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["partner", "url", "events"]

    def clean_url(self) -> str:
        try:
            return url_check(self.cleaned_data["url"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


def webhook_new(request: SignedInRequest) -> HttpResponse:
    _manager(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = form.save()
        audit_log(
            actor=Actor.for_user(request.user),
            action="webhook.create",
            obj=endpoint,
            ip=client_ip(request),
            partner=endpoint.partner.slug,
        )
        messages.success(
            request, _("Webhook créé : notez son secret pour vérifier les signatures.")
        )
        return redirect("channels:webhook_detail", pk=endpoint.pk)
    return render(request, "channels/edit.html", {"form": form, "title": _("Nouveau webhook")})


def webhook_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(
        WebhookEndpoint.objects.select_related("partner"), pk=pk, partner__in=_partners(request)
    )
    return render(
        request,
        "channels/webhook_detail.html",
        {
            "endpoint": endpoint,
            "deliveries": endpoint.deliveries.order_by("-created_at")[:200],
            "show_secret": request.user.can_manage_partners,
        },
    )
