from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cordee.partners.models import HUB_ROLES, Partner, PartnerKind, Role, User


def show_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has one."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class PartnerForm(forms.Form):
    slug = forms.CharField(
        label=_("Identifiant"),
        max_length=60,
        help_text=_(
            "Lettres minuscules, chiffres et tirets, ex. hotel-des-alpes. "
            "Il ne change plus ensuite."
        ),
    )
    name = forms.CharField(label=_("Nom"), max_length=200)
    kind = forms.ChoiceField(label=_("Type"))
    resort = forms.CharField(label=_("Station"), max_length=100, required=False)
    is_active = forms.BooleanField(
        label=_("Actif"),
        required=False,
        initial=True,
        help_text=_("Un partenaire inactif ne peut plus importer ; ses données restent."),
    )

    def __init__(self, *args: Any, partner: Partner | None = None, **kwargs: Any) -> None:
        if partner is not None:
            kwargs.setdefault(
                "initial",
                {"slug": partner.slug, "name": partner.name, "kind": partner.kind,
                 "resort": partner.resort, "is_active": partner.is_active},
            )  # fmt: skip
        super().__init__(*args, **kwargs)
        kind = cast(forms.ChoiceField, self.fields["kind"])
        if partner is None:
            # New partners start active; the destination has its one office already.
            del self.fields["is_active"]
            kind.choices = [(k.value, k.label) for k in PartnerKind if k != PartnerKind.HUB]
            return
        self.fields["slug"].disabled = True
        if partner.is_hub:
            # The office stays the office: its users' roles depend on it.
            kind.choices = [(PartnerKind.HUB.value, PartnerKind.HUB.label)]
            kind.disabled = True
            self.fields["is_active"].disabled = True
        else:
            kind.choices = [(k.value, k.label) for k in PartnerKind if k != PartnerKind.HUB]


class UserForm(forms.Form):
    username = forms.CharField(label=_("Identifiant de connexion"), max_length=150)
    first_name = forms.CharField(label=_("Prénom"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Nom"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Rôle"))
    password1 = forms.CharField(
        label=_("Mot de passe initial"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Mot de passe initial (encore)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, partner: Partner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partner = partner
        role = cast(forms.ChoiceField, self.fields["role"])
        # Only the roles that fit the organisation: hub roles for the office, partner roles else.
        role.choices = [(r.value, r.label) for r in Role if (r in HUB_ROLES) == partner.is_hub]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        elif password1:
            candidate = User(
                username=data.get("username", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
                partner=self.partner,
            )
            try:
                validate_password(password1, user=candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data
