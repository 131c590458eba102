"""What an activity's fields may hold, read leniently from a file cell, an API body or a form.

Each channel hands the same raw values to :func:`activity_values`: text or numbers, in
French or English ("Séjour", "stay"; "1 234,50 €"; "14/02/2026"). The answer is the clean
values or, per field, a French reason the value was refused.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

from cordee.activities.models import ActivityKind
from cordee.collect import normalise as norm
from cordee.collect.columns import fold
from cordee.collect.intake import clean_text

MAX_AMOUNT = Decimal("9999999999.99")
_CENT = Decimal("0.01")
MAX_QUANTITY = 1_000_000
MAX_DETAILS_CHARS = 10_000
EARLIEST = dt.date(1950, 1, 1)
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
_CURRENCY = re.compile(r"[A-Z]{3}")
_PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,10}(?:\.[0-9]{1,2})?")
_FRENCH_AMOUNT = re.compile(r"-?[0-9]{1,10},[0-9]{1,2}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AMOUNT_NOISE = re.compile(r"[\s\u00a0\u202f€$£]|EUR|CHF|USD|GBP", re.IGNORECASE)

# Folded words (see collect.columns.fold) that name each kind, in French and English.
_KIND_WORDS: dict[ActivityKind, tuple[str, ...]] = {
    ActivityKind.STAY: (
        "sejour", "stay", "hebergement", "nuitee", "nuitees", "reservation", "booking",
        "accommodation", "location hebergement",
    ),
    ActivityKind.VISIT: ("visite", "visit", "passage", "entree"),
    ActivityKind.PURCHASE: ("achat", "purchase", "vente", "sale", "commande", "order"),
    ActivityKind.TICKET: (
        "billet", "ticket", "forfait", "forfait ski", "lift pass", "skipass", "ski pass",
        "remontees", "passage remontee", "scan", "billetterie",
    ),
    ActivityKind.LESSON: ("cours", "lesson", "lecon", "cours de ski", "ski lesson", "stage"),
    ActivityKind.RENTAL: ("location", "rental", "location materiel", "hire"),
    ActivityKind.MEAL: ("repas", "meal", "restaurant", "diner", "dejeuner"),
    ActivityKind.REQUEST: (
        "demande", "request", "demande d information", "information", "renseignement",
    ),
    ActivityKind.COMPLAINT: ("reclamation", "complaint", "plainte"),
    ActivityKind.RECOMMENDATION: ("recommandation", "recommendation", "avis", "parrainage"),
    ActivityKind.CALL: ("appel", "call", "telephone", "appel telephonique", "phone call"),
    ActivityKind.MEETING: ("rendez vous", "rdv", "meeting", "rencontre"),
    ActivityKind.FOLLOW_UP: ("relance", "follow up", "followup", "rappel"),
    ActivityKind.SURVEY: ("questionnaire", "survey", "enquete"),
}  # fmt: skip
# Plain str values, never the TextChoices members: a member is a str subclass, which the
# COPY formatting takes the slow way and pickling to and from worker processes carries whole.
KIND_LOOKUP = {
    fold(word): str(kind.value) for kind, words in _KIND_WORDS.items() for word in words
} | {kind.value: kind.value for kind in ActivityKind}
KIND_LOOKUP |= {fold(str(kind.label)): kind.value for kind in ActivityKind}
_KIND_VALUES = frozenset(ActivityKind.values)

_PAYMENT_WORDS = {
    "cb": "Carte bancaire", "carte": "Carte bancaire", "carte bancaire": "Carte bancaire",
    "card": "Carte bancaire", "credit card": "Carte bancaire", "visa": "Carte bancaire",
    "mastercard": "Carte bancaire", "especes": "Espèces", "cash": "Espèces",
    "liquide": "Espèces", "cheque": "Chèque", "check": "Chèque", "virement": "Virement",
    "transfer": "Virement", "bank transfer": "Virement", "ancv": "Chèques-vacances",
    "cheques vacances": "Chèques-vacances", "cheque vacances": "Chèques-vacances",
    "paypal": "PayPal", "en ligne": "Paiement en ligne", "online": "Paiement en ligne",
}  # fmt: skip


@dataclass
class Cleaned:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # field -> French reason

    @property
    def ok(self) -> bool:
        return not self.errors

    def message(self) -> str:
        return " ; ".join(f"{LABELS.get(f, f)} : {m}" for f, m in self.errors.items())


LABELS = {
    "kind": _("type"),
    "starts_on": _("date"),
    "ends_on": _("date de fin"),
    "amount": _("montant"),
    "currency": _("devise"),
    "quantity": _("quantité"),
    "payment_means": _("moyen de paiement"),
    "product": _("produit"),
    "satisfaction": _("satisfaction"),
    "external_id": _("référence"),
    "details": _("détails"),
    "due_on": _("échéance"),
}


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        raise ValueError(_("texte attendu"))
    text = raw if raw.__class__ is str else str(raw)
    if "\x00" in text or (not text.isascii() and _UNSTORABLE.search(text)):
        raise ValueError(_("caractère interdit (NUL ou caractère Unicode isolé)"))
    return text.strip()


@lru_cache(maxsize=4096)
def _folded_kind(text: str) -> str | None:
    # Files repeat the same few words ("Séjour", "Forfait"): fold each once.
    return KIND_LOOKUP.get(fold(text)[:60])


# Texts already read as a kind ("Séjour", "Forfait"): a file repeats a few words.
_KINDS_SEEN: dict[str, str] = {}


def kind_of(raw: Any) -> str:
    if raw.__class__ is str:
        if raw in _KIND_VALUES:  # the usual case from the API: the code itself
            return raw
        seen = _KINDS_SEEN.get(raw)
        if seen is not None:
            return seen
    text = _text(raw)
    if not text:
        raise ValueError(_("type obligatoire"))
    kind = KIND_LOOKUP.get(text) or _folded_kind(text)
    if kind is None:
        raise ValueError(
            _("type inconnu : « %(value)s » (séjour, visite, achat, forfait, cours…)")
            % {"value": text[:40]}
        )
    if raw.__class__ is str and len(_KINDS_SEEN) < 4096:
        _KINDS_SEEN[raw] = kind
    return kind


@lru_cache(maxsize=8192)
def _lenient_date(text: str) -> dt.date | None:
    # A file's dates repeat (a season has ~150 days): parse each text once.
    return norm.date(text)


# Texts already read as a date within the limits (the latest allowed date only moves later,
# so a date once accepted stays accepted): a bulk call or a file repeats its dates.
_DAYS: dict[str, dt.date] = {}
_DAYS_MAX = 20_000


def date_of(raw: Any, *, today: dt.date | None = None) -> dt.date | None:
    if today is None and raw.__class__ is str:
        known = _DAYS.get(raw)
        if known is not None:
            return known
        day = _date_text(raw, None)
        if day is not None and "\x00" not in raw:
            if len(_DAYS) >= _DAYS_MAX:
                _DAYS.clear()
            _DAYS[raw] = day
        return day
    return _date_text(raw, today)


def _date_text(raw: Any, today: dt.date | None) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        day = raw
    else:
        text = _text(raw)
        if not text:
            return None
        if _ISO_DATE.fullmatch(text):  # the common case: no need for the lenient reader
            try:
                parsed: dt.date | None = dt.date.fromisoformat(text)
            except ValueError:
                parsed = None
            if parsed is not None:
                return _in_range(parsed, today)
        try:
            parsed = _lenient_date(text)
        except norm.InvalidValue as exc:
            raise ValueError(str(exc.message)) from None
        if parsed is None:
            return None
        day = parsed
    return _in_range(day, today)


def _in_range(day: dt.date, today: dt.date | None) -> dt.date:
    latest = (today or _today()) + dt.timedelta(days=5 * 366)
    if not EARLIEST <= day <= latest:
        raise ValueError(_("date hors limites : %(day)s") % {"day": day.isoformat()})
    return day


def _today() -> dt.date:
    # date.today() reads the clock and the time zone each call: once a minute is plenty.
    minute = int(time.time() // 60)
    if _TODAY[0] != minute:
        _TODAY[0], _TODAY[1] = minute, dt.date.today()
    return _TODAY[1]  # type: ignore[return-value]


_TODAY: list[object] = [None, None]


def amount_of(raw: Any) -> Decimal | None:
    if raw.__class__ is str:
        if _PLAIN_AMOUNT.fullmatch(raw):  # from an API: "42.00"
            return _plain_amount(raw)
        if _FRENCH_AMOUNT.fullmatch(raw):  # from a French file: "42,50"
            return Decimal(raw.replace(",", ".")).quantize(_CENT)
    if isinstance(raw, bool):
        raise ValueError(_("montant illisible"))
    text = str(raw) if isinstance(raw, int | float | Decimal) else _text(raw)
    if not text:
        return None
    if _PLAIN_AMOUNT.fullmatch(text):  # the common case, from an API: "42.00"
        return _plain_amount(text)
    if _FRENCH_AMOUNT.fullmatch(text):  # the common case, from a French file: "42,50"
        return Decimal(text.replace(",", ".")).quantize(_CENT)
    compact = _AMOUNT_NOISE.sub("", text)
    if compact.count(",") == 1 and "." in compact:  # 1.234,50 or 1,234.50
        if compact.rfind(",") > compact.rfind("."):
            compact = compact.replace(".", "").replace(",", ".")
        else:
            compact = compact.replace(",", "")
    else:
        compact = compact.replace(",", ".")
    try:
        value = Decimal(compact)
    except InvalidOperation:
        raise ValueError(_("montant illisible : « %(value)s »") % {"value": text[:40]}) from None
    if not value.is_finite() or abs(value) > MAX_AMOUNT:
        raise ValueError(_("montant hors limites : « %(value)s »") % {"value": text[:40]})
    return value.quantize(_CENT)


@lru_cache(maxsize=8192)
def _plain_amount(text: str) -> Decimal:
    # Prices repeat (a bulk call of tickets at one price): a Decimal is immutable.
    return Decimal(text).quantize(_CENT)


def quantity_of(raw: Any) -> int | None:
    if raw.__class__ is str and len(raw) <= 7 and raw.isascii() and raw.isdigit():
        value = int(raw)  # the usual case: "2"
        if value <= MAX_QUANTITY:
            return value
    if isinstance(raw, bool):
        raise ValueError(_("nombre entier attendu"))
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = _text(raw)
    if not text:
        return None
    if text.endswith((".0", ",0")):
        text = text[:-2]
    if not text.isdigit() or len(text) > 9:
        raise ValueError(_("nombre entier positif attendu : « %(value)s »") % {"value": text[:40]})
    value = int(text)
    if value > MAX_QUANTITY:
        raise ValueError(_("quantité trop grande (%(max)s au plus)") % {"max": MAX_QUANTITY})
    return value


def satisfaction_of(raw: Any) -> int | None:
    value = quantity_of(raw)
    if value is not None and value > 10:
        raise ValueError(_("note de 0 à 10 attendue"))
    return value


def currency_of(raw: Any) -> str:
    text = _text(raw).upper()
    if not text or text in {"€", "EURO", "EUROS"}:
        return "EUR"
    if not _CURRENCY.fullmatch(text):
        raise ValueError(_("code de devise à trois lettres attendu (EUR, CHF…)"))
    return text


def payment_of(raw: Any) -> str:
    text = clean_text(_text(raw), 200)
    if not text:
        return ""
    return _PAYMENT_WORDS.get(fold(text), text[:30])


def details_of(raw: Any) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, dict):
        raise ValueError(_("objet JSON attendu"))
    try:
        text = json.dumps(raw, ensure_ascii=False)
    except (TypeError, ValueError):
        raise ValueError(_("objet JSON attendu")) from None
    if len(text) > MAX_DETAILS_CHARS:
        raise ValueError(
            _("détails trop longs (%(max)s caractères au plus)") % {"max": MAX_DETAILS_CHARS}
        )
    # json.dumps writes NUL as \u0000, which PostgreSQL's jsonb refuses all the same.
    if _UNSTORABLE.search(text) or "\\u0000" in text:
        raise ValueError(_("caractère interdit (NUL ou caractère Unicode isolé)"))
    return raw


_READERS: tuple[tuple[str, Any], ...] = (
    ("starts_on", date_of),
    ("ends_on", date_of),
    ("due_on", date_of),
    ("amount", amount_of),
    ("currency", currency_of),
    ("quantity", quantity_of),
    ("payment_means", payment_of),
    ("satisfaction", satisfaction_of),
    ("details", details_of),
)


def activity_values(raw: dict[str, Any], *, default_kind: str | None = None) -> Cleaned:
    """Clean the fields of one activity; unknown names are ignored by the caller, not here."""
    out = Cleaned()
    try:
        kind_raw = raw.get("kind")
        if (kind_raw is None or kind_raw == "") and default_kind:
            out.values["kind"] = default_kind
        else:
            out.values["kind"] = kind_of(kind_raw)
    except ValueError as exc:
        out.errors["kind"] = str(exc)
    for name, reader in _READERS:
        if name in raw:
            try:
                out.values[name] = reader(raw[name])
            except ValueError as exc:
                out.errors[name] = str(exc)
    for name, limit in (("product", 200), ("external_id", 100)):
        value = raw.get(name)
        if value is None:
            text = ""
        elif (
            value.__class__ is str and value.isascii() and value.isprintable() and "  " not in value
        ):
            text = value.strip()  # nothing to remove or fold (clean_text's own quick case)
        else:
            try:
                text = clean_text(_text(value), 10_000)
            except ValueError as exc:
                out.errors[name] = str(exc)
                continue
        if len(text) > limit:
            out.errors[name] = _("texte trop long (%(max)s caractères au plus)") % {"max": limit}
        else:
            out.values[name] = text
    if out.values.get("starts_on") is None and "starts_on" not in out.errors:
        out.errors["starts_on"] = _("date obligatoire")
    start, end = out.values.get("starts_on"), out.values.get("ends_on")
    if start and end and end < start:
        out.errors["ends_on"] = _("la date de fin précède la date de début")
    out.values.setdefault("currency", "EUR")
    return out
