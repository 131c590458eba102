"""Source records: no index on batch_id (nothing reads them by batch), raw as text.

raw was a jsonb column holding the ciphertext as a JSON string: PostgreSQL parsed it on each
of a million imported rows and never read inside it. The column becomes text holding the
ciphertext itself (or the JSON text, for a value in clear).
"""

import django.db.models.deletion
from django.db import migrations, models

import cordee.privacy.fields


def unquote(apps, schema_editor):
    # The type change kept each value's JSON text: a string's loses its quotes, an object's
    # (a value in clear) stays the object's JSON.
    if schema_editor.connection.vendor == "postgresql":
        sql = "UPDATE customers_sourcerecord SET raw = (raw::jsonb #>> '{}') WHERE raw LIKE '\"%%'"
    else:
        sql = "UPDATE customers_sourcerecord SET raw = json_extract(raw, '$') WHERE raw LIKE '\"%%'"
    schema_editor.execute(sql)


def quote(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        sql = "UPDATE customers_sourcerecord SET raw = to_jsonb(raw)::text WHERE raw LIKE 'enc:%%'"
    else:
        sql = "UPDATE customers_sourcerecord SET raw = json_quote(raw) WHERE raw LIKE 'enc:%%'"
    schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("collect", "0002_initial"),
        ("customers", "0007_fk_without_db_constraint"),
        # The encryption of existing values ran on the jsonb column.
        ("privacy", "0007_encrypt_existing_values"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sourcerecord",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="source_records",
                to="collect.importbatch",
            ),
        ),
        migrations.AlterField(
            model_name="sourcerecord",
            name="raw",
            field=cordee.privacy.fields.EncryptedJSONTextField(),
        ),
        migrations.RunPython(unquote, quote, elidable=False),
    ]
