"""Bearer API keys: the key's partner is the actor, its scopes decide what it may call."""

from __future__ import annotations

import math

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import Throttled
from ninja.security import HttpBearer

from cordee.api import ratelimit
from cordee.api.errors import APIError
from cordee.partners.apikeys import api_key_for_token
from cordee.partners.models import APIKey
from cordee.privacy.access import Actor


class KeyRequest(HttpRequest):
    """A request as an authenticated endpoint sees it (for the type checker)."""

    auth: APIKey


class BearerKey(HttpBearer):
    """``Authorization: Bearer cdk_…``: 401 when the key is wrong, 429 over the rate, 403 without the scope."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> APIKey | None:
        key = api_key_for_token(token)
        if key is None:
            return None
        wait = ratelimit.hit(f"key:{key.pk}")
        if wait is not None:
            raise Throttled(wait=math.ceil(wait))
        if not key.has_scope(self.scope):
            raise APIError(
                403,
                _("Cette clé n'a pas le droit « %(scope)s ».") % {"scope": self.scope},
            )
        return key


def actor_of(request: KeyRequest) -> Actor:
    key = request.auth
    return Actor.for_partner(key.partner, label=f"api:{key.prefix}")


read_key = BearerKey("customers:read")
write_key = BearerKey("customers:write")
