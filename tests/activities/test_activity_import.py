from __future__ import annotations

import pytest

from cordee.activities.models import Activity, ActivityImport
from cordee.collect.models import ImportIssue, ImportStatus

BOOKINGS = (
    "N° de réservation;N° client;E-mail;Date d'arrivée;Date de départ;Montant;Quantité;Produit;Moyen de paiement\n"
    "R-1;H-1001;;14/02/2026;21/02/2026;1 234,50;2;Chambre double;CB\n"
    "R-2;;hugo.bernard@example.fr;2026-07-10;2026-07-12;300;1;Chambre simple;Espèces\n"
    "R-3;;inconnu@example.fr;2026-07-10;;;;;\n"
    "R-4;H-1001;;pas une date;;;;;\n"
    "R-5;;jl.roux@example.fr;2026-07-10;;;;;\n"
)


def test_bookings_are_joined_to_customers_and_bad_lines_reported(customers, import_activities):
    batch = import_activities(BOOKINGS, kind="stay")
    assert batch.status == ImportStatus.DONE, batch.error
    assert (batch.lines_read, batch.accepted, batch.rejected) == (5, 2, 3)
    stays = Activity.objects.order_by("external_id")
    assert [(a.external_id, a.customer_id, a.kind) for a in stays] == [
        ("R-1", customers.elodie.pk, "stay"),
        ("R-2", customers.hugo.pk, "stay"),
    ]
    assert stays[0].source_record is not None  # joined through the hotel's own record
    issues = {i.line: i.message for i in ImportIssue.objects.filter(batch=batch)}
    assert "client introuvable" in issues[4]
    assert "Date illisible" in issues[5]
    # Jean-Luc is the camping's customer: the hotel cannot reach him by his e-mail.
    assert "client introuvable" in issues[6]
    assert ActivityImport.objects.get(batch=batch).unmatched == 2


def test_importing_the_same_file_again_creates_nothing(customers, import_activities):
    import_activities(BOOKINGS, kind="stay")
    again = import_activities(BOOKINGS, kind="stay")
    assert again.unchanged == 2
    assert Activity.objects.count() == 2


def test_lines_without_reference_are_recognised_by_their_content(customers, import_activities):
    text = "Type;Date;E-mail;Produit\nForfait;2026-01-03;elodie.martin@example.fr;Forfait 6 jours\nCours;2026-01-04;elodie.martin@example.fr;Cours collectif\n"
    import_activities(text)
    import_activities(text)
    assert sorted(Activity.objects.values_list("kind", flat=True)) == ["lesson", "ticket"]


def test_english_headers_and_phone_and_card(customers, destination, import_activities):
    from cordee.activities.cards import loyalty_card_issue
    from cordee.privacy.access import Actor

    card = loyalty_card_issue(customer=customers.jean_luc, actor=Actor.system("test"))
    text = (
        "Booking ref,Type,Arrival date,Phone,Card number,Amount\n"
        f"B1,visit,2026-02-01,,{card.display_number},10.5\n"
        "B2,meal,2026-02-02,+33612345678,,20\n"
    )
    batch = import_activities(text, partner=destination.hotel)
    assert batch.accepted == 2, list(ImportIssue.objects.values_list("message", flat=True))
    # The card is shown by its holder: the hotel records his visit though he is not its customer.
    assert Activity.objects.get(external_id="B1").customer_id == customers.jean_luc.pk
    assert Activity.objects.get(external_id="B2").customer_id == customers.elodie.pk


def test_dry_run_writes_nothing(customers, import_activities):
    batch = import_activities(BOOKINGS, kind="stay", dry_run=True)
    assert batch.status == ImportStatus.DONE and batch.accepted == 2
    assert Activity.objects.count() == 0


@pytest.mark.parametrize(
    "content, reason",
    [
        ("Nom;Prénom\nMartin;Élodie\n", "aucune colonne de date"),
        ("Date;Montant\n2026-01-01;3\n", "retrouver le client"),
        ("Date;E-mail\n2026-01-01;a@b.fr\n", "aucune colonne Type"),
        (b"\x00\x01\x02binary\xff\xfe", ""),
        ("", "vide"),
    ],
)
def test_files_that_cannot_be_activities_fail_with_a_reason(
    customers, import_activities, content, reason
):
    batch = import_activities(content)
    assert batch.status == ImportStatus.FAILED
    assert reason in batch.error
    assert Activity.objects.count() == 0


def test_hostile_cells_are_refused_or_kept_as_text(customers, import_activities):
    text = (
        "Référence;N° client;Type;Date;Produit;Montant\n"
        "X1;H-1001;achat;2026-01-05;<script>alert(1)</script>;=1+1\n"
        f"X2;H-1001;achat;2026-01-05;{'p' * 5000};1\n"
        "X3;H-1001;' OR 1=1 --;2026-01-05;;\n"
        "X4;H-1001;achat;2026-01-05;\x1b[31mrouge;2\n"
    )
    batch = import_activities(text)
    messages = {i.line: i.message for i in ImportIssue.objects.filter(batch=batch)}
    assert "montant illisible" in messages[2]
    assert "trop long" in messages[3]
    assert "type inconnu" in messages[4]
    assert Activity.objects.get(external_id="X4").product == "[31mrouge"


@pytest.mark.slow
def test_a_large_file_goes_in_by_batches(customers, import_activities, monkeypatch):
    from cordee.activities import imports

    monkeypatch.setattr(imports, "BATCH_SIZE", 1000)
    lines = ["Référence;N° client;Type;Date;Montant"]
    lines += [f"T{i};H-1001;forfait;2026-01-{1 + i % 28:02};{i % 50},00" for i in range(5000)]
    batch = import_activities("\n".join(lines) + "\n")
    assert batch.accepted == 5000
    assert Activity.objects.count() == 5000


def _bookings(count: int) -> str:
    lines = ["Référence;N° client;E-mail;Type;Date;Montant"]
    for i in range(count):
        if i % 97 == 5:
            lines.append(f"W{i};H-1001;;forfait;pas une date;1,00")  # unreadable
        elif i % 89 == 7:
            lines.append(f"W{i};;personne{i}@example.fr;forfait;2026-01-03;1,00")  # nobody
        else:
            lines.append(f"W{i};H-1001;;forfait;2026-01-{1 + i % 28:02};{i % 50},00")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_worker_processes_give_what_one_process_gives(
    customers, import_activities, monkeypatch, destination
):
    from cordee.activities import imports

    monkeypatch.setattr(imports, "BATCH_SIZE", 400)
    text = _bookings(3000)
    monkeypatch.setenv("CORDEE_IMPORT_WORKERS", "0")
    alone = import_activities(text, name="seul.csv", dry_run=True)
    monkeypatch.setenv("CORDEE_IMPORT_WORKERS", "2")
    shared = import_activities(text, name="partage.csv")
    assert shared.status == ImportStatus.DONE, shared.error
    counts = ("lines_read", "accepted", "rejected", "unchanged")
    assert [getattr(shared, c) for c in counts] == [getattr(alone, c) for c in counts]
    assert shared.accepted == Activity.objects.count() > 2900
    assert sorted(ImportIssue.objects.filter(batch=shared).values_list("line", "message")) == (
        sorted(ImportIssue.objects.filter(batch=alone).values_list("line", "message"))
    )
    assert ActivityImport.objects.get(batch=shared).unmatched == 34


@pytest.mark.slow
def test_a_worker_that_dies_is_reported_and_the_file_again_loses_nothing(
    customers, import_activities, monkeypatch, tmp_path, destination
):
    import multiprocessing
    import os
    import signal

    from cordee.activities import imports
    from cordee.privacy.access import Actor

    monkeypatch.setattr(imports, "BATCH_SIZE", 300)
    monkeypatch.setenv("CORDEE_IMPORT_WORKERS", "1")
    text = _bookings(6000)
    path = tmp_path / "tue.csv"
    path.write_text(text, encoding="utf-8")
    batch = imports.activity_import_create(
        partner=destination.hotel, source=path, filename="tue.csv", actor=Actor.system("test")
    )

    def kill_a_worker(_batch):
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGKILL)

    failed = imports.activity_import_run(batch_id=batch.pk, progress=kill_a_worker)
    assert failed.status == ImportStatus.FAILED
    assert "s'est arrêté" in failed.error and "importez de nouveau" in failed.error
    assert 0 < failed.lines_read < 6000 and failed.lines_read % 300 == 0
    kept = Activity.objects.count()
    assert kept == failed.accepted > 0  # the batches stored before the crash are whole

    again = import_activities(text, name="tue.csv")
    assert again.status == ImportStatus.DONE, again.error
    assert again.unchanged == kept
    assert Activity.objects.count() == 6000 - len(range(5, 6000, 97)) - sum(
        1 for i in range(6000) if i % 89 == 7 and i % 97 != 5
    )
