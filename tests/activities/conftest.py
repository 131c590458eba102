"""Customers the activity tests join to: Élodie came through Hôtel des Alpes (its id H-1001),
Jean-Luc through the Camping du Lac; the hotel has no business with Jean-Luc."""

from __future__ import annotations

import pytest


@pytest.fixture
def customers(destination, import_file):
    import_file(
        "N° client;Prénom;Nom;E-mail;Téléphone\n"
        "H-1001;Élodie;Martin;elodie.martin@example.fr;06 12 34 56 78\n"
        "H-1002;Hugo;Bernard;hugo.bernard@example.fr;06 22 33 44 55\n",
        partner=destination.hotel,
    )
    import_file(
        "Référence;Prénom;Nom;E-mail;Téléphone\nC-7;Jean-Luc;Roux;jl.roux@example.fr;06 98 76 54 32\n",
        partner=destination.camping,
        name="camping.csv",
    )
    from cordee.customers.models import Customer

    class People:
        elodie = Customer.objects.get(first_name="Élodie")
        hugo = Customer.objects.get(first_name="Hugo")
        jean_luc = Customer.objects.get(first_name="Jean-Luc")

    return People


@pytest.fixture
def import_activities(tmp_path, destination):
    from cordee.activities.imports import activity_import_create, activity_import_run
    from cordee.privacy.access import Actor

    def run(text, *, partner=None, name="activites.csv", kind="", dry_run=False):
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        batch = activity_import_create(
            partner=partner or destination.hotel,
            source=path,
            filename=name,
            actor=Actor.system("test"),
            default_kind=kind,
            dry_run=dry_run,
        )
        return activity_import_run(batch_id=batch.pk)

    return run
