"""Write paths for public form entries: submit, confirm by e-mail (double opt-in), resend, expire.

A newsletter sign-up keeps what was typed on the entry until the person clicks the link in the
confirmation e-mail: only then does it become a source record and the consent a granted one,
with the wording shown, the page and the time as proof (no IP address). A contest entry or a
questionnaire becomes a source record at once (taking part never waits for, nor depends on,
a marketing consent); the marketing boxes ticked on it wait for the same confirmation.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from cordee.channels.mail import confirmation_send
from cordee.channels.models import (
    EntryStatus,
    FormEntry,
    FormKind,
    PageView,
    PublicForm,
    VisitorLink,
)
from cordee.collect.intake import normalise_fields
from cordee.customers.incoming import IncomingRecord
from cordee.customers.models import Channel, SourceRecord
from cordee.customers.services import source_records_attach
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.crypto import email_index
from cordee.privacy.models import ConsentChannel, ConsentStatus, ConsentWording
from cordee.privacy.services import consent_record

logger = logging.getLogger(__name__)

CONFIRM_SALT = "cordee.channels.optin"
MAX_MAILS = 5
RESEND_GAP = dt.timedelta(minutes=1)
_CHANNELS = {
    FormKind.NEWSLETTER: (Channel.FORM, ConsentChannel.FORM),
    FormKind.CONTEST: (Channel.CONTEST, ConsentChannel.CONTEST),
    FormKind.QUESTIONNAIRE: (Channel.SURVEY, ConsentChannel.SURVEY),
}


def optin_max_age() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "CORDEE_OPTIN_DAYS", 7)))


def page_clean(url: str) -> str:
    """The page the form was shown on, without query string or fragment (they may hold data)."""
    parts = urlsplit(url.strip()[:2000])
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}"[:500]


def visitor_clean(value: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        return ""


def form_actor(form: PublicForm) -> Actor:
    return Actor.for_partner(form.partner, label=f"formulaire:{form.slug}"[:150])


@dataclass
class Submission:
    entry: FormEntry
    mail_sent: bool


def entry_submit(
    *,
    form: PublicForm,
    fields: dict[str, str],
    consents: dict[str, int],
    language: str,
    page: str = "",
    visitor: str = "",
    confirm_url: str,
) -> Submission:
    """Register what a visitor sent through a public form; mail the confirmation link if needed.

    ``confirm_url`` is the link's prefix: the signed token is appended to it.
    """
    now = timezone.now()
    needs_confirmation = bool(consents)
    kind = FormKind(form.kind)
    with transaction.atomic():
        entry = FormEntry(
            form=form,
            status=EntryStatus.PENDING if needs_confirmation else EntryStatus.RECEIVED,
            submitted_at=now,
            language=language,
            page=page_clean(page),
            email_hash=email_index(fields.get("email", "")),
            consents=consents,
            visitor=visitor_clean(visitor),
        )
        if kind == FormKind.NEWSLETTER:
            entry.pending_fields = fields
        else:
            _entry_store(entry, fields)
            if needs_confirmation:
                entry.pending_fields = {"email": fields["email"]}
        entry.save()
        audit_log(
            actor=form_actor(form),
            action="form.submit",
            obj=entry,
            form=form.slug,
            consents=sorted(consents),
        )
    sent = False
    if needs_confirmation:
        sent = _mail(entry, fields["email"], confirm_url)
    return Submission(entry=entry, mail_sent=sent)


def _entry_store(entry: FormEntry, fields: dict[str, str]) -> None:
    """The entry's answers as a source record of the form's partner, attached to a customer."""
    form = entry.form
    normalised = normalise_fields(fields)
    raw = dict(fields) | {"form": form.slug}
    record = IncomingRecord(raw=raw, data=normalised.data, collected_at=entry.submitted_at)
    channel, _consent_channel = _CHANNELS[FormKind(form.kind)]
    result = source_records_attach(
        partner=form.partner, channel=channel, records=[record], arrival=form_actor(form)
    )
    if result.source_record_ids:
        entry.source_record_id = result.source_record_ids[0]
        entry.customer_id = result.customer_ids[0]
    else:  # the same answers were received before: the entry joins that record
        stored = SourceRecord.objects.filter(
            partner=form.partner, fingerprint=record.fingerprint
        ).first()
        if stored is None:  # nothing identified the person: the e-mail is required
            raise ValueError("form entry without identity")
        entry.source_record = stored
        entry.customer_id = stored.customer_id
    _visitor_link(entry)  # the intake itself announces the customer (customers_changed)


def _visitor_link(entry: FormEntry) -> None:
    """Tie the anonymous visitor's page views to the customer, when the visitor accepted them."""
    from cordee.channels.models import CookieChoice

    if not entry.visitor or entry.customer_id is None:
        return
    latest = CookieChoice.objects.filter(visitor=entry.visitor).order_by("-at", "-pk").first()
    if latest is None or not latest.analytics:
        return
    VisitorLink.objects.get_or_create(
        visitor=entry.visitor,
        defaults={"customer_id": entry.customer_id, "linked_at": timezone.now()},
    )
    PageView.objects.filter(visitor=entry.visitor, customer__isnull=True).update(
        customer_id=entry.customer_id
    )


def confirm_token(entry: FormEntry) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(str(entry.pk))


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def entry_from_token(token: str) -> FormEntry:
    signer = signing.TimestampSigner(salt=CONFIRM_SALT)
    try:
        value = signer.unsign(token, max_age=optin_max_age())
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None
    entry = FormEntry.objects.select_related("form__partner").filter(pk=int(value)).first()
    if entry is None:
        raise LinkInvalid
    if entry.status == EntryStatus.EXPIRED:
        raise LinkExpired
    return entry


def entry_confirm(*, entry: FormEntry) -> FormEntry:
    """The person clicked the link: store the sign-up and record the consents as granted.

    Safe to call twice (a second click, a mail scanner): only the first claims the entry.
    """
    form = entry.form
    now = timezone.now()
    with transaction.atomic():
        claimed = FormEntry.objects.filter(pk=entry.pk, status=EntryStatus.PENDING).update(
            status=EntryStatus.CONFIRMED, confirmed_at=now
        )
        entry.refresh_from_db()
        if not claimed:
            return entry
        if entry.source_record is None:
            _entry_store(entry, entry.pending_fields or {})
        source = entry.source_record
        assert source is not None and source.customer is not None
        _kind_channel, consent_channel = _CHANNELS[FormKind(form.kind)]
        actor = form_actor(form)
        wordings = ConsentWording.objects.in_bulk(entry.consents.values())
        events = []
        for slug, wording_id in sorted(entry.consents.items()):
            events.append(
                consent_record(
                    customer=source.customer,
                    purpose=slug,
                    status=ConsentStatus.GRANTED,
                    channel=consent_channel,
                    actor=actor,
                    wording=wordings.get(wording_id),
                    source_record=source,
                    page=entry.page,
                )
            )
        entry.pending_fields = None
        entry.save(update_fields=["pending_fields", "source_record", "customer"])
        audit_log(actor=actor, action="form.confirm", obj=entry, form=form.slug)
    return entry


def entry_resend(*, form: PublicForm, email: str, confirm_url: str) -> bool:
    """Mail the link again for the latest pending sign-up with this address, within limits."""
    now = timezone.now()
    entry = (
        FormEntry.objects.filter(
            form=form, status=EntryStatus.PENDING, email_hash=email_index(email)
        )
        .order_by("-submitted_at")
        .first()
    )
    if entry is None or entry.mails_sent >= MAX_MAILS:
        return False
    if entry.last_mail_at and now - entry.last_mail_at < RESEND_GAP:
        return False
    address = (entry.pending_fields or {}).get("email")
    if not address:
        return False
    return _mail(entry, address, confirm_url)


def _mail(entry: FormEntry, address: str, confirm_url: str) -> bool:
    link = confirm_url + confirm_token(entry) + "/"
    try:
        confirmation_send(entry=entry, address=address, link=link)
    except OSError:
        # The SMTP server is down: the entry stays pending and "resend" can try again.
        logger.exception("confirmation mail for entry %s not sent", entry.pk)
        return False
    FormEntry.objects.filter(pk=entry.pk).update(
        mails_sent=entry.mails_sent + 1, last_mail_at=timezone.now()
    )
    return True


def entries_expire(*, now: dt.datetime | None = None) -> int:
    """Pending sign-ups whose last link has expired let go of what was typed. Idempotent."""
    limit = (now or timezone.now()) - optin_max_age()
    return FormEntry.objects.filter(status=EntryStatus.PENDING, last_mail_at__lt=limit).update(
        status=EntryStatus.EXPIRED, pending_fields=None
    ) + FormEntry.objects.filter(
        status=EntryStatus.PENDING, last_mail_at__isnull=True, submitted_at__lt=limit
    ).update(status=EntryStatus.EXPIRED, pending_fields=None)
