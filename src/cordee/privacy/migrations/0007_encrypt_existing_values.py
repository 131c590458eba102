"""Encrypt the identifying values already stored in clear (batched; reversible)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from cordee.privacy.rotation import MIGRATION_0007_TARGETS, reencrypt

    reencrypt(MIGRATION_0007_TARGETS)


def backwards(apps, schema_editor):
    from cordee.privacy.rotation import MIGRATION_0007_TARGETS, reencrypt

    reencrypt(MIGRATION_0007_TARGETS, mode="decrypt")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_encrypted_identification"),
        ("privacy", "0006_stafftotp_secret_encrypted"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
