from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cordee.collect import normalise as norm
from cordee.customers.queries import Filters
from cordee.partners.models import Partner


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Nom, e-mail, téléphone, ville ou code postal"),
                "autocomplete": "off",
                "autofocus": True,
            }
        ),
    )
    city = forms.CharField(label=_("Ville"), required=False, max_length=100)
    departement = forms.CharField(
        label=_("Département"),
        required=False,
        max_length=3,
        widget=forms.TextInput(attrs={"placeholder": _("ex. 74")}),
    )
    country = forms.CharField(
        label=_("Pays"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": _("ex. France, DE")}),
    )
    partner = forms.ModelChoiceField(
        label=_("Apporté par"),
        queryset=Partner.objects.none(),
        required=False,
        empty_label=_("Tous les partenaires"),
    )

    def __init__(self, *args: Any, partners: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if partners is None:
            # Only the hub chooses among partners; a partner sees its own customers anyway.
            del self.fields["partner"]
        else:
            cast(forms.ModelChoiceField, self.fields["partner"]).queryset = partners

    def clean_country(self) -> str:
        raw = self.cleaned_data["country"]
        try:
            return norm.country(raw) or ""
        except norm.InvalidValue as exc:
            raise forms.ValidationError(exc.message) from None

    def filters(self) -> Filters:
        """What to search for; a field that does not validate is left out."""
        data = self.cleaned_data if self.is_valid() else getattr(self, "cleaned_data", {})
        partner = data.get("partner")
        return Filters(
            q=data.get("q", ""),
            city=data.get("city", ""),
            departement=data.get("departement", ""),
            country=data.get("country", ""),
            partner=partner.pk if partner else None,
        )
