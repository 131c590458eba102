"""What every API request goes through before django-ninja sees it.

The body is refused before it is read when it is too big (413), of the wrong type (415),
not JSON or absurdly nested (400); the parsed JSON is kept on the request so that ninja's
parser does not parse it twice. The API authenticates with its own keys, so its views are
exempt from the login wall (LoginRequiredMiddleware) and from CSRF (no cookie is trusted).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja.parser import Parser

from cordee.api.errors import json_error

DEFAULT_MAX_BODY = 1024 * 1024
MAX_DEPTH = 8
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_PARSED = "_cordee_json"
REPEATED = "_cordee_repeated_parameters"


DEFAULT_MAX_BULK_BODY = 16 * 1024 * 1024
# Bulk endpoints that take many small records in one call get a larger body.
BULK_PATHS = frozenset({"/api/v1/activities/bulk"})


def max_body(path: str = "") -> int:
    if path in BULK_PATHS:
        return int(getattr(settings, "CORDEE_API_MAX_BULK_BODY", DEFAULT_MAX_BULK_BODY))
    return int(getattr(settings, "CORDEE_API_MAX_BODY", DEFAULT_MAX_BODY))


# A segment definition nests groups (each a JSON object and a list): its own checker refuses
# what is too deep with a clearer message, within this bound.
SEGMENT_MAX_DEPTH = 40


def max_depth(path: str = "") -> int:
    return SEGMENT_MAX_DEPTH if path.startswith("/api/v1/segments") else MAX_DEPTH


def _too_deep(value: Any, limit: int) -> bool:
    """Whether any value lies deeper than ``limit`` (the body itself is at depth 1).

    Only containers are walked: a bulk body holds tens of thousands of plain values."""
    if limit < 1:
        return True
    if not (value.__class__ is dict or value.__class__ is list):
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if item.__class__ is dict else item
        if not children:
            continue
        if depth >= limit:  # its children would lie at depth + 1
            return True
        stack.extend(
            (child, depth + 1)
            for child in children
            if child.__class__ is dict or child.__class__ is list
        )
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json(request: HttpRequest) -> HttpResponse | None:
    """Check and parse a request's JSON body; an error response, or None when it is fine."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return json_error(400, _("En-tête Content-Length invalide."))
    limit = max_body(request.path)
    if length > limit:
        return json_error(
            413,
            _("Corps de la requête trop gros : %(size)s octets au plus.") % {"size": limit},
        )
    if length == 0:
        return None  # nothing to parse: ninja reports the missing fields
    content_type = request.content_type or ""
    if content_type != "application/json" and not content_type.endswith("+json"):
        return json_error(
            415, _("Type de contenu non pris en charge : envoyez du JSON (application/json).")
        )
    try:
        body = request.body
    except RawPostDataException:
        return json_error(400, _("Corps de la requête illisible."))
    if len(body) > limit:  # a body longer than it said
        return json_error(
            413, _("Corps de la requête trop gros : %(size)s octets au plus.") % {"size": limit}
        )
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        return json_error(400, _("JSON trop imbriqué."))
    except (ValueError, UnicodeDecodeError) as exc:
        return json_error(400, _("JSON invalide : %(error)s") % {"error": str(exc)[:200]})
    if _too_deep(data, max_depth(request.path)):
        return json_error(400, _("JSON trop imbriqué."))
    setattr(request, _PARSED, data)
    return None


def api_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap one of ninja's URL views: body checks first, JSON for Django's own error answers."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method in _BODY_METHODS:
            refused = read_json(request)
            if refused is not None:
                return refused
        try:
            response = view(request, *args, **kwargs)
        except Http404:  # ninja's root address: it only exists to be reversed
            return not_found(request)
        if response.status_code in (404, 405) and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            # ninja's own answers for an unknown method or its root address are HTML.
            if response.status_code == 404:
                return not_found(request)
            return json_error(405, _("Méthode non autorisée ici."), Allow=response.get("Allow", ""))
        return response

    cast(Any, wrapped).csrf_exempt = True
    return login_not_required(wrapped)


@login_not_required
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other address under /api/v1/: JSON, like every other answer of the API."""
    return json_error(
        404,
        _("Adresse inconnue dans l'API : %(path)s (voir la documentation : %(docs)s)")
        % {"path": request.path, "docs": "/api/v1/docs"},
    )


cast(Any, not_found).csrf_exempt = True


class CheckedJSONParser(Parser):
    """Returns the JSON that :func:`read_json` already parsed and checked.

    A query parameter given twice (``?email=a&email=b``) is passed on as a list when the
    operation expects one value, so that it is refused (422) instead of the last one silently
    winning.
    """

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        repeated = []
        for key, values in data.lists():
            if key in list_fields:
                result[key] = values
            elif len(values) > 1:
                result[key] = values
                repeated.append(key)
            else:
                result[key] = values[0]
        if repeated:
            setattr(request, REPEATED, frozenset(repeated))  # named in the 422 (errors)
        return result

    def parse_body(self, request: HttpRequest) -> Any:
        if hasattr(request, _PARSED):
            return getattr(request, _PARSED)
        return json.loads(request.body)
