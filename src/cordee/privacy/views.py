from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from cordee.core.views import SignedInRequest
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log, client_ip
from cordee.privacy.forms import RiskForm
from cordee.privacy.models import Purpose
from cordee.privacy.register import register_build, register_csv, register_json


def _may_read_register(request: SignedInRequest) -> None:
    if not request.user.can_read_register:
        raise PermissionDenied(
            _("Le registre des traitements est réservé au DPO et aux administrateurs de l'office.")
        )


def register_page(request: SignedInRequest) -> HttpResponse:
    """The register; the DPO (and the office's administrators) write each processing's risks."""
    _may_read_register(request)
    status = 200
    failed: RiskForm | None = None
    if request.method == "POST":
        purpose = get_object_or_404(Purpose, slug=request.POST.get("purpose", ""), is_active=True)
        form = RiskForm(request.POST, instance=purpose, prefix=purpose.slug)
        if form.is_valid():
            form.save()
            audit_log(
                actor=Actor.for_user(request.user),
                action="register.risk_update",
                obj=purpose,
                ip=client_ip(request),
                fields=sorted(form.changed_data),
            )
            messages.success(request, _("Notes de risque enregistrées."))
            return redirect(f"{reverse('privacy:register')}#traitement-{purpose.slug}")
        failed, status = form, 422
    register = register_build()
    forms = {
        p.slug: failed
        if failed is not None and failed.instance.pk == p.pk
        else RiskForm(instance=p, prefix=p.slug)
        for p in Purpose.objects.filter(is_active=True)
    }
    rows = [(entry, forms.get(entry.slug)) for entry in register.entries]
    return render(
        request, "privacy/register.html", {"register": register, "rows": rows}, status=status
    )


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
