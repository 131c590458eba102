"""The public forms: no login, French or English, framed on the partners' registered sites."""

from __future__ import annotations

import hashlib
import os

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from cordee.api import ratelimit
from cordee.channels import entries
from cordee.channels.models import PublicForm
from cordee.channels.origins import allow_framing
from cordee.channels.publicforms import FORM_CLASSES, SafeEmailField

# A public form's answers fit in a few kilobytes: anything much bigger is not a person typing.
MAX_FORM_BODY = 64 * 1024


def form_rate() -> ratelimit.Rate:
    text = getattr(settings, "CORDEE_FORM_RATE", None) or os.environ.get("CORDEE_FORM_RATE")
    return ratelimit.parse_rate(text or "30/h")


def _language(request: HttpRequest) -> str:
    wanted = request.GET.get("lang") or request.POST.get("lang") or translation.get_language()
    return "en" if (wanted or "").startswith("en") else "fr"


def _public_form(slug: str) -> PublicForm:
    form = PublicForm.objects.select_related("partner").filter(slug=slug, is_active=True).first()
    if form is None or not form.partner.is_active:
        raise Http404
    return form


def _confirm_prefix(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("channels:confirm", args=["-"]))[:-2]


def _refuse(
    request: HttpRequest, status: int, message: str, form: PublicForm | None
) -> HttpResponse:
    response = render(request, "channels/public/refused.html", {"message": message}, status=status)
    return allow_framing(response, form.partner) if form else response


def _ip_bucket(request: HttpRequest) -> str:
    # The address is only hashed into a short-lived counter's name, never stored.
    ip = request.META.get("REMOTE_ADDR", "")
    return "form-ip:" + hashlib.sha256(ip.encode()).hexdigest()[:24]


@login_not_required
@csrf_exempt  # framed on other sites, where our cookies are third-party: a signed token instead
@never_cache
def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    form_obj = _public_form(slug)
    if request.method not in {"GET", "POST"}:
        return _refuse(request, 405, _("Méthode non permise."), form_obj)
    if request.method == "POST":
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_FORM_BODY:
            return _refuse(request, 413, _("Envoi trop volumineux."), form_obj)
        if ratelimit.hit(_ip_bucket(request), form_rate()) is not None:
            return _refuse(
                request,
                429,
                _("Trop d'envois depuis votre connexion : réessayez plus tard."),
                form_obj,
            )
    try:
        language = _language(request)
    except RequestDataTooBig:
        return _refuse(request, 413, _("Envoi trop volumineux."), form_obj)
    with translation.override(language):
        response = _form_answer(request, form_obj, language)
    return allow_framing(response, form_obj.partner)


def _form_answer(request: HttpRequest, form_obj: PublicForm, language: str) -> HttpResponse:
    form_class = FORM_CLASSES[form_obj.kind]
    embedded = request.GET.get("embed") == "1"
    if request.method == "POST":
        form = form_class(request.POST, public_form=form_obj, language=language)
        if form.is_valid():
            if form.cleaned_data["website"]:
                # A bot filled the honeypot: thank it like a person and keep nothing.
                return render(
                    request,
                    "channels/public/thanks.html",
                    {
                        "public_form": form_obj,
                        "language": language,
                        "embedded": embedded,
                        "pending": True,
                    },
                )
            submission = entries.entry_submit(
                form=form_obj,
                fields=form.entry_fields(),
                consents=form.given_consents(),
                language=language,
                page=form.cleaned_data.get("page") or "",
                visitor=form.cleaned_data.get("visitor") or "",
                confirm_url=_confirm_prefix(request),
            )
            return render(
                request,
                "channels/public/thanks.html",
                {
                    "public_form": form_obj,
                    "language": language,
                    "embedded": embedded,
                    "pending": submission.entry.status == "pending",
                },
            )
        status = 400
    else:
        form = form_class(
            public_form=form_obj,
            language=language,
            initial={
                "page": request.GET.get("page", "")[:2000],
                "visitor": request.GET.get("v", "")[:64],
            },
        )
        status = 200
    return render(
        request,
        "channels/public/form.html",
        {
            "public_form": form_obj,
            "form": form,
            "title": form_obj.title(language),
            "rules": form_obj.rules(language),
            "language": language,
            "embedded": embedded,
            "other_language": "en" if language == "fr" else "fr",
            "other_query": _query_with(request, lang="en" if language == "fr" else "fr"),
        },
        status=status,
    )


def _query_with(request: HttpRequest, **changes: str) -> str:
    """This page's query string (page, visitor, embed...) with ``changes`` applied."""
    query = request.GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@login_not_required
@csrf_exempt
@never_cache
def resend(request: HttpRequest, slug: str) -> HttpResponse:
    form_obj = _public_form(slug)
    if request.method != "POST":
        return _refuse(request, 405, _("Méthode non permise."), form_obj)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_FORM_BODY:
        return _refuse(request, 413, _("Envoi trop volumineux."), form_obj)
    if ratelimit.hit(_ip_bucket(request), form_rate()) is not None:
        return _refuse(request, 429, _("Trop d'envois : réessayez plus tard."), form_obj)
    language = _language(request)
    with translation.override(language):
        try:
            email = SafeEmailField().clean(request.POST.get("email", ""))
        except Exception:  # noqa: BLE001 - any unreadable address gets the same answer
            email = ""
        if email:
            entries.entry_resend(form=form_obj, email=email, confirm_url=_confirm_prefix(request))
        # The same answer whether or not the address is known: no way to probe who signed up.
        response = render(
            request, "channels/public/resent.html", {"public_form": form_obj, "language": language}
        )
    return allow_framing(response, form_obj.partner)


@login_not_required
@csrf_exempt  # the signed token in the address is the proof
@never_cache
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners that open links confirm nothing."""
    try:
        entry = entries.entry_from_token(token[:300])
    except entries.LinkExpired:
        return render(request, "channels/public/confirm.html", {"expired": True}, status=410)
    except entries.LinkInvalid:
        return render(request, "channels/public/confirm.html", {"invalid": True}, status=404)
    with translation.override(entry.language):
        if request.method == "POST":
            entry = entries.entry_confirm(entry=entry)
            return render(request, "channels/public/confirm.html", {"done": True, "entry": entry})
        return render(
            request,
            "channels/public/confirm.html",
            {
                "entry": entry,
                "title": entry.form.title(entry.language),
                "already": entry.status == "confirmed",
            },
        )
