"""First risk notes for the seeded purposes, for the DPO to review; never over what they wrote."""

from django.db import migrations

NOTES = {
    "newsletter": (
        "low",
        False,
        "Risque : recevoir des messages non souhaités ; fuite d'adresses e-mail. "
        "Mesures : consentement prouvé et retirable en un clic dans chaque message, "
        "adresses chiffrées et recherchées par empreinte, envoi sans les autres destinataires.",
    ),
    "partner_offers": (
        "medium",
        False,
        "Risque : données partagées entre partenaires au-delà de ce que la personne attend. "
        "Mesures : consentement par finalité et par responsable, contrôle d'accès unique "
        "par partenaire, journal de qui a vu quoi, retrait effectif immédiatement.",
    ),
    "sms": (
        "low",
        False,
        "Risque : sollicitations sur le téléphone personnel ; fuite de numéros. "
        "Mesures : consentement distinct et retirable depuis le centre de préférences, "
        "numéros chiffrés et recherchés par empreinte.",
    ),
    "profiling": (
        "medium",
        False,
        "Risque : déductions sur les habitudes de séjour et de dépense, ciblage perçu comme "
        "intrusif. Mesures : consentement exprès, aucune décision automatisée produisant des "
        "effets juridiques, segments limités aux données de la destination, durée limitée.",
    ),
    "surveys": (
        "low",
        False,
        "Risque : réponses libres contenant des données inattendues. "
        "Mesures : consentement, questions fermées de préférence, conservation limitée.",
    ),
    "analytics_cookies": (
        "low",
        False,
        "Risque : suivi de la navigation. Mesures : consentement avant tout dépôt, "
        "statistiques agrégées, pas de transfert hors UE.",
    ),
    "orders": (
        "medium",
        False,
        "Risque : fuite de coordonnées et d'historique d'achats ou de séjours. "
        "Mesures : accès par rôle et par partenaire, chiffrement des champs sensibles, "
        "purge à l'échéance de conservation, journal d'audit.",
    ),
}


def seed(apps, schema_editor):
    Purpose = apps.get_model("privacy", "Purpose")
    for slug, (level, dpia, notes) in NOTES.items():
        purpose = Purpose.objects.filter(slug=slug, risk_notes="").first()
        if purpose is None:
            continue
        purpose.risk_notes = notes
        if not purpose.risk_level:
            purpose.risk_level = level
        purpose.dpia_required = purpose.dpia_required or dpia
        purpose.save(update_fields=["risk_notes", "risk_level", "dpia_required"])


class Migration(migrations.Migration):
    dependencies = [("privacy", "0009_purpose_risk_notes")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
