"""Ready-made geographic choices: zones and regions as lists of départements (INSEE codes)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ZONES = {
    "paris-petite-couronne": (_("Paris et sa petite couronne"), ("75", "92", "93", "94")),
    "ile-de-france": (_("Île-de-France"), ("75", "77", "78", "91", "92", "93", "94", "95")),
}

# The regions since 2016, by their département codes.
REGIONS = {
    "auvergne-rhone-alpes": (_("Auvergne-Rhône-Alpes"), ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74")),
    "bourgogne-franche-comte": (_("Bourgogne-Franche-Comté"), ("21", "25", "39", "58", "70", "71", "89", "90")),
    "bretagne": (_("Bretagne"), ("22", "29", "35", "56")),
    "centre-val-de-loire": (_("Centre-Val de Loire"), ("18", "28", "36", "37", "41", "45")),
    "corse": (_("Corse"), ("2A", "2B")),
    "grand-est": (_("Grand Est"), ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88")),
    "hauts-de-france": (_("Hauts-de-France"), ("02", "59", "60", "62", "80")),
    "ile-de-france": (_("Île-de-France"), ("75", "77", "78", "91", "92", "93", "94", "95")),
    "normandie": (_("Normandie"), ("14", "27", "50", "61", "76")),
    "nouvelle-aquitaine": (_("Nouvelle-Aquitaine"), ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87")),
    "occitanie": (_("Occitanie"), ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82")),
    "pays-de-la-loire": (_("Pays de la Loire"), ("44", "49", "53", "72", "85")),
    "provence-alpes-cote-d-azur": (_("Provence-Alpes-Côte d’Azur"), ("04", "05", "06", "13", "83", "84")),
    "outre-mer": (_("Outre-mer"), ("971", "972", "973", "974", "976")),
}  # fmt: skip


def departements_of(kind: str, key: str) -> tuple[str, ...] | None:
    table = ZONES if kind == "zone" else REGIONS
    entry = table.get(key)
    return entry[1] if entry else None
