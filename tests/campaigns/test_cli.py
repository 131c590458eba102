"""``cordee campaign send`` and ``cordee triggers run`` as a script would call them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db

TEMPLATE = """# Bonjour {{ first_name }}

La saison d'hiver ouvre samedi.

[Réserver](https://vallee.example/reserver)

> -20 % sur les forfaits (https://vallee.example/offre)

--- en ---
# Hello {{ first_name }}

[Book](https://vallee.example/en/book)
"""


def call(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_send_prints_the_audience_steps_and_the_delivery_counts(people, sink, tmp_path):
    path = tmp_path / "hiver.txt"
    path.write_text(TEMPLATE)
    out = call(
        "campaign",
        "send",
        "--segment",
        "fideles-hiver",
        "--purpose",
        "newsletter",
        "--subject",
        "L'hiver arrive",
        "--template",
        str(path),
        "--wait",
    )
    assert "ayant consenti" in out and "plafond" in out
    assert "Envoyés : 3" in out
    assert sink.count == 3


def test_dry_run_sends_and_keeps_nothing(people, sink, tmp_path):
    from cordee.campaigns.models import Campaign

    path = tmp_path / "hiver.txt"
    path.write_text(TEMPLATE)
    out = call(
        "campaign",
        "send",
        "--purpose",
        "newsletter",
        "--subject",
        "Essai",
        "--template",
        str(path),
        "--dry-run",
    )
    assert "Essai à blanc" in out and "3  … sous le plafond" in out.replace("         ", "")
    assert sink.count == 0 and not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("content", "subject", "message"),
    [
        ("<script>alert(1)</script>", "Objet", "HTML"),
        ("Bonjour {{ prenom }}", "Objet", "inconnu"),
        ("Bonjour", "Objet\r\nBcc: x@example.org", "retours à la ligne"),
        ("[Voir](javascript:alert(1))", "Objet", "http"),
    ],
)
def test_hostile_templates_and_subjects_are_refused(
    people, sink, tmp_path, content, subject, message
):
    path = tmp_path / "t.txt"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call(
            "campaign",
            "send",
            "--purpose",
            "newsletter",
            "--subject",
            subject,
            "--template",
            str(path),
        )
    assert sink.count == 0


def test_unreadable_binary_huge_or_missing_files_are_refused(people, tmp_path):
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    huge = tmp_path / "h.txt"
    huge.write_bytes(b"x" * 1_100_000)
    bad_json = tmp_path / "b.json"
    bad_json.write_text('{"fr": [')
    for path, message in (
        (binary, "UTF-8"),
        (huge, "trop gros"),
        (bad_json, "JSON invalide"),
        (tmp_path / "none.txt", "illisible"),
    ):
        with pytest.raises(CommandError, match=message):
            call(
                "campaign",
                "send",
                "--purpose",
                "newsletter",
                "--subject",
                "S",
                "--template",
                str(path),
            )
    with pytest.raises(CommandError, match="Finalité inconnue"):
        path = tmp_path / "ok.txt"
        path.write_text("Bonjour")
        call(
            "campaign",
            "send",
            "--purpose",
            "'; DROP TABLE x; --",
            "--subject",
            "S",
            "--template",
            str(path),
        )


def test_triggers_run_refuses_a_bad_date():
    with pytest.raises(CommandError, match="Date invalide"):
        call("triggers", "run", "--date", "31/02/2026")


def test_the_cli_prints_one_line_not_a_traceback(tmp_path):
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "cordee", "triggers", "run", "--date", "demain"],
        capture_output=True,
        text=True,
        env={
            "PYTHONPATH": str(root / "src"),
            "PATH": "/usr/bin:/bin",
            "CORDEE_HOME": str(tmp_path),
        },
    )
    assert (
        proc.returncode != 0 and "Date invalide" in proc.stderr and "Traceback" not in proc.stderr
    )


def test_triggers_add_then_run_sends_on_the_birthday(destination, sink, tmp_path):
    import datetime as dt

    from tests.campaigns.conftest import grant, make_customer

    grant(
        make_customer("Elodie", "elodie@example.fr", birth_date=dt.date(1985, 3, 14)), "newsletter"
    )
    path = tmp_path / "anniv.txt"
    path.write_text("# Joyeux anniversaire {{ first_name }} !")
    out = call(
        "triggers",
        "add",
        "--name",
        "Anniversaire",
        "--kind",
        "birthday",
        "--purpose",
        "newsletter",
        "--subject",
        "Bon anniversaire",
        "--template",
        str(path),
    )
    assert "Déclencheur n°" in out and "birthday" in call("triggers", "list")
    assert "1 message(s) en file" in call("triggers", "run", "--date", "2027-03-14", "--wait")
    assert "0 message(s) en file, 1 déjà" in call(
        "triggers", "run", "--date", "2027-03-14", "--wait"
    )
    assert sink.count == 1
    with pytest.raises(CommandError, match="HTML"):
        path.write_text("<b>x</b>")
        call(
            "triggers",
            "add",
            "--name",
            "X",
            "--kind",
            "birthday",
            "--purpose",
            "newsletter",
            "--subject",
            "S",
            "--template",
            str(path),
        )
