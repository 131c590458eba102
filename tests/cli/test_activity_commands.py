"""``cordee import --activities`` and ``cordee season`` as a script uses them: a real process."""

from __future__ import annotations

import pytest
from test_cordee_command import run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cordee-home-activities")
    run(home, "migrate", "-v", "0")
    run(home, "partner", "add", "office", "--name", "Office", "--kind", "hub")
    run(home, "partner", "add", "hotel", "--name", "Hôtel des Alpes", "--kind", "hotel")
    customers = home / "clients.csv"
    customers.write_text("N° client;Prénom;Nom;E-mail\nH-1;Élodie;Martin;elodie@example.fr\n")
    run(home, "import", str(customers), "--partner", "hotel")
    return home


def test_import_activities_then_again(home):
    bookings = home / "resa.csv"
    bookings.write_text(
        "N° de réservation;N° client;Date d'arrivée;Date de départ;Montant\n"
        "R1;H-1;14/02/2026;21/02/2026;1 200,00\n"
        "R2;H-404;14/02/2026;;\n"
    )
    out = run(
        home, "import", str(bookings), "--partner", "hotel", "--activities", "--kind", "séjour"
    ).stdout
    assert "activités créées : 1" in out
    assert "ligne 3 rejetée : client introuvable" in out
    again = run(
        home, "import", str(bookings), "--partner", "hotel", "--activities", "--kind", "stay"
    ).stdout
    assert "activités créées : 0" in again and "lignes déjà connues : 1" in again
    seasons = run(home, "season", "list").stdout
    assert "hiver-2025-2026\tHiver 2025-2026\t2025-12-01\t2026-04-30\t1" in seasons


def test_customer_import_is_unchanged_without_the_flag(home):
    more = home / "plus.csv"
    more.write_text("Prénom;Nom;E-mail\nHugo;Bernard;hugo@example.fr\n")
    out = run(home, "import", str(more), "--partner", "hotel").stdout
    assert "clients créés : 1" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["import", "/nulle/part.csv", "--partner", "hotel", "--activities"],
            "fichier introuvable",
        ),
        (
            [
                "season",
                "add",
                "--kind",
                "printemps",
                "--start",
                "2026-01-01",
                "--end",
                "2026-02-01",
            ],
            "hiver ou été",
        ),
        (
            ["season", "add", "--kind", "été", "--start", "2026-09-01", "--end", "2026-06-01"],
            "précède",
        ),
        (
            ["season", "rule", "--kind", "hiver", "--start", "31/02", "--end", "30/04"],
            "Jour impossible",
        ),
    ],
)
def test_mistakes_get_one_french_line(home, args, message):
    proc = run(home, *args, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_kind_and_file_without_dates(home):
    bad = home / "bad.csv"
    bad.write_text("Produit;Montant\nA;1\n")
    proc = run(
        home,
        "import",
        str(bad),
        "--partner",
        "hotel",
        "--activities",
        "--kind",
        "fusée",
        check=False,
    )
    assert "type d'activité inconnu" in proc.stderr
    proc = run(
        home,
        "import",
        str(bad),
        "--partner",
        "hotel",
        "--activities",
        "--kind",
        "stay",
        check=False,
    )
    assert proc.returncode == 2 and "aucune colonne de date" in proc.stderr
