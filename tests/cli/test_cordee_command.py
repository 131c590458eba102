"""The ``cordee`` command as a script uses it: a real process, its own data directory, stable output."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cordee-home")
    run(home, "migrate", "-v", "0")
    return home


def run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CORDEE_HOME": str(home),
        "CORDEE_TASKS": "immediate",
        "CORDEE_DATABASE_URL": "",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "cordee", *args], env=env, capture_output=True, text=True
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"cordee {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def test_partner_add_and_list(home):
    run(home, "partner", "add", "office", "--name", "Office de tourisme", "--kind", "hub")
    run(home, "partner", "add", "hotel-des-alpes", "--name", "Hôtel des Alpes", "--kind", "hotel")
    lines = run(home, "partner", "list").stdout.splitlines()
    assert lines[0].split("\t")[0] == "slug"
    assert [line.split("\t")[0] for line in lines[1:]] == ["hotel-des-alpes", "office"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("partner", "add", "Mauvais Slug", "--name", "X", "--kind", "hotel"),
            "Identifiant invalide",
        ),
        (("partner", "add", "palace", "--name", "X", "--kind", "palace"), "Type inconnu"),
        (("import", "/nulle/part.csv", "--partner", "office"), "introuvable"),
    ],
)
def test_user_mistakes_get_one_clear_line_and_no_traceback(home, args, message):
    proc = run(home, *args, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_import_then_export_round_trip(home, tmp_path):
    run(
        home,
        "partner",
        "add",
        "ecole-de-ski",
        "--name",
        "École de ski",
        "--kind",
        "ski_school",
        check=False,
    )
    source = tmp_path / "eleves.csv"
    source.write_text(
        "N° client,First name,Last name,Email,Mobile,Birth date,Country\n"
        "ESF-1,Anaïs,Girard,anais.girard@free.fr,0611111111,2001-04-02,France\n"
        "ESF-2,Tom,=cmd|' /C calc'!A0,tom@x.fr,,,UK\n"
        "ESF-3,,,,,,\n",
        encoding="utf-8",
    )
    proc = run(home, "import", str(source), "--partner", "ecole-de-ski")
    assert "lignes acceptées : 2" in proc.stdout and "lignes rejetées : 1" in proc.stdout
    assert "ligne 4 rejetée" in proc.stdout

    out = run(home, "export", "customers", "--format", "csv", "--with-sources").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    anais = next(r for r in rows if r["first_name"] == "Anaïs")
    assert (anais["phone"], anais["birth_date"], anais["country"]) == (
        "+33611111111",
        "2001-04-02",
        "FR",
    )
    assert json.loads(anais["sources"])[0]["partner"] == "ecole-de-ski"
    tom = next(r for r in rows if r["first_name"] == "Tom")
    assert not tom["last_name"].startswith(("=", "+", "-", "@")), "formula must be neutralised"

    jsonl = run(home, "export", "customers", "--format", "jsonl").stdout.splitlines()
    records = [json.loads(line) for line in jsonl]
    assert {r["email"] for r in records} >= {"anais.girard@free.fr", "tom@x.fr"}
    assert {r["country"] for r in records} >= {"FR", "GB"}


def test_an_unreadable_file_exits_non_zero(home, tmp_path):
    bad = tmp_path / "photo.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    proc = run(home, "import", str(bad), "--partner", "office", check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip()


def test_dry_run_stores_nothing(home, tmp_path):
    source = tmp_path / "essai.csv"
    source.write_text("Nom;Email\nEssai;essai@x.fr\n", encoding="utf-8")
    proc = run(home, "import", str(source), "--partner", "office", "--dry-run")
    assert "Essai à blanc" in proc.stdout
    out = run(home, "export", "customers", "--format", "jsonl").stdout
    assert "essai@x.fr" not in out


@pytest.mark.parametrize(
    ("mapping", "suffix"),
    [
        ("{not json", ".json"),
        ('{"columns": {"Nom client": "nom_inconnu"}}', ".json"),
        ('columns = "pas une table"', ".toml"),
    ],
)
def test_a_broken_mapping_file_is_refused_before_anything_is_read(home, tmp_path, mapping, suffix):
    source = tmp_path / "clients.csv"
    source.write_text("Nom client;Mail\nDupont;d@x.fr\n", encoding="utf-8")
    mapping_path = tmp_path / f"mapping{suffix}"
    mapping_path.write_text(mapping, encoding="utf-8")
    proc = run(
        home,
        "import",
        str(source),
        "--partner",
        "office",
        "--mapping",
        str(mapping_path),
        check=False,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_superuser_can_be_created_by_a_script(home):
    env_password = {"DJANGO_SUPERUSER_PASSWORD": "un-mot-de-passe-solide-2026"}
    os.environ.update(env_password)
    try:
        run(
            home,
            "createsuperuser",
            "--noinput",
            "--username",
            "admin",
            "--email",
            "admin@example.org",
        )
    finally:
        os.environ.pop("DJANGO_SUPERUSER_PASSWORD")


def test_export_to_a_file_and_as_a_partner_sees_it(home, tmp_path):
    run(
        home,
        "partner",
        "add",
        "camping-du-lac",
        "--name",
        "Camping du Lac",
        "--kind",
        "campsite",
        check=False,
    )
    target = tmp_path / "clients.jsonl"
    proc = run(home, "export", "customers", "--format", "jsonl", "-o", str(target))
    assert "clients exportés" in proc.stderr
    everyone = target.read_text(encoding="utf-8").splitlines()
    assert everyone
    as_camping = run(
        home, "export", "customers", "--format", "jsonl", "--partner", "camping-du-lac"
    ).stdout
    assert as_camping.strip() == ""
