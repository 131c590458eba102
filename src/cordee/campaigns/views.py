from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from cordee.campaigns import links
from cordee.campaigns.abtest import (
    campaign_is_ab,
    campaign_winner_pick,
    variant_results,
    winner_due_at,
)
from cordee.campaigns.audience import audience_steps
from cordee.campaigns.conf import setting
from cordee.campaigns.forms import (
    BLOCK_LABELS,
    EDITOR_LANGS,
    EMPTY_BLOCK,
    FIRST_BLOCKS,
    CampaignForm,
    blocks_from_post,
    message_editors,
)
from cordee.campaigns.mailer import PermanentError, RejectedError, TransientError
from cordee.campaigns.models import CampaignState, Delivery, EventKind
from cordee.campaigns.queries import campaign_for, campaign_report, campaigns_visible_to
from cordee.campaigns.services import (
    campaign_preview,
    campaign_save,
    campaign_schedule,
    campaign_test_send,
    delivery_unsubscribe,
    sms_inbound,
    tracking_record,
)
from cordee.core.views import SignedInRequest
from cordee.customers.models import Customer
from cordee.privacy.access import Actor, customer_for, customers_fully_visible
from cordee.privacy.audit import client_ip

# A 1×1 transparent GIF.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
MARKETING_PURPOSES = ("newsletter", "partner_offers", "sms", "profiling", "surveys")


def _actor(request: SignedInRequest) -> Actor:
    return Actor.for_user(request.user)


def campaign_list(request: SignedInRequest) -> HttpResponse:
    campaigns = campaigns_visible_to(_actor(request)).filter(trigger__isnull=True)[:200]
    return render(request, "campaigns/list.html", {"campaigns": campaigns})


@require_http_methods(["GET", "POST"])
def campaign_edit(request: SignedInRequest, pk: int | None = None) -> HttpResponse:
    actor = _actor(request)
    campaign = campaign_for(actor, pk) if pk is not None else None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = CampaignForm(request.POST)
        blocks = {lang: blocks_from_post(request.POST, lang) for lang in EDITOR_LANGS}
        if form.is_valid():
            data = form.cleaned_data
            try:
                campaign = campaign_save(
                    actor=actor,
                    campaign=campaign,
                    name=data["name"],
                    purpose=data["purpose"],
                    channel=data["channel"],
                    segment_slug=data["segment_slug"],
                    sender_name=data["sender_name"],
                    sender_email=data["sender_email"],
                    reply_to=data["reply_to"],
                    cost=data["cost"],
                    control_percent=data["control_percent"],
                    test_percent=data["test_percent"] or 0,
                    winner_metric=data["winner_metric"] or "clicks",
                    winner_delay=data["winner_delay"] if data["winner_delay"] is not None else 4,
                    winner_auto=data["winner_auto"],
                    variants=_variants_from_form(data, blocks),
                    subject_fr=data["subject_fr"],
                    subject_en=data["subject_en"],
                    blocks_fr=blocks["fr"],
                    blocks_en=blocks["en"],
                    sms_fr=data["sms_fr"],
                    sms_en=data["sms_en"],
                )
                return redirect("campaigns:detail", pk=campaign.pk)
            except ValidationError as exc:
                errors = exc.message_dict
        else:
            errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
    else:
        initial: dict[str, Any] = {
            "sender_name": request.user.partner.name if request.user.partner else "",
            "purpose": "newsletter",
        }
        if campaign is not None:
            m = campaign.message
            initial = {
                "name": campaign.name,
                "channel": campaign.channel,
                "purpose": campaign.purpose.slug,
                "segment_slug": campaign.segment_slug,
                "sender_name": campaign.sender_name,
                "sender_email": campaign.sender_email,
                "reply_to": campaign.reply_to,
                "cost": campaign.cost,
                "control_percent": campaign.control_percent,
                "test_percent": campaign.test_percent,
                "winner_metric": campaign.winner_metric,
                "winner_delay": campaign.winner_delay,
                "winner_auto": campaign.winner_auto,
                "subject_fr": m.subject_fr,
                "subject_en": m.subject_en,
                "sms_fr": m.sms_fr,
                "sms_en": m.sms_en,
            }
            blocks = {"fr": m.blocks_fr, "en": m.blocks_en, "bfr": [], "ben": []}
            b = campaign.variants.filter(label="B").select_related("message").first()
            if b is not None:
                bm = b.message
                initial.update(subject_b_fr=bm.subject_fr, subject_b_en=bm.subject_en)
                own = (bm.blocks_fr, bm.blocks_en, bm.sms_fr, bm.sms_en) != (
                    m.blocks_fr,
                    m.blocks_en,
                    m.sms_fr,
                    m.sms_en,
                )
                if own:
                    initial.update(b_own_content=True, sms_b_fr=bm.sms_fr, sms_b_en=bm.sms_en)
                    blocks.update(bfr=bm.blocks_fr, ben=bm.blocks_en)
        else:
            blocks = {
                "fr": [{"type": "title", "text": ""}, *FIRST_BLOCKS],
                "en": [],
                "bfr": [],
                "ben": [],
            }
        form = CampaignForm(initial=initial)
    if campaign is not None and campaign.state != CampaignState.DRAFT:
        return redirect("campaigns:detail", pk=campaign.pk)
    editors, shown = message_editors(
        form,
        {"fr": blocks["fr"], "en": blocks["en"]},
        subjects={"fr": ("subject_fr", "subject_b_fr"), "en": ("subject_en", "subject_b_en")},
        sms={"fr": "sms_fr", "en": "sms_en"},
    )
    editors_b, shown_b = message_editors(
        form,
        {"bfr": blocks["bfr"], "ben": blocks["ben"]},
        subjects={},
        sms={"bfr": "sms_b_fr", "ben": "sms_b_en"},
    )
    context = {
        "campaign": campaign,
        "form": form,
        "errors": errors,
        "editors": editors,
        "editors_b": editors_b,
        "editor_fields": shown | shown_b | {"b_own_content"},
        "block_labels": BLOCK_LABELS,
    }
    return render(request, "campaigns/edit.html", context)


def _variants_from_form(
    data: dict[str, Any], blocks: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Variant B from the editor: its subject and, when it has its own, its blocks and SMS
    (otherwise variant A's); without a subject B, no A/B test."""
    if not (data.get("subject_b_fr") or "").strip():
        return []
    fields: dict[str, Any] = {
        "subject_fr": data["subject_b_fr"],
        "subject_en": data.get("subject_b_en") or "",
    }
    if data.get("b_own_content"):
        fields.update(
            blocks_fr=blocks["bfr"],
            blocks_en=blocks["ben"],
            sms_fr=data.get("sms_b_fr") or "",
            sms_en=data.get("sms_b_en") or "",
        )
    return [fields]


def block_row(request: SignedInRequest) -> HttpResponse:
    lang = request.GET.get("lang")
    editor = {"lang": lang if lang in EDITOR_LANGS else "fr"}
    return render(
        request,
        "campaigns/_message_editor.html#block-row",
        {"editor": editor, "block": EMPTY_BLOCK, "block_labels": BLOCK_LABELS},
    )


def campaign_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    campaign = campaign_for(_actor(request), pk)
    report = (
        campaign_report(campaign)
        if campaign.state not in (CampaignState.DRAFT, CampaignState.SCHEDULED)
        else None
    )
    ab = campaign_is_ab(campaign)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "report": report,
            "now": timezone.localtime(),
            "ab": ab,
            "variants": variant_results(campaign) if ab else [],
            "winner_due": winner_due_at(campaign) if ab else None,
        },
    )


@require_POST
def campaign_winner_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """The marketer picks the winner: it goes to the rest of the audience (once)."""
    actor = _actor(request)
    campaign = campaign_for(actor, pk)
    label = (request.POST.get("variant") or "")[:1].upper()
    variant = campaign.variants.filter(label=label).first()
    if variant is None:
        return HttpResponseBadRequest(_("Variante inconnue."))
    if campaign_winner_pick(campaign=campaign, actor=actor, variant=variant) is None:
        return HttpResponseBadRequest(
            _("Le gagnant est déjà choisi, ou la campagne n'est plus en cours d'envoi.")
        )
    return redirect("campaigns:detail", pk=campaign.pk)


def campaign_audience(request: SignedInRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    campaign = campaign_for(actor, pk)
    steps = campaign.audience_steps or [s.as_dict() for s in audience_steps(campaign, actor)[0]]
    return render(request, "campaigns/detail.html#audience", {"campaign": campaign, "steps": steps})


def _preview_customer(request: SignedInRequest, actor: Actor) -> Customer | None:
    raw = request.GET.get("client") or request.POST.get("client") or ""
    if not raw.strip():
        return None
    customer = customer_for(actor, raw.strip())
    # Personalisation reads more than a partner may of a shared customer (loyalty group,
    # last stay anywhere, favourite activity): a partner previews with its own customers only.
    if customer.pk not in customers_fully_visible(actor, [customer.pk]):
        raise Http404
    return customer


def campaign_preview_page(request: SignedInRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    campaign = campaign_for(actor, pk)
    customer = _preview_customer(request, actor)
    lang = "en" if request.GET.get("langue") == "en" else "fr"
    rendered = (
        campaign_preview(campaign=campaign, customer=customer, language=lang) if customer else None
    )
    return render(
        request,
        "campaigns/detail.html#preview",
        {"campaign": campaign, "customer": customer, "lang": lang, "rendered": rendered},
    )


@xframe_options_sameorigin
@csp_override(
    {
        "default-src": ["'none'"],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["https:", "http:", "data:"],
        "frame-ancestors": ["'self'"],
    }
)
def campaign_preview_frame(request: SignedInRequest, pk: int) -> HttpResponse:
    """The HTML part alone, for the preview's iframe: mail styles are inline attributes, which
    the application's own policy forbids; this response allows them and nothing else."""
    actor = _actor(request)
    campaign = campaign_for(actor, pk)
    customer = _preview_customer(request, actor)
    if customer is None:
        raise Http404
    lang = "en" if request.GET.get("langue") == "en" else "fr"
    rendered = campaign_preview(campaign=campaign, customer=customer, language=lang)
    return HttpResponse(rendered.html)


@require_POST
def campaign_test(request: SignedInRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    campaign = campaign_for(actor, pk)
    customer = _preview_customer(request, actor)
    lang = "en" if request.POST.get("langue") == "en" else "fr"
    to = (request.POST.get("to") or "").strip()[:254]
    context: dict[str, Any] = {"campaign": campaign}
    if customer is None:
        context["test_error"] = _("Choisissez le client dont la version est envoyée.")
    else:
        try:
            campaign_test_send(
                campaign=campaign, customer=customer, to=to, actor=actor, language=lang
            )
            context["test_ok"] = _("Envoi de test parti vers %(to)s.") % {"to": to}
        except ValidationError as exc:
            context["test_error"] = " ".join(exc.messages)
        except (TransientError, PermanentError, RejectedError) as exc:
            context["test_error"] = _("Le serveur d'envoi a refusé : %(error)s") % {"error": exc}
    return render(request, "campaigns/detail.html#test-result", context)


@require_POST
def campaign_send_view(request: SignedInRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    campaign = campaign_for(actor, pk)
    raw = (request.POST.get("at") or "").strip()
    at = None
    if raw:
        at = parse_datetime(raw[:30]) if len(raw) <= 30 else None
        if at is None:
            return HttpResponseBadRequest(_("Date d'envoi invalide."))
        if timezone.is_naive(at):
            at = timezone.make_aware(at)
    try:
        campaign_schedule(campaign=campaign, at=at, actor=actor)
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages))
    return redirect("campaigns:detail", pk=campaign.pk)


# --- what recipients reach, without signing in -----------------------------------------------


@login_not_required
@csrf_exempt  # the one-click POST comes from a mail provider: the signed token is the proof
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    numbers = links.token_read(token, "d")
    delivery = (
        Delivery.objects.select_related("campaign__purpose").filter(pk=numbers[0]).first()
        if numbers
        else None
    )
    if delivery is None:
        return render(request, "campaigns/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "POST":
        delivery_unsubscribe(delivery=delivery, ip=client_ip(request))
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse(
                _("Désinscription enregistrée."), content_type="text/plain; charset=utf-8"
            )
        return render(
            request,
            "campaigns/unsubscribe.html",
            {"done": True, "purpose": delivery.campaign.purpose},
        )
    # GET never unsubscribes: mail scanners follow links; a person confirms with a button.
    return render(request, "campaigns/unsubscribe.html", {"purpose": delivery.campaign.purpose})


@login_not_required
@never_cache
def click(request: HttpRequest, token: str) -> HttpResponseRedirect:
    numbers = links.token_read(token, "k")
    if not numbers or len(numbers) != 2:
        raise Http404
    delivery = Delivery.objects.select_related("campaign__message").filter(pk=numbers[0]).first()
    if delivery is None:
        raise Http404
    from cordee.campaigns.compose import Composer

    compiled = Composer(delivery.campaign).compiled(delivery.language, delivery.variant_id)
    if not 0 <= numbers[1] < len(compiled.links):
        raise Http404
    tracking_record(delivery_id=delivery.pk, kind=EventKind.CLICK, link=numbers[1])
    # Only a URL written in the campaign's own message: never one taken from the request.
    return HttpResponseRedirect(compiled.links[numbers[1]])


@login_not_required
@never_cache
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    numbers = links.token_read(token, "o")
    if numbers:
        tracking_record(delivery_id=numbers[0], kind=EventKind.OPEN)
    return HttpResponse(PIXEL, content_type="image/gif")


@login_not_required
@csrf_exempt
@require_POST
def sms_inbound_view(request: HttpRequest, secret: str) -> HttpResponse:
    """The SMS provider's webhook for replies: ``from`` and ``text`` form fields."""
    expected = str(setting("CORDEE_SMS_INBOUND_TOKEN", ""))
    from django.utils.crypto import constant_time_compare

    if not expected or not constant_time_compare(secret, expected):
        raise Http404
    phone = (request.POST.get("from") or "")[:30]
    text = (request.POST.get("text") or "")[:500]
    if not phone:
        return HttpResponseBadRequest("from manquant")
    stopped = sms_inbound(phone=phone, text=text)
    return HttpResponse("stop" if stopped else "ok", content_type="text/plain")
