"""Write paths for consent (ARCHITECTURE.md rule 3): every channel records consent here.

Each write appends ConsentEvent rows (the proof, never changed), moves the ConsentState row
of each customer × purpose × controller forward when the new event is the latest, and leaves
an audit row, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.core.bulk import (
    allocate_ids,
    bulk_insert,
    chunked,
    copy_line,
    copy_lines,
    copy_value,
    hold_parents,
)
from cordee.core.signals import consent_changed
from cordee.customers.models import Customer, SourceRecord
from cordee.partners.models import Partner, PartnerKind
from cordee.privacy.access import SHARING_PURPOSE, Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.models import (
    ConsentChannel,
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    ConsentWording,
    ControllerKind,
    Purpose,
    WordingKind,
)
from cordee.privacy.queries import consent_state
from cordee.privacy.sharing import customers_sharing_sync

# (customer_id, purpose_id, controller_id, status, at, event_id)
StateRow = tuple[int, int, int, str, dt.datetime, int]
_BULK_CHUNK = 5_000
_STATE_COLUMNS = '"customer_id", "purpose_id", "controller_id", "status", "at", "event_id"'


def hub_partner() -> Partner:
    try:
        return Partner.objects.get(kind=PartnerKind.HUB)
    except Partner.DoesNotExist:
        raise ValidationError(
            _("Aucun office de tourisme n'est déclaré : il est responsable de cette finalité.")
        ) from None


def consent_controller(*, purpose: Purpose, collected_by: Partner | None) -> Partner:
    """To whom a consent collected by ``collected_by`` is given.

    The tourist office for its own purposes; otherwise the partner that collected it (a partner
    declares what its customer agreed to with it); the office when nobody else collected it.
    """
    if purpose.controller == ControllerKind.HUB or collected_by is None:
        return hub_partner()
    return collected_by


def current_wording(purpose: Purpose, language: str = "fr") -> ConsentWording | None:
    """The latest version of the text shown for ``purpose``, in ``language`` or else in French."""
    wordings = ConsentWording.objects.filter(purpose=purpose, kind=WordingKind.SHOWN)
    for lang in dict.fromkeys((language[:2] or "fr", "fr")):
        found = wordings.filter(language=lang).order_by("-version").first()
        if found is not None:
            return found
    return None


def _purpose(purpose: Purpose | str) -> Purpose:
    if isinstance(purpose, Purpose):
        return purpose
    try:
        return Purpose.objects.get(slug=purpose)
    except Purpose.DoesNotExist:
        raise ValidationError(_("Finalité inconnue : %(slug)s") % {"slug": purpose}) from None


def _check_choice(value: str, choices: Any, label: str) -> None:
    if value not in choices.values:
        raise ValidationError(_("%(label)s inconnu : %(value)s") % {"label": label, "value": value})


def consent_record(
    *,
    customer: Customer,
    purpose: Purpose | str,
    status: str,
    channel: str,
    actor: Actor,
    controller: Partner | None = None,
    wording: ConsentWording | None = None,
    source_record: SourceRecord | None = None,
    page: str = "",
) -> ConsentEvent:
    """Append what ``customer`` said about ``purpose`` to ``controller``, with its proof.

    ``controller`` defaults to the purpose's: the tourist office for its purposes, else the
    actor's organisation. ``wording`` defaults to the current version of the text shown for
    the purpose in the customer's language: pass the one really shown when it differs.
    """
    purpose = _purpose(purpose)
    _check_choice(status, ConsentStatus, _("Statut"))
    _check_choice(channel, ConsentChannel, _("Canal"))
    if status == ConsentStatus.GRANTED and not purpose.is_active:
        raise ValidationError(_("Cette finalité n'est plus active : on ne peut plus y consentir."))
    if wording is None:
        wording = current_wording(purpose, customer.language or "fr")
    elif wording.purpose_id != purpose.pk:
        raise ValidationError(_("Ce texte de consentement concerne une autre finalité."))
    if source_record is not None and source_record.customer_id != customer.pk:
        raise ValidationError(_("Cet enregistrement source appartient à un autre client."))
    collected_by = actor.partner
    if controller is None:
        controller = consent_controller(purpose=purpose, collected_by=collected_by)
    with transaction.atomic():
        # The event has no database constraint on its customer: hold the row instead.
        hold_parents(Customer, [customer.pk])
        event = ConsentEvent.objects.create(
            customer=customer,
            purpose=purpose,
            controller=controller,
            collected_by=collected_by,
            status=status,
            at=timezone.now(),
            channel=channel,
            recorded_by=actor.user,
            actor_label=actor.label[:150],
            wording=wording,
            page=page[:500],
            source_record=source_record,
        )
        _states_upsert([_state_row(event)])
        audit_log(
            actor=actor,
            action="consent.record",
            obj=customer,
            purpose=purpose.slug,
            status=status,
            channel=channel,
            controller=controller.slug,
            event=event.pk,
        )
        _announce([(customer.pk, purpose.slug, controller.pk, status)])
    return event


def _announce(changes: list[tuple[int, str, int, str]]) -> None:
    """Send ``consent_changed`` for each change once the transaction has committed."""

    def send() -> None:
        for customer_id, slug, controller_id, status in changes:
            consent_changed.send(
                sender=ConsentEvent,
                customer_id=customer_id,
                purpose=slug,
                controller_id=controller_id,
                status=status,
            )

    if changes:
        transaction.on_commit(send)


def consent_withdraw(
    *,
    customer: Customer,
    purpose: Purpose | str,
    channel: str,
    actor: Actor,
    controller: Partner | None = None,
    wording: ConsentWording | None = None,
    page: str = "",
) -> list[ConsentEvent]:
    """Withdraw a consent. Without ``controller``, from every controller it is granted to.

    One click in a message withdraws the purpose everywhere: the person does not know, and
    need not know, which partner's file first brought the "yes".
    """
    purpose = _purpose(purpose)
    with transaction.atomic():
        if controller is not None:
            controllers = [controller]
        else:
            current = consent_state(customer).get(purpose.slug, {})
            controllers = [
                e.controller for e in current.values() if e.status == ConsentStatus.GRANTED
            ]
        return [
            consent_record(
                customer=customer,
                purpose=purpose,
                status=ConsentStatus.WITHDRAWN,
                channel=channel,
                actor=actor,
                controller=c,
                wording=wording,
                page=page,
            )
            for c in controllers
        ]


@dataclass
class ConsentImportResult:
    events: int = 0
    granted: int = 0
    refused: int = 0
    already_recorded: int = 0
    # Grants a partner declared for someone who was erased: not recorded (see below).
    blocked_by_erasure: int = 0
    # Consent columns naming no known purpose: {slug: number of records}.
    unknown_purposes: dict[str, int] = field(default_factory=dict)


# (source record, customer, partner, collected at, consents, e-mail hash, phone hash)
SourceConsents = tuple[int, int | None, int, dt.datetime, Any, str, str]


def consents_record_from_sources(
    *, source_record_ids: Sequence[int], channel: str, actor: Actor
) -> ConsentImportResult:
    """Record the consents that source records carry (``data["consents"]``), set-based.

    ``true`` is a grant, ``false`` a refusal, a purpose absent from the record says nothing.
    The wording is the collecting partner's declaration: Cordée never saw what the person was
    shown. The controller is the tourist office for its purposes, the collecting partner for
    the others (ControllerKind.PARTNER and JOINT). Events are dated at the record's
    collection. Records already turned into events are skipped, so a resumed import may call
    this again for the same batch.

    A constant number of queries for up to 5,000 records (the import's batch): read the
    purposes, the declarations, the records and what was already recorded, then write.
    """
    _check_choice(channel, ConsentChannel, _("Canal"))
    ids = sorted(set(source_record_ids))
    if not ids:
        return ConsentImportResult()
    with transaction.atomic():
        records: list[SourceConsents] = []
        done: set[tuple[int, int]] = set()
        for part in chunked(ids, _BULK_CHUNK):
            records.extend(
                SourceRecord.objects.filter(pk__in=part).values_list(
                    "pk",
                    "customer_id",
                    "partner_id",
                    "collected_at",
                    "data__consents",
                    "email_hash",
                    "phone_hash",
                )
            )
            done.update(
                ConsentEvent.objects.filter(source_record_id__in=part).values_list(
                    "source_record_id", "purpose_id"
                )
            )
        hold_parents(Customer, [r[1] for r in records if r[1] is not None])
        return _consents_write(records, done, channel, actor, source_records=len(ids))


def consents_record_from_new_sources(
    *,
    records: Sequence[SourceConsents],
    channel: str,
    actor: Actor,
    new_customers: frozenset[int] | set[int] = frozenset(),
) -> ConsentImportResult:
    """What consents_record_from_sources does, for source records the caller has just written.

    For a bulk path (the import), in the transaction that wrote the records: it hands their
    consents over instead of having them read back, and as the records are new no event
    can exist for them yet. ``new_customers`` are customers created in the same
    transaction: they have no consent state yet, so theirs are inserted without a check.
    """
    _check_choice(channel, ConsentChannel, _("Canal"))
    if not records:
        return ConsentImportResult()
    with transaction.atomic():
        return _consents_write(
            records,
            set(),
            channel,
            actor,
            source_records=len(records),
            new_customers=new_customers,
            announce=False,
        )


def _consents_write(
    records: Sequence[SourceConsents],
    done: set[tuple[int, int]],
    channel: str,
    actor: Actor,
    *,
    source_records: int,
    new_customers: frozenset[int] | set[int] = frozenset(),
    announce: bool = True,
) -> ConsentImportResult:
    """Write the consent events (and states) the records declare.

    ``announce``: send ``consent_changed`` per event. The bulk import does not: it announces
    its batch's customers once, as changed (``customers_changed``).
    """
    result = ConsentImportResult()
    purposes = {p.slug: p for p in Purpose.objects.all()}
    declarations: dict[int, int] = {}
    for wording_id, purpose_id in (
        ConsentWording.objects.filter(kind=WordingKind.DECLARATION, language="fr")
        .order_by("purpose_id", "version")
        .values_list("pk", "purpose_id")
    ):
        declarations[purpose_id] = wording_id  # the highest version wins
    hub_id: int | None = None
    wanted: list[tuple[int, int, Purpose, int, dt.datetime, str]] = []
    # Plain strings, looked up once: the loops below run once per record.
    granted, refused = str(ConsentStatus.GRANTED), str(ConsentStatus.REFUSED)
    hub = str(ControllerKind.HUB)
    from cordee.privacy.erasure import erased_hashes

    # A partner's declared "yes" for a person who was erased (same keyed e-mail or phone hash
    # as an erasure tombstone) is not recorded: only a consent they give again themselves
    # (form, preference centre, desk) brings them back into marketing.
    erased = erased_hashes(
        email_hashes={r[5] for r in records}, phone_hashes={r[6] for r in records}
    )
    for record_id, customer_id, partner_id, collected_at, consents, eh, ph in records:
        if customer_id is None or not isinstance(consents, dict):
            continue
        for slug, given in consents.items():
            purpose = purposes.get(slug)
            if purpose is None:
                result.unknown_purposes[slug] = result.unknown_purposes.get(slug, 0) + 1
                continue
            if not isinstance(given, bool):
                continue
            if (record_id, purpose.id) in done:
                result.already_recorded += 1
                continue
            if given and erased and (eh in erased or ph in erased):
                result.blocked_by_erasure += 1
                continue
            status = granted if given else refused
            wanted.append((record_id, customer_id, purpose, partner_id, collected_at, status))
    hub_purposes = {p.pk for p in purposes.values() if p.controller == hub}
    if any(p.pk in hub_purposes for _r, _c, p, *_rest in wanted):
        hub_id = hub_partner().pk
    event_ids = allocate_ids(ConsentEvent, len(wanted))
    rows: list[tuple[Any, ...]] = []
    lines: list[str] = []
    states: list[StateRow] = []
    changes: list[tuple[int, str, int, str]] = []
    adapt = connection.ops.adapt_datetimefield_value
    recorded_by = actor.user.pk if actor.user else None
    label = actor.label[:150]
    # On PostgreSQL the events go to COPY as text, formatted here: the columns after "at"
    # are the same for every event of a purpose, and most events share their "at".
    as_text = connection.vendor == "postgresql"
    tails: dict[int, str] = {}
    at_texts: dict[dt.datetime, str] = {}
    for event_id, (record_id, customer_id, purpose, partner_id, at, status) in zip(
        event_ids, wanted, strict=True
    ):
        purpose_id = purpose.id  # the column, not the pk property: once per event
        controller_id = hub_id if purpose_id in hub_purposes else partner_id
        assert controller_id is not None
        if as_text:
            if (at_text := at_texts.get(at)) is None:
                at_text = at_texts[at] = copy_value(adapt(at))
            if (tail := tails.get(purpose_id)) is None:
                tail = tails[purpose_id] = copy_line(
                    (channel, recorded_by, label, declarations.get(purpose_id), "")
                )
            lines.append(
                f"{event_id}\t{customer_id}\t{purpose_id}\t{controller_id}\t{partner_id}\t"
                f"{copy_value(status)}\t{at_text}\t{tail}\t{copy_value(record_id)}\n"
            )
        else:
            rows.append(
                (
                    event_id,
                    customer_id,
                    purpose_id,
                    controller_id,
                    partner_id,
                    status,
                    adapt(at),
                    channel,
                    recorded_by,
                    label,
                    declarations.get(purpose_id),
                    "",
                    record_id,
                )
            )
        states.append((customer_id, purpose_id, controller_id, status, at, event_id))
        if announce:
            changes.append((customer_id, purpose.slug, controller_id, status))
        if status == granted:
            result.granted += 1
        else:
            result.refused += 1
    if as_text:
        copy_lines(ConsentEvent, _EVENT_FIELDS, lines)
    else:
        bulk_insert(ConsentEvent, _EVENT_FIELDS, rows)
    _states_upsert(states, new_customers=new_customers)
    result.events = len(wanted)
    _announce(changes)
    audit_log(
        actor=actor,
        action="consent.import",
        channel=channel,
        source_records=source_records,
        events=result.events,
        granted=result.granted,
        refused=result.refused,
        blocked_by_erasure=result.blocked_by_erasure,
        unknown_purposes=sorted(result.unknown_purposes),
    )
    return result


_EVENT_FIELDS = (
    "id",
    "customer",
    "purpose",
    "controller",
    "collected_by",
    "status",
    "at",
    "channel",
    "recorded_by",
    "actor_label",
    "wording",
    "page",
    "source_record",
)


def _state_row(event: ConsentEvent) -> StateRow:
    return (
        event.customer_id,
        event.purpose_id,
        event.controller_id,
        event.status,
        event.at,
        event.pk,
    )


def _states_upsert(
    rows: Sequence[StateRow], *, new_customers: frozenset[int] | set[int] = frozenset()
) -> None:
    """Write the states (``_states_write``), then the sharing flag of the customers whose
    ``partner_offers`` state may have moved (cordee.privacy.sharing).

    Those customers' rows are locked first: two writes for one customer at once (a "no" to
    the hotel while the office records a "yes") would each derive the flag from a snapshot
    without the other's state, and the last to commit would win. Locked, the second waits
    and derives from both.
    """
    sharing = Purpose.objects.filter(slug=SHARING_PURPOSE).values_list("pk", flat=True).first()
    touched = sorted({row[0] for row in rows if row[1] == sharing})
    for part in chunked(touched, _BULK_CHUNK):
        # In id order, as merges lock, so that two lockers never wait on each other.
        list(
            Customer.objects.select_for_update()
            .filter(pk__in=part)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    _states_write(rows, new_customers=new_customers)
    customers_sharing_sync(touched)


def _states_write(
    rows: Sequence[StateRow], *, new_customers: frozenset[int] | set[int] = frozenset()
) -> None:
    """Move each ConsentState forward to its new event, unless a later one is already there.

    Guarded by the event's (at, id) in the statement itself, so that an import of old records
    finishing after a withdrawal never brings a stale "granted" back. The states of
    ``new_customers`` (created in this transaction, so without any state yet) are plainly
    inserted.
    """
    latest: dict[tuple[int, int, int], StateRow] = {}
    for row in rows:
        key = row[:3]
        if key not in latest or (row[4], row[5]) > (latest[key][4], latest[key][5]):
            latest[key] = row
    if not latest:
        return
    if new_customers:
        fresh = [row for key, row in latest.items() if key[0] in new_customers]
        if fresh:
            fields = ("customer", "purpose", "controller", "status", "at", "event")
            adapt = connection.ops.adapt_datetimefield_value
            if connection.vendor == "postgresql":
                at_texts: dict[dt.datetime, str] = {}
                lines = []
                for c, p, ctl, s, at, e in fresh:
                    if (at_text := at_texts.get(at)) is None:
                        at_text = at_texts[at] = copy_value(adapt(at))
                    lines.append(f"{c}\t{p}\t{ctl}\t{copy_value(s)}\t{at_text}\t{e}\n")
                copy_lines(ConsentState, fields, lines)
            else:
                bulk_insert(
                    ConsentState,
                    fields,
                    [(c, p, ctl, s, adapt(at), e) for c, p, ctl, s, at, e in fresh],
                )
            latest = {key: row for key, row in latest.items() if key[0] not in new_customers}
            if not latest:
                return
    qn = connection.ops.quote_name
    table = qn(ConsentState._meta.db_table)
    columns = _STATE_COLUMNS
    tail = (
        'ON CONFLICT ("customer_id", "purpose_id", "controller_id") DO UPDATE SET '
        '"status" = excluded."status", "at" = excluded."at", "event_id" = excluded."event_id" '
        f'WHERE excluded."at" > {table}."at" '
        f'OR (excluded."at" = {table}."at" AND excluded."event_id" > {table}."event_id")'
    )
    values = [
        (c, p, ctl, s, connection.ops.adapt_datetimefield_value(at), e)
        for c, p, ctl, s, at, e in latest.values()
    ]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            sql = (
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest("  # noqa: S608
                f"%s::bigint[], %s::bigint[], %s::bigint[], %s::varchar[], "
                f"%s::timestamptz[], %s::bigint[]) {tail}"
            )
            cur.execute(sql, [list(col) for col in zip(*values, strict=True)])
            return
        for part in chunked(values, 4_000):
            slots = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(part))
            sql = f"INSERT INTO {table} ({columns}) VALUES {slots} {tail}"  # noqa: S608
            cur.execute(sql, [v for row in part for v in row])


def consent_states_rebuild(*, actor: Actor) -> int:
    """Recompute every ConsentState from the events (a repair; the services keep it current)."""
    events = ConsentEvent._meta.db_table
    states = ConsentState._meta.db_table
    with transaction.atomic():
        ConsentState.objects.all().delete()
        with connection.cursor() as cur:
            cur.execute(
                f'INSERT INTO "{states}" ({_STATE_COLUMNS}) '  # noqa: S608
                'SELECT e."customer_id", e."purpose_id", e."controller_id", e."status", e."at", e."id" '
                f'FROM "{events}" e WHERE NOT EXISTS (SELECT 1 FROM "{events}" l '
                'WHERE l."customer_id" = e."customer_id" AND l."purpose_id" = e."purpose_id" '
                'AND l."controller_id" = e."controller_id" '
                'AND (l."at" > e."at" OR (l."at" = e."at" AND l."id" > e."id")))'
            )
            count = cur.rowcount
        customers_sharing_sync()
        audit_log(actor=actor, action="consent.states_rebuild", states=count)
    return count
