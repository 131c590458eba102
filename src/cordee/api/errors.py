"""Every error the API gives is JSON ``{"detail": ..., "errors": [...]}`` with a French message."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)


class ErrorItem(Schema):
    loc: list[str | int] = []
    msg: str
    type: str = ""


class Error(Schema):
    detail: str
    errors: list[ErrorItem] = []


class APIError(HttpError):
    """An error with a status, a French message and optional per-field errors."""

    def __init__(
        self, status_code: int, detail: str, errors: Sequence[dict[str, Any]] = ()
    ) -> None:
        super().__init__(status_code, detail)
        self.errors = list(errors)


def json_error(
    status: int, detail: str, errors: Sequence[dict[str, Any]] = (), **headers: str
) -> HttpResponse:
    body = json.dumps({"detail": detail, "errors": list(errors)}, ensure_ascii=False)
    response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _french(error: dict[str, Any]) -> str:
    """pydantic's English message in French for the kinds of error a client will meet."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    messages = {
        "missing": _("Champ obligatoire."),
        "extra_forbidden": _("Champ inconnu (voir la liste des champs dans la documentation)."),
        "string_type": _("Texte attendu."),
        "string_too_long": _("Texte trop long (%(max)s caractères au plus).")
        % {"max": ctx.get("max_length")},
        "string_too_short": _("Texte vide."),
        "too_long": _("Trop d'éléments (%(max)s au plus).") % {"max": ctx.get("max_length")},
        "too_short": _("Au moins %(min)s élément(s).") % {"min": ctx.get("min_length")},
        "string_pattern_mismatch": _("Format invalide."),
        "string_unicode": _("Texte Unicode invalide."),
        "bool_type": _("Vrai ou faux attendu (true ou false)."),
        "bool_parsing": _("Vrai ou faux attendu (true ou false)."),
        "int_type": _("Nombre entier attendu."),
        "int_parsing": _("Nombre entier attendu."),
        "int_from_float": _("Nombre entier attendu."),
        "greater_than_equal": _("Valeur trop petite (au moins %(ge)s).") % {"ge": ctx.get("ge")},
        "less_than_equal": _("Valeur trop grande (au plus %(le)s).") % {"le": ctx.get("le")},
        "dict_type": _("Objet JSON attendu."),
        "model_type": _("Objet JSON attendu."),
        "model_attributes_type": _("Objet JSON attendu."),
        "list_type": _("Liste attendue."),
        "datetime_type": _("Date et heure ISO 8601 attendues (ex. 2026-11-22T10:00:00+01:00)."),
        "datetime_parsing": _("Date et heure ISO 8601 attendues (ex. 2026-11-22T10:00:00+01:00)."),
        "datetime_from_date_parsing": _(
            "Date et heure ISO 8601 attendues (ex. 2026-11-22T10:00:00+01:00)."
        ),
    }
    if kind in messages:
        return str(messages[kind])
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return str(error.get("msg", _("Valeur invalide.")))


def _message(loc: list[Any], error: dict[str, Any], repeated: frozenset[str]) -> str:
    if len(loc) == 2 and loc[0] == "query" and loc[1] in repeated:
        # The parser hands a parameter given twice over as a list (cordee.api.guard).
        return str(_("Paramètre donné plusieurs fois : une seule valeur est attendue."))
    if loc == ["query", "cursor"]:
        return str(_("Curseur invalide : reprenez celui de la page précédente."))
    if loc == ["header", "Idempotency-Key"]:
        return str(_("En-tête Idempotency-Key invalide : 1 à 255 caractères ASCII visibles."))
    return _french(error)


def validation_errors(
    raw: list[dict[str, Any]], repeated: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    out = []
    for error in raw:
        # ninja puts the parameter's name after the source ("body", "payload", ...): drop it.
        loc = [p if isinstance(p, int) else str(p) for p in error.get("loc", ())]
        if len(loc) > 2 and loc[0] == "body" and loc[1] == "payload":
            del loc[1]
        out.append(
            {"loc": loc, "msg": _message(loc, error, repeated), "type": str(error.get("type", ""))}
        )
    return out


def register(api: NinjaAPI) -> None:
    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        assert isinstance(exc, ValidationError)
        # Parameters given twice, as the parser (cordee.api.guard) noted them.
        errors = validation_errors(
            exc.errors, getattr(request, "_cordee_repeated_parameters", frozenset())
        )
        if len(errors) == 1:
            where = ".".join(str(p) for p in errors[0]["loc"][1:])
            detail = f"{where} : {errors[0]['msg']}" if where else errors[0]["msg"]
        else:
            detail = _("Requête invalide : %(n)s erreurs.") % {"n": len(errors)}
        return json_error(422, detail, errors)

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        assert isinstance(exc, HttpError)
        if isinstance(exc, APIError):
            return json_error(exc.status_code, exc.message, exc.errors)
        if isinstance(exc, AuthenticationError):
            return json_error(
                401,
                _("Clé d'API absente, invalide ou révoquée (en-tête Authorization: Bearer <clé>)."),
                WWW_Authenticate="Bearer",
            )
        if isinstance(exc, Throttled):
            wait = max(1, math.ceil(exc.wait or 1))
            return json_error(
                429,
                _("Trop de requêtes : réessayez dans %(s)s s.") % {"s": wait},
                Retry_After=str(wait),
            )
        if exc.status_code == 400:
            return json_error(400, _("Corps de la requête illisible (JSON attendu)."))
        return json_error(exc.status_code, str(exc))

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return json_error(404, _("Introuvable."))

    def on_unexpected(request: HttpRequest, exc: Any) -> HttpResponse:
        # A bug, not a client's mistake: logged with its traceback, answered without one.
        logger.exception("API error on %s %s", request.method, request.path)
        return json_error(500, _("Erreur interne : elle a été enregistrée."))

    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(Exception, on_unexpected)
