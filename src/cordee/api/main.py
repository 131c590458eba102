"""The REST API for partners' booking, ticketing and till systems: ``/api/v1/``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.utils.csp import CSP  # type: ignore[import-not-found,unused-ignore]
from django.views.decorators.csp import csp_override  # type: ignore[import-not-found,unused-ignore]
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from cordee.activities import api as activities
from cordee.activities import api_consents
from cordee.activities.api import ActivityIn
from cordee.api import customers, errors
from cordee.api import segments as segments_api
from cordee.api.guard import CheckedJSONParser
from cordee.api.schemas import CustomerIn

DESCRIPTION = """
L'API de Cordée pour les logiciels des partenaires (réservation, billetterie, caisse).

**Authentification** : `Authorization: Bearer cdk_…`, une clé par partenaire créée par
`cordee apikey create --partner SLUG`. Une clé voit les clients que son partenaire a apportés
et ceux qui ont accepté le partage avec les partenaires de la destination, de ces derniers
les seuls champs que leurs consentements ouvrent (les autres valent null et sont nommés dans
`hidden`) ; une clé de l'office de tourisme les voit tous.

**Erreurs** : toujours du JSON `{"detail": "...", "errors": [...]}` — 400 JSON illisible,
401 clé absente ou invalide, 403 droit manquant, 404 introuvable, 409 clé d'idempotence
réutilisée, 413 corps de plus d'1 Mo, 415 autre chose que du JSON, 422 données invalides
(les champs inconnus sont refusés, un paramètre donné deux fois aussi), 429 trop de requêtes
(voir `Retry-After`). Seule exception au JSON : une adresse de plus de 8 190 octets est
refusée par le serveur HTTP (414, en HTML) avant d'atteindre l'API.

**Idempotence** : sur les POST, l'en-tête `Idempotency-Key` rejoue la première réponse
pendant 24 h.
"""


def _docs_page(view: Callable[..., Any]) -> Callable[..., Any]:
    # The docs are public (partners' developers read them before they have a key) and use
    # Swagger UI's files shipped with django-ninja; Swagger UI sets inline styles.
    styled = csp_override(
        {
            "default-src": [CSP.SELF],
            "script-src": [CSP.SELF],
            "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
            "img-src": [CSP.SELF, "data:"],
            "object-src": [CSP.NONE],
            "base-uri": [CSP.NONE],
            "frame-ancestors": [CSP.NONE],
        }
    )(view)
    return login_not_required(styled)


class CordeeAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        # Past 8,190 bytes the request line is refused by the HTTP server (gunicorn) before
        # the API sees it, with an HTML page: the schema says so.
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses") if isinstance(operation, dict) else None
                if responses is None:
                    continue
                # ninja keys the responses by int.
                responses[414] = {
                    "description": "Adresse trop longue (plus de 8 190 octets) : réponse du "
                    "serveur HTTP, en HTML.",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                }
        components = schema.get("components", {}).get("schemas", {})
        for model in NUMBERS_AS_TEXT:
            if model.__name__ in components:
                _numbers_as_text(components[model.__name__])
        return schema


# Bodies whose text fields take a number too (a postcode, a phone, a count sent as a JSON
# number by a partner's system): pydantic's ``coerce_numbers_to_str``, said in the schema.
NUMBERS_AS_TEXT = (CustomerIn, ActivityIn)


def _numbers_as_text(component: dict[str, Any]) -> None:
    for prop in component.get("properties", {}).values():
        if prop.get("type") == "string":
            text = {k: prop.pop(k) for k in list(prop) if k not in _ANNOTATIONS}
            prop["anyOf"] = [text, {"type": "number"}]
            continue
        branches = prop.get("anyOf", [])
        types = {branch.get("type") for branch in branches}
        if "string" in types and not types & {"number", "integer"}:
            at = next(i for i, b in enumerate(branches) if b.get("type") == "string")
            branches.insert(at + 1, {"type": "number"})


_ANNOTATIONS = {"title", "description", "examples", "default"}


api = CordeeAPI(
    title="Cordée",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    parser=CheckedJSONParser(),
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    docs_decorator=_docs_page,
)
errors.register(api)
api.add_router("", customers.router)
api.add_router("", activities.router)
api.add_router("", api_consents.consents_router)
api.add_router("", api_consents.cards_router)
api.add_router("", segments_api.router)
