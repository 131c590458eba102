"""Reading partners' files: encodings, separators, spreadsheets and broken input.

Pure tests (no database): ``pytest tests/collect/test_reader.py -p no:django``.
"""

import csv
import datetime
import io
import json
import os
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
    settings.configure(USE_I18N=False)  # messages are French msgids; no catalogue needed

from cordee.collect.reader import Row, Table, UnreadableFile, guess_delimiter, open_table  # noqa: E402

NBSP = "\u00a0"


def write(tmp_path: Path, data: bytes | str, name: str = "clients.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def read(path: Path, **options: object) -> tuple[Table, list[Row]]:
    with open_table(path, **options) as table:  # type: ignore[arg-type]
        rows = [row for batch in table.batches() for row in batch]
    return table, rows


def unreadable(path: Path, **options: object) -> str:
    with pytest.raises(UnreadableFile) as caught:
        open_table(path, **options)  # type: ignore[arg-type]
    assert str(caught.value) == caught.value.message
    return caught.value.message


# --- encodings ------------------------------------------------------------


def test_utf8_file_is_read_with_line_numbers(tmp_path):
    path = write(tmp_path, "Prénom;Nom;Ville\nÉlodie;Dupont;Chamonix\nJean-Luc;Martin;Megève\n")
    table, rows = read(path)
    assert (table.format, table.encoding, table.delimiter) == ("csv", "utf-8", ";")
    assert table.headers == ["Prénom", "Nom", "Ville"]
    assert rows == [
        Row(2, ["Élodie", "Dupont", "Chamonix"]),
        Row(3, ["Jean-Luc", "Martin", "Megève"]),
    ]


def test_utf8_bom_is_removed_from_the_first_header(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbfEmail;Nom\r\nelodie@example.fr;Dupont\r\n")
    table, rows = read(path)
    assert table.encoding == "utf-8-sig"
    assert table.headers == ["Email", "Nom"]
    assert rows[0].cells == ["elodie@example.fr", "Dupont"]


def test_windows_1252_from_excel(tmp_path):
    text = "Prénom;Nom;Note\r\nChloé;Cœur;Réglé 15 €\r\nAgnès;Lefèvre;œuvre\r\n"
    table, rows = read(write(tmp_path, text.encode("cp1252")))
    assert table.encoding == "cp1252"
    assert [row.cells for row in rows] == [
        ["Chloé", "Cœur", "Réglé 15 €"],
        ["Agnès", "Lefèvre", "œuvre"],
    ]


def test_windows_1252_accent_far_into_a_big_file_is_still_found(tmp_path):
    lines = [f"client{i};Martin" for i in range(100_000)] + ["Zoë;Noël"]
    data = ("Nom;Prénom\n" + "\n".join(lines) + "\n").encode("cp1252")
    assert len(data) > 1024 * 1024
    table, rows = read(write(tmp_path, data))
    assert table.encoding == "cp1252"
    assert rows[-1] == Row(100_002, ["Zoë", "Noël"])


def test_undefined_windows_1252_byte_rejects_only_its_row(tmp_path):
    data = b"Nom;Ville\r\nDupont;Annecy\r\nMartin;Lyon\x81\r\nZo\xeb;Paris\r\n"
    table, rows = read(write(tmp_path, data))
    assert table.encoding == "cp1252"
    assert [row.error is None for row in rows] == [True, False, True]
    assert "caractères illisibles" in rows[1].error
    assert rows[1].cells == ["Martin", "Lyon\ufffd"]
    assert rows[2].cells == ["Zoë", "Paris"]


def test_utf16_unicode_text_from_excel(tmp_path):
    text = "Prénom\tNom\tVille\r\nÉlodie\tDupont\tSaint-Gervais\r\n😀 Zoë\tN'Diaye\tGenève\r\n"
    table, rows = read(write(tmp_path, text.encode("utf-16")))
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.headers == ["Prénom", "Nom", "Ville"]
    assert [row.cells for row in rows] == [
        ["Élodie", "Dupont", "Saint-Gervais"],
        ["😀 Zoë", "N'Diaye", "Genève"],
    ]


def test_utf16_without_byte_order_mark(tmp_path):
    text = "Email;Nom\nelodie@example.fr;Dupont\n"
    table, rows = read(write(tmp_path, text.encode("utf-16-le")))
    assert table.encoding == "utf-16-le"
    assert rows == [Row(2, ["elodie@example.fr", "Dupont"])]


def test_encoding_and_separator_can_be_forced(tmp_path):
    path = write(tmp_path, "a,b;c\n1,2;3\n".encode("cp1252"))
    table, rows = read(path, encoding="cp1252", delimiter=",")
    assert (table.encoding, table.delimiter) == ("cp1252", ",")
    assert table.headers == ["a", "b;c"]
    assert rows[0].cells == ["1", "2;3"]


# --- separators -----------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_each_separator_is_recognised(tmp_path, delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["Nom", "Adresse", "Ville"])
    writer.writerow(["Dupont", "12, rue des Lilas; bât. B", "Annecy"])
    writer.writerow(["Martin", "3 place de l'Église", "Lyon"])
    table, rows = read(write(tmp_path, buffer.getvalue()))
    assert table.delimiter == delimiter
    assert rows[0].cells == ["Dupont", "12, rue des Lilas; bât. B", "Annecy"]


def test_commas_in_addresses_do_not_fool_the_guess(tmp_path):
    text = "Nom;Adresse;CP\nDupont;12, rue des Lilas, Annecy;74000\nMartin;1, 2, 3 rue;69001\n"
    table, _ = read(write(tmp_path, text))
    assert table.delimiter == ";"


def test_one_column_of_emails_is_a_legitimate_file(tmp_path):
    table, rows = read(write(tmp_path, "email\nelodie@example.fr\njean-luc@example.fr\n"))
    assert table.headers == ["email"]
    assert [row.cells for row in rows] == [["elodie@example.fr"], ["jean-luc@example.fr"]]


def test_one_column_keeps_commas_in_its_values(tmp_path):
    _, rows = read(write(tmp_path, "Nom complet\nDupont, Élodie\nMartin, Jean-Luc\n"))
    assert [row.cells for row in rows] == [["Dupont, Élodie"], ["Martin, Jean-Luc"]]


def test_header_only_file_guesses_from_the_header(tmp_path):
    table, rows = read(write(tmp_path, "Email,Nom,Prénom\n"))
    assert (table.delimiter, table.headers, rows) == (",", ["Email", "Nom", "Prénom"], [])


def test_separator_inside_quoted_headers_does_not_count(tmp_path):
    table, _ = read(write(tmp_path, '"Nom; prénom","Ville; pays"\n"Dupont; Élodie",Annecy\n'))
    assert table.delimiter == ","
    assert table.headers == ["Nom; prénom", "Ville; pays"]


def test_tie_in_the_header_is_broken_by_the_data(tmp_path):
    # "Nom, prénom;Ville" has one comma and one semicolon: the data decide.
    text = "Nom, prénom;Ville\nDupont Élodie;Annecy\nMartin Jean;Lyon\nRoux Zoë;Paris\n"
    table, _ = read(write(tmp_path, text))
    assert table.delimiter == ";"


def test_pathological_quotes_do_not_hang_the_guess():
    sample = ';"x' * 30_000  # the stdlib sniffer takes ~14 s on this
    assert guess_delimiter(sample) == ";"


# --- structure ------------------------------------------------------------


def test_quoted_multiline_cells_keep_physical_line_numbers(tmp_path):
    text = (
        "Nom;Adresse;Ville\r\n"
        'Dupont;"Bâtiment B\r\nEscalier 3\r\n2e étage";Annecy\r\n'
        "Martin;1 rue;Lyon\r\n"
        '"Roux";"dit ""Zoé""";Paris\r\n'
    )
    _, rows = read(write(tmp_path, text))
    assert rows == [
        Row(2, ["Dupont", "Bâtiment B\r\nEscalier 3\r\n2e étage", "Annecy"]),
        Row(5, ["Martin", "1 rue", "Lyon"]),
        Row(6, ["Roux", 'dit "Zoé"', "Paris"]),
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(tmp_path, newline):
    text = newline.join(["Nom;Ville", "Dupont;Annecy", "", "Martin;Lyon", ""])
    _, rows = read(write(tmp_path, text))
    assert rows == [Row(2, ["Dupont", "Annecy"]), Row(4, ["Martin", "Lyon"])]


def test_blank_lines_and_empty_rows_are_skipped_silently(tmp_path):
    text = "\n\nNom;Ville\n\n;;\n ; \nDupont;Annecy\n"
    table, rows = read(write(tmp_path, text))
    assert table.header_line == 3
    assert rows == [Row(7, ["Dupont", "Annecy"])]


def test_short_rows_are_padded(tmp_path):
    _, rows = read(write(tmp_path, "Nom;Prénom;Ville\nDupont\nMartin;Jean\n"))
    assert [row.cells for row in rows] == [["Dupont", "", ""], ["Martin", "Jean", ""]]
    assert all(row.error is None for row in rows)


def test_extra_values_are_an_error_but_trailing_separators_are_not(tmp_path):
    text = "Nom;Prénom;Ville\nDupont;Élodie;Annecy;;;\nMartin;Jean;Lyon;en trop;\nRoux;Zoë;Paris\n"
    _, rows = read(write(tmp_path, text))
    assert rows[0] == Row(2, ["Dupont", "Élodie", "Annecy"])
    assert rows[1] == Row(3, ["Martin", "Jean", "Lyon"], "4 valeurs pour 3 colonnes")
    assert rows[2] == Row(4, ["Roux", "Zoë", "Paris"])


def test_values_are_trimmed_and_blank_headers_named(tmp_path):
    table, rows = read(write(tmp_path, " Nom ;;Ville\n  Dupont\u00a0; x ;  Annecy \n"))
    assert table.headers == ["Nom", "colonne 2", "Ville"]
    assert rows[0].cells == ["Dupont", "x", "Annecy"]


def test_duplicate_headers_are_kept(tmp_path):
    table, _ = read(write(tmp_path, "Email;Nom;Email\na@example.fr;Dupont;b@example.fr\n"))
    assert table.headers == ["Email", "Nom", "Email"]


def test_formulas_markup_and_emoji_stay_plain_text(tmp_path):
    cells = ['=HYPERLINK("http://evil.example","clic")', "<script>alert(1)</script>", "👩‍👧 Zoë"]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows([["a", "b", "c"], cells])
    _, rows = read(write(tmp_path, buffer.getvalue()))
    assert rows[0].cells == cells


def test_stray_quote_swallowing_lines_is_reported(tmp_path):
    text = 'Nom;Ville\nDupont;Annecy\nMartin;"Lyon\nRoux;Paris\nLeroy;Nice\n'
    _, rows = read(write(tmp_path, text))
    assert rows[0] == Row(2, ["Dupont", "Annecy"])
    assert rows[1].line == 3
    assert (
        rows[1].error == "guillemet non fermé : les lignes 3 à 5 ont été lues comme une seule ligne"
    )


def test_batches_have_the_requested_size(tmp_path):
    text = "n\n" + "".join(f"{i}\n" for i in range(25))
    with open_table(write(tmp_path, text)) as table:
        sizes = [len(batch) for batch in table.batches(size=10)]
    assert sizes == [10, 10, 5]


# --- unreadable files -----------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \r\n\t\n", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_file(tmp_path, data):
    assert unreadable(write(tmp_path, data)) == "Le fichier est vide."


def test_random_bytes_renamed_csv(tmp_path):
    data = random.Random(1).randbytes(100_000)
    assert "pas un fichier texte (CSV) lisible" in unreadable(write(tmp_path, data))


def test_png_renamed_csv(tmp_path):
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 10
    assert "pas un fichier texte (CSV) lisible" in unreadable(write(tmp_path, data, "photo.csv"))


def test_binary_named_xlsx_says_so(tmp_path):
    data = random.Random(2).randbytes(5000)
    message = unreadable(write(tmp_path, data, "upload.bin"), filename="clients.xlsx")
    assert message == "Ce fichier porte l'extension « .xlsx » mais n'est pas un classeur valide."


def test_zip_that_is_not_a_spreadsheet(tmp_path):
    path = tmp_path / "archive.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("clients.txt", "Nom;Ville\n")
    assert "archive ZIP qui ne contient pas de classeur" in unreadable(path)


def test_html_page_saved_as_xls(tmp_path):
    page = "<html><body><table><tr><td>Nom</td></tr></table></body></html>"
    assert "page web" in unreadable(write(tmp_path, page, "export.xls"))


def names_two(cells: list[str]) -> bool:
    """A header test for these tests: a row naming two columns this file has."""
    return len({"Nom", "Prénom", "E-mail"} & {cell.strip() for cell in cells}) >= 2


TITLED = (
    "Export clients - Hôtel du Lac - 22/11/2026;;\r\n"
    ";;\r\n"
    "Période : hiver 2025-2026;;\r\n"
    "Nom;Prénom;E-mail\r\n"
    "Dupont;Jean;jean@exemple.fr\r\n"
    "Martin;Léa;lea@exemple.fr\r\n"
)


def test_title_lines_above_the_header_are_skipped(tmp_path):
    table, rows = read(write(tmp_path, TITLED), is_header=names_two)
    assert table.headers == ["Nom", "Prénom", "E-mail"]
    assert table.header_line == 4
    assert table.above == [
        "Export clients - Hôtel du Lac - 22/11/2026",
        "Période : hiver 2025-2026",
    ]
    assert rows == [
        Row(5, ["Dupont", "Jean", "jean@exemple.fr"]),
        Row(6, ["Martin", "Léa", "lea@exemple.fr"]),
    ]


def test_without_a_recognised_header_the_first_line_stays_the_header(tmp_path):
    data = "Patronyme;Mail perso\r\nDupont;jean@exemple.fr\r\nMartin;lea@exemple.fr\r\n"
    table, rows = read(write(tmp_path, data), is_header=names_two)
    assert (table.headers, table.header_line, table.above) == (["Patronyme", "Mail perso"], 1, [])
    assert [row.line for row in rows] == [2, 3]


def test_the_header_is_looked_for_in_the_first_rows_only(tmp_path):
    data = "".join(f"titre {i}\r\n" for i in range(30)) + "Nom;Prénom\r\nDupont;Jean\r\n"
    table, rows = read(write(tmp_path, data), is_header=names_two)
    assert table.headers == ["titre 0"] and table.header_line == 1
    assert rows[0] == Row(2, ["titre 1"])
    assert len(rows) == 31  # the rest is data, reported by the import as such


def test_a_broken_quote_in_the_title_lines_falls_back_to_the_first_line(tmp_path):
    data = '"Export ""clients\r\nNom;Prénom\r\nDupont;Jean\r\n'
    table, _rows = read(write(tmp_path, data), is_header=names_two)
    assert table.header_line == 1 and table.above == []


def test_a_title_above_the_header_of_a_workbook(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Clients de l'École de ski — saison 2025-2026"])
    sheet.append([])
    sheet.append(["Nom", "Prénom", "E-mail"])
    sheet.append(["Dupont", "Jean", "jean@exemple.fr"])
    path = tmp_path / "clients.xlsx"
    workbook.save(path)
    table, rows = read(path, is_header=names_two)
    assert (table.headers, table.header_line) == (["Nom", "Prénom", "E-mail"], 3)
    assert table.above == ["Clients de l'École de ski — saison 2025-2026"]
    assert rows == [Row(4, ["Dupont", "Jean", "jean@exemple.fr"])]


def test_a_workbook_without_a_recognised_header_gives_back_the_rows_read_ahead(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (["Patronyme", "Mail"], ["Dupont", "j@x.fr"], [], ["Martin", "l@x.fr"]):
        sheet.append(row)
    path = tmp_path / "clients.xlsx"
    workbook.save(path)
    table, rows = read(path, is_header=names_two)
    assert (table.headers, table.header_line, table.above) == (["Patronyme", "Mail"], 1, [])
    assert rows == [Row(2, ["Dupont", "j@x.fr"]), Row(4, ["Martin", "l@x.fr"])]


def test_a_summary_sheet_before_the_customers_is_passed_over(tmp_path):
    workbook = openpyxl.Workbook()
    summary = workbook.active
    summary.title = "Synthèse"
    summary.append(["Clients de la saison", 2])
    customers = workbook.create_sheet("Clients")
    customers.append(["Nom", "Prénom", "E-mail"])
    customers.append(["Dupont", "Jean", "jean@exemple.fr"])
    path = tmp_path / "clients.xlsx"
    workbook.save(path)
    table, rows = read(path, is_header=names_two)
    assert (table.sheet, table.skipped_sheet) == ("Clients", "Synthèse")
    assert table.headers == ["Nom", "Prénom", "E-mail"]
    assert rows == [Row(2, ["Dupont", "Jean", "jean@exemple.fr"])]
    from cordee.collect.reader import header_notes

    assert header_notes(table) == [
        "Feuille « Clients » lue : la feuille « Synthèse », avant elle, n'a pas d'en-tête reconnu."
    ]


def test_without_a_known_header_in_any_sheet_the_first_one_is_read(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Feuil1"
    workbook.active.append(["Patronyme", "Mail"])
    workbook.active.append(["Dupont", "j@x.fr"])
    other = workbook.create_sheet("Feuil2")
    other.append(["Autre chose", "Encore"])
    path = tmp_path / "clients.xlsx"
    workbook.save(path)
    table, rows = read(path, is_header=names_two)
    assert (table.sheet, table.skipped_sheet, table.headers) == (
        "Feuil1",
        None,
        ["Patronyme", "Mail"],
    )
    assert rows == [Row(2, ["Dupont", "j@x.fr"])]


def test_ten_thousand_columns_are_refused(tmp_path):
    header = ";".join(f"col{i}" for i in range(10_000))
    message = unreadable(write(tmp_path, header + "\n" + ";" * 9_999 + "\n"))
    assert message.startswith(f"Le fichier compte 10{NBSP}000 colonnes ; le maximum est de 500.")


# --- spreadsheets ---------------------------------------------------------


def make_xlsx(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Vide"  # the first sheet is empty: the next one is used
    sheet = workbook.create_sheet("Clients")
    sheet.append([])
    sheet.append(["Nom", "CP", "Né le", "Portable", "Newsletter", "Arrivée", "Site", "Montant"])
    sheet.append(
        [
            "Élodie",
            "01000",  # a postcode typed as text keeps its zero
            datetime.date(1990, 5, 17),
            612345678,
            True,
            datetime.datetime(2025, 12, 20, 15, 30),
            None,
            12.5,
        ]
    )
    sheet.append(
        ["Zoë", 1000, datetime.datetime(1985, 1, 2), 33612345678.0, False, None, None, 0.1 + 0.2]
    )
    sheet.append([])
    sheet.append(["Jean-Luc"])
    formula = sheet.cell(3, 7)
    formula.value, formula.data_type = '=HYPERLINK("http://evil.example")', "s"
    workbook.save(path)
    return path


def test_xlsx_values_read_as_a_person_reads_them(tmp_path):
    table, rows = read(make_xlsx(tmp_path / "upload"), filename="clients.xlsx")
    assert (table.format, table.encoding, table.delimiter) == ("xlsx", None, None)
    assert table.headers == [
        "Nom",
        "CP",
        "Né le",
        "Portable",
        "Newsletter",
        "Arrivée",
        "Site",
        "Montant",
    ]
    assert table.header_line == 2
    assert rows == [
        Row(3, ["Élodie", "01000", "1990-05-17", "612345678", "oui", "2025-12-20 15:30:00",
                '=HYPERLINK("http://evil.example")', "12.5"]),
        Row(4, ["Zoë", "1000", "1985-01-02", "33612345678", "non", "", "", "0.3"]),
        Row(6, ["Jean-Luc", "", "", "", "", "", "", ""]),
    ]  # fmt: skip


def test_xlsx_named_csv_is_still_read_as_a_workbook(tmp_path):
    table, rows = read(make_xlsx(tmp_path / "clients.csv"))
    assert table.format == "xlsx" and len(rows) == 3


def test_truncated_xlsx(tmp_path):
    data = make_xlsx(tmp_path / "full.xlsx").read_bytes()
    path = write(tmp_path, data[: len(data) // 2], "clients.xlsx")
    assert "classeur est endommagé ou incomplet" in unreadable(path)


def test_corrupt_xlsx_member(tmp_path):
    source = make_xlsx(tmp_path / "full.xlsx")
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]  # well-formed zip, broken XML
            copy.writestr(item, data)
    assert "endommagé" in unreadable(path)


def test_password_protected_xlsx(tmp_path):
    # Excel stores an encrypted XLSX as an OLE2 file holding an "EncryptedPackage" stream.
    data = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504) + "EncryptedPackage".encode("utf-16-le")
    assert "protégé par un mot de passe" in unreadable(write(tmp_path, data, "clients.xlsx"))


def test_empty_workbook(tmp_path):
    path = tmp_path / "vide.xlsx"
    openpyxl.Workbook().save(path)
    assert unreadable(path) == "Le fichier est vide."


def ods_cell(kind: str, text: str, value: str = "") -> str:
    attribute = {
        "float": "office:value",
        "date": "office:date-value",
        "boolean": "office:boolean-value",
    }
    extra = f' {attribute[kind]}="{value}"' if value else ""
    cell = f'<table:table-cell office:value-type="{kind}"{extra}>'
    return f"{cell}<text:p>{text}</text:p></table:table-cell>"


# Written the way LibreOffice writes it: no whitespace between cells (calamine
# rejects it).
ODS_ROWS = (
    "<table:table-row>"
    + "".join(ods_cell("string", name) for name in ["Nom", "Téléphone", "Né le", "Newsletter"])
    + "</table:table-row>"
    + '<table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>'
    + "<table:table-row>"
    + ods_cell("string", "Zoë")
    + ods_cell("float", "612345678", "612345678")
    + ods_cell("date", "17/05/90", "1990-05-17")
    + ods_cell("boolean", "VRAI", "true")
    + "</table:table-row>"
)
ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Clients">'
    f"{ODS_ROWS}</table:table></office:spreadsheet></office:body></office:document-content>"
)


def make_ods(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        mimetype = "application/vnd.oasis.opendocument.spreadsheet"
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", ODS_CONTENT)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            "<manifest:manifest xmlns:manifest="
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return path


def test_ods(tmp_path):
    table, rows = read(make_ods(tmp_path / "clients.ods"))
    assert table.format == "ods"
    assert table.headers == ["Nom", "Téléphone", "Né le", "Newsletter"]
    assert rows == [Row(4, ["Zoë", "612345678", "1990-05-17", "oui"])]


# --- round trip -----------------------------------------------------------

# Control characters are excluded: a file full of them is taken for binary,
# by design. U+FDD0 is the reader's own marker for undecodable bytes.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Cn"), blacklist_characters="\ufeff")
    | st.sampled_from(' \t\r\n";,|')
)
NAME = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=10)


@st.composite
def tables(draw: st.DrawFn, text: st.SearchStrategy[str]) -> tuple[list[str], list[list[str]]]:
    headers = draw(st.lists(NAME, min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(text, min_size=len(headers), max_size=len(headers))))
    return headers, rows


def write_csv(path: Path, delimiter: str, headers: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(headers)
        writer.writerows(rows)


def expected(rows: list[list[str]]) -> list[list[str]]:
    trimmed = [[cell.strip() for cell in row] for row in rows]
    return [row for row in trimmed if any(row)]


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(delimiter=st.sampled_from(";,\t|"), table=tables(TEXT))
def test_any_csv_writer_output_reads_back(tmp_path, delimiter, table):
    headers, rows = table
    path = tmp_path / "roundtrip.csv"
    write_csv(path, delimiter, headers, rows)
    result, read_rows = read(path, delimiter=delimiter)
    assert result.headers == headers
    assert [row.cells for row in read_rows] == expected(rows)
    assert all(row.error is None for row in read_rows)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), delimiter=st.sampled_from(";,\t|"))
def test_separator_is_guessed_when_only_it_and_quotes_occur(tmp_path, data, delimiter):
    others = "".join(candidate for candidate in ";,\t|" if candidate != delimiter)
    text = st.text(
        st.characters(
            blacklist_categories=("Cs", "Cc", "Cn"), blacklist_characters=others + "\ufeff"
        )
        | st.sampled_from(f' \r\n"{delimiter}')
    )
    headers, rows = data.draw(tables(text))
    path = tmp_path / "guess.csv"
    write_csv(path, delimiter, headers, rows)
    result, read_rows = read(path)
    assert result.headers == headers
    assert [row.cells for row in read_rows] == expected(rows)


# --- size and memory --------------------------------------------------------

# The peak RSS is read from /proc (VmHWM): getrusage's ru_maxrss survives exec on
# Linux, so a child started by a big pytest process would inherit its parent's peak.
MEASURE = """
import json, sys
from django.conf import settings
settings.configure(USE_I18N=False)
from cordee.collect.reader import open_table

def peak_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

before = peak_kib()
count, errors = 0, []
with open_table(sys.argv[1]) as table:
    for batch in table.batches():
        count += len(batch)
        errors += [[row.line, row.error, list(map(len, row.cells))] for row in batch if row.error]
        last = batch[-1].line
growth = (peak_kib() - before) / 1024
print(json.dumps({"rows": count, "errors": errors, "last": last, "growth_mb": growth}))
"""


@pytest.fixture
def measure() -> Callable[[Path], dict]:
    """Read a file in a fresh interpreter, whose peak RSS is that read's alone."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs Linux's /proc to read the peak RSS")

    def run(path: Path) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout)

    return run


def test_fifty_megabyte_cell_is_reported_and_reading_goes_on(tmp_path, measure):
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write("email;note;ville\n")
        file.write("elodie@example.fr;ok;Annecy\n")
        file.write("jean@example.fr;" + "A" * 52_428_800 + ";Lyon\n")
        file.write('zoe@example.fr;"' + "B" * 20_000_000 + '";Paris\n')
        file.write('roux@example.fr;"deux\nlignes";Nice\n')
        file.write("leroy@example.fr;fin;Megève\n")
    result = measure(path)
    assert result["rows"] == 5
    assert result["last"] == 7
    assert result["errors"] == [
        [
            3,
            f"cellule trop longue (52{NBSP}428{NBSP}800 caractères, maximum 10{NBSP}000)",
            [15, 10_001, 0],
        ],
        [
            4,
            f"cellule trop longue (20{NBSP}000{NBSP}000 caractères, maximum 10{NBSP}000)",
            [14, 10_001, 0],
        ],
    ]
    assert result["growth_mb"] < 120, result


def test_quoted_cell_running_away_over_many_lines(tmp_path, measure):
    path = tmp_path / "runaway.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write("nom;note\n")
        file.write('Dupont;"' + ("x" * 1000 + "\n") * 10_000 + '"\n')  # 10 MB over 10,000 lines
        file.write("Martin;ok\n")
    result = measure(path)
    assert result["rows"] == 2
    assert result["errors"][0][0] == 2
    assert result["errors"][0][1].startswith("cellule trop longue (plus de 8")
    assert result["last"] == 10_003


@pytest.mark.slow
def test_two_hundred_megabytes_stream_in_bounded_memory(tmp_path, measure):
    path = tmp_path / "big.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["ID client", "Prénom", "Nom", "Email", "Téléphone", "Adresse", "CP", "Ville"])
    for i in range(10_000):
        writer.writerow(
            [f"C{i:07d}", "Élodie", "Dupont", f"elodie{i}@example.fr", "06 12 34 56 78",
             "Bâtiment B\nEscalier 3" if i % 100 == 0 else "12 rue des Lilas", "01000", "Annecy"]
        )  # fmt: skip
    header, body = buffer.getvalue().split("\r\n", 1)
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write(header + "\r\n")
        while file.tell() < 200 * 1024 * 1024:
            file.write(body)
    result = measure(path)
    assert result["rows"] > 2_000_000
    assert result["errors"] == []
    assert result["growth_mb"] < 300, result
