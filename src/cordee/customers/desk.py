"""The front desk: a visitor met face to face or on the phone, entered in a few seconds.

The form warns of likely existing customers while the agent types (``customer_candidates``,
through the privacy gate), and a submission goes through the same intake as every other
channel (normalise → source record → identity resolution → golden record), with channel
``desk`` and the agent's organisation as the source partner. The consents given aloud are
recorded with the version of the wording the page showed, and the agent as who recorded them.

A signed token carries a nonce and the wordings shown: the nonce is part of the record's raw
content, so a double click sends the same record twice and the intake keeps only one
(one source record per partner and fingerprint).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from cordee.activities.models import ActivityKind
from cordee.activities.services import activity_record
from cordee.collect.intake import normalise_fields
from cordee.customers.incoming import IncomingRecord
from cordee.customers.models import Channel, Civility, Customer, SourceRecord
from cordee.customers.services import source_records_attach
from cordee.partners.models import Partner, PartnerKind, Role, User
from cordee.privacy.access import Actor
from cordee.privacy.models import ConsentChannel, ConsentStatus, ConsentWording, Purpose
from cordee.privacy.services import consent_record, current_wording

try:  # PostgreSQL's COPY raises the driver's own error, not Django's wrapper
    from psycopg import IntegrityError as DriverIntegrityError
except ImportError:  # pragma: no cover - SQLite only
    DriverIntegrityError = IntegrityError  # type: ignore[assignment,misc]

TOKEN_SALT = "cordee.customers.desk"  # noqa: S105 - a signing salt, not a secret
TOKEN_MAX_AGE = 12 * 3600
DESK_CONSENTS = ("newsletter", "partner_offers", "sms")
DESK_ROLES = frozenset(
    {Role.HUB_ADMIN, Role.HUB_MARKETER, Role.PARTNER_MANAGER, Role.PARTNER_STAFF}
)
CARD_INVALID = _("Numéro de carte faux : 12 chiffres, le dernier étant le chiffre de contrôle.")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
LANGUAGES = [
    ("fr", _("Français")),
    ("en", _("Anglais")),
    ("de", _("Allemand")),
    ("it", _("Italien")),
    ("es", _("Espagnol")),
    ("nl", _("Néerlandais")),
]
REASONS = [
    ("", _("— aucun —")),
    (ActivityKind.REQUEST.value, _("Demande d'information")),
    (ActivityKind.VISIT.value, _("Visite à l'accueil")),
    (ActivityKind.CALL.value, _("Appel téléphonique")),
]
# The fields the form hands to the intake, under the intake's names.
FIELDS = (
    "civility",
    "first_name",
    "last_name",
    "email",
    "phone",
    "postal_code",
    "city",
    "birth_date",
    "language",
    "card_number",
)


def may_enter_customers(user: User) -> bool:
    """Whether the desk page is for this user (no query: the links in the pages ask it)."""
    if user.is_superuser:
        return True
    partner = user.partner
    return partner is not None and partner.is_active and user.role in DESK_ROLES


def desk_partner(user: User) -> Partner | None:
    """The organisation a desk entry is recorded for, or None when the user may not enter
    customers (a DPO, a user without an active organisation)."""
    if user.is_superuser and user.partner is None:
        return Partner.objects.filter(kind=PartnerKind.HUB).first()
    if not may_enter_customers(user):
        return None
    return user.partner


def token_make(wordings: dict[str, int]) -> str:
    """Signed: a fresh nonce (one per page shown) and the wording versions shown."""
    value = {"n": secrets.token_hex(12), "w": wordings}
    return signing.TimestampSigner(salt=TOKEN_SALT).sign_object(value)


def token_read(token: str) -> tuple[str, dict[str, int]] | None:
    try:
        value = signing.TimestampSigner(salt=TOKEN_SALT).unsign_object(token, max_age=TOKEN_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("n"), str):
        return None
    wordings = value.get("w")
    if not isinstance(wordings, dict):
        return None
    return value["n"], {str(k): v for k, v in wordings.items() if isinstance(v, int)}


class _Text(forms.CharField):
    """Text as typed on one line: no control characters (HTML stays text, escaped when shown)."""

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value and _CONTROL.search(value):
            raise forms.ValidationError(_("Caractères de contrôle interdits."))
        return value


def _wordings_current(language: str) -> dict[str, ConsentWording]:
    found = {}
    purposes = Purpose.objects.filter(slug__in=DESK_CONSENTS, is_active=True)
    by_slug = {p.slug: p for p in purposes}
    for slug in DESK_CONSENTS:
        purpose = by_slug.get(slug)
        wording = current_wording(purpose, language) if purpose else None
        if wording is not None:
            found[slug] = wording
    return found


class DeskForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=1000)
    civility = forms.ChoiceField(
        label=_("Civilité"), choices=[("", "—"), *Civility.choices], required=False
    )
    first_name = _Text(
        label=_("Prénom"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    last_name = _Text(label=_("Nom"), max_length=100, required=False)
    email = _Text(label=_("E-mail"), max_length=254, required=False)
    phone = _Text(label=_("Téléphone"), max_length=40, required=False)
    postal_code = _Text(label=_("Code postal"), max_length=20, required=False)
    city = _Text(label=_("Ville"), max_length=100, required=False)
    birth_date = _Text(
        label=_("Date de naissance"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("jj/mm/aaaa")}),
    )
    language = forms.ChoiceField(label=_("Langue"), choices=LANGUAGES, initial="fr")
    card_number = _Text(label=_("Carte de fidélité (facultatif)"), max_length=40, required=False)
    reason = forms.ChoiceField(label=_("Motif de la visite"), choices=REASONS, required=False)
    note = _Text(label=_("Objet"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.nonce = ""
        self.wordings = self._wordings_shown()
        for slug, wording in self.wordings.items():
            self.fields[f"consent_{slug}"] = forms.BooleanField(
                label=wording.text, required=False, initial=False
            )
        if not self.is_bound:
            self.initial["token"] = token_make({s: w.pk for s, w in self.wordings.items()})
        self.normalised: dict[str, Any] = {}

    def _wordings_shown(self) -> dict[str, ConsentWording]:
        """On a POST, the versions the page showed (carried by the token): that is the proof."""
        read = token_read(str(self.data.get("token", ""))) if self.is_bound else None
        if read is None:
            return _wordings_current("fr")
        self.nonce, shown = read
        by_pk = ConsentWording.objects.select_related("purpose").in_bulk(shown.values())
        return {
            slug: by_pk[pk]
            for slug, pk in shown.items()
            if slug in DESK_CONSENTS and pk in by_pk and by_pk[pk].purpose.slug == slug
        }

    def identity_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in FIELDS]

    def consent_fields(self) -> list[forms.BoundField]:
        return [self[f"consent_{slug}"] for slug in self.wordings]

    def clean_token(self) -> str:
        token: str = self.cleaned_data["token"]
        if token_read(token) is None:
            raise forms.ValidationError(
                _("Ce formulaire a expiré : rechargez la page et recommencez.")
            )
        return token

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        typed = {name: cleaned.get(name) or "" for name in FIELDS}
        typed = {name: value for name, value in typed.items() if value}
        normalised = normalise_fields(typed)
        for name, message in normalised.warnings:
            if name == "card_number":  # the intake ignores it; here it is refused
                message = str(CARD_INVALID)
            if name in self.fields and name not in self.errors:
                self.add_error(name, message)
        if normalised.error and not self.errors:
            self.add_error(
                None,
                _(
                    "Saisissez au moins le nom, l'e-mail ou le téléphone : un prénom seul "
                    "ne permet pas de reconnaître la personne."
                ),  # fmt: skip
            )
        self.normalised = normalised.data
        self.typed = typed
        return cleaned

    def given_consents(self) -> dict[str, ConsentWording]:
        return {
            slug: wording
            for slug, wording in self.wordings.items()
            if self.cleaned_data.get(f"consent_{slug}")
        }


def suggestion_data(data: Any) -> dict[str, Any]:
    """What has been typed so far, normalised for the candidate search; bad values dropped."""
    typed = {}
    for name in FIELDS:
        value = data.get(name, "")
        if isinstance(value, str) and value.strip() and len(value) <= 254:
            typed[name] = _CONTROL.sub("", value)
    return normalise_fields(typed).data


@dataclass
class DeskResult:
    customer: Customer
    created: bool  # False for a repeated submission (a double click) or a known person
    repeated: bool


def desk_customer_create(
    *, form: DeskForm, partner: Partner, user: User, actor: Actor, ip: str | None = None
) -> DeskResult:
    """Store what the desk typed through the intake; log the visit and the consents given.

    A repeated submission of the same page (same nonce) stores nothing more.
    """
    now = dt.datetime.now(tz=dt.UTC)
    raw = dict(form.typed) | {"desk": form.nonce}
    record = IncomingRecord(raw=raw, data=dict(form.normalised), collected_at=now)
    try:
        with transaction.atomic():
            result = source_records_attach(
                partner=partner, channel=Channel.DESK, records=[record], arrival=actor
            )
    except (
        IntegrityError,
        DriverIntegrityError,
    ):  # the same page sent twice at the same instant: the other won
        result = None
    if result is None or not result.source_record_ids:
        stored = (
            SourceRecord.objects.select_related("customer")
            .filter(partner=partner, fingerprint=record.prepare().fingerprint)
            .first()
        )
        if stored is None or stored.customer is None:
            raise ValueError("desk entry neither stored nor found")
        return DeskResult(customer=stored.customer, created=False, repeated=True)
    customer_id = result.customer_ids[0]
    assert customer_id is not None
    customer = Customer.objects.get(pk=customer_id)
    source = SourceRecord.objects.get(pk=result.source_record_ids[0])
    created = customer.pk in set(result.new_customer_ids)
    data = form.cleaned_data
    with transaction.atomic():
        if data.get("reason"):
            kind = data["reason"]
            activity_record(
                customer=customer, partner=partner, actor=actor,
                channel=Channel.PHONE if kind == ActivityKind.CALL else Channel.DESK,
                fields={"kind": kind, "starts_on": dt.date.today(), "product": data.get("note") or ""},
                owner=user, ip=ip,
            )  # fmt: skip
        for _slug, wording in sorted(form.given_consents().items()):
            consent_record(
                customer=customer,
                purpose=wording.purpose,
                status=ConsentStatus.GRANTED,
                channel=ConsentChannel.DESK,
                actor=actor,
                wording=wording,
                source_record=source,
            )
    return DeskResult(customer=customer, created=created, repeated=False)
