"""The endpoint consent.js calls from partners' sites: banner text, choices, page views (CORS)."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from cordee.api import ratelimit
from cordee.channels import cookies
from cordee.channels.origins import cors_headers, cors_origin
from cordee.partners.models import Partner

MAX_BODY = 4096


def cookie_rate() -> ratelimit.Rate:
    text = getattr(settings, "CORDEE_COOKIE_RATE", None) or os.environ.get("CORDEE_COOKIE_RATE")
    return ratelimit.parse_rate(text or "120/min")


def _answer(origin: str | None, data: dict[str, Any], status: int = 200) -> HttpResponse:
    return cors_headers(JsonResponse(data, status=status), origin)


def _body(request: HttpRequest) -> dict[str, Any] | str:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        return _("Envoi trop volumineux.")
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return _("JSON illisible.")
    if not isinstance(data, dict):
        return _("Un objet JSON est attendu.")
    return data


def _guarded(view: Any) -> Any:
    """Partner known and active, origin registered, rate respected, preflight answered."""

    def wrapped(request: HttpRequest, partner_slug: str) -> HttpResponse:
        partner = get_object_or_404(Partner, slug=partner_slug, is_active=True)
        origin = cors_origin(request, partner)
        if request.headers.get("Origin") and origin is None:
            return _answer(None, {"error": _("Site non déclaré pour ce partenaire.")}, 403)
        if request.method == "OPTIONS":
            return cors_headers(HttpResponse(status=204), origin)
        ip = hashlib.sha256(request.META.get("REMOTE_ADDR", "").encode()).hexdigest()[:24]
        if ratelimit.hit(f"cookie-ip:{ip}", cookie_rate()) is not None:
            return _answer(origin, {"error": _("Trop de requêtes.")}, 429)
        response: HttpResponse = view(request, partner, origin)
        return response

    wrapped.__name__ = view.__name__
    return login_not_required(csrf_exempt(never_cache(wrapped)))


@_guarded
def banner_config(request: HttpRequest, partner: Partner, origin: str | None) -> HttpResponse:
    if request.method != "GET":
        return _answer(origin, {"error": _("Méthode non permise.")}, 405)
    language = "en" if request.GET.get("lang", "").startswith("en") else "fr"
    wording = cookies.banner_wording(language)
    if wording is None:
        return _answer(origin, {"error": _("Aucun texte de consentement n'est publié.")}, 503)
    with translation.override(language):
        labels = {
            "title": _("Cookies"),
            "intro": _("%(name)s et l'office de tourisme aimeraient mesurer l'audience de ce site.")
            % {"name": partner.name},
            "accept": _("Accepter"),
            "refuse": _("Refuser"),
            "choose": _("Choisir"),
            "save": _("Enregistrer mon choix"),
            "analytics": _("Mesure d'audience"),
        }
    return _answer(
        origin,
        {
            "wording": wording.pk,
            "version": wording.version,
            "text": wording.text,
            "language": wording.language,
            "labels": labels,
        },
    )


@_guarded
def choice(request: HttpRequest, partner: Partner, origin: str | None) -> HttpResponse:
    if request.method != "POST":
        return _answer(origin, {"error": _("Méthode non permise.")}, 405)
    data = _body(request)
    if isinstance(data, str):
        return _answer(origin, {"error": data}, 400)
    analytics = data.get("analytics")
    if not isinstance(analytics, bool):
        return _answer(origin, {"error": _("Champ analytics (vrai ou faux) attendu.")}, 400)
    try:
        record = cookies.cookie_choice_record(
            partner=partner,
            analytics=analytics,
            wording_id=data.get("wording"),
            visitor=data.get("visitor"),
            page=data.get("page"),
        )
    except cookies.Refused as exc:
        return _answer(origin, {"error": str(exc)}, 400)
    return _answer(origin, {"recorded": True, "analytics": record.analytics}, 201)


@_guarded
def page_view(request: HttpRequest, partner: Partner, origin: str | None) -> HttpResponse:
    if request.method != "POST":
        return _answer(origin, {"error": _("Méthode non permise.")}, 405)
    data = _body(request)
    if isinstance(data, str):
        return _answer(origin, {"error": data}, 400)
    try:
        cookies.page_view_record(
            partner=partner, visitor=data.get("visitor"), page=data.get("page")
        )
    except cookies.Refused as exc:
        return _answer(origin, {"error": str(exc)}, 403)
    return cors_headers(HttpResponse(status=204), origin)
