"""The preference centre's pages, for visitors without an account (see ``preferences``).

Every view reads the signed token first (query string ``t`` on GET, hidden field on POST:
the web server's log keeps no query string), refuses tampered or expired ones with a page
that says so, and counts requests per IP (``CORDEE_PREFERENCES_RATE``, 60/min by default).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from cordee.api.ratelimit import hit, parse_rate
from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log, client_ip
from cordee.privacy.models import Purpose, RequestKind
from cordee.privacy.portability import customer_data_csv, customer_data_json
from cordee.privacy.preferences import (
    TokenExpired,
    TokenInvalid,
    customer_from_token,
    preference_choices,
    preference_request,
    preference_set,
)
from cordee.privacy.requests import clean_text

LANGUAGES = ("fr", "en")
MESSAGE_MAX = 2_000

View = Callable[..., HttpResponse]


def _language(request: HttpRequest, customer: Customer | None = None) -> str:
    asked = (request.POST.get("lang") or request.GET.get("lang") or "")[:2]
    if asked in LANGUAGES:
        return asked
    if customer is not None and (customer.language or "")[:2] in LANGUAGES:
        return customer.language[:2]
    return "fr"


def _refuse(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    with translation.override(_language(request)):
        return _private(
            render(request, "privacy/preferences_invalid.html", {"reason": reason}, status=status)
        )


def _private(response: HttpResponse) -> HttpResponse:
    # The page is one person's: no cache keeps it. The site's "same-origin" referrer policy
    # already keeps the token from other sites; "no-referrer" would make browsers send
    # "Origin: null" with the forms, which Django's CSRF check rightly refuses.
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex"
    return response


def _rate_limited(request: HttpRequest) -> bool:
    rate = parse_rate(getattr(settings, "CORDEE_PREFERENCES_RATE", "60/min"))
    return hit(f"preferences:{client_ip(request) or '-'}", rate) is not None


def with_token(view: View) -> View:
    """Open the customer the token names, or answer with the right refusal page."""

    @login_not_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _rate_limited(request):
            return _refuse(request, "rate", 429)
        token = (request.POST.get("t") if request.method == "POST" else None) or request.GET.get(
            "t", ""
        )
        try:
            customer = customer_from_token(token)
        except TokenExpired:
            return _refuse(request, "expired", 410)
        except TokenInvalid:
            return _refuse(request, "invalid", 403)
        lang = _language(request, customer)
        with translation.override(lang):
            response = view(request, customer, token, lang, *args, **kwargs)
        return _private(response)

    return wrapper


def _page_url(request: HttpRequest, lang: str) -> str:
    # The proof names the page without its token: the token is a key, not evidence.
    return request.build_absolute_uri(reverse("preferences")) + f"?lang={lang}"


@with_token
def preferences_page(
    request: HttpRequest, customer: Customer, token: str, lang: str
) -> HttpResponse:
    return render(
        request,
        "privacy/preferences.html",
        {
            "customer": customer,
            "choices": preference_choices(customer),
            "token": token,
            "lang": lang,
            "kinds": [
                ("rectification", _("Corriger mes données")),
                ("erasure", _("Effacer mes données")),
            ],
        },
    )


@with_token
def preferences_toggle(
    request: HttpRequest, customer: Customer, token: str, lang: str, slug: str
) -> HttpResponse:
    if request.method != "POST":
        return redirect(f"{reverse('preferences')}?t={token}&lang={lang}")
    purpose = Purpose.objects.filter(slug=slug[:40], is_active=True, legal_basis="consent").first()
    if purpose is None:
        raise Http404
    granted = request.POST.get("on") == "1"
    preference_set(
        customer=customer,
        purpose=purpose,
        granted=granted,
        language=lang,
        page=_page_url(request, lang),
    )
    if request.headers.get("HX-Request"):
        choice = next(c for c in preference_choices(customer) if c.purpose.pk == purpose.pk)
        return render(
            request,
            "privacy/preferences.html#choice",
            {"choice": choice, "token": token, "lang": lang, "saved": True},
        )
    return redirect(f"{reverse('preferences')}?t={token}&lang={lang}#{purpose.slug}")


@with_token
def preferences_data(
    request: HttpRequest, customer: Customer, token: str, lang: str, fmt: str
) -> HttpResponse:
    if fmt not in {"json", "csv"}:
        raise Http404
    audit_log(
        actor=Actor.system("preferences"),
        action="customer.export_subject",
        obj=customer,
        ip=client_ip(request),
        format=fmt,
        by="subject",
    )
    if fmt == "json":
        body, content_type = customer_data_json(customer), "application/json; charset=utf-8"
    else:
        body, content_type = customer_data_csv(customer), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="mes-donnees.{fmt}"'
    return response


@with_token
def preferences_ask(
    request: HttpRequest, customer: Customer, token: str, lang: str
) -> HttpResponse:
    if request.method != "POST":
        return redirect(f"{reverse('preferences')}?t={token}&lang={lang}")
    kind = request.POST.get("kind", "")
    if kind not in {RequestKind.RECTIFICATION, RequestKind.ERASURE}:
        return render(
            request,
            "privacy/preferences_asked.html",
            {"error": _("Demande inconnue."), "token": token, "lang": lang},
            status=422,
        )
    raw = request.POST.get("message", "")
    if len(raw) > MESSAGE_MAX:
        return render(
            request,
            "privacy/preferences_asked.html",
            {
                "error": _("Votre message est trop long (%(n)s caractères au plus).")
                % {"n": MESSAGE_MAX},
                "token": token,
                "lang": lang,
            },
            status=422,
        )
    dsr = preference_request(customer=customer, kind=kind, message=clean_text(raw, MESSAGE_MAX))
    return render(
        request,
        "privacy/preferences_asked.html",
        {"dsr": dsr, "token": token, "lang": lang},
    )


@login_not_required
def identity_confirm_page(request: HttpRequest) -> HttpResponse:
    """A request's identity check: GET shows the button (mail scanners follow links), POST
    confirms. The token is single-use: once confirmed, the same link is refused."""
    from cordee.privacy.identity import identity_confirm, request_from_token

    if _rate_limited(request):
        return _refuse(request, "rate", 429)
    token = (request.POST.get("t") if request.method == "POST" else None) or request.GET.get(
        "t", ""
    )
    try:
        dsr = request_from_token(token)
        if request.method == "POST":
            dsr = identity_confirm(dsr)
    except TokenExpired:
        return _refuse(request, "expired", 410)
    except TokenInvalid:
        return _refuse(request, "invalid", 403)
    lang = _language(request)
    with translation.override(lang):
        response = render(
            request,
            "privacy/identity_confirm.html",
            {
                "dsr": dsr,
                "kind": dsr.get_kind_display(),
                "token": token if request.method != "POST" else "",
                "lang": lang,
                "done": request.method == "POST",
            },
        )
    return _private(response)
