from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from cordee.core.views import SignedInRequest
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log, client_ip
from cordee.privacy.register import register_build, register_csv, register_json


def _may_read_register(request: SignedInRequest) -> None:
    if not request.user.can_read_register:
        raise PermissionDenied(
            _("Le registre des traitements est réservé au DPO et aux administrateurs de l'office.")
        )


def register_page(request: SignedInRequest) -> HttpResponse:
    _may_read_register(request)
    return render(request, "privacy/register.html", {"register": register_build()})


def register_export(request: SignedInRequest, fmt: str) -> HttpResponse:
    _may_read_register(request)
    if fmt not in {"csv", "json"}:
        raise Http404
    register = register_build()
    audit_log(
        actor=Actor.for_user(request.user),
        action="register.export",
        ip=client_ip(request),
        format=fmt,
    )
    if fmt == "csv":
        # A BOM so that a spreadsheet opened by double-click reads the accents right.
        body, content_type = "\ufeff" + register_csv(register), "text/csv; charset=utf-8"
    else:
        body, content_type = register_json(register), "application/json; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="registre-des-traitements.{fmt}"'
    return response
