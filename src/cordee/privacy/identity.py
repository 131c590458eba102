"""The identity check of a data-subject request: a signed, expiring, single-use e-mail link.

When the DPO records a request for a customer who has an e-mail address, Cordée writes to
that address; the person opens the link and presses the button (a GET only shows the page: a
mail scanner following links confirms nothing). The token carries the request's number, a
random nonce stored on the request and an expiry date, signed with the site's secret and its
own salt. Confirming, or sending a new link, replaces the nonce: a link works once.

The one-month deadline still runs from the receipt of the request (Art. 12(3)); the desk
shows the identity status beside it, and refuses to export, correct, erase or act on the
person's data until the identity is confirmed (Art. 12(6)).
"""

from __future__ import annotations

import os
import secrets
import time

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.models import DataSubjectRequest, IdentityStatus, RequestStatus
from cordee.privacy.preferences import TokenExpired, TokenInvalid
from cordee.privacy.requests import clean_text

SALT = "cordee.privacy.identity"
DEFAULT_DAYS = 7
TOKEN_MAX = 300
LANGUAGES = ("fr", "en")


def link_days() -> int:
    return int(getattr(settings, "CORDEE_IDENTITY_LINK_DAYS", DEFAULT_DAYS))


def identity_token(dsr: DataSubjectRequest, *, days: int | None = None) -> str:
    expires = int(time.time()) + 86_400 * (days or link_days())
    return signing.dumps({"r": dsr.pk, "n": dsr.identity_nonce, "e": expires}, salt=SALT)


def identity_link(dsr: DataSubjectRequest, *, lang: str, days: int | None = None) -> str:
    base = (
        getattr(settings, "CORDEE_PUBLIC_URL", "") or os.environ.get("CORDEE_PUBLIC_URL", "")
    ).rstrip("/") or "http://localhost:8000"
    token = identity_token(dsr, days=days)
    return f"{base}{reverse('identity_confirm')}?t={token}&lang={lang}"


def request_from_token(token: str) -> DataSubjectRequest:
    """The request a token confirms; TokenInvalid (forged, used, replaced) or TokenExpired."""
    if not token or len(token) > TOKEN_MAX:
        raise TokenInvalid
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise TokenInvalid from None
    if not isinstance(payload, dict):
        raise TokenInvalid
    request_id, nonce, expires = payload.get("r"), payload.get("n"), payload.get("e")
    if not isinstance(request_id, int) or isinstance(request_id, bool):
        raise TokenInvalid
    if not isinstance(nonce, str) or not nonce or not isinstance(expires, int):
        raise TokenInvalid
    if expires < time.time():
        raise TokenExpired
    dsr = DataSubjectRequest.objects.filter(pk=request_id).first()
    if dsr is None or not secrets.compare_digest(dsr.identity_nonce, nonce):
        # Already confirmed, or a newer link was sent: this one is spent.
        raise TokenInvalid
    return dsr


def identity_send(*, dsr: DataSubjectRequest, customer: Customer, actor: Actor) -> bool:
    """Write to the customer's address for confirmation; False when there is no address."""
    if not customer.email or dsr.identity_confirmed:
        return False
    lang = (customer.language or "fr")[:2]
    lang = lang if lang in LANGUAGES else "fr"
    with transaction.atomic():
        dsr.identity_nonce = secrets.token_urlsafe(16)
        dsr.identity = IdentityStatus.AWAITING
        fields = ["identity_nonce", "identity"]
        if dsr.status == RequestStatus.RECEIVED:
            dsr.status = RequestStatus.VERIFYING
            fields.append("status")
        dsr.save(update_fields=fields)
        audit_log(actor=actor, action="request.identity_sent", obj=dsr)
    with translation.override(lang):
        context = {
            "dsr": dsr,
            "kind": dsr.get_kind_display(),
            "link": identity_link(dsr, lang=lang),
            "days": link_days(),
        }
        subject = _("Confirmez votre demande concernant vos données personnelles")
        text = render_to_string("privacy/mail/identity.txt", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[customer.email]
    )
    message.send()
    return True


def identity_confirm(dsr: DataSubjectRequest) -> DataSubjectRequest:
    """The person pressed the button: the identity is confirmed, the link spent."""
    with transaction.atomic():
        locked = DataSubjectRequest.objects.select_for_update().get(pk=dsr.pk)
        if locked.identity_nonce != dsr.identity_nonce or not locked.identity_nonce:
            raise TokenInvalid  # a concurrent confirmation spent it first
        locked.identity = IdentityStatus.EMAIL
        locked.identity_confirmed_at = timezone.now()
        locked.identity_nonce = ""
        fields = ["identity", "identity_confirmed_at", "identity_nonce"]
        if locked.status == RequestStatus.VERIFYING:
            locked.status = RequestStatus.IN_PROGRESS
            fields.append("status")
        locked.save(update_fields=fields)
        audit_log(actor=Actor.system("identity"), action="request.identity_confirmed", obj=locked)
    return locked


def identity_record_other(*, dsr: DataSubjectRequest, note: str, actor: Actor) -> None:
    """The DPO checked the identity another way (ID shown at the desk...): the note says how."""
    note = clean_text(note)
    if len(note) < 10:
        raise ValidationError(
            _(
                "Indiquez comment l'identité a été vérifiée (pièce d'identité présentée à "
                "l'accueil, appel au numéro connu…)."
            )
        )
    with transaction.atomic():
        dsr.identity = IdentityStatus.OTHER
        dsr.identity_confirmed_at = timezone.now()
        dsr.identity_nonce = ""
        dsr.identity_note = note
        fields = ["identity", "identity_confirmed_at", "identity_nonce", "identity_note"]
        if dsr.status == RequestStatus.VERIFYING:
            dsr.status = RequestStatus.IN_PROGRESS
            fields.append("status")
        dsr.save(update_fields=fields)
        audit_log(actor=actor, action="request.identity_checked", obj=dsr)


def identity_required(dsr: DataSubjectRequest) -> None:
    """Refuse to act on the person's data before their identity is confirmed."""
    if not dsr.identity_confirmed:
        raise ValidationError(
            _(
                "L'identité du demandeur n'est pas encore confirmée : attendez sa confirmation "
                "par e-mail ou enregistrez une vérification faite autrement."
            )
        )
