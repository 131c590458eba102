"""The register's data categories of ``partner_offers`` follow what a partner is shown of a
shared customer (``privacy.access.PURPOSE_FIELDS``): no postal address, the phone only with the
SMS consent, interests and family only with the profiling consent, no stays at other partners.
Rows a DPO has edited since the seed are left as they are."""

from typing import Any

from django.db import migrations

SEEDED = [
    "Identité (civilité, prénom, nom)",
    "Coordonnées (e-mail, téléphone, adresse postale)",
    "Centres d'intérêt, saison préférée, composition de la famille",
    "Séjours et achats auprès des partenaires",
]
NOW = [
    "Identité (civilité, prénom, nom) et langue",
    "E-mail ; ville, département, région et pays (pas d'adresse postale)",
    "Téléphone : seulement si la personne a aussi accepté les SMS",
    "Centres d'intérêt, saison préférée, composition de la famille : seulement si la personne "
    "a aussi accepté le profilage",
]


def forwards(apps: Any, schema_editor: Any) -> None:
    purpose = apps.get_model("privacy", "Purpose")
    purpose.objects.filter(slug="partner_offers", data_categories=SEEDED).update(
        data_categories=NOW
    )


def backwards(apps: Any, schema_editor: Any) -> None:
    purpose = apps.get_model("privacy", "Purpose")
    purpose.objects.filter(slug="partner_offers", data_categories=NOW).update(
        data_categories=SEEDED
    )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0012_request_identity_check")]

    operations = [migrations.RunPython(forwards, backwards)]
