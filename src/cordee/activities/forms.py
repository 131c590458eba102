from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cordee.activities.cards import card_number_clean
from cordee.activities.models import ActivityKind, SeasonKind
from cordee.partners.models import Partner, User

LOGGABLE = (
    ActivityKind.CALL,
    ActivityKind.VISIT,
    ActivityKind.REQUEST,
    ActivityKind.COMPLAINT,
    ActivityKind.MEETING,
    ActivityKind.RECOMMENDATION,
    ActivityKind.PURCHASE,
    ActivityKind.STAY,
    ActivityKind.LESSON,
    ActivityKind.TICKET,
)
NOTE_MAX = 2000


class ActivityLogForm(forms.Form):
    """A call, a visit, a request... noted from the customer's page."""

    kind = forms.ChoiceField(
        label=_("Quoi"), choices=[(k.value, k.label) for k in LOGGABLE], initial=ActivityKind.CALL
    )
    starts_on = forms.DateField(
        label=_("Date"),
        initial=dt.date.today,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    product = forms.CharField(label=_("Objet"), max_length=200, required=False)
    amount = forms.DecimalField(
        label=_("Montant (€)"), max_digits=12, decimal_places=2, required=False
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FollowUpForm(forms.Form):
    due_on = forms.DateField(
        label=_("Échéance"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    owner = forms.ModelChoiceField(label=_("Qui s'en charge"), queryset=User.objects.none())
    product = forms.CharField(label=_("Objet de la relance"), max_length=200)

    def __init__(self, *args: Any, partner: Partner | None, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners = User.objects.filter(is_active=True)
        owners = (
            owners.filter(partner=partner) if partner is not None else owners.filter(pk=user.pk)
        )
        field = cast(forms.ModelChoiceField, self.fields["owner"])
        field.queryset = owners.order_by("first_name", "username")
        field.initial = user.pk

    def clean_due_on(self) -> dt.date:
        due: dt.date = self.cleaned_data["due_on"]
        today = dt.date.today()
        if due < today - dt.timedelta(days=1):
            raise forms.ValidationError(_("L'échéance est passée : choisissez une date à venir."))
        if due > today + dt.timedelta(days=3 * 366):
            raise forms.ValidationError(_("Échéance trop lointaine (trois ans au plus)."))
        return due


class CardScanForm(forms.Form):
    """At a partner's desk: the card's number, typed or scanned, and what happened."""

    number = forms.CharField(
        label=_("Numéro de carte"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "autofocus": True}
        ),
    )
    kind = forms.ChoiceField(
        label=_("Quoi"),
        choices=[
            (k.value, k.label)
            for k in (
                ActivityKind.VISIT,
                ActivityKind.PURCHASE,
                ActivityKind.MEAL,
                ActivityKind.TICKET,
                ActivityKind.LESSON,
                ActivityKind.RENTAL,
            )
        ],
        initial=ActivityKind.VISIT,
    )
    amount = forms.DecimalField(
        label=_("Montant (€)"), max_digits=12, decimal_places=2, required=False, min_value=0
    )
    product = forms.CharField(label=_("Produit"), max_length=200, required=False)

    def clean_number(self) -> str:
        return card_number_clean(self.cleaned_data["number"])


class SeasonForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=SeasonKind.choices)
    starts_on = forms.DateField(
        label=_("Début"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label=_("Fin (incluse)"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class SeasonRuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=SeasonKind.choices)
    start = forms.RegexField(
        label=_("Début habituel (jj/mm)"), regex=r"^\d{1,2}/\d{1,2}$", max_length=5
    )
    end = forms.RegexField(
        label=_("Fin habituelle (jj/mm)"), regex=r"^\d{1,2}/\d{1,2}$", max_length=5
    )

    def month_day(self, name: str) -> tuple[int, int]:
        day, month = self.cleaned_data[name].split("/")
        return int(month), int(day)
