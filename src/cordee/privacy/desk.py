"""The DPO's pages: data-subject requests, breaches, the audit trail, the retention purge.

Thin views over the services; every page is for the DPO and the office's administrators.
"""

from __future__ import annotations

import smtplib
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cordee.core.views import SignedInRequest
from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log, client_ip
from cordee.privacy.breaches import (
    breach_clock,
    breach_people_csv,
    breach_people_informed,
    breach_record,
    breach_scope_set,
    breaches_csv,
)
from cordee.privacy.erasure import customer_erase
from cordee.privacy.forms import (
    AuditSearchForm,
    BreachForm,
    BreachNotifyForm,
    BreachPeopleForm,
    CorrectionForm,
    EraseForm,
    ExtendForm,
    IdentityForm,
    ObjectionForm,
    PeopleInformedForm,
    RequestForm,
    RequestUpdateForm,
)
from cordee.privacy.identity import identity_record_other, identity_required, identity_send
from cordee.privacy.models import Breach, DataSubjectRequest, IdentityStatus, RequestStatus
from cordee.privacy.objection import objection_apply, restriction_apply, restriction_lift
from cordee.privacy.portability import customer_data_csv, customer_data_json
from cordee.privacy.queries import audit_csv, audit_search
from cordee.privacy.requests import (
    request_create,
    request_extend,
    request_update,
    requests_by_deadline,
)
from cordee.privacy.tasks import breach_notify_task

AUDIT_PAGE = 200


def dpo_actor(request: SignedInRequest) -> Actor:
    """The actor, if the user is the DPO or an administrator of the office; else 403."""
    if not request.user.can_read_register:
        raise PermissionDenied(
            _("Cet espace est réservé au DPO et aux administrateurs de l'office.")
        )
    return Actor.for_user(request.user)


def _form_errors(request: SignedInRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def request_list(request: SignedInRequest) -> HttpResponse:
    actor = dpo_actor(request)
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                created = request_create(
                    kind=data["kind"],
                    channel=data["channel"],
                    customer_ref=data["customer_ref"],
                    received_on=data["received_on"],
                    message=data["message"],
                    actor=actor,
                )
                if data["identity_note"]:
                    # Checked another way when the request came in (ID shown at the desk...).
                    identity_record_other(dsr=created, note=data["identity_note"], actor=actor)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Demande enregistrée."))
            customer = _customer(created.customer_ref)
            if (
                not created.identity_confirmed
                and customer is not None
                and _send_identity_link(request, created, customer, actor)
            ):
                messages.info(
                    request,
                    _(
                        "Un lien de confirmation a été envoyé à l'adresse e-mail du client ; "
                        "la demande attend sa confirmation."
                    ),
                )
            return redirect("privacy:request", created.pk)
    show_all = request.GET.get("toutes") == "1"
    rows = list(requests_by_deadline(open_only=not show_all)[:500])
    today = timezone.localdate()
    return render(
        request,
        "privacy/requests.html",
        {
            "form": form,
            "rows": [(r, r.is_overdue(today)) for r in rows],
            "show_all": show_all,
            "tab": "requests",
        },
        status=422 if request.method == "POST" else 200,
    )


def _send_identity_link(
    request: SignedInRequest, dsr: DataSubjectRequest, customer: Customer, actor: Actor
) -> bool:
    """Send the confirmation link; say so when the mail server refuses it."""
    try:
        return identity_send(dsr=dsr, customer=customer, actor=actor)
    except (OSError, smtplib.SMTPException):
        messages.error(
            request,
            _(
                "Le lien de confirmation n'a pas pu être envoyé (serveur de messagerie "
                "indisponible) : renvoyez-le depuis la demande."
            ),
        )
        return False


def _customer(ref: int | None) -> Customer | None:
    return Customer.objects.filter(pk=ref).first() if ref is not None else None


def request_detail(request: SignedInRequest, request_id: int) -> HttpResponse:
    actor = dpo_actor(request)
    dsr = get_object_or_404(DataSubjectRequest, pk=request_id)
    customer = _customer(dsr.customer_ref)
    update = RequestUpdateForm(
        initial={
            "status": dsr.status,
            "identity_note": dsr.identity_note,
            "resolution": dsr.resolution,
        }
    )
    extend, erase, correct = ExtendForm(), EraseForm(), CorrectionForm()
    identity, objection = IdentityForm(), ObjectionForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in {"correct", "erase", "object", "restrict"}:
                identity_required(dsr)
            if action == "identity":
                identity = IdentityForm(request.POST)
                if identity.is_valid():
                    identity_record_other(
                        dsr=dsr, note=identity.cleaned_data["identity_note"], actor=actor
                    )
                    messages.success(request, _("Vérification d'identité enregistrée."))
                    return redirect("privacy:request", dsr.pk)
            elif action == "resend":
                if customer is None or not _send_identity_link(request, dsr, customer, actor):
                    raise ValidationError(
                        _("Pas d'adresse e-mail à laquelle écrire, ou identité déjà confirmée.")
                    )
                messages.success(request, _("Nouveau lien de confirmation envoyé."))
                return redirect("privacy:request", dsr.pk)
            elif action == "object":
                objection = ObjectionForm(request.POST)
                if customer is None:
                    raise ValidationError(_("Aucun client pour cette demande."))
                if objection.is_valid():
                    slugs = objection_apply(
                        customer=customer,
                        purposes=objection.cleaned_data["purposes"],
                        actor=actor,
                        request=dsr,
                    )
                    request_update(
                        request=dsr,
                        actor=actor,
                        status=RequestStatus.DONE,
                        resolution=_(
                            "Opposition appliquée le %(date)s : consentements retirés et "
                            "adresses exclues des campagnes pour %(purposes)s."
                        )
                        % {"date": timezone.localdate().isoformat(), "purposes": ", ".join(slugs)},
                    )
                    messages.success(request, _("Opposition appliquée."))
                    return redirect("privacy:request", dsr.pk)
            elif action == "restrict":
                if customer is None:
                    raise ValidationError(_("Aucun client pour cette demande."))
                restriction_apply(customer=customer, actor=actor, request=dsr)
                request_update(
                    request=dsr,
                    actor=actor,
                    status=RequestStatus.DONE,
                    resolution=_("Traitement limité depuis le %(date)s.")
                    % {"date": timezone.localdate().isoformat()},
                )
                messages.success(request, _("Traitement du client limité."))
                return redirect("privacy:request", dsr.pk)
            elif action == "lift":
                if customer is None:
                    raise ValidationError(_("Aucun client pour cette demande."))
                restriction_lift(
                    customer=customer, actor=actor, reason=request.POST.get("reason", "")
                )
                messages.success(request, _("Limitation levée."))
                return redirect("privacy:request", dsr.pk)
            elif action == "update":
                update = RequestUpdateForm(request.POST)
                if update.is_valid():
                    request_update(request=dsr, actor=actor, **update.cleaned_data)
                    messages.success(request, _("Demande mise à jour."))
                    return redirect("privacy:request", dsr.pk)
            elif action == "extend":
                extend = ExtendForm(request.POST)
                if extend.is_valid():
                    request_extend(request=dsr, actor=actor, **extend.cleaned_data)
                    messages.success(request, _("Échéance prolongée."))
                    return redirect("privacy:request", dsr.pk)
            elif action == "correct":
                from cordee.privacy.rectification import customer_rectify

                correct = CorrectionForm(request.POST)
                if customer is None:
                    raise ValidationError(_("Aucun client à corriger pour cette demande."))
                if correct.is_valid():
                    customer_rectify(customer=customer, actor=actor, **correct.cleaned_data)
                    messages.success(request, _("Correction enregistrée."))
                    return redirect("privacy:request", dsr.pk)
            elif action == "erase":
                erase = EraseForm(request.POST)
                if customer is None:
                    raise ValidationError(_("Aucun client à effacer pour cette demande."))
                if erase.is_valid():
                    customer_erase(
                        customer=customer,
                        actor=actor,
                        reason=erase.cleaned_data["reason"],
                        request=dsr,
                    )
                    request_update(
                        request=dsr,
                        actor=actor,
                        status=RequestStatus.DONE,
                        resolution=_("Données effacées le %(date)s.")
                        % {"date": timezone.localdate().isoformat()},
                    )
                    messages.success(request, _("Le client a été effacé."))
                    return redirect("privacy:request", dsr.pk)
            else:
                raise ValidationError(_("Action inconnue."))
        except ValidationError as exc:
            _form_errors(request, exc)
        status = 422
    return render(
        request,
        "privacy/request_detail.html",
        {
            "dsr": dsr,
            "customer": customer,
            "overdue": dsr.is_overdue(),
            "update": update,
            "extend": extend,
            "erase": erase,
            "correct": correct,
            "identity": identity,
            "objection": objection,
            "identity_statuses": IdentityStatus,
            "tab": "requests",
        },
        status=status,
    )


def request_export(request: SignedInRequest, request_id: int, fmt: str) -> HttpResponse:
    """The person's data, for an access or portability request (JSON or CSV)."""
    actor = dpo_actor(request)
    dsr = get_object_or_404(DataSubjectRequest, pk=request_id)
    customer = _customer(dsr.customer_ref)
    if customer is None or fmt not in {"json", "csv"}:
        raise Http404
    if not dsr.identity_confirmed:
        messages.error(
            request,
            _(
                "Export refusé : l'identité du demandeur n'est pas encore confirmée (lien "
                "envoyé par e-mail, ou vérification enregistrée par le DPO)."
            ),
        )
        return redirect("privacy:request", dsr.pk)
    audit_log(
        actor=actor,
        action="customer.export_subject",
        obj=customer,
        ip=client_ip(request),
        request=dsr.pk,
        format=fmt,
    )
    if fmt == "json":
        body, content_type = customer_data_json(customer), "application/json; charset=utf-8"
    else:
        body, content_type = customer_data_csv(customer), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="donnees-client-{customer.pk}.{fmt}"'
    return response


def breach_list(request: SignedInRequest) -> HttpResponse:
    actor = dpo_actor(request)
    form = BreachForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        breach_record(values=form.cleaned_data, actor=actor)
        messages.success(request, _("Violation enregistrée."))
        return redirect("privacy:breaches")
    now = timezone.now()
    breaches = Breach.objects.prefetch_related("affected_partners", "affected_batches")[:500]
    rows = [
        (b, breach_clock(b, now), _people_form(b), BreachNotifyForm(prefix=f"n{b.pk}"))
        for b in breaches
    ]
    return render(
        request,
        "privacy/breaches.html",
        {"form": form, "rows": rows, "tab": "breaches"},
        status=422 if request.method == "POST" else 200,
    )


def _people_form(breach: Breach) -> BreachPeopleForm:
    return BreachPeopleForm(
        prefix=f"b{breach.pk}",
        initial={
            "partners": list(breach.affected_partners.all()),
            "batches": " ".join(str(b.pk) for b in breach.affected_batches.all()),
            "customers": " ".join(map(str, breach.affected_customer_ids)),
        },
    )


@require_POST
def breach_people(request: SignedInRequest, breach_id: int) -> HttpResponse:
    """The DPO says who the breach touches; Cordée counts them (the breach's number of people)."""
    actor = dpo_actor(request)
    breach = get_object_or_404(Breach, pk=breach_id)
    form = BreachPeopleForm(request.POST, prefix=f"b{breach.pk}")
    if form.is_valid():
        count = breach_scope_set(
            breach,
            partners=list(form.cleaned_data["partners"]),
            batches=form.cleaned_data["batches"],
            customer_ids=form.cleaned_data["customers"],
            actor=actor,
        )
        messages.success(
            request,
            ngettext("%(count)s personne à informer.", "%(count)s personnes à informer.", count)
            % {"count": count},
        )
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect(f"{reverse('privacy:breaches')}#breach-{breach.pk}")


def breach_people_export(request: SignedInRequest, breach_id: int) -> HttpResponse:
    actor = dpo_actor(request)
    breach = get_object_or_404(Breach, pk=breach_id)
    body = breach_people_csv(breach, actor, ip=client_ip(request))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="violation-{breach.pk}-personnes-a-informer.csv"'
    )
    return response


@require_POST
def breach_informed(request: SignedInRequest, breach_id: int) -> HttpResponse:
    actor = dpo_actor(request)
    breach = get_object_or_404(Breach, pk=breach_id)
    form = PeopleInformedForm(request.POST)
    if form.is_valid():
        breach_people_informed(breach, at=form.cleaned_data["informed_at"], actor=actor)
        messages.success(request, _("Date d'information des personnes enregistrée."))
    else:
        messages.error(request, _("Date invalide."))
    return redirect(f"{reverse('privacy:breaches')}#breach-{breach.pk}")


@require_POST
def breach_notify(request: SignedInRequest, breach_id: int) -> HttpResponse:
    """Send the DPO's message to the list, in the background; once per breach."""
    dpo_actor(request)
    breach = get_object_or_404(Breach, pk=breach_id)
    form = BreachNotifyForm(request.POST, prefix=f"n{breach.pk}")
    if breach.people_informed_at is not None:
        messages.error(request, _("Les personnes ont déjà été informées : rien n'a été envoyé."))
    elif form.is_valid():
        breach_notify_task.enqueue(
            breach.pk, form.cleaned_data["subject"], form.cleaned_data["body"], request.user.pk
        )
        messages.success(request, _("Envoi du message aux personnes concernées lancé."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect(f"{reverse('privacy:breaches')}#breach-{breach.pk}")


def breach_export(request: SignedInRequest) -> HttpResponse:
    actor = dpo_actor(request)
    audit_log(actor=actor, action="breach.export", ip=client_ip(request))
    response = HttpResponse(breaches_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="registre-des-violations.csv"'
    return response


def _audit_filters(form: AuditSearchForm) -> dict[str, Any]:
    if not form.is_valid():
        return {}
    return {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}


def audit_trail(request: SignedInRequest) -> HttpResponse:
    actor = dpo_actor(request)
    form = AuditSearchForm(request.GET or None)
    filters = _audit_filters(form) if form.is_bound else {}
    events = list(audit_search(**filters)[:AUDIT_PAGE]) if not form.errors else []
    audit_log(actor=actor, action="audit.search", ip=client_ip(request), filters=sorted(filters))
    return render(
        request,
        "privacy/audit.html",
        {"form": form, "events": events, "limit": AUDIT_PAGE, "tab": "audit"},
        status=422 if form.errors else 200,
    )


def audit_export(request: SignedInRequest) -> HttpResponse | StreamingHttpResponse:
    actor = dpo_actor(request)
    form = AuditSearchForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return HttpResponse(_("Filtres invalides."), status=422, content_type="text/plain")
    filters = _audit_filters(form) if form.is_bound else {}
    audit_log(actor=actor, action="audit.export", ip=client_ip(request), filters=sorted(filters))
    response = StreamingHttpResponse(
        audit_csv(audit_search(**filters).iterator(chunk_size=2000)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="journal-audit.csv"'
    return response


def purge_page(request: SignedInRequest) -> HttpResponse:
    """The purge for the DPO: the dry run's counts per reason first, then erase on confirmation."""
    from cordee.privacy.retention import retention_purge

    actor = dpo_actor(request)
    if request.method == "POST":
        if request.POST.get("confirm") != "1":
            messages.error(request, _("Cochez la confirmation pour lancer la purge."))
            report = retention_purge(actor=actor, dry_run=True)
            status = 422
        else:
            report = retention_purge(actor=actor, dry_run=False)
            messages.success(
                request,
                _("Purge terminée : %(n)s client(s) effacé(s).") % {"n": report.erased},
            )
            return redirect("privacy:purge")
    else:
        report = retention_purge(actor=actor, dry_run=True)
        status = 200
    return render(
        request,
        "privacy/purge.html",
        {
            "report": report,
            "rows": [(rule, report.counts.get(rule.reason, 0)) for rule in report.rules],
            "total": sum(report.counts.values()),
            "tab": "purge",
        },
        status=status,
    )
