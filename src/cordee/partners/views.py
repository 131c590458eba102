from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordee.core.views import SignedInRequest
from cordee.customers.models import CustomerLink
from cordee.partners.forms import PartnerForm, UserForm, show_service_errors
from cordee.partners.models import Partner, User
from cordee.partners.services import partner_create, partner_update, user_create
from cordee.privacy.access import Actor


def partners_managed_by(user: User) -> QuerySet[Partner]:
    """Every partner, for the office's administrators who manage them; 403 for anyone else."""
    if not user.can_manage_partners:
        raise PermissionDenied(
            _(
                "La gestion des partenaires est réservée aux administrateurs "
                "de l'office de tourisme."
            )
        )
    return Partner.objects.all()


def partner_for(user: User, slug: str) -> Partner:
    return get_object_or_404(partners_managed_by(user), slug=slug)


def _count(queryset: QuerySet) -> Coalesce:
    # A correlated count per partner rather than a join: joining users and customer links
    # together would multiply the rows.
    subquery = Subquery(
        queryset.filter(partner=OuterRef("pk"))
        .order_by()
        .values("partner")
        .annotate(n=Count("*"))
        .values("n"),
        output_field=IntegerField(),
    )
    return Coalesce(subquery, 0)


def partner_list(request: SignedInRequest) -> HttpResponse:
    partners = partners_managed_by(request.user).annotate(
        customer_count=_count(CustomerLink.objects.all()),
        user_count=_count(User.objects.all()),
    )
    return render(request, "partners/list.html", {"partners": partners.order_by("-kind", "name")})


def partner_new(request: SignedInRequest) -> HttpResponse:
    partners_managed_by(request.user)
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            partner = partner_create(
                slug=data["slug"],
                name=data["name"],
                kind=data["kind"],
                resort=data["resort"],
                actor=Actor.for_user(request.user),
            )
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, _("Partenaire « %(name)s » ajouté.") % {"name": partner.name})
            return redirect("partners:detail", partner.slug)
    return render(request, "partners/form.html", {"form": form, "partner": None})


def partner_edit(request: SignedInRequest, slug: str) -> HttpResponse:
    partner = partner_for(request.user, slug)
    form = PartnerForm(request.POST or None, partner=partner)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            partner_update(
                partner=partner,
                name=data["name"],
                kind=data["kind"],
                resort=data["resort"],
                is_active=data["is_active"],
                actor=Actor.for_user(request.user),
            )
        except ValidationError as exc:
            partner.refresh_from_db()
            show_service_errors(form, exc)
        else:
            messages.success(
                request, _("Partenaire « %(name)s » enregistré.") % {"name": partner.name}
            )
            return redirect("partners:detail", partner.slug)
    return render(request, "partners/form.html", {"form": form, "partner": partner})


def partner_detail(request: SignedInRequest, slug: str) -> HttpResponse:
    partner = partner_for(request.user, slug)
    return _detail(request, partner, UserForm(partner=partner))


@require_POST
def user_add(request: SignedInRequest, slug: str) -> HttpResponse:
    partner = partner_for(request.user, slug)
    form = UserForm(request.POST, partner=partner)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = user_create(
                username=data["username"],
                partner=partner,
                role=data["role"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                actor=Actor.for_user(request.user),
            )
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(
                request, _("Utilisateur « %(username)s » ajouté.") % {"username": user.username}
            )
            return redirect("partners:detail", partner.slug)
    return _detail(request, partner, form)


def _detail(request: SignedInRequest, partner: Partner, form: UserForm) -> HttpResponse:
    users = partner.users.order_by("username")
    return render(
        request, "partners/detail.html", {"partner": partner, "users": users, "form": form}
    )
