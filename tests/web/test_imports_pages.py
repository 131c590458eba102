"""Importing a partner's file from the browser: upload, dry run report, real run, rejects."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from cordee.collect.imports import import_batch_create, import_batch_run
from cordee.collect.models import ImportBatch, ImportStatus
from cordee.customers.models import Customer
from cordee.privacy.access import Actor
from cordee.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db

SMALL_FILE = (
    "Prénom;Nom;E-mail;Téléphone;CP;Ville;Remarque\r\n"
    "Élodie;Martin;elodie.martin@orange.fr;06 12 34 56 78;74400;Chamonix;VIP\r\n"
    "Jean-Luc;Dupont;jl.dupont@example.com;04 50 11 22 33;69003;Lyon;\r\n"
    '=HYPERLINK("http://evil.example");;pas-un-email;;;;=1+2\r\n'
)


def upload(name="clients.csv", content=SMALL_FILE, **kwargs):
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, **kwargs)


def uploads_kept():
    folder = Path(settings.CORDEE_HOME) / "uploads" / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


def post_import(client, partner, file, dry_run=True, **extra):
    data = {"partner": partner.pk, "file": file, **extra}
    if dry_run:
        data["dry_run"] = "on"
    return client.post("/imports/nouveau/", data)


def test_the_upload_form_offers_a_dry_run_by_default(signed_in, destination):
    response = signed_in(destination.camille).get("/imports/nouveau/")
    assert response.status_code == 200
    assert 'name="dry_run"' in response.text and "checked" in response.text
    assert 'enctype="multipart/form-data"' in response.text
    assert "Camping du Lac" in response.text and "Hôtel des Alpes" in response.text


def test_camille_imports_a_file_from_dry_run_to_real_run(signed_in, destination):
    client = signed_in(destination.camille)
    response = post_import(client, destination.hotel, upload())
    dry = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{dry.pk}/"
    assert dry.dry_run and dry.status == ImportStatus.DONE, dry.error
    assert Customer.objects.count() == 0

    page = client.get(response["Location"])
    text = page.text
    assert "Essai à blanc : rien n'a été enregistré" in text
    assert (dry.lines_read, dry.accepted, dry.rejected) == (3, 2, 1)
    assert "Lancer l'import pour de bon" in text
    assert "hx-trigger" not in text  # finished: no more polling
    # Recognised columns, and the one left aside.
    assert "Prénom" in text and "<td>Remarque</td>" in text and "ignorée" in text
    # The rejected line, by number and reason.
    assert page.context["rejects"][0].line == 4
    assert f'href="/imports/{dry.pk}/rejets.csv"' in text

    real = client.post(f"/imports/{dry.pk}/lancer/")
    batch = ImportBatch.objects.exclude(pk=dry.pk).get()
    assert real["Location"] == f"/imports/{batch.pk}/"
    assert not batch.dry_run and batch.status == ImportStatus.DONE, batch.error
    assert (batch.accepted, batch.customers_created) == (2, 2)
    dry.refresh_from_db()
    assert dry.stored_path == ""  # the file moved to the real run, then went away
    assert uploads_kept() == []
    assert "Lancer l'import pour de bon" not in client.get(f"/imports/{dry.pk}/").text

    listing = signed_in(destination.helene).get("/clients/")
    assert sorted(c.first_name for c in listing.context["page"].customers) == ["Jean-Luc", "Élodie"]


def test_a_dry_run_cannot_be_launched_twice(signed_in, destination):
    client = signed_in(destination.camille)
    post_import(client, destination.hotel, upload())
    dry = ImportBatch.objects.get()
    client.post(f"/imports/{dry.pk}/lancer/")
    again = client.post(f"/imports/{dry.pk}/lancer/", follow=True)
    assert ImportBatch.objects.count() == 2
    assert "ne peut pas (ou plus) être lancé" in again.text


def test_a_real_run_straight_away(signed_in, destination):
    client = signed_in(destination.marc)
    post_import(client, destination.camping, upload(), dry_run=False)
    batch = ImportBatch.objects.get()
    assert not batch.dry_run and batch.customers_created == 2
    assert "Lancer l'import pour de bon" not in client.get(f"/imports/{batch.pk}/").text


def test_helene_imports_for_the_hotel_only(signed_in, destination):
    client = signed_in(destination.helene)
    form = client.get("/imports/nouveau/")
    assert "Camping du Lac" not in form.text and "disabled" in form.text
    post_import(client, destination.camping, upload(), dry_run=False)  # tries the camping anyway
    assert ImportBatch.objects.get().partner == destination.hotel


def test_partners_follow_only_their_own_imports(signed_in, destination, import_file):
    hotel_batch = import_file(SMALL_FILE, partner=destination.hotel)
    camping_batch = import_file(SMALL_FILE, partner=destination.camping, name="camping.csv")
    nadia = signed_in(destination.nadia)
    assert [b.pk for b in nadia.get("/imports/").context["page"]] == [camping_batch.pk]
    for url in (f"/imports/{hotel_batch.pk}/", f"/imports/{hotel_batch.pk}/rejets.csv"):
        assert nadia.get(url).status_code == 404
    assert nadia.post(f"/imports/{hotel_batch.pk}/lancer/").status_code == 404
    office = signed_in(destination.camille).get("/imports/")
    assert {b.pk for b in office.context["page"]} == {hotel_batch.pk, camping_batch.pk}


def test_lucas_may_not_import(signed_in, destination, import_file):
    batch = import_file(SMALL_FILE, partner=destination.ski)
    client = signed_in(destination.lucas)
    assert client.get("/imports/").status_code == 403
    assert client.get("/imports/nouveau/").status_code == 403
    assert post_import(client, destination.ski, upload()).status_code == 403
    assert client.get(f"/imports/{batch.pk}/").status_code == 404
    assert 'href="/imports/"' not in client.get("/clients/").text
    assert ImportBatch.objects.count() == 1


def test_an_inactive_partner_may_not_import(signed_in, destination):
    destination.hotel.is_active = False
    destination.hotel.save()
    client = signed_in(destination.helene)
    response = client.get("/imports/nouveau/")
    assert response.status_code == 403 and "désactivée" in response.text
    assert post_import(client, destination.hotel, upload()).status_code == 403
    assert "Hôtel des Alpes" not in signed_in(destination.camille).get("/imports/nouveau/").text


@pytest.mark.parametrize("name", ["clients.pdf", "clients.exe", "clients", "clients.csv.zip"])
def test_a_wrong_file_type_is_refused(signed_in, destination, name):
    response = post_import(signed_in(destination.camille), destination.hotel, upload(name))
    assert response.status_code == 200
    assert "Format non pris en charge" in response.text and "CSV, XLSX ou ODS" in response.text
    assert not ImportBatch.objects.exists() and uploads_kept() == []


def test_an_oversized_file_is_refused(signed_in, destination, settings):
    settings.CORDEE_IMPORT_MAX_BYTES = 100
    response = post_import(signed_in(destination.camille), destination.hotel, upload())
    assert "plus que la taille maximale de 100" in response.text
    assert not ImportBatch.objects.exists()


def test_a_binary_file_renamed_csv_is_refused_with_its_reason(signed_in, destination):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40
    response = post_import(
        signed_in(destination.camille), destination.hotel, upload("clients.csv", png)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert errors and "texte" in " ".join(errors).lower()
    assert not ImportBatch.objects.exists() and uploads_kept() == []


def test_a_file_without_any_known_column_is_refused(signed_in, destination):
    response = post_import(
        signed_in(destination.camille), destination.hotel, upload(content="foo;bar\r\n1;2\r\n")
    )
    assert "Aucune colonne reconnue" in response.text
    assert not ImportBatch.objects.exists()


def test_a_broken_mapping_file_is_explained(signed_in, destination):
    client = signed_in(destination.camille)
    response = post_import(
        client, destination.hotel, upload(), mapping=upload("colonnes.json", "{pas du json")
    )
    assert response.context["form"].errors["mapping"]
    response = post_import(
        client, destination.hotel, upload(), mapping=upload("colonnes.txt", "{}")
    )
    assert "JSON ou en TOML" in response.text
    assert not ImportBatch.objects.exists()


def test_a_mapping_file_names_the_columns(signed_in, destination):
    content = "Given;Family;Mail\r\nÉlodie;Martin;elodie.martin@orange.fr\r\n"
    mapping = '{"columns": {"Given": "first_name", "Family": "last_name", "Mail": "email"}}'
    client = signed_in(destination.camille)
    post_import(
        client,
        destination.hotel,
        upload(content=content),
        dry_run=False,
        mapping=upload("colonnes.json", mapping),
    )
    batch = ImportBatch.objects.get()
    assert batch.customers_created == 1, batch.error
    assert Customer.objects.get().email == "elodie.martin@orange.fr"


def test_the_rejected_lines_download_with_formulas_neutralised(signed_in, destination):
    client = signed_in(destination.camille)
    post_import(client, destination.hotel, upload())
    batch = ImportBatch.objects.get()
    response = client.get(f"/imports/{batch.pk}/rejets.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:4] == ["ligne", "motif", "Prénom", "Nom"]
    assert rows[1][0] == "4" and rows[1][1]
    assert rows[1][2] == '\'=HYPERLINK("http://evil.example")' and rows[1][-1] == "'=1+2"
    assert len(rows) == 2
    assert AuditEvent.objects.filter(
        action="import.rejects_download", object_id=str(batch.pk)
    ).exists()


def test_the_page_polls_while_the_import_runs(signed_in, destination, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_text(SMALL_FILE)
    batch = import_batch_create(
        partner=destination.hotel, source=source, filename="clients.csv", actor=Actor.system("test")
    )
    client = signed_in(destination.helene)
    page = client.get(f"/imports/{batch.pk}/")
    assert f'hx-get="/imports/{batch.pk}/" hx-trigger="every 1s"' in page.text
    assert "En attente" in page.text
    partial = client.get(f"/imports/{batch.pk}/", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<section id="report"') and "<html" not in partial.text
    import_batch_run(batch_id=batch.pk)
    partial = client.get(f"/imports/{batch.pk}/", headers={"HX-Request": "true"})
    assert "hx-trigger" not in partial.text and "Clients créés" in partial.text


def test_a_failed_import_shows_its_reason(signed_in, destination, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_text("foo;bar\r\n1;2\r\n")
    batch = import_batch_create(
        partner=destination.hotel, source=source, filename="clients.csv", actor=Actor.system("test")
    )
    import_batch_run(batch_id=batch.pk)
    page = signed_in(destination.helene).get(f"/imports/{batch.pk}/")
    assert "Échec" in page.text and "Aucune colonne reconnue" in page.text


def test_imports_are_audited(signed_in, destination):
    client = signed_in(destination.camille)
    post_import(client, destination.hotel, upload())
    dry = ImportBatch.objects.get()
    client.post(f"/imports/{dry.pk}/lancer/")
    actions = list(
        AuditEvent.objects.filter(actor=destination.camille)
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )
    assert actions[:2] == ["import.dry_run", "import.create"]


def test_html_in_a_file_name_or_header_is_shown_as_text(signed_in, destination):
    client = signed_in(destination.camille)
    content = "Prénom;Nom;<script>alert(1)</script>\r\nÉlodie;Martin;x\r\n"
    post_import(client, destination.hotel, upload("<b>clients</b>.csv", content))
    batch = ImportBatch.objects.get()
    for url in (f"/imports/{batch.pk}/", "/imports/"):
        text = client.get(url).text
        assert "<script>alert" not in text and "<b>clients" not in text
