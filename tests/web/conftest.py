"""The destination's customers as the web pages see them.

Hôtel des Alpes brought Élodie, Jean-Luc and Hans; the Camping du Lac brought Zoé and
Paul; Claire stayed at both. Nadia (camping) has no business with Élodie.
"""

from __future__ import annotations

import pytest

HOTEL_FILE = (
    "Civilité;Prénom;Nom;E-mail;Téléphone;Date de naissance;Adresse;CP;Ville;Pays\r\n"
    "Mme;Élodie;MARTIN;Elodie.Martin@Orange.fr;06 12 34 56 78;14/03/1985;3 rue des Lilas;74400;"
    "Chamonix-Mont-Blanc;France\r\n"
    "M.;Jean-Luc;Dupont;jl.dupont@example.com;04 50 11 22 33;1/2/72;;69003;Lyon;France\r\n"
    "M;Hans;Müller;hans.mueller@gmx.de;+49 30 1234567;1969-07-21;Hauptstraße 5;10115;Berlin;"
    "Allemagne\r\n"
    "Mme;Claire;Fontaine;claire.fontaine@example.fr;06 55 44 33 22;;;38000;Grenoble;France\r\n"
)
CAMPING_FILE = (
    "Prénom;Nom;E-mail;Téléphone;CP;Ville\r\n"
    "Zoé;Lambert;zoe.lambert@example.fr;07 01 02 03 04;73000;Chambéry\r\n"
    "Paul;Martinez;paul.martinez@example.fr;06 99 88 77 66;13001;Marseille\r\n"
    "Claire;Fontaine;claire.fontaine@example.fr;07 81 22 33 44;38000;Grenoble\r\n"
)


@pytest.fixture
def customers(destination, import_file):
    """The two partners' files through the real import; the customers by first name."""
    from cordee.customers.models import Customer

    hotel = import_file(HOTEL_FILE, partner=destination.hotel, name="hotel.csv")
    camping = import_file(CAMPING_FILE, partner=destination.camping, name="camping.csv")
    assert hotel.status == "done" and camping.status == "done", (hotel.error, camping.error)
    return {c.first_name: c for c in Customer.objects.all()}


@pytest.fixture
def signed_in(client):
    """A test client signed in as one of the destination's people."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    """Each test keeps its uploads in its own data directory (the import stores files there)."""
    settings.CORDEE_HOME = tmp_path / "home"
    (settings.CORDEE_HOME / "uploads").mkdir(parents=True)
    return settings.CORDEE_HOME
