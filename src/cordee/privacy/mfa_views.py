from __future__ import annotations

import io

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from cordee.core.views import SignedInRequest
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log, client_ip
from cordee.privacy.mfa import (
    SESSION_KEY,
    confirmed_device,
    provisioning_uri,
    totp_confirm,
    totp_enrol,
    totp_verify,
)
from cordee.privacy.security import login_blocked, login_failed

CODE_MAX = 20


def _next(request: SignedInRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


def _blocked(request: SignedInRequest) -> bool:
    return login_blocked(ip=client_ip(request) or "-", username=request.user.username.lower())


def mfa_code(request: SignedInRequest) -> HttpResponse:
    device = confirmed_device(request.user)
    if device is None:
        return redirect(_next(request))
    error, status = "", 200
    if request.method == "POST":
        code = request.POST.get("code", "")[:CODE_MAX]
        if _blocked(request):
            error, status = _("Trop de tentatives : réessayez dans quelques minutes."), 429
        elif totp_verify(device, code):
            request.session.cycle_key()
            request.session[SESSION_KEY] = True
            audit_log(actor=Actor.for_user(request.user), action="mfa.pass", ip=client_ip(request))
            return redirect(_next(request))
        else:
            login_failed(ip=client_ip(request) or "-", username=request.user.username.lower())
            error, status = _("Code incorrect ou déjà utilisé."), 422
    return render(
        request, "privacy/mfa_code.html", {"error": error, "next": _next(request)}, status=status
    )


def _qr_svg(uri: str) -> str:
    try:
        import segno
    except ImportError:  # the QR code is a convenience: the key can be typed
        return ""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()


def mfa_setup(request: SignedInRequest) -> HttpResponse:
    if confirmed_device(request.user) is not None:
        return redirect("/")
    device = totp_enrol(user=request.user) if request.method == "GET" else None
    error, status = "", 200
    if request.method == "POST":
        from cordee.privacy.models import StaffTOTP

        device = StaffTOTP.objects.filter(user=request.user).first()
        if device is None:
            return redirect("mfa_setup")
        if _blocked(request):
            error, status = _("Trop de tentatives : réessayez dans quelques minutes."), 429
        elif totp_confirm(
            device=device,
            code=request.POST.get("code", "")[:CODE_MAX],
            actor=Actor.for_user(request.user),
        ):
            request.session[SESSION_KEY] = True
            return redirect("/")
        else:
            login_failed(ip=client_ip(request) or "-", username=request.user.username.lower())
            error, status = (
                _("Code incorrect : vérifiez l'heure de votre téléphone et réessayez."),
                422,
            )
    assert device is not None
    uri = provisioning_uri(device)
    return render(
        request,
        "privacy/mfa_setup.html",
        # The SVG is produced by segno from our own URI: no user input reaches it.
        {"secret": device.secret, "uri": uri, "qr": mark_safe(_qr_svg(uri)), "error": error},  # noqa: S308
        status=status,
    )
