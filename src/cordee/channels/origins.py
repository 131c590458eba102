"""Which partner websites may frame the forms and call the cookie endpoint (CSP and CORS)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.csp import CSP
from django.utils.translation import gettext as _

from cordee.channels.models import SiteOrigin
from cordee.partners.models import Partner


def origin_normalise(text: str) -> str:
    """``https://www.hotel.fr/page`` → ``https://www.hotel.fr``; a clear error for anything else."""
    value = text.strip()
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError(_("Origine invalide : indiquez par exemple https://www.mon-site.fr"))
    if any(c in value for c in " \"';,\r\n\t*"):
        raise ValidationError(_("Origine invalide : caractères interdits."))
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(_("Origine invalide : port illisible.")) from None
    default = {"http": 80, "https": 443}[parts.scheme]
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def partner_origins(partner: Partner) -> list[str]:
    return list(SiteOrigin.objects.filter(partner=partner).values_list("origin", flat=True))


def framing_policy(partner: Partner) -> dict[str, object]:
    """The site's CSP with the partner's registered sites allowed as frame ancestors."""
    policy: dict[str, object] = dict(settings.SECURE_CSP)
    policy["frame-ancestors"] = [CSP.SELF, *partner_origins(partner)]
    return policy


def allow_framing(response: HttpResponse, partner: Partner) -> HttpResponse:
    response._csp_config = framing_policy(partner)  # type: ignore[attr-defined]
    # CSP frame-ancestors decides; X-Frame-Options cannot name several origins.
    response.xframe_options_exempt = True
    return response


def cors_origin(request: HttpRequest, partner: Partner) -> str | None:
    """The request's Origin when it is one of the partner's registered sites, else None."""
    origin = request.headers.get("Origin", "")
    if not origin:
        return None
    try:
        normalised = origin_normalise(origin)
    except ValidationError:
        return None
    return normalised if normalised in partner_origins(partner) else None


def cors_headers(response: HttpResponse, origin: str | None) -> HttpResponse:
    response["Vary"] = "Origin"
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
    return response
