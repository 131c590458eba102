"""Two-factor sign-in (TOTP, RFC 6238) for the office's staff: administrators, marketers, DPO.

After the password, a staff member with a confirmed authenticator types its 6-digit code
(``/connexion/code/``); until then every page sends them there. With
``CORDEE_MFA_REQUIRED`` on (production), office staff without an authenticator are sent to
enrol first (``/connexion/authentification/``). Codes are checked with a ±1 step tolerance,
once each (``last_step``, claimed by a conditional UPDATE), and failures count towards the
sign-in rate limit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from cordee.partners.models import User
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.models import StaffTOTP

STEP = 30
DIGITS = 6
SESSION_KEY = "cordee_mfa_ok"
EXEMPT_PREFIXES = (
    "/connexion/",
    "/deconnexion/",
    "/static/",
    "/langue/",
    "/sante/",
    "/preferences/",
    "/api/",
)


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def totp_code(secret: str, step: int) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def provisioning_uri(device: StaffTOTP) -> str:
    label = quote(f"Cordée:{device.user.username}")
    return f"otpauth://totp/{label}?secret={device.secret}&issuer=Cord%C3%A9e&digits={DIGITS}&period={STEP}"


def totp_verify(device: StaffTOTP, code: str, *, now: float | None = None) -> bool:
    """True once for a right code of the current step (±1); a replayed code is refused."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != DIGITS:
        return False
    current = int((now if now is not None else time.time()) // STEP)
    for step in (current - 1, current, current + 1):
        if step > device.last_step and hmac.compare_digest(totp_code(device.secret, step), code):
            claimed = StaffTOTP.objects.filter(pk=device.pk, last_step__lt=step).update(
                last_step=step
            )
            if claimed:
                device.last_step = step
                return True
            return False
    return False


def needs_mfa(user: User) -> bool:
    """Office staff (hub roles and superusers) are the ones two factors protect."""
    return bool(user.is_superuser or user.is_hub_user)


def confirmed_device(user: User) -> StaffTOTP | None:
    return StaffTOTP.objects.filter(user=user, confirmed_at__isnull=False).first()


def totp_enrol(*, user: User) -> StaffTOTP:
    """A fresh unconfirmed secret (replacing an unconfirmed one); a confirmed one is kept."""
    with transaction.atomic():
        device, _created = StaffTOTP.objects.get_or_create(
            user=user, defaults={"secret": new_secret()}
        )
        if device.confirmed_at is None and not _created:
            device.secret = new_secret()
            device.last_step = 0
            device.save(update_fields=["secret", "last_step"])
    return device


def totp_confirm(*, device: StaffTOTP, code: str, actor: Actor) -> bool:
    if not totp_verify(device, code):
        return False
    with transaction.atomic():
        device.confirmed_at = timezone.now()
        device.save(update_fields=["confirmed_at"])
        audit_log(actor=actor, action="mfa.enrol", obj=device.user)
    return True


class MFAMiddleware:
    """Send signed-in office staff to the code page (or to enrolment) before any other page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.session.get(SESSION_KEY)
            and not request.path.startswith(EXEMPT_PREFIXES)
            and needs_mfa(user)
        ):
            if confirmed_device(user) is not None:
                return redirect(f"/connexion/code/?next={quote(request.get_full_path())}")
            if getattr(settings, "CORDEE_MFA_REQUIRED", False):
                return redirect("/connexion/authentification/")
        return self.get_response(request)
