from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.forms import BoundField
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from cordee.campaigns.models import Channel, TriggerKind, WinnerMetric
from cordee.campaigns.rendering import BLOCK_TYPES
from cordee.privacy.models import Purpose

BLOCK_LABELS = {
    "title": _("Titre"),
    "paragraph": _("Paragraphe"),
    "button": _("Bouton"),
    "image": _("Image (adresse)"),
    "offer": _("Offre"),
    "survey": _("Bouton « Donner mon avis » (dernier séjour)"),
}


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Nom de la campagne"), max_length=150)
    channel = forms.ChoiceField(label=_("Canal"), choices=Channel.choices)
    purpose = forms.ModelChoiceField(
        label=_("Finalité (consentement requis)"),
        queryset=Purpose.objects.filter(is_active=True),
        to_field_name="slug",
    )
    segment_slug = forms.SlugField(label=_("Segment"), max_length=60, required=False)
    sender_name = forms.CharField(label=_("Nom de l'expéditeur"), max_length=100)
    sender_email = forms.EmailField(label=_("Adresse de l'expéditeur"))
    reply_to = forms.EmailField(label=_("Adresse de réponse"), required=False)
    cost = forms.DecimalField(
        label=_("Coût (€)"), min_value=0, max_digits=10, decimal_places=2, initial=0
    )
    control_percent = forms.IntegerField(
        label=_("Groupe témoin (%)"), min_value=0, max_value=50, initial=0
    )
    test_percent = forms.IntegerField(
        label=_("Test A/B : part de l'audience testée (%)"),
        min_value=0,
        max_value=90,
        initial=0,
        required=False,
    )
    winner_metric = forms.ChoiceField(
        label=_("Test A/B : critère du gagnant"),
        choices=WinnerMetric.choices,
        initial=WinnerMetric.CLICKS,
        required=False,
    )
    winner_delay = forms.IntegerField(
        label=_("Test A/B : choix du gagnant après (heures)"),
        min_value=0,
        max_value=336,
        initial=4,
        required=False,
    )
    winner_auto = forms.BooleanField(
        label=_("Test A/B : envoyer le gagnant au reste automatiquement"),
        initial=True,
        required=False,
    )
    subject_fr = forms.CharField(label=_("Objet"), max_length=200, required=False, strip=False)
    subject_en = forms.CharField(
        label=_("Objet (anglais)"), max_length=200, required=False, strip=False
    )
    subject_b_fr = forms.CharField(
        label=_("Objet de la variante B (test A/B)"), max_length=200, required=False, strip=False
    )
    subject_b_en = forms.CharField(
        label=_("Objet de la variante B (anglais)"), max_length=200, required=False, strip=False
    )
    sms_fr = forms.CharField(
        label=_("Texte du SMS"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    sms_en = forms.CharField(
        label=_("Texte du SMS (anglais)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    b_own_content = forms.BooleanField(
        label=_("La variante B a son propre contenu (sinon, seul l'objet change)"),
        required=False,
    )
    sms_b_fr = forms.CharField(
        label=_("Texte du SMS de la variante B"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    sms_b_en = forms.CharField(
        label=_("Texte du SMS de la variante B (anglais)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# The editors of a campaign's message: variant A's (the campaign's own) and variant B's.
EDITOR_LANGS = ("fr", "en", "bfr", "ben")


class TriggerForm(forms.Form):
    name = forms.CharField(label=_("Nom du déclencheur"), max_length=150)
    kind = forms.ChoiceField(label=_("Occasion"), choices=TriggerKind.choices)
    days = forms.IntegerField(
        label=_("Jours"),
        min_value=0,
        max_value=3650,
        initial=0,
        help_text=_(
            "Avant l'anniversaire d'un séjour ou l'ouverture de la saison, après un séjour, "
            "ou d'absence pour la reconquête (540 par défaut)."
        ),
    )
    purpose = forms.ModelChoiceField(
        label=_("Finalité (consentement requis)"),
        queryset=Purpose.objects.filter(is_active=True),
        to_field_name="slug",
    )
    segment_slug = forms.SlugField(label=_("Segment (facultatif)"), max_length=60, required=False)
    sender_name = forms.CharField(label=_("Nom de l'expéditeur"), max_length=100, required=False)
    sender_email = forms.EmailField(label=_("Adresse de l'expéditeur"), required=False)
    subject_fr = forms.CharField(label=_("Objet"), max_length=200, required=False, strip=False)
    subject_en = forms.CharField(
        label=_("Objet (anglais)"), max_length=200, required=False, strip=False
    )


def blocks_from_post(data: QueryDict, lang: str) -> list[dict[str, Any]]:
    """The editor's rows (type, text, URL per row) as blocks; fully empty rows are dropped."""
    kinds = data.getlist(f"block_{lang}_type")
    texts = data.getlist(f"block_{lang}_text")
    urls = data.getlist(f"block_{lang}_url")
    blocks = []
    for i, kind in enumerate(kinds[:200]):
        text = texts[i] if i < len(texts) else ""
        url = urls[i] if i < len(urls) else ""
        if not text.strip() and not url.strip():
            continue
        block: dict[str, Any] = {"type": kind if kind in BLOCK_TYPES else kind[:20], "text": text}
        if url.strip():
            block["url"] = url
        blocks.append(block)
    return blocks


EMPTY_BLOCK = {"type": "paragraph", "text": "", "url": ""}
FIRST_BLOCKS = [{"type": "paragraph", "text": "Bonjour {{ first_name }},"}]
_HEADINGS = {
    "fr": _("Message en français"),
    "en": _("Message en anglais (visiteurs étrangers)"),
    "bfr": _("Variante B en français"),
    "ben": _("Variante B en anglais (visiteurs étrangers)"),
}


@dataclass
class MessageEditor:
    """One language's message on an edit page: its subjects, its blocks, its SMS."""

    lang: str  # the prefix of its block fields (block_<lang>_type…), see blocks_from_post
    heading: str
    subjects: list[BoundField] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    sms: BoundField | None = None


def message_editors(
    form: forms.Form,
    blocks: dict[str, list[dict[str, Any]]],
    *,
    subjects: dict[str, tuple[str, ...]],
    sms: dict[str, str] | None = None,
) -> tuple[list[MessageEditor], set[str]]:
    """The editors of the campaign, trigger and offer pages, one per key of ``blocks``, each
    with an empty row to fill; and the names of the form's fields they show, which the page's
    main fieldset leaves out."""
    editors = []
    shown: set[str] = set()
    for lang, rows in blocks.items():
        names = subjects.get(lang, ())
        sms_name = (sms or {}).get(lang)
        shown.update(names)
        if sms_name:
            shown.add(sms_name)
        editors.append(
            MessageEditor(
                lang=lang,
                heading=str(_HEADINGS[lang]),
                subjects=[form[name] for name in names],
                rows=[*rows, dict(EMPTY_BLOCK)],
                sms=form[sms_name] if sms_name else None,
            )
        )
    return editors, shown
