"""Cookie consent on partners' sites and the page views it allows, anonymous until a sign-up."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.channels.entries import page_clean
from cordee.channels.models import CookieChoice, PageView, VisitorLink
from cordee.partners.models import Partner
from cordee.privacy.models import ConsentWording, Purpose
from cordee.privacy.services import current_wording

PURPOSE = "analytics_cookies"


class Refused(Exception):
    """What the visitor's browser sent cannot be recorded; the message says why (French)."""


def banner_wording(language: str) -> ConsentWording | None:
    purpose = Purpose.objects.filter(slug=PURPOSE, is_active=True).first()
    return current_wording(purpose, language) if purpose else None


def visitor_parse(value: object) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return str(uuid.UUID(value[:64]))
    except ValueError:
        return ""


def cookie_choice_record(
    *, partner: Partner, analytics: bool, wording_id: object, visitor: object, page: object
) -> CookieChoice:
    """Keep the anonymous choice with the wording shown: no IP, no visitor id on a refusal."""
    if not isinstance(wording_id, int) or isinstance(wording_id, bool):
        raise Refused(_("Version du texte manquante."))
    wording = ConsentWording.objects.filter(pk=wording_id, purpose__slug=PURPOSE).first()
    if wording is None:
        raise Refused(_("Version du texte inconnue."))
    visitor_id = visitor_parse(visitor) if analytics else ""
    if analytics and not visitor_id:
        raise Refused(_("Identifiant de visiteur manquant."))
    return CookieChoice.objects.create(
        partner=partner,
        visitor=visitor_id,
        analytics=analytics,
        wording=wording,
        language=wording.language,
        page=page_clean(page if isinstance(page, str) else ""),
        at=timezone.now(),
    )


def page_view_record(*, partner: Partner, visitor: object, page: object) -> PageView:
    """A page view, only for a visitor whose latest choice accepted audience measurement."""
    visitor_id = visitor_parse(visitor)
    url = page_clean(page if isinstance(page, str) else "")
    if not visitor_id or not url:
        raise Refused(_("Visiteur ou page illisible."))
    latest = (
        CookieChoice.objects.filter(visitor=visitor_id, partner=partner)
        .order_by("-at", "-pk")
        .values_list("analytics", flat=True)
        .first()
    )
    if not latest:
        raise Refused(_("Pas de consentement à la mesure d'audience."))
    with transaction.atomic():
        link = VisitorLink.objects.filter(visitor=visitor_id).values_list("customer_id", flat=True)
        return PageView.objects.create(
            partner=partner,
            visitor=visitor_id,
            url=url,
            at=timezone.now(),
            customer_id=link.first(),
        )


def page_views_purge(*, now: dt.datetime | None = None) -> int:
    """Drop page views older than the purpose's retention (25 months in the register). Idempotent."""
    purpose = Purpose.objects.filter(slug=PURPOSE).first()
    months = purpose.retention_months if purpose and purpose.retention_months else 25
    limit = (now or timezone.now()) - dt.timedelta(days=months * 31)
    deleted, _rows = PageView.objects.filter(at__lt=limit).delete()
    return deleted
