"""The satisfaction survey's page (see :mod:`cordee.channels.surveys`): no account, a signed
link, one question and a comment, French or English."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, translation
from django.utils.cache import add_never_cache_headers

from cordee.api.ratelimit import hit, parse_rate
from cordee.channels import surveys
from cordee.privacy.audit import client_ip

LANGUAGES = ("fr", "en")
MAX_BODY = 16 * 1024


def _language(request: HttpRequest, customer_language: str = "") -> str:
    asked = (request.POST.get("lang") or request.GET.get("lang") or "")[:2]
    if asked in LANGUAGES:
        return asked
    return customer_language[:2] if customer_language[:2] in LANGUAGES else "fr"


def _private(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)  # one person's page
    response["X-Robots-Tag"] = "noindex"
    return response


@login_not_required
def survey(request: HttpRequest) -> HttpResponse:
    rate = parse_rate(getattr(settings, "CORDEE_PREFERENCES_RATE", "60/min"))
    if hit(f"survey:{client_ip(request) or '-'}", rate) is not None:
        return _refused(request, "rate", 429)
    if request.method not in ("GET", "POST"):
        return _refused(request, "invalid", 405)
    if request.method == "POST" and int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY:
        return _refused(request, "big", 413)
    token = (request.POST.get("t") if request.method == "POST" else None) or request.GET.get("t")
    try:
        stay = surveys.survey_stay(token or "")
    except surveys.TokenExpired:
        return _refused(request, "expired", 410)
    except surveys.TokenInvalid:
        return _refused(request, "invalid", 403)
    lang = _language(request, stay.customer.language or "")
    with translation.override(lang):
        error = ""
        previous = (stay.details or {}).get("survey") or {}
        score, comment = previous.get("score"), previous.get("comment", "")
        if request.method == "POST":
            score, comment = request.POST.get("score"), request.POST.get("comment", "")
            try:
                answer = surveys.survey_clean(score, comment)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                surveys.survey_answer(stay, answer, language=lang)
                return _private(
                    render(request, "channels/public/survey_thanks.html", {"language": lang})
                )
        context = {
            "language": lang,
            "token": token,
            "stay": stay,
            "partner": stay.partner.name,
            "when": formats.date_format(stay.starts_on, "F Y"),
            "first_name": stay.customer.first_name,
            "scores": range(11),
            "chosen": str(score) if score is not None else "",
            "comment": comment or "",
            "error": error,
            "comment_max": surveys.COMMENT_MAX,
        }
        response = render(
            request, "channels/public/survey.html", context, status=400 if error else 200
        )
    return _private(response)


def _refused(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    lang = _language(request)
    with translation.override(lang):
        response = render(
            request,
            "channels/public/survey_invalid.html",
            {"reason": reason, "language": lang},
            status=status,
        )
    return _private(response)
