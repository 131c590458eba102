"""``Idempotency-Key`` on POST: a retried request gets the first answer again, not a second write.

The key is scoped to the API key. The same key with the same request (method, path and JSON,
whatever its spacing or key order) replays the stored answer for 24 hours; with another
request it is a 409. The claim, the write and the stored answer share one transaction: a
concurrent retry waits for the first to commit, then replays it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.api.errors import APIError
from cordee.api.models import IdempotentRequest
from cordee.partners.models import APIKey

KEEP = dt.timedelta(hours=24)
HEADER = "Idempotency-Key"
VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_PURGE_EVERY = 600  # seconds, per server process


def request_hash(request: HttpRequest, data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    text = f"{request.method} {request.path}\n{canonical}"
    return hashlib.sha256(text.encode()).hexdigest()


def purge_expired() -> int:
    """Forget answers older than 24 hours (they may hold a customer's data)."""
    deleted, _detail = IdempotentRequest.objects.filter(
        created_at__lt=timezone.now() - KEEP
    ).delete()
    return deleted


def _replay(stored: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        stored.body, status=stored.status, content_type="application/json; charset=utf-8"
    )
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(
    request: HttpRequest, key: APIKey, data: Any, produce: Callable[[], HttpResponse]
) -> HttpResponse:
    """Run ``produce`` once per idempotency key; replay its answer on a retry."""
    token = request.headers.get(HEADER)
    if token is None:
        return produce()
    if not VALID_KEY.match(token):
        raise APIError(
            422,
            _("En-tête Idempotency-Key invalide : 1 à 255 caractères ASCII visibles."),
        )
    if cache.add("cordee:idempotency-purge", 1, timeout=_PURGE_EVERY):
        purge_expired()
    digest = request_hash(request, data)
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = IdempotentRequest.objects.create(
                    api_key=key, key=token, request_hash=digest, status=0, body="", created_at=now
                )
        except IntegrityError:
            stored = IdempotentRequest.objects.filter(api_key=key, key=token).first()
            if stored is None or stored.status == 0:
                raise APIError(
                    409, _("Une requête avec cette clé d'idempotence est en cours.")
                ) from None
            if stored.created_at < now - KEEP:
                stored.delete()  # expired: this key starts afresh
                return idempotent(request, key, data, produce)
            if stored.request_hash != digest:
                raise APIError(
                    409,
                    _(
                        "Cette clé d'idempotence a déjà servi pour une autre requête : "
                        "utilisez une nouvelle clé pour une requête différente."
                    ),
                ) from None
            return _replay(stored)
        response = produce()
        claim.status = response.status_code
        claim.body = response.content.decode()
        claim.save(update_fields=["status", "body"])
    return response
