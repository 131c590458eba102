from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from cordee.activities.columns import LABELS as ACTIVITY_LABELS
from cordee.activities.imports import activity_import_create
from cordee.activities.models import ActivityImport
from cordee.activities.tasks import activity_import_task
from cordee.collect.columns import CONSENT_PREFIX, LABELS, Mapping
from cordee.collect.forms import ImportForm, upload_path
from cordee.collect.imports import import_batch_create
from cordee.collect.models import ImportBatch, ImportIssue, ImportStatus, IssueLevel
from cordee.collect.tasks import import_run
from cordee.core.views import SignedInRequest
from cordee.customers.exports import neutralise_cell
from cordee.partners.models import Partner, User
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log, client_ip

ISSUES_SHOWN = 100


def batches_visible_to(user: User) -> QuerySet[ImportBatch]:
    """The imports a user may follow: all of them for the hub, its own partner's otherwise."""
    if not user.can_import:
        raise PermissionDenied(
            _(
                "Votre rôle ne permet pas d'importer des fichiers : "
                "demandez-le au responsable de votre organisation."
            )
        )
    batches = ImportBatch.objects.select_related("partner", "created_by")
    if user.is_superuser or user.is_hub_user:
        return batches
    return batches.filter(partner=user.partner)


def batch_for(user: User, batch_id: int) -> ImportBatch:
    """One import the user may follow, or 404 (the same answer as for one that does not exist)."""
    if not user.can_import:
        raise Http404
    return get_object_or_404(batches_visible_to(user), pk=batch_id)


def import_list(request: SignedInRequest) -> HttpResponse:
    batches = batches_visible_to(request.user)
    page = Paginator(batches.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(request, "collect/list.html", {"page": page})


@csrf_exempt
def import_new(request: SignedInRequest) -> HttpResponse:
    # Uploads always go to a temporary file, whatever their size: the reader needs a path,
    # and a customer file has no business in the web process's memory. The handlers must be
    # set before anything reads the body, hence CSRF checked below rather than by the middleware.
    request.upload_handlers = [TemporaryFileUploadHandler(request)]
    return _import_new(request)


@csrf_protect
def _import_new(request: SignedInRequest) -> HttpResponse:
    user = request.user
    batches_visible_to(user)  # the role check, before the upload is read
    actor = Actor.for_user(user)
    if actor.sees_everything:
        partners, fixed = Partner.objects.filter(is_active=True).order_by("name"), None
    else:
        if user.partner is None or not user.partner.is_active:
            raise PermissionDenied(
                _("Votre organisation est désactivée : elle ne peut plus importer de fichiers.")
            )
        partners = Partner.objects.filter(pk=user.partner.pk)
        fixed = user.partner
    form = ImportForm(request.POST or None, request.FILES or None, partners=partners, fixed=fixed)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if form.cleaned_data["content"] == "activities":
            batch = activity_import_create(
                partner=form.cleaned_data["partner"],
                source=upload_path(upload),
                filename=upload.name,
                actor=actor,
                default_kind=form.cleaned_data["activity_kind"],
                dry_run=form.cleaned_data["dry_run"],
            )
            activity_import_task.enqueue(batch.pk)
            return redirect("imports:detail", batch.pk)
        batch = import_batch_create(
            partner=form.cleaned_data["partner"],
            source=upload_path(upload),
            filename=upload.name,
            actor=actor,
            mapping=form.cleaned_data["mapping"],
            dry_run=form.cleaned_data["dry_run"],
        )
        import_run.enqueue(batch.pk)
        return redirect("imports:detail", batch.pk)
    return render(request, "collect/new.html", {"form": form})


def import_detail(request: SignedInRequest, batch_id: int) -> HttpResponse:
    batch = batch_for(request.user, batch_id)
    context: dict[str, object] = {
        "batch": batch,
        "columns": [
            (header, canonical, _field_label(canonical)) for header, canonical in batch.columns
        ],
        "can_confirm": _can_confirm(batch),
    }
    if batch.is_finished:
        issues = ImportIssue.objects.filter(batch=batch).only("line", "level", "field", "message")
        context["rejects"] = list(issues.filter(level=IssueLevel.ERROR)[:ISSUES_SHOWN])
        warnings = list(issues.filter(level=IssueLevel.WARNING)[:ISSUES_SHOWN])
        for warning in warnings:
            warning.field_label = _field_label(warning.field)  # type: ignore[attr-defined]
        context["warnings"] = warnings
    template = "collect/detail.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#report"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
def import_confirm(request: SignedInRequest, batch_id: int) -> HttpResponse:
    """Run for real the file of a successful dry run."""
    dry = batch_for(request.user, batch_id)
    if not _can_confirm(dry):
        messages.error(
            request, _("Cet essai à blanc ne peut pas (ou plus) être lancé pour de bon.")
        )
        return redirect("imports:detail", dry.pk)
    stored = dry.stored_path
    # Claim the dry run's file with a conditional UPDATE: a double click launches one import.
    if not ImportBatch.objects.filter(pk=dry.pk, stored_path=stored).update(stored_path=""):
        messages.error(request, _("Cet essai à blanc a déjà été lancé pour de bon."))
        return redirect("imports:detail", dry.pk)
    marker = ActivityImport.objects.filter(batch=dry).first()
    if marker is not None:
        batch = activity_import_create(
            partner=dry.partner,
            source=Path(stored),
            filename=dry.filename,
            actor=Actor.for_user(request.user),
            default_kind=marker.default_kind,
            move=True,
        )
        activity_import_task.enqueue(batch.pk)
        return redirect("imports:detail", batch.pk)
    mapping = None
    if dry.mapping:
        mapping = Mapping(
            columns=dry.mapping.get("columns", {}), defaults=dry.mapping.get("defaults", {})
        )
    batch = import_batch_create(
        partner=dry.partner,
        source=Path(stored),
        filename=dry.filename,
        actor=Actor.for_user(request.user),
        mapping=mapping,
        dry_run=False,
        move=True,
    )
    import_run.enqueue(batch.pk)
    return redirect("imports:detail", batch.pk)


def import_rejects_csv(request: SignedInRequest, batch_id: int) -> StreamingHttpResponse:
    """Every rejected line, with its number and reason, ready to be corrected and imported again."""
    batch = batch_for(request.user, batch_id)
    audit_log(
        actor=Actor.for_user(request.user),
        action="import.rejects_download",
        obj=batch,
        ip=client_ip(request),
        rows=batch.rejected,
    )
    response = StreamingHttpResponse(_rejects_rows(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejets-import-{batch.pk}.csv"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rejects_rows(batch: ImportBatch) -> Iterator[str]:
    delimiter = batch.delimiter if len(batch.delimiter) == 1 else ";"
    writer = csv.writer(_Echo(), delimiter=delimiter, lineterminator="\r\n")
    headers = [neutralise_cell(str(header)) for header, _canonical in batch.columns]
    # The byte-order mark makes spreadsheet programs read the file as UTF-8.
    yield "\ufeff" + writer.writerow([_("ligne"), _("motif"), *headers])
    issues = (
        ImportIssue.objects.filter(batch=batch, level=IssueLevel.ERROR)
        .order_by("line", "pk")
        .values_list("line", "message", "cells")
    )
    for line, message, cells in issues.iterator(chunk_size=2000):
        yield writer.writerow(
            [str(line), neutralise_cell(message), *(neutralise_cell(str(c)) for c in cells or [])]
        )


def _can_confirm(batch: ImportBatch) -> bool:
    return (
        batch.dry_run
        and batch.status == ImportStatus.DONE
        and bool(batch.stored_path)
        and Path(batch.stored_path).is_file()
    )


def _field_label(canonical: str | None) -> str:
    if not canonical:
        return ""
    if canonical.startswith(CONSENT_PREFIX):
        return _("consentement « %(purpose)s »") % {
            "purpose": canonical.removeprefix(CONSENT_PREFIX)
        }
    label = LABELS.get(canonical) or ACTIVITY_LABELS.get(canonical)
    return str(label) if label else canonical
