"""The identity check of data-subject requests (cordee.privacy.identity).

Requests already in the ledger: those from the preference centre came through its signed
link; those with an identity note were checked by the DPO another way; the others wait.
"""

from typing import Any

from django.db import migrations, models


def backfill(apps: Any, schema_editor: Any) -> None:
    request = apps.get_model("privacy", "DataSubjectRequest")
    request.objects.filter(channel="preferences").update(identity="link")
    request.objects.exclude(channel="preferences").exclude(identity_note="").update(
        identity="other"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0011_breach_affected_people"),
    ]

    operations = [
        migrations.AddField(
            model_name="datasubjectrequest",
            name="identity",
            field=models.CharField(
                choices=[
                    ("awaiting", "En attente de confirmation"),
                    ("email", "Confirmée par e-mail"),
                    ("link", "Lien signé du centre de préférences"),
                    ("other", "Vérifiée autrement"),
                ],
                default="awaiting",
                max_length=8,
                verbose_name="identité",
            ),
        ),
        migrations.AddField(
            model_name="datasubjectrequest",
            name="identity_confirmed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="identité confirmée le"),
        ),
        migrations.AddField(
            model_name="datasubjectrequest",
            name="identity_nonce",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
