from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from cordee.activities.columns import looks_like_activity_header, recognise_activity_columns
from cordee.activities.models import ActivityKind
from cordee.collect.columns import MappingError, load_mapping, looks_like_header, recognise
from cordee.collect.reader import HeaderTest, UnreadableFile, open_table
from cordee.partners.models import Partner

FILE_EXTENSIONS = (".csv", ".xlsx", ".ods")
MAPPING_EXTENSIONS = (".json", ".toml")
MAPPING_MAX_BYTES = 1024 * 1024


def upload_path(upload: UploadedFile) -> Path:
    """Where Django streamed the upload (the import views only accept temporary-file uploads)."""
    return Path(upload.temporary_file_path())  # type: ignore[attr-defined]


class ImportForm(forms.Form):
    partner = forms.ModelChoiceField(label=_("Partenaire"), queryset=Partner.objects.none())
    content = forms.ChoiceField(
        label=_("Le fichier contient"),
        choices=[
            ("customers", _("des clients")),
            ("activities", _("des activités (réservations, billetterie, caisse)")),
        ],
        initial="customers",
        required=False,  # a form posted without it (older clients) imports customers
        widget=forms.RadioSelect,
    )
    activity_kind = forms.ChoiceField(
        label=_("Type des activités (fichier sans colonne Type)"),
        choices=[("", _("— d'après la colonne Type du fichier —")), *ActivityKind.choices],
        required=False,
    )
    file = forms.FileField(
        label=_("Fichier de clients"),
        help_text=_("CSV, XLSX ou ODS, avec une ligne d'en-têtes."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(FILE_EXTENSIONS)}),
    )
    mapping = forms.FileField(
        label=_("Correspondance des colonnes (facultatif)"),
        help_text=_("Fichier JSON ou TOML qui dit quelle colonne correspond à quel champ."),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(MAPPING_EXTENSIONS)}),
    )
    dry_run = forms.BooleanField(
        label=_("Essai à blanc : lire et vérifier le fichier sans rien enregistrer"),
        help_text=_(
            "Recommandé pour un premier fichier : vous verrez le rapport, puis pourrez lancer "
            "l'import pour de bon."
        ),
        required=False,
        initial=True,
    )

    def __init__(
        self, *args: Any, partners: QuerySet[Partner], fixed: Partner | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["partner"])
        field.queryset = partners
        if fixed is not None:
            # A partner manager imports for its own organisation only: shown, not chosen.
            field.initial = fixed.pk
            field.disabled = True

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        name = upload.name or ""
        if Path(name).suffix.lower() not in FILE_EXTENSIONS:
            raise forms.ValidationError(
                _("Format non pris en charge : « %(name)s ». Envoyez un fichier CSV, XLSX ou ODS."),
                params={"name": name},
            )
        limit = settings.CORDEE_IMPORT_MAX_BYTES
        if (upload.size or 0) > limit:
            raise forms.ValidationError(
                _("Le fichier fait %(size)s : c'est plus que la taille maximale de %(max)s."),
                params={"size": filesizeformat(upload.size or 0), "max": filesizeformat(limit)},
            )
        if not upload.size:
            raise forms.ValidationError(_("Le fichier est vide."))
        return upload

    def clean_mapping(self) -> Any:
        upload: UploadedFile | None = self.cleaned_data.get("mapping")
        if not upload:
            return None
        name = upload.name or ""
        if Path(name).suffix.lower() not in MAPPING_EXTENSIONS:
            raise forms.ValidationError(
                _("Le fichier de correspondance doit être en JSON ou en TOML (« %(name)s »)."),
                params={"name": name},
            )
        if (upload.size or 0) > MAPPING_MAX_BYTES:
            raise forms.ValidationError(_("Le fichier de correspondance est trop gros."))
        try:
            return load_mapping(upload_path(upload))
        except MappingError as exc:
            raise forms.ValidationError(str(exc.message)) from None
        except (OSError, UnicodeDecodeError):
            raise forms.ValidationError(_("Le fichier de correspondance est illisible.")) from None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        upload = data.get("file")
        if upload is None or self.has_error("mapping"):
            return data
        # Open the file now, so that a file that cannot be read is refused here, with its
        # reason, before anything is stored.
        try:
            mapping = data.get("mapping")
            is_header: HeaderTest = (
                looks_like_activity_header
                if data.get("content") == "activities"
                else partial(looks_like_header, mapping=mapping)
            )
            with open_table(
                upload_path(upload), filename=upload.name, is_header=is_header
            ) as table:
                plan = recognise(table.headers, mapping)
                headers = list(table.headers)
        except UnreadableFile as exc:
            self.add_error("file", str(exc.message))
            return data
        if data.get("content") == "activities":
            problems = recognise_activity_columns(headers).problems(
                default_kind=data.get("activity_kind") or None
            )
            if problems:
                self.add_error("file", " ; ".join(problems))
            return data
        if not plan.fields and not plan.consents:
            self.add_error(
                "file",
                _(
                    "Aucune colonne reconnue (en-têtes : %(headers)s). Renommez les colonnes "
                    "ou fournissez un fichier de correspondance."
                )
                % {"headers": ", ".join(headers[:10]) or "—"},
            )
        return data
