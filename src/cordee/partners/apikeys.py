"""API keys: created for a partner with scopes, shown once, stored as a keyed hash, revocable.

A key reads ``cdk_<prefix>_<secret>``. The prefix is public (it names the key in lists, logs and
the audit trail); the secret is 256 random bits of which only a keyed BLAKE2b hash is kept, with
the index key that lives outside the database (cordee.privacy.crypto).
"""

from __future__ import annotations

import copy
import datetime as dt
import hmac
import secrets
import threading
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.core.prepared import prepared_cursor
from cordee.partners.models import APIKey, Partner
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.privacy.crypto import blind_index

SCOPES = (
    "customers:read",
    "customers:write",
    "activities:read",
    "activities:write",
    "consents:read",
    "consents:write",
    "segments:read",
    "segments:write",
)
DEFAULT_SCOPES = SCOPES
KEY_PREFIX = "cdk"
# last_used_at is written at most once a minute per key: a busy till must not write on every call.
_TOUCH_EVERY = dt.timedelta(minutes=1)


def _hash(secret: str) -> str:
    return blind_index("apikey", secret)


def parse_scopes(text: str) -> list[str]:
    """``customers:read,customers:write`` → the list, refusing unknown scopes with a French message."""
    scopes = []
    for part in text.split(","):
        scope = part.strip()
        if not scope:
            continue
        if scope not in SCOPES:
            raise ValidationError(
                _("Droit inconnu : « %(scope)s ». Droits possibles : %(scopes)s.")
                % {"scope": scope, "scopes": ", ".join(SCOPES)}
            )
        if scope not in scopes:
            scopes.append(scope)
    if not scopes:
        raise ValidationError(_("Indiquez au moins un droit."))
    return scopes


def api_key_create(
    *, partner: Partner, scopes: list[str], actor: Actor, name: str = ""
) -> tuple[APIKey, str]:
    """Create a key; returns it with the full key text, which is never shown again."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValidationError(
            _("Droits invalides : %(scopes)s. Droits possibles : %(known)s.")
            % {"scopes": ", ".join(unknown) or "—", "known": ", ".join(SCOPES)}
        )
    if not partner.is_active:
        raise ValidationError(_("Le partenaire « %(name)s » est inactif.") % {"name": partner.name})
    for _attempt in range(5):
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        key = APIKey(
            partner=partner,
            name=name.strip()[:100],
            prefix=prefix,
            key_hash=_hash(secret),
            scopes=list(dict.fromkeys(scopes)),
            created_by=actor.user,
            created_by_label=actor.label[:150],
        )
        try:
            with transaction.atomic():
                key.save()
                audit_log(
                    actor=actor, action="apikey.create", obj=key, prefix=prefix, scopes=key.scopes
                )
        except IntegrityError:
            continue  # the same 32-bit prefix drawn twice: draw again
        return key, f"{KEY_PREFIX}_{prefix}_{secret}"
    raise RuntimeError("could not draw a free API key prefix")


def api_key_revoke(*, key: APIKey, actor: Actor) -> APIKey:
    with transaction.atomic():
        changed = APIKey.objects.filter(pk=key.pk, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        if changed:
            audit_log(actor=actor, action="apikey.revoke", obj=key, prefix=key.prefix)
    key.refresh_from_db()
    return key


# prefix -> (the key's and its partner's columns as last read, the objects built from them).
_KNOWN: dict[str, tuple[tuple[Any, ...], APIKey]] = {}
_KNOWN_MAX = 10_000
_known_lock = threading.Lock()


_KEY_SQL: list[str] = []


def _key_sql() -> str:
    """Every column of the key and of its partner, named (a prepared ``SELECT *`` would
    break when a migration adds a column while the server runs)."""
    if not _KEY_SQL:
        qn = connection.ops.quote_name
        columns = [f"k.{qn(str(f.column))}" for f in APIKey._meta.concrete_fields] + [
            f"p.{qn(str(f.column))}" for f in Partner._meta.concrete_fields
        ]
        _KEY_SQL.append(
            f"SELECT {', '.join(columns)} FROM {qn(APIKey._meta.db_table)} k "  # noqa: S608
            f"JOIN {qn(Partner._meta.db_table)} p ON p.id = k.partner_id WHERE k.prefix = %s"
        )
    return _KEY_SQL[0]


def _key_by_prefix(prefix: str) -> APIKey | None:
    """The key and its partner, read on every call, but built by the ORM only when changed.

    Every API request authenticates: one plain statement (prepared) reads every column of
    the key and of its partner; when they are what they were, the objects built from them last time are
    reused (a copy), else the ORM reads them again. A revoked key, a partner made inactive
    or renamed is seen on the very next request, in every server process.
    """
    with prepared_cursor() as cur:
        cur.execute(_key_sql(), [prefix])
        row = cur.fetchone()
    if row is None:
        return None
    row = tuple(row)
    known = _KNOWN.get(prefix)
    if known is not None and known[0] == row:
        return copy.copy(known[1])
    key = APIKey.objects.select_related("partner").filter(prefix=prefix).first()
    if key is None:
        return None
    with _known_lock:
        if len(_KNOWN) >= _KNOWN_MAX:
            _KNOWN.clear()
        _KNOWN[prefix] = (row, key)
    return copy.copy(key)


def api_key_for_token(token: str) -> APIKey | None:
    """The active key this token is, or None (wrong format, unknown, revoked, partner inactive)."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) > 16 or len(secret) > 100:
        return None
    key = _key_by_prefix(prefix)
    if key is None or not hmac.compare_digest(key.key_hash, _hash(secret)):
        return None
    if not key.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= _TOUCH_EVERY:
        # A conditional UPDATE: concurrent requests write it once.
        APIKey.objects.filter(
            Q(last_used_at=None) | Q(last_used_at__lte=now - _TOUCH_EVERY), pk=key.pk
        ).update(last_used_at=now)
    return key
