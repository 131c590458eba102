"""The fields a visitor fills in on a partner's site, one form class per kind of public form."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from cordee.channels.models import FormKind, PublicForm
from cordee.collect import normalise as norm
from cordee.privacy.models import ConsentWording
from cordee.privacy.services import current_wording

TOKEN_SALT = "cordee.channels.form"  # noqa: S105 - a signing salt, not a secret
TOKEN_MAX_AGE = 24 * 3600
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

INTERESTS = [
    ("ski", _("Ski et glisse")),
    ("randonnee", _("Randonnée")),
    ("vtt", _("VTT et vélo")),
    ("patrimoine", _("Patrimoine et culture")),
    ("gastronomie", _("Gastronomie")),
    ("bien-etre", _("Bien-être")),
    ("famille", _("Activités en famille")),
    ("evenements", _("Fêtes et évènements")),
]
SEASONS = [("hiver", _("L'hiver")), ("ete", _("L'été")), ("les deux", _("Les deux"))]
# The marketing boxes each kind of form offers, never ticked in advance.
OPTIONAL_CONSENTS = {
    FormKind.NEWSLETTER: ["partner_offers"],
    FormKind.CONTEST: ["newsletter", "partner_offers", "sms"],
    FormKind.QUESTIONNAIRE: ["newsletter"],
}


def form_token(form: PublicForm, wordings: dict[str, int]) -> str:
    """Signed: which form, and which version of each consent text the page showed."""
    return signing.TimestampSigner(salt=TOKEN_SALT).sign_object({"f": form.pk, "w": wordings})


def token_read(form: PublicForm, token: str) -> dict[str, int] | None:
    """The wordings the page showed, or None for a forged, stale or other form's token."""
    try:
        value = signing.TimestampSigner(salt=TOKEN_SALT).unsign_object(token, max_age=TOKEN_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(value, dict) or value.get("f") != form.pk:
        return None
    wordings = value.get("w")
    if not isinstance(wordings, dict):
        return None
    return {str(k): v for k, v in wordings.items() if isinstance(v, int)}


class NameField(forms.CharField):
    """A name as typed: no control characters; HTML is kept as text and escaped when shown."""

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value and _CONTROL.search(value):
            raise forms.ValidationError(_("Caractères de contrôle interdits."))
        return value


class SafeEmailField(forms.EmailField):
    """An e-mail on one line, normalised like every channel's (no header injection)."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and any(c in value for c in "\r\n\x00,;<>"):
            raise forms.ValidationError(_("Adresse e-mail invalide."))
        return super().to_python(value)

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value:
            return value
        try:
            return norm.email(value)
        except norm.InvalidValue as exc:
            raise forms.ValidationError(exc.message) from None


class PublicEntryForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=1000)
    page = forms.CharField(widget=forms.HiddenInput, max_length=2000, required=False)
    visitor = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    # The honeypot: hidden from people by the stylesheet, filled in by naive bots.
    website = forms.CharField(
        label=_("Ne pas remplir ce champ"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    first_name = NameField(label=_("Prénom"), max_length=100, required=False)
    last_name = NameField(label=_("Nom"), max_length=100, required=False)
    email = SafeEmailField(label=_("E-mail"), max_length=254)

    def __init__(self, *args: Any, public_form: PublicForm, language: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.public_form = public_form
        self.language = language
        self.wordings = self._wordings_shown()
        for slug, wording in self.wordings.items():
            self.fields[f"consent_{slug}"] = forms.BooleanField(
                label=wording.text,
                required=slug in self.required_consents(),
                initial=False,
            )
        if not self.is_bound:
            self.initial["token"] = form_token(
                public_form, {slug: w.pk for slug, w in self.wordings.items()}
            )

    def _wordings_shown(self) -> dict[str, ConsentWording]:
        """On a POST, the versions the page showed (carried by the token): that is the proof."""
        slugs = self.consent_slugs()
        shown = (
            token_read(self.public_form, str(self.data.get("token", ""))) if self.is_bound else None
        )
        if shown is not None:
            by_pk = ConsentWording.objects.select_related("purpose").in_bulk(shown.values())
            wordings = {
                slug: by_pk[pk]
                for slug, pk in shown.items()
                if slug in slugs and pk in by_pk and by_pk[pk].purpose.slug == slug
            }
            return {slug: wordings[slug] for slug in slugs if slug in wordings}
        found = {}
        for slug in slugs:
            wording = current_wording_for(slug, self.language)
            if wording is not None:
                found[slug] = wording
        return found

    def consent_slugs(self) -> list[str]:
        return [*self.required_consents(), *OPTIONAL_CONSENTS[FormKind(self.public_form.kind)]]

    def required_consents(self) -> list[str]:
        return []

    def consent_fields(self) -> list[forms.BoundField]:
        return [self[f"consent_{slug}"] for slug in self.wordings]

    def given_consents(self) -> dict[str, int]:
        return {
            slug: wording.pk
            for slug, wording in self.wordings.items()
            if self.cleaned_data.get(f"consent_{slug}")
        }

    def clean_token(self) -> str:
        token: str = self.cleaned_data["token"]
        if token_read(self.public_form, token) is None:
            raise forms.ValidationError(
                _("Ce formulaire a expiré : rechargez la page et recommencez.")
            )
        return token

    def entry_fields(self) -> dict[str, str]:
        """The answers as text, like a file's cells (what the intake normalises)."""
        fields = {}
        for name in ("first_name", "last_name", "email", "phone", "postal_code", "children"):
            value = self.cleaned_data.get(name)
            if value not in (None, ""):
                fields[name] = str(value)
        interests = self.cleaned_data.get("interests")
        if interests:
            fields["interests"] = ", ".join(interests)
        season = self.cleaned_data.get("preferred_season")
        if season:
            fields["preferred_season"] = season
        fields["language"] = self.language
        return fields


def current_wording_for(slug: str, language: str) -> ConsentWording | None:
    from cordee.privacy.models import Purpose

    purpose = Purpose.objects.filter(slug=slug, is_active=True).first()
    return current_wording(purpose, language) if purpose else None


class NewsletterForm(PublicEntryForm):
    def required_consents(self) -> list[str]:
        return ["newsletter"]


class ContestForm(PublicEntryForm):
    phone = forms.CharField(label=_("Téléphone (facultatif)"), max_length=30, required=False)
    accept_rules = forms.BooleanField(
        label=_("J'ai lu et j'accepte le règlement du jeu."), required=True
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True

    def clean_phone(self) -> str:
        value: str = self.cleaned_data.get("phone") or ""
        if not value:
            return ""
        try:
            return str(norm.phone(value))
        except norm.InvalidValue as exc:
            raise forms.ValidationError(exc.message) from None


class QuestionnaireForm(PublicEntryForm):
    interests = forms.MultipleChoiceField(
        label=_("Ce qui vous intéresse"),
        choices=INTERESTS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    preferred_season = forms.ChoiceField(
        label=_("Votre saison préférée"),
        choices=SEASONS,
        required=False,
        widget=forms.RadioSelect,
    )
    children = forms.IntegerField(
        label=_("Nombre d'enfants qui voyagent avec vous"),
        min_value=0,
        max_value=30,
        required=False,
    )
    postal_code = forms.CharField(label=_("Code postal"), max_length=10, required=False)


FORM_CLASSES: dict[str, type[PublicEntryForm]] = {
    FormKind.NEWSLETTER: NewsletterForm,
    FormKind.CONTEST: ContestForm,
    FormKind.QUESTIONNAIRE: QuestionnaireForm,
}
