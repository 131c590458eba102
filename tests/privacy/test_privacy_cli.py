"""``cordee privacy request list | export | erase``: clear errors, no traceback, a confirmation."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.models import ErasureTombstone
from cordee.privacy.requests import request_create


@pytest.fixture
def elodie(destination):
    from cordee.customers.services import IncomingRecord, source_records_attach

    data = {"first_name": "Élodie", "last_name": "Martin", "email": "elodie@x.fr"}
    record = IncomingRecord(raw=dict(data), data=data)
    ids = source_records_attach(partner=destination.hotel, channel="import", records=[record])
    return Customer.objects.get(pk=ids.customer_ids[0])


def run(*args):
    out = StringIO()
    call_command("privacy", *args, stdout=out)
    return out.getvalue()


def test_request_list_sorted_by_deadline_with_the_late_ones_marked(destination):
    today = timezone.localdate()
    late = request_create(
        kind="erasure",
        channel="email",
        actor=Actor.system("t"),
        received_on=today - dt.timedelta(days=40),
    )
    request_create(kind="access", channel="post", actor=Actor.system("t"))
    lines = run("request", "list").splitlines()
    assert lines[1].startswith(f"{late.pk}\terasure") and "EN RETARD" in lines[1]
    assert lines[1].endswith("\tawaiting")  # the identity check, not done yet
    assert len(lines) == 3


def test_export_by_email_or_number(elodie, tmp_path):
    data = json.loads(run("export", "--email", "ELODIE@x.fr"))
    assert data["customer"]["id"] == elodie.pk
    target = tmp_path / "out.csv"
    run("export", str(elodie.pk), "--format", "csv", "-o", str(target))
    assert "elodie@x.fr" in target.read_text()


@pytest.mark.parametrize(
    "args",
    [
        ("export",),
        ("export", "abc"),
        ("export", "99999"),
        ("export", "-3"),
        ("export", "9" * 40),
        ("export", "--email", "pas-un-email"),
        ("export", "--email", "inconnu@x.fr"),
        ("export", "1", "--email", "elodie@x.fr"),
        ("erase", "abc", "--reason", "r", "--yes"),
        ("erase", "--email", "<script>@x", "--reason", "r", "--yes"),
        ("erase", "1", "--reason", "r", "--request", "999", "--yes"),
    ],
)
def test_mistakes_get_one_clear_error(elodie, args):
    with pytest.raises(CommandError):
        run(*args)
    assert Customer.objects.filter(pk=elodie.pk).exists()


def test_erase_asks_for_confirmation_without_yes(elodie):
    with pytest.raises(CommandError, match="--yes"):
        run("erase", str(elodie.pk), "--reason", "demande")
    assert Customer.objects.filter(pk=elodie.pk).exists()


def test_erase_with_yes(elodie):
    out = run("erase", str(elodie.pk), "--reason", "Demande du 12", "--yes")
    assert f"n° {elodie.pk} effacé" in out
    assert not Customer.objects.filter(pk=elodie.pk).exists()
    assert ErasureTombstone.objects.get().actor_label == "cli"
    with pytest.raises(CommandError):
        run("erase", str(elodie.pk), "--reason", "again", "--yes")


def test_an_empty_reason_is_refused(elodie):
    with pytest.raises(CommandError):
        run("erase", str(elodie.pk), "--reason", "  ", "--yes")
    assert Customer.objects.filter(pk=elodie.pk).exists()


def test_the_real_command_prints_no_traceback(tmp_path):
    src = Path(__file__).resolve().parents[2] / "src"
    env = {k: v for k, v in os.environ.items() if k != "CORDEE_DATABASE_URL"}
    env.update(CORDEE_HOME=str(tmp_path), PYTHONPATH=str(src))
    subprocess.run([sys.executable, "-m", "cordee", "migrate", "-v", "0"], env=env, check=True)
    proc = subprocess.run(
        [sys.executable, "-m", "cordee", "privacy", "erase", "abc", "--reason", "x", "--yes"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "Erreur" in proc.stderr and "Traceback" not in proc.stderr
