"""``cordee segment``: list, count, export and refresh, as scripts use them."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


@pytest.fixture
def valley(history, destination):
    history("Élodie", {2022: [(9, 300)], 2023: [(8, 250)], 2024: [(9, 400)]}, gender="F")
    history('=HYPERLINK("http://x")', {2023: [(9,)], 2024: [(9,)]}, gender="F")
    history("Jean", {2023: [(4,)], 2024: [(5,)]}, gender="M", partner=destination.camping)
    call_command("segment", "refresh", "--no-train", stdout=io.StringIO())


def out(*args: str) -> str:
    buffer = io.StringIO()
    call_command("segment", *args, stdout=buffer)
    return buffer.getvalue()


def test_list_gives_slug_name_and_size(valley):
    lines = out("list").splitlines()
    assert "fideles\tFidèles\t2" in lines
    assert "forces\tForcés\t1" in lines
    assert "fuyants\tFuyants\t0" in lines
    # As the hotel sees it: Jean came through the campsite.
    assert "forces\tForcés\t0" in out("list", "--partner", "hotel-des-alpes").splitlines()


def test_count_reads_a_definition_file(valley, tmp_path):
    path = tmp_path / "femmes.json"
    path.write_text(json.dumps({"all": [{"field": "gender", "op": "eq", "value": "F"}]}))
    assert out("count", str(path)).strip() == "2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{pas du json", "JSON illisible"),
        ("[]", "doit être un objet JSON"),
        ('{"field": "salaire", "op": "gt", "value": 1}', "champ inconnu « salaire »"),
        ("[" * 100_000 + "]" * 100_000, "trop"),
    ],
)
def test_count_refuses_bad_files_clearly(valley, tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(CommandError, match=message):
        out("count", str(path))


def test_export_csv_neutralises_formulas_and_keeps_a_snapshot(valley, tmp_path):
    from cordee.privacy.models import AuditEvent
    from cordee.segments.models import SegmentSnapshot

    target = tmp_path / "fideles.csv"
    call_command(
        "segment", "export", "fideles", "--format", "csv", "-o", str(target), stderr=io.StringIO()
    )
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert sorted(r["first_name"] for r in rows) == ['\'=HYPERLINK("http://x")', "Élodie"]
    assert SegmentSnapshot.objects.get(segment__slug="fideles").size == 2
    assert AuditEvent.objects.filter(action="segment.export").exists()


def test_export_jsonl_within_the_partners_view(valley):
    lines = out("export", "forces", "--format", "jsonl", "--partner", "camping-du-lac").splitlines()
    assert [json.loads(line)["first_name"] for line in lines] == ["Jean"]
    assert out("export", "forces", "--format", "jsonl", "--partner", "hotel-des-alpes") == ""


def test_unknown_segment_or_partner(valley):
    with pytest.raises(CommandError, match="segment inconnu"):
        out("export", "nulle-part")
    with pytest.raises(CommandError, match="partenaire inconnu"):
        out("list", "--partner", "nulle-part")


@pytest.mark.slow
def test_user_mistake_prints_one_line_without_traceback(tmp_path):
    env = {
        **os.environ,
        "CORDEE_HOME": str(tmp_path),
        "CORDEE_TASKS": "immediate",
        "CORDEE_DATABASE_URL": "",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([sys.executable, "-m", "cordee", "migrate", "-v", "0"], env=env, check=True)
    bad = tmp_path / "bad.json"
    bad.write_text('{"field": "x\'; DROP TABLE x; --", "op": "eq", "value": 1}')
    proc = subprocess.run(
        [sys.executable, "-m", "cordee", "segment", "count", str(bad)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("Erreur : définition refusée — racine : champ inconnu")
    assert "Traceback" not in proc.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "cordee", "segment", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert listed.stdout.splitlines() == [
        "fideles\tFidèles\t0",
        "forces\tForcés\t0",
        "fuyants\tFuyants\t0",
    ]
