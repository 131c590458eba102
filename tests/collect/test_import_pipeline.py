"""A partner's file through the whole import: what goes in, what is reported, what is never lost."""

from __future__ import annotations

import json

import pytest

from cordee.collect.models import ImportIssue, ImportStatus, IssueLevel
from cordee.customers.models import Customer, SourceRecord

HOTEL_FILE = (
    "Civilité;Prénom;Nom;E-mail;Téléphone;Date de naissance;Adresse;CP;Ville;Pays;Newsletter\r\n"
    "Mme;Élodie;MARTIN;Elodie.Martin@Orange.fr;06 12 34 56 78;14/03/1985;3 rue des Lilas;74000;Annecy;;oui\r\n"
    "M.;Jean-Luc;dubois;;06.98.76.54.32;1/2/72;;75011;PARIS;France;non\r\n"
    "M;Hans;Müller;hans.mueller@gmx.de;+49 30 1234567;1969-07-21;Hauptstraße 5;10115;Berlin;Allemagne;\r\n"
    ";;;;;;;;;;\r\n"
    ";Anonyme;;pas-un-email;;;;;;;\r\n"
    "Mme;Zoé;Lefèvre;zoe@@free.fr;0611223344;31/02/1990;;1000;Bourg-en-Bresse;;x\r\n"
)


def test_a_french_excel_export_goes_in_with_its_report(import_file):
    batch = import_file(HOTEL_FILE, encoding="cp1252")
    assert batch.status == ImportStatus.DONE, batch.error
    assert (batch.encoding, batch.delimiter) == ("cp1252", ";")
    assert batch.lines_read == 5  # the empty line is skipped silently
    assert (batch.accepted, batch.rejected, batch.customers_created) == (4, 1, 4)
    rejected = ImportIssue.objects.get(batch=batch, level=IssueLevel.ERROR)
    assert rejected.line == 6 and "identifier" in rejected.message
    assert rejected.cells[1] == "Anonyme"

    elodie = Customer.objects.get(email="elodie.martin@orange.fr")
    assert (elodie.first_name, elodie.last_name, elodie.phone) == (
        "Élodie",
        "Martin",
        "+33612345678",
    )
    assert (elodie.city, elodie.country, str(elodie.birth_date)) == ("Annecy", "FR", "1985-03-14")
    hans = Customer.objects.get(last_name="Müller")
    assert (hans.country, hans.phone) == ("DE", "+49301234567")
    jean_luc = Customer.objects.get(first_name="Jean-Luc")
    assert jean_luc.birth_date.year == 1972 and jean_luc.last_name == "Dubois"
    zoe = Customer.objects.get(first_name="Zoé")
    assert zoe.email == "" and zoe.birth_date is None and zoe.postal_code == "01000"
    warned = set(
        ImportIssue.objects.filter(batch=batch, level=IssueLevel.WARNING).values_list(
            "line", "field"
        )
    )
    assert {(7, "email"), (7, "birth_date")} <= warned


def test_the_raw_line_is_kept_exactly_as_received(import_file):
    import_file(HOTEL_FILE, encoding="cp1252")
    source = SourceRecord.objects.get(customer__last_name="Martin")
    assert source.raw["Nom"] == "MARTIN" and source.raw["E-mail"] == "Elodie.Martin@Orange.fr"
    assert source.data["consents"] == {"newsletter": True}
    assert source.line == 2 and source.channel == "import"


def test_importing_the_same_file_twice_creates_nothing(import_file):
    first = import_file(HOTEL_FILE)
    again = import_file(HOTEL_FILE)
    assert again.status == ImportStatus.DONE
    assert (again.customers_created, again.unchanged) == (0, first.accepted)
    assert Customer.objects.count() == 4 and SourceRecord.objects.count() == 4


def test_an_interrupted_import_resumes_where_it_stopped(import_file):
    lines = HOTEL_FILE.splitlines(keepends=True)
    import_file("".join(lines[:3]))  # the first two people made it before the interruption
    batch = import_file(HOTEL_FILE)
    assert (batch.unchanged, batch.customers_created) == (2, 2)
    assert Customer.objects.count() == 4


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "vide"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 50, "texte"),
        (b"PK\x03\x04" + b"\x00" * 200, ""),
    ],
)
def test_an_unreadable_file_changes_nothing(import_file, destination, content, reason):
    import_file("Nom;E-mail\r\nDupont;d@x.fr\r\n")
    batch = import_file(content, name="clients.csv")
    assert batch.status == ImportStatus.FAILED
    assert reason in batch.error
    assert Customer.objects.count() == 1 and SourceRecord.objects.count() == 1


def test_a_header_only_file_is_done_with_nothing_read(import_file):
    batch = import_file("Prénom;Nom;E-mail\r\n")
    assert batch.status == ImportStatus.DONE and batch.lines_read == 0


def test_a_file_without_any_known_column_is_refused_clearly(import_file):
    batch = import_file("foo;bar\r\n1;2\r\n")
    assert batch.status == ImportStatus.FAILED and "Aucune colonne reconnue" in batch.error


def test_ten_thousand_columns_are_refused(import_file):
    header = ";".join(f"c{i}" for i in range(10_000))
    batch = import_file(header + "\r\n" + ";" * 9_999 + "\r\n")
    assert batch.status == ImportStatus.FAILED and "colonnes" in batch.error
    assert Customer.objects.count() == 0


def test_a_huge_cell_rejects_its_line_only(import_file):
    huge = "A" * (50 * 1024 * 1024)
    text = f"Nom;E-mail\r\nAvant;avant@x.fr\r\n{huge};h@x.fr\r\nApres;apres@x.fr\r\n"
    batch = import_file(text)
    assert batch.status == ImportStatus.DONE
    assert (batch.accepted, batch.rejected) == (2, 1)
    issue = ImportIssue.objects.get(batch=batch, level=IssueLevel.ERROR)
    assert issue.line == 3 and len(json.dumps(issue.cells)) < 5_000


def test_hostile_names_are_stored_as_harmless_text(import_file):
    text = 'Prénom,Nom,Email\r\n"<script>alert(1)</script>","=HYPERLINK(""http://x"")",x@x.fr\r\nAnaïs 🏔️,Le Goff,a@x.fr\r\n'
    batch = import_file(text)
    assert batch.accepted == 2
    for customer in Customer.objects.all():
        assert "<" not in customer.first_name and ">" not in customer.first_name
    assert Customer.objects.filter(last_name="Le Goff").exists()


def test_duplicate_headers_are_reported_and_the_first_is_used(import_file):
    batch = import_file("Nom;Email;Email\r\nDurand;premier@x.fr;second@x.fr\r\n")
    assert batch.column_warnings
    assert Customer.objects.get().email == "premier@x.fr"
    assert SourceRecord.objects.get().raw == {
        "Nom": "Durand",
        "Email": "premier@x.fr",
        "Email (2)": "second@x.fr",
    }


def test_a_mapping_file_names_the_columns_nobody_could_guess(import_file):
    from cordee.collect.columns import Mapping

    mapping = Mapping(
        columns={"Patronyme client": "last_name", "Mail perso": "email"}, defaults={"country": "BE"}
    )
    batch = import_file("Patronyme client;Mail perso\r\nJanssens;j@x.be\r\n", mapping=mapping)
    assert batch.accepted == 1
    assert Customer.objects.get().country == "BE"


def test_a_dry_run_reports_without_storing(import_file):
    batch = import_file(HOTEL_FILE, dry_run=True)
    assert batch.status == ImportStatus.DONE and batch.dry_run
    assert (batch.accepted, batch.rejected, batch.customers_created) == (4, 1, 4)
    assert Customer.objects.count() == 0 and SourceRecord.objects.count() == 0


def test_an_export_with_a_title_above_its_header(import_file):
    text = (
        "Export clients - Hôtel du Lac - 22/11/2026;;;;\r\n"
        ";;;;\r\n"
        "N° client;NOM;Prénom;Adresse e-mail;Date naiss.\r\n"
        "C001;DUPONT;Jean;Jean Dupont <Jean.Dupont@Exemple.fr>;12 mars 1980\r\n"
        "C002;MARTIN;Léa;mailto:lea.martin@exemple.fr;lundi 4 juillet 1983\r\n"
    )
    batch = import_file(text, encoding="cp1252")
    assert batch.status == ImportStatus.DONE, batch.error
    assert batch.column_warnings[0] == (
        "En-tête lu à la ligne 3 : la ligne au-dessus est ignorée "
        "(« Export clients - Hôtel du Lac - 22/11/2026 »)."
    )
    assert (batch.accepted, batch.rejected, batch.customers_created) == (2, 0, 2)
    people = {c.last_name: c for c in Customer.objects.all()}
    assert (people["Dupont"].email, str(people["Dupont"].birth_date)) == (
        "jean.dupont@exemple.fr",
        "1980-03-12",
    )
    assert people["Martin"].email == "lea.martin@exemple.fr"
    assert SourceRecord.objects.get(external_id="C001").line == 4


def test_a_full_name_column_is_split_and_a_cell_with_two_phones_gives_the_first(import_file):
    text = (
        "Client;Téléphone;E-mail\r\n"
        "M. DUPONT Jean;06 12 34 56 78 / 04 50 12 34 56;\r\n"
        "Léa MARTIN-ROUX;+33 6 11 22 33 44 (portable);\r\n"
        "Chambre 12;;c12@exemple.fr\r\n"
    )
    batch = import_file(text)
    assert batch.status == ImportStatus.DONE, batch.error
    assert ["Client", "full_name"] in batch.columns
    people = {c.phone or c.email: c for c in Customer.objects.all()}
    jean = people["+33612345678"]
    assert (jean.civility, jean.first_name, jean.last_name) == ("M", "Jean", "Dupont")
    lea = people["+33611223344"]
    assert (lea.first_name, lea.last_name) == ("Léa", "Martin-Roux")
    # Not a name: the line goes in by its e-mail, with a warning on the name.
    assert people["c12@exemple.fr"].last_name == ""
    warning = ImportIssue.objects.get(batch=batch, level=IssueLevel.WARNING)
    assert (warning.line, warning.field) == (4, "full_name")
    assert warning.message == "Nom complet illisible : Chambre 12"


def test_an_excel_file_keeps_its_leading_zeros_and_dates(import_file, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt
    import io

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Prénom", "Nom", "Portable", "CP", "Ville", "Date de naissance"])
    sheet.append(["Léa", "Roux", 612345678, "01000", "Bourg-en-Bresse", dt.datetime(1990, 5, 17)])
    buffer = io.BytesIO()
    book.save(buffer)
    batch = import_file(buffer.getvalue(), name="clients.xlsx")
    assert batch.status == ImportStatus.DONE, batch.error
    lea = Customer.objects.get()
    assert (lea.phone, lea.postal_code, str(lea.birth_date)) == (
        "+33612345678",
        "01000",
        "1990-05-17",
    )
