"""Pages of partner offers: the partner proposes and follows, the office reviews and sends."""

from __future__ import annotations

import contextlib
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_http_methods, require_POST

from cordee.campaigns.forms import BLOCK_LABELS, FIRST_BLOCKS, blocks_from_post, message_editors
from cordee.campaigns.models import OfferState, PartnerOffer
from cordee.campaigns.offers import (
    can_propose_offers,
    can_review_offers,
    offer_for,
    offer_refuse,
    offer_report,
    offer_save,
    offer_targets,
    offers_approve,
    offers_visible_to,
    segment_expose,
)
from cordee.campaigns.rendering import message_compile, message_render
from cordee.core.views import SignedInRequest
from cordee.privacy.access import Actor
from cordee.segments.models import Segment


class OfferForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Titre de l'offre"), max_length=150)
    segment = forms.ChoiceField(label=gettext_lazy("Cible"), required=False)
    valid_from = forms.DateField(
        label=gettext_lazy("Valable à partir du"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Valable jusqu'au"), widget=forms.DateInput(attrs={"type": "date"})
    )
    link = forms.CharField(label=gettext_lazy("Lien (facultatif)"), max_length=500, required=False)
    code = forms.CharField(
        label=gettext_lazy("Code promotionnel (facultatif)"), max_length=40, required=False
    )
    subject_fr = forms.CharField(label=gettext_lazy("Objet"), max_length=200, strip=False)
    subject_en = forms.CharField(
        label=gettext_lazy("Objet (anglais)"), max_length=200, required=False, strip=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["segment"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Tous les clients partagés avec les partenaires"))] + [
            (s.slug, s.name) for s in offer_targets()
        ]


def _actor(request: SignedInRequest) -> Actor:
    return Actor.for_user(request.user)


def _reviewer(request: SignedInRequest) -> Actor:
    actor = _actor(request)
    if not can_review_offers(actor):
        raise PermissionDenied
    return actor


def _allowed(actor: Actor) -> None:
    if not (can_review_offers(actor) or can_propose_offers(actor)):
        raise PermissionDenied


def offer_list(request: SignedInRequest) -> HttpResponse:
    actor = _actor(request)
    _allowed(actor)
    pending_first = Case(
        When(state=OfferState.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    offers = offers_visible_to(actor).order_by(pending_first, "-created_at")[:300]
    context: dict[str, Any] = {
        "offers": offers,
        "reviewer": can_review_offers(actor),
        "proposer": can_propose_offers(actor),
    }
    if context["reviewer"]:
        exposed = set(offer_targets().values_list("pk", flat=True))
        context["segments"] = [
            (s, s.pk in exposed) for s in Segment.objects.filter(owner__isnull=True)[:200]
        ]
    return render(request, "campaigns/offers/list.html", context)


@require_http_methods(["GET", "POST"])
def offer_edit(request: SignedInRequest, pk: int | None = None) -> HttpResponse:
    actor = _actor(request)
    if not can_propose_offers(actor):
        raise PermissionDenied
    offer = offer_for(actor, pk) if pk is not None else None
    if offer is not None and offer.state != OfferState.PENDING:
        return redirect("campaigns:offer", pk=offer.pk)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = OfferForm(request.POST)
        blocks_fr = blocks_from_post(request.POST, "fr")
        blocks_en = blocks_from_post(request.POST, "en")
        if form.is_valid():
            data = form.cleaned_data
            try:
                offer = offer_save(
                    actor=actor,
                    offer=offer,
                    title=data["title"],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                    link=data["link"].strip(),
                    code=data["code"],
                    segment_slug=data["segment"],
                    subject_fr=data["subject_fr"],
                    subject_en=data["subject_en"],
                    blocks_fr=blocks_fr,
                    blocks_en=blocks_en,
                )
                return redirect("campaigns:offer", pk=offer.pk)
            except ValidationError as exc:
                errors = exc.message_dict
        else:
            errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
    elif offer is not None:
        form = OfferForm(
            initial={
                "title": offer.title,
                "segment": offer.segment.slug if offer.segment else "",
                "valid_from": offer.valid_from,
                "valid_until": offer.valid_until,
                "link": offer.link,
                "code": offer.code,
                "subject_fr": offer.message.subject_fr,
                "subject_en": offer.message.subject_en,
            }
        )
        blocks_fr, blocks_en = offer.message.blocks_fr, offer.message.blocks_en
    else:
        form = OfferForm()
        blocks_fr, blocks_en = FIRST_BLOCKS, []
    editors, shown = message_editors(
        form,
        {"fr": blocks_fr, "en": blocks_en},
        subjects={"fr": ("subject_fr",), "en": ("subject_en",)},
    )
    context = {
        "offer": offer,
        "form": form,
        "errors": errors,
        "editors": editors,
        "editor_fields": shown,
        "block_labels": BLOCK_LABELS,
    }
    return render(request, "campaigns/offers/edit.html", context)


def offer_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    _allowed(actor)
    offer = offer_for(actor, pk)
    reviewer = can_review_offers(actor)
    context: dict[str, Any] = {
        "offer": offer,
        "reviewer": reviewer,
        "report": offer_report(offer),
    }
    if reviewer and offer.state == OfferState.PENDING:
        same_target = (
            Q(segment__isnull=True) if offer.segment_id is None else Q(segment=offer.segment_id)
        )
        context["companions"] = (
            offers_visible_to(actor)
            .filter(same_target, state=OfferState.PENDING)
            .exclude(pk=offer.pk)[:50]
        )
        context["sender_email"] = _default_sender(actor)
    return render(request, "campaigns/offers/detail.html", context)


def _default_sender(actor: Actor) -> str:
    from cordee.campaigns.models import Campaign

    last = Campaign.objects.filter(partner__kind="hub").order_by("-created_at").first()
    return last.sender_email if last is not None else ""


@xframe_options_sameorigin
@csp_override(
    {
        "default-src": ["'none'"],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["https:", "http:", "data:"],
        "frame-ancestors": ["'self'"],
    }
)
def offer_preview_frame(request: SignedInRequest, pk: int) -> HttpResponse:
    """The offer as a mail, with the personalisation's defaults (no customer needed)."""
    from cordee.campaigns.offers import _joint_blocks

    actor = _actor(request)
    _allowed(actor)
    offer = offer_for(actor, pk)
    lang = "en" if request.GET.get("langue") == "en" and offer.message.blocks_en else "fr"
    subject = offer.message.subject_en if lang == "en" else offer.message.subject_fr
    compiled = message_compile(subject, _joint_blocks([offer], lang), "", lang)
    return HttpResponse(message_render(compiled, {}).html)


def _back(request: SignedInRequest, pk: int, error: str = "") -> HttpResponse:
    # The error travels in the session (messages), never in the URL: a link cannot make
    # the page say something the application did not.
    if error:
        messages.error(request, error[:300])
    return redirect("campaigns:offer", pk=pk)


@require_POST
def offer_refuse_view(request: SignedInRequest, pk: int) -> HttpResponse:
    actor = _reviewer(request)
    offer = offer_for(actor, pk)
    try:
        offer_refuse(offer=offer, actor=actor, reason=(request.POST.get("reason") or "")[:5000])
    except ValidationError as exc:
        return _back(request, pk, " ".join(exc.messages))
    return _back(request, pk)


@require_POST
def offer_approve_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """Approve this offer, with the other pending offers ticked beside it (one joint action)."""
    actor = _reviewer(request)
    offer = offer_for(actor, pk)
    others: list[PartnerOffer] = []
    raw = request.POST.getlist("with")[:50]
    ids = [int(x) for x in raw if x.isdigit() and len(x) < 12]
    if ids:
        others = list(offers_visible_to(actor).filter(pk__in=ids).exclude(pk=offer.pk))
    try:
        campaign = offers_approve(
            offers=[offer, *others],
            actor=actor,
            sender_email=(request.POST.get("sender_email") or "").strip()[:254],
            subject_fr=(request.POST.get("subject_fr") or "")[:200],
            send_now=request.POST.get("send_now") == "1",
        )
    except ValidationError as exc:
        return _back(request, pk, " ".join(exc.messages))
    return redirect("campaigns:detail", pk=campaign.pk)


@require_POST
def segment_expose_view(request: SignedInRequest) -> HttpResponse:
    actor = _reviewer(request)
    slug = (request.POST.get("segment") or "")[:60]
    segment = Segment.objects.filter(slug=slug, owner__isnull=True).first()
    if segment is None:
        return redirect("campaigns:offers")
    # Only the office's segments are listed; a forged slug changes nothing.
    with contextlib.suppress(ValidationError):
        segment_expose(actor=actor, segment=segment, exposed=request.POST.get("exposed") == "1")
    return redirect("campaigns:offers")
