"""The loyalty card: a 12-digit number whose last digit is a Luhn check digit, and a secret
token for the card's public page. A typo in a number typed at a desk is caught by the check
digit before anything is looked up.
"""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cordee.activities.joins import card_digits
from cordee.activities.models import LoyaltyCard
from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log

NUMBER_LENGTH = 12
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
TOKEN_BYTES = 32


def luhn_digit(body: str) -> str:
    """The check digit to append to ``body`` (digits only)."""
    total = 0
    for i, char in enumerate(reversed(body)):
        digit = int(char)
        if i % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def number_is_valid(number: str) -> bool:
    return (
        len(number) == NUMBER_LENGTH
        and number.isascii()
        and number.isdigit()
        and luhn_digit(number[:-1]) == number[-1]
    )


def card_number_clean(raw: str) -> str:
    """The number typed or scanned (spaces and dashes allowed), or ValidationError in French."""
    digits = card_digits(raw.strip())[:100]
    if not digits:
        raise ValidationError(_("Saisissez le numéro de la carte."))
    if not (digits.isascii() and digits.isdigit()) or len(digits) != NUMBER_LENGTH:
        raise ValidationError(
            _("Un numéro de carte a %(n)s chiffres (ex. 1234 5678 9012).") % {"n": NUMBER_LENGTH}
        )
    if not number_is_valid(digits):
        raise ValidationError(
            _("Ce numéro de carte est faux (chiffre de contrôle) : vérifiez la saisie.")
        )
    return digits


def _new_number() -> str:
    body = str(secrets.randbelow(9 * 10 ** (NUMBER_LENGTH - 2)) + 10 ** (NUMBER_LENGTH - 2))
    return body + luhn_digit(body)


def loyalty_card_issue(*, customer: Customer, actor: Actor) -> LoyaltyCard:
    """The customer's card, created on first call (a second call returns the same card)."""
    existing = LoyaltyCard.objects.filter(customer=customer).first()
    if existing is not None:
        return existing
    for _attempt in range(10):
        try:
            with transaction.atomic():
                card = LoyaltyCard.objects.create(
                    customer=customer,
                    number=_new_number(),
                    token=secrets.token_urlsafe(TOKEN_BYTES),
                )
                audit_log(actor=actor, action="loyalty_card.issue", obj=customer, card=card.pk)
                return card
        except IntegrityError:
            existing = LoyaltyCard.objects.filter(customer=customer).first()
            if existing is not None:  # issued meanwhile by another request
                return existing
    raise RuntimeError("no free card number after 10 attempts")


def card_by_number(number: str) -> LoyaltyCard | None:
    return LoyaltyCard.objects.select_related("customer").filter(number=number).first()


def card_by_token(token: str) -> LoyaltyCard | None:
    if not _TOKEN.fullmatch(token or ""):  # NUL and other strangers never reach the database
        return None
    return LoyaltyCard.objects.select_related("customer").filter(token=token).first()
