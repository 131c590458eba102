from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cordee.collect.models import ImportBatch
from cordee.partners.models import Partner
from cordee.privacy.models import Purpose, RequestChannel, RequestKind, RequestStatus
from cordee.privacy.requests import clean_text

TEXT_MAX = 5_000
PEOPLE_MAX = 10_000


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Droit exercé"), choices=RequestKind.choices)
    channel = forms.ChoiceField(label=_("Reçue par"), choices=RequestChannel.choices)
    customer_ref = forms.IntegerField(
        label=_("N° de client"), required=False, min_value=1, max_value=2**63 - 1
    )
    received_on = forms.DateField(label=_("Reçue le"), required=False)
    message = forms.CharField(
        label=_("Demande"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX,
    )
    identity_note = forms.CharField(
        label=_("Vérification d'identité"), required=False, max_length=TEXT_MAX
    )


class RequestUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("État"), choices=RequestStatus.choices)
    identity_note = forms.CharField(
        label=_("Vérification d'identité"), required=False, max_length=TEXT_MAX
    )
    resolution = forms.CharField(
        label=_("Réponse apportée"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX,
    )


class IdentityForm(forms.Form):
    identity_note = forms.CharField(
        label=_("Comment l'identité a été vérifiée"),
        help_text=_("Par exemple : pièce d'identité présentée à l'accueil le 3 mars."),
        max_length=TEXT_MAX,
    )


class ObjectionForm(forms.Form):
    purposes = forms.MultipleChoiceField(
        label=_("Finalités auxquelles la personne s'oppose"),
        choices=[],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from cordee.privacy.objection import objectable_purposes

        self.fields["purposes"].choices = [  # type: ignore[attr-defined]
            (p.slug, p.name) for p in objectable_purposes()
        ]


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Prolonger de"),
        choices=[(1, _("1 mois")), (2, _("2 mois"))],
        coerce=int,
    )
    reason = forms.CharField(label=_("Motif (communiqué à la personne)"), max_length=TEXT_MAX)


class EraseForm(forms.Form):
    reason = forms.CharField(label=_("Motif de l'effacement"), max_length=300)
    confirm = forms.BooleanField(
        label=_(
            "Je confirme : toutes les données de cette personne seront effacées, sans retour possible."
        )
    )


class CorrectionForm(forms.Form):
    field = forms.ChoiceField(label=_("Champ à corriger"), choices=[])
    value = forms.CharField(label=_("Nouvelle valeur"), max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from cordee.customers.models import Customer
        from cordee.privacy.rectification import RECTIFIABLE

        self.fields["field"].choices = [  # type: ignore[attr-defined]
            (name, str(getattr(Customer._meta.get_field(name), "verbose_name", name)).capitalize())
            for name in RECTIFIABLE
        ]


class BreachForm(forms.Form):
    discovered_at = forms.DateTimeField(label=_("Découverte le"))
    occurred_at = forms.DateTimeField(label=_("Survenue le"), required=False)
    nature = forms.CharField(
        label=_("Nature de la violation"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    data_categories = forms.CharField(label=_("Catégories de données"), max_length=TEXT_MAX)
    people_count = forms.IntegerField(
        label=_("Nombre approximatif de personnes"), min_value=0, max_value=100_000_000
    )
    consequences = forms.CharField(
        label=_("Conséquences probables"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    measures = forms.CharField(
        label=_("Mesures prises ou envisagées"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    cnil_notified_at = forms.DateTimeField(label=_("Notifiée à la CNIL le"), required=False)
    late_reason = forms.CharField(
        label=_("Motif du retard (au-delà de 72 h)"), required=False, max_length=TEXT_MAX
    )
    people_informed_at = forms.DateTimeField(label=_("Personnes informées le"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        found, occurred = data.get("discovered_at"), data.get("occurred_at")
        if found and occurred and occurred > found:
            self.add_error(
                "occurred_at", _("La violation ne peut pas survenir après sa découverte.")
            )
        return data


class AuditSearchForm(forms.Form):
    user = forms.CharField(label=_("Utilisateur"), required=False, max_length=150)
    customer = forms.IntegerField(
        label=_("N° de client"), required=False, min_value=1, max_value=2**63 - 1
    )
    action = forms.CharField(label=_("Action"), required=False, max_length=60)
    since = forms.DateField(label=_("Depuis le"), required=False)
    until = forms.DateField(label=_("Jusqu'au"), required=False)


class RiskForm(forms.ModelForm):
    """The DPO's risk notes on one processing activity (the register's Art. 30 companion)."""

    class Meta:
        model = Purpose
        fields = ["risk_level", "risk_notes", "dpia_required", "dpia_done_on"]
        widgets = {
            "risk_notes": forms.Textarea(attrs={"rows": 3, "maxlength": TEXT_MAX}),
            "dpia_done_on": forms.DateInput(attrs={"type": "date"}),
        }

    def clean_risk_notes(self) -> str:
        notes = clean_text(self.cleaned_data.get("risk_notes") or "")
        if len(notes) > TEXT_MAX:
            raise forms.ValidationError(_("Texte trop long."))
        return notes


def _numbers(text: str, label: str) -> list[int]:
    numbers = []
    for word in re.split(r"[\s,;]+", text or ""):
        if not word:
            continue
        if not word.isdigit() or len(word) > 18:
            raise forms.ValidationError(
                _("%(label)s : « %(word)s » n'est pas un numéro.")
                % {"label": label, "word": word[:20]}
            )
        numbers.append(int(word))
    if len(numbers) > PEOPLE_MAX:
        raise forms.ValidationError(_("Trop de numéros (%(max)s au plus).") % {"max": PEOPLE_MAX})
    return numbers


class BreachPeopleForm(forms.Form):
    """Who the breach touches: partners whose data leaked, import batches, customer numbers."""

    partners = forms.ModelMultipleChoiceField(
        label=_("Clients apportés par ces partenaires"),
        queryset=Partner.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    batches = forms.CharField(
        label=_("Clients de ces imports (n° d'import)"), required=False, max_length=2_000
    )
    customers = forms.CharField(
        label=_("Ces clients (n° de client, séparés par des espaces ou des virgules)"),
        required=False,
        max_length=2_000_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_batches(self) -> list[ImportBatch]:
        numbers = _numbers(self.cleaned_data.get("batches", ""), str(_("Imports")))
        found = list(ImportBatch.objects.filter(pk__in=numbers))
        missing = sorted(set(numbers) - {b.pk for b in found})
        if missing:
            raise forms.ValidationError(
                _("Import inconnu : %(numbers)s") % {"numbers": ", ".join(map(str, missing[:10]))}
            )
        return found

    def clean_customers(self) -> list[int]:
        return _numbers(self.cleaned_data.get("customers", ""), str(_("Clients")))


class PeopleInformedForm(forms.Form):
    informed_at = forms.DateTimeField(label=_("Personnes informées le"))


class BreachNotifyForm(forms.Form):
    subject = forms.CharField(label=_("Objet"), max_length=200)
    body = forms.CharField(
        label=_("Message aux personnes concernées"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Décrivez en termes clairs la violation, ses conséquences probables, les mesures "
            "prises et comment joindre le DPO (article 34)."
        ),
    )
    confirm = forms.BooleanField(label=_("J'envoie ce message à toutes les personnes de la liste"))
