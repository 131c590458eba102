"""Hôtel des Alpes drops its nightly export in its folder; Cordée imports it and reports."""

from __future__ import annotations

import os
import time

import pytest
from django.core.management import call_command

from cordee.channels.feeds import feed_folders, feeds_poll
from cordee.channels.models import FeedFile

pytestmark = pytest.mark.django_db

GOOD = "Prénom;Nom;E-mail\r\nÉlodie;Martin;elodie@example.fr\r\nJean;;pas-un-email\r\n"


@pytest.fixture
def home(settings, tmp_path):
    settings.CORDEE_HOME = tmp_path / "home"
    (settings.CORDEE_HOME / "uploads").mkdir(parents=True)
    return settings.CORDEE_HOME


@pytest.fixture
def drop(home, destination):
    """Write a file into the hotel's incoming folder, settled (an old mtime) unless told."""
    incoming = feed_folders(destination.hotel)["incoming"]

    def put(name: str, content: str | bytes, *, settled: bool = True):
        path = incoming / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        if settled:
            old = time.time() - 3600
            os.utime(path, (old, old))
        return path

    return put


def _folder(destination, name):
    return sorted(p.name for p in feed_folders(destination.hotel)[name].iterdir())


def test_a_dropped_file_is_imported_and_reported(destination, drop):
    from cordee.customers.models import SourceRecord

    drop("clients-2026-11-22.csv", GOOD)
    result = feeds_poll()
    assert result.imported == ["clients-2026-11-22.csv"]
    assert _folder(destination, "incoming") == []
    done = _folder(destination, "done")
    assert len(done) == 2
    report = next(
        p
        for p in feed_folders(destination.hotel)["done"].iterdir()
        if p.name.endswith(".report.txt")
    )
    text = report.read_text()
    assert "Lignes acceptées : 1" in text and "Lignes rejetées : 1" in text
    assert "ligne 3" in text  # the bad line, by number, with its reason
    assert SourceRecord.objects.filter(partner=destination.hotel).count() == 1
    feed = FeedFile.objects.get()
    assert feed.status == "imported" and feed.batch.accepted == 1


def test_a_file_still_being_written_is_left_for_the_next_poll(destination, drop):
    drop("en-cours.csv", GOOD, settled=False)
    result = feeds_poll()
    assert result.waiting == ["en-cours.csv"] and result.imported == []
    assert _folder(destination, "incoming") == ["en-cours.csv"]
    # Temporary names used by uploaders are never taken, however old.
    drop("upload.csv.part", GOOD)
    drop(".hidden.csv", GOOD)
    assert feeds_poll().imported == []


def test_the_same_file_dropped_twice_creates_nothing(destination, drop):
    from cordee.customers.models import Customer, SourceRecord

    drop("lundi.csv", GOOD)
    feeds_poll()
    customers = Customer.objects.count()
    records = SourceRecord.objects.count()
    drop("mardi.csv", GOOD)  # another name, same content
    result = feeds_poll()
    assert result.duplicates == ["mardi.csv"]
    assert Customer.objects.count() == customers and SourceRecord.objects.count() == records
    reports = [
        p
        for p in feed_folders(destination.hotel)["done"].iterdir()
        if "mardi" in p.name and p.name.endswith(".report.txt")
    ]
    assert "lundi.csv" in reports[0].read_text()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("virus.exe", b"MZ\x90\x00", "Type de fichier refusé"),
        ("vide.csv", b"", "Fichier vide"),
        ("binaire.csv", bytes(range(256)) * 50, ""),
        ("rien.csv", "a;b;c\r\n1;2;3\r\n", "Aucune colonne reconnue"),
        (
            "tout-faux.csv",
            "Nom;E-mail\r\n;pas-un-email\r\n;encore@@faux\r\n",
            "Aucune ligne acceptée",
        ),
    ],
)
def test_a_bad_file_is_quarantined_with_its_reason(destination, drop, name, content, reason):
    from cordee.customers.models import SourceRecord

    drop(name, content)
    result = feeds_poll()
    assert result.quarantined == [name]
    quarantine = feed_folders(destination.hotel)["quarantine"]
    files = sorted(p.name for p in quarantine.iterdir())
    assert len(files) == 2
    why = next(p for p in quarantine.iterdir() if p.name.endswith(f"{name}.txt"))
    assert why.read_text().strip()
    assert reason in why.read_text()
    assert not SourceRecord.objects.exists()
    assert FeedFile.objects.get().status == "quarantined"


def test_hostile_file_names_stay_inside_the_folders(destination, drop):
    drop("<script>alert(1)<script>;rm -rf ..;$(id).csv", GOOD)
    feeds_poll()
    assert len(_folder(destination, "done")) == 2


def test_old_processed_files_are_removed(settings, destination, drop):
    settings.CORDEE_FEED_KEEP_DAYS = 30
    drop("ancien.csv", GOOD)
    feeds_poll()
    done = feed_folders(destination.hotel)["done"]
    for path in done.iterdir():
        old = time.time() - 31 * 86400
        os.utime(path, (old, old))
    feeds_poll()
    assert list(done.iterdir()) == []


def test_the_command_polls_and_says_what_it_did(destination, drop, capsys):
    drop("clients.csv", GOOD)
    call_command("feeds", "poll")
    out = capsys.readouterr().out
    assert "1 importé(s)" in out
    call_command("feeds", "poll", "--partner", "hotel-des-alpes")


def test_the_command_refuses_an_unknown_partner(destination):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Partenaire inconnu"):
        call_command("feeds", "poll", "--partner", "nulle-part")


def test_the_periodic_job_polls_the_folders(destination, drop):
    from cordee.channels.tasks import channels_periodic

    drop("nuit.csv", GOOD)
    channels_periodic.enqueue()  # what the worker's scheduler runs every minute
    assert FeedFile.objects.get().status == "imported"
