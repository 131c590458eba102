"""The three 3F groups as ready-made segments, in every installation."""

from django.db import migrations

BUILTIN = (
    (
        "fideles",
        "Fidèles",
        "fidele",
        "Reviennent par choix et sont satisfaits (saison de référence).",
    ),
    (
        "forces",
        "Forcés",
        "force",
        "Reviennent, mais insatisfaits ou contraints (saison de référence).",
    ),
    ("fuyants", "Fuyants", "fuyant", "S’éloignent ou sont partis (saison de référence)."),
)


def create(apps, schema_editor):
    Segment = apps.get_model("segments", "Segment")
    for slug, name, group, description in BUILTIN:
        Segment.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "kind": "dynamic",
                "is_builtin": True,
                "definition": {"all": [{"field": "loyalty_group", "op": "eq", "value": group}]},
            },
        )


def remove(apps, schema_editor):
    apps.get_model("segments", "Segment").objects.filter(
        slug__in=[b[0] for b in BUILTIN], is_builtin=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("segments", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
