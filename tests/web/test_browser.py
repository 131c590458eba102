"""The pages in a real browser: Debian's Chromium driven by Playwright, against a live server.

Every story fails on any console error — a Content-Security-Policy violation shows up there —
and leaves full-page screenshots in test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re

import pytest

from cordee.collect.imports import import_batch_create, import_batch_run
from cordee.collect.models import ImportBatch
from cordee.privacy.access import Actor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMPORT_FILE = (
    "Prénom;Nom;E-mail;Téléphone;CP;Ville;Remarque\r\n"
    "Lucie;Bernard;lucie.bernard@example.fr;06 21 43 65 87;74120;Megève;VIP\r\n"
    "Thomas;Girard;thomas.girard@@example.fr;06 31 42 53 64;73120;Courchevel;\r\n"
    ";;pas-un-email;;;;\r\n"
)


def test_camille_finds_a_customer_with_live_search_and_reads_her_page(
    visit, destination, customers
):
    from playwright.sync_api import expect

    page = visit.page
    visit.go("/connexion/")
    visit.shot("login")
    visit.sign_in(destination.camille)
    expect(page.locator("#results tbody tr")).to_have_count(6)
    visit.shot("customer-list")

    page.get_by_text("Filtres").click()
    page.get_by_label("Apporté par").select_option(label="Camping du Lac")
    expect(page.locator("#results tbody tr")).to_have_count(3)
    expect(page).to_have_url(re.compile(r"partner=\d+"))
    visit.shot("customer-filters")
    page.get_by_label("Apporté par").select_option(label="Tous les partenaires")
    expect(page.locator("#results tbody tr")).to_have_count(6)

    page.get_by_label("Rechercher un client").press_sequentially("elod", delay=60)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/clients/\?q=elod"))
    expect(page.locator("#results")).to_contain_text("1 client")
    visit.shot("customer-search")

    page.get_by_role("link", name="Martin Élodie").click()
    page.wait_for_url(re.compile(r"/clients/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Élodie Martin")
    expect(page.locator(".provenance").first).to_contain_text("Hôtel des Alpes · import de fichier")
    page.locator("details.raw summary").first.click()
    expect(page.locator("details.raw dd").first).to_be_visible()
    visit.shot("customer-detail")

    # Back to the list with the browser: the search is still there.
    page.go_back()
    expect(page.get_by_label("Rechercher un client")).to_have_value("elod")


def test_the_list_works_on_a_phone_and_in_english(visit, destination, customers):
    from playwright.sync_api import expect

    page = visit.page
    visit.sign_in(destination.camille)
    page.set_viewport_size({"width": 390, "height": 844})
    visit.go("/clients/")
    visit.shot("customer-list-phone")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    visit.shot("customer-list-english")
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clients")


def test_camille_uploads_a_file_and_runs_it_for_real(visit, destination, customers, tmp_path):
    from playwright.sync_api import expect

    page = visit.page
    source = tmp_path / "nouveaux-clients.csv"
    source.write_text(IMPORT_FILE, encoding="utf-8")
    visit.sign_in(destination.camille)
    page.get_by_role("link", name="Imports").click()
    visit.shot("import-list-before")
    page.get_by_role("button", name="Importer un fichier").click()
    page.get_by_label("Partenaire").select_option(label="Hôtel des Alpes")
    page.get_by_label("Fichier de clients").set_input_files(str(source))
    expect(page.get_by_label("Essai à blanc", exact=False)).to_be_checked()
    visit.shot("import-form")
    page.get_by_role("button", name="Envoyer le fichier").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    expect(page.get_by_role("heading", name="Rapport")).to_be_visible()
    expect(page.locator("dl.report")).to_contain_text("Rejetées")
    expect(page.locator("table.columns")).to_contain_text("Prénom")
    expect(page.locator("table.columns tr.ignored")).to_contain_text("Remarque")
    expect(page.locator("table.issues").last).to_contain_text("Adresse e-mail invalide")
    visit.shot("import-dry-run")

    page.get_by_role("button", name="Lancer l'import pour de bon").click()
    expect(page.locator(".page-title")).not_to_contain_text("essai à blanc")
    expect(page.get_by_role("heading", name="Rapport")).to_be_visible()
    visit.shot("import-done")
    visit.go("/clients/?q=girard")
    expect(page.locator("#results tbody tr")).to_have_count(1)


def test_the_import_page_follows_a_running_import(visit, destination, tmp_path):
    from playwright.sync_api import expect

    page = visit.page
    source = tmp_path / "clients.csv"
    source.write_text(IMPORT_FILE, encoding="utf-8")
    batch = import_batch_create(
        partner=destination.hotel, source=source, filename="clients.csv", actor=Actor.system("test")
    )
    visit.sign_in(destination.helene)
    visit.go(f"/imports/{batch.pk}/")
    expect(page.locator("#report")).to_contain_text("En attente")
    visit.shot("import-waiting")
    import_batch_run(batch_id=batch.pk)  # what the worker does; the page polls every second
    expect(page.get_by_role("heading", name="Rapport")).to_be_visible(timeout=5_000)
    expect(page.locator("#report")).not_to_have_attribute("hx-trigger", re.compile("every"))
    assert ImportBatch.objects.get(pk=batch.pk).status == "done"


def test_camille_adds_a_partner_and_its_manager(visit, destination, customers):
    from playwright.sync_api import expect

    page = visit.page
    visit.sign_in(destination.camille)
    page.get_by_role("link", name="Partenaires").click()
    expect(page.locator("table")).to_contain_text("Hôtel des Alpes")
    visit.shot("partners")
    page.get_by_role("button", name="Ajouter un partenaire").click()
    page.get_by_label("Identifiant").fill("voile-du-lac")
    page.get_by_label("Nom").fill("École de voile du Lac")
    page.get_by_label("Type").select_option(label="Prestataire d'activités")
    page.get_by_label("Station").fill("Lac")
    visit.shot("partner-form")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(r"/partenaires/voile-du-lac/$"))
    expect(page.locator(".messages")).to_contain_text("ajouté")

    form = page.locator("form[aria-labelledby=add-user]")
    form.get_by_label("Identifiant de connexion").fill("ines")
    form.get_by_label("Prénom").fill("Inès")
    form.get_by_label("Nom", exact=True).fill("Roux")
    form.get_by_label("Rôle").select_option(label="Responsable partenaire")
    form.get_by_label("Mot de passe initial", exact=True).fill("Vent-Portant-2026")
    form.get_by_label("Mot de passe initial (encore)").fill("Vent-Portent-2026")  # a typo
    form.get_by_role("button", name="Ajouter l'utilisateur").click()
    expect(page.locator(".field-error")).to_contain_text("ne sont pas identiques")
    visit.shot("partner-user-error")
    form = page.locator("form[aria-labelledby=add-user]")
    form.get_by_label("Mot de passe initial", exact=True).fill("Vent-Portant-2026")
    form.get_by_label("Mot de passe initial (encore)").fill("Vent-Portant-2026")
    form.get_by_role("button", name="Ajouter l'utilisateur").click()
    expect(page.locator("table")).to_contain_text("ines")
    visit.shot("partner-detail")


def test_helene_sees_the_hotel_view(visit, destination, customers):
    from playwright.sync_api import expect

    page = visit.page
    visit.sign_in(destination.helene)
    expect(page.locator("#results tbody tr")).to_have_count(4)
    expect(page.locator("#results")).not_to_contain_text("Lambert")
    expect(page.locator("nav.container")).to_contain_text("Hôtel des Alpes")
    expect(page.get_by_role("link", name="Imports")).to_be_visible()
    expect(page.get_by_role("link", name="Partenaires")).to_have_count(0)
    expect(page.get_by_label("Apporté par")).to_have_count(0)
    visit.shot("helene-list")
    page.get_by_role("link", name="Fontaine Claire").click()
    expect(page.locator("body")).to_contain_text("transmis par un autre partenaire")
    expect(page.locator("table.sources tbody tr")).to_have_count(1)
    visit.shot("helene-customer")

    visit.go("/partenaires/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    visit.shot("helene-forbidden")
    # The browser reports the deliberate 403 in its console; nothing else may be there.
    assert all("403" in error for error in visit.errors), visit.errors
    visit.errors.clear()
