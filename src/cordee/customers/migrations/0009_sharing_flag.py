"""The sharing flag on the customer (cordee.privacy.sharing), filled from the consent states."""

from typing import Any

from django.db import migrations, models


def backfill(apps: Any, schema_editor: Any) -> None:
    # The rule of cordee.privacy.sharing, written out here: a migration must not follow the
    # application's code as it changes later.
    customer = apps.get_model("customers", "Customer")
    state = apps.get_model("privacy", "ConsentState")
    purpose = apps.get_model("privacy", "Purpose")
    qn = schema_editor.connection.ops.quote_name
    schema_editor.execute(
        f"UPDATE {qn(customer._meta.db_table)} SET shares_with_partners = %s "  # noqa: S608
        f"WHERE id IN (SELECT s.customer_id FROM {qn(state._meta.db_table)} s "
        f"WHERE s.status = %s AND s.purpose_id = "
        f"(SELECT id FROM {qn(purpose._meta.db_table)} WHERE slug = %s))",
        [True, "granted", "partner_offers"],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_source_raw_text_no_batch_index"),
        ("privacy", "0008_fk_without_db_constraint"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="shares_with_partners",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("shares_with_partners", True)),
                fields=["id"],
                name="customer_shared_idx",
            ),
        ),
    ]
