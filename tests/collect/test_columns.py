"""Recognising the columns of a partner's file, with or without a mapping file."""

import os

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
    settings.configure(USE_I18N=False)  # messages are French msgids; no catalogue needed

from cordee.collect.columns import (  # noqa: E402
    CANONICAL,
    Mapping,
    MappingError,
    fold,
    guess,
    load_mapping,
    looks_like_header,
    recognise,
)

USUAL_HEADERS = {
    "first_name": ["Prénom", "Prenom", "First name", "Firstname", "Given name", "PRÉNOM du client"],
    "last_name": ["Nom", "Nom de famille", "Last name", "Surname", "Family name", "Name"],
    "email": ["E-mail", "Email", "Courriel", "Mail", "Adresse mail", "Adresse e-mail", "E_MAIL"],
    "phone": [
        "Téléphone", "Tel", "Tél.", "Portable", "Mobile", "GSM", "Phone", "Telephone number",
        "Mobile phone",
    ],
    "birth_date": [
        "Date de naissance", "Né(e) le", "Naissance", "Birth date", "Date of birth", "DOB",
        "Birthday", "Date naiss.", "Date de naiss.", "DDN",
    ],
    "address_line1": ["Adresse", "Adresse 1", "Rue", "Address", "Street", "Address line 1"],
    "address_line2": ["Complément d'adresse", "Adresse 2", "Address line 2"],
    "postal_code": [
        "CP", "Code postal", "Code Postal", "Postcode", "Zip", "Zip code", "Postal code",
    ],
    "city": ["Ville", "Commune", "Localité", "City", "Town"],
    "region": ["Région", "Region", "State"],
    "country": ["Pays", "Country"],
    "civility": ["Civilité", "Civ", "Titre", "Title", "Salutation"],
    "gender": ["Sexe", "Genre", "Gender", "Sex"],
    "language": ["Langue", "Language", "Lang"],
    "external_id": [
        "Id", "ID client", "N° client", "Numéro client", "Référence", "Ref", "Customer ID",
        "Code client",
    ],
    "profession": ["Profession", "Métier", "Occupation", "Job"],
    "family_situation": ["Situation familiale", "Marital status"],
    "children": ["Enfants", "Nombre d'enfants", "Children"],
    "interests": [
        "Centres d'intérêt", "Intérêts", "Loisirs", "Interests", "Hobbies", "Activités préférées",
    ],
    "preferred_season": ["Saison préférée", "Preferred season"],
    "consent_newsletter": [
        "consent_newsletter", "Consentement newsletter", "Accepte newsletter", "Opt-in newsletter",
        "Newsletter",
    ],
    "consent_sms": ["Opt-in SMS", "consent_sms"],
}  # fmt: skip


@pytest.mark.parametrize(
    ("header", "target"),
    [(header, target) for target, headers in USUAL_HEADERS.items() for header in headers],
)
def test_usual_headers_are_recognised(header, target):
    assert guess(header) == target


@pytest.mark.parametrize("name", CANONICAL)
def test_canonical_names_are_recognised(name):
    assert guess(name) == name


def test_any_consent_column_keeps_its_purpose():
    assert guess("consent_offres_partenaires") == "consent_offres_partenaires"
    assert guess("consent_la_poste") == "consent_la_poste"
    assert guess("Accepte les offres partenaires") == "consent_offres_partenaires"


@pytest.mark.parametrize("header", ["N°", "Remarques", "", "   ", "Nom de l'entreprise", "Contact"])
def test_unknown_or_ambiguous_headers_are_not_guessed(header):
    assert guess(header) is None


def test_fold_ignores_case_accents_and_punctuation():
    assert fold("  Né(e) le ") == "ne e le"
    assert fold("Complément d’adresse") == "complement d adresse"
    assert fold("CŒUR") == "coeur"


def test_plan_for_a_typical_hotel_file():
    headers = [
        "N° client",
        "Civilité",
        "Prénom",
        "Nom",
        "E-mail",
        "Tél.",
        "Remarques",
        "Newsletter",
    ]
    plan = recognise(headers)
    assert plan.fields == {
        "external_id": 0,
        "civility": 1,
        "first_name": 2,
        "last_name": 3,
        "email": 4,
        "phone": 5,
    }
    assert plan.consents == {"newsletter": 7}
    assert plan.ignored == [(6, "Remarques")]
    assert plan.warnings == []
    assert plan.describe() == [
        ("N° client", "external_id"),
        ("Civilité", "civility"),
        ("Prénom", "first_name"),
        ("Nom", "last_name"),
        ("E-mail", "email"),
        ("Tél.", "phone"),
        ("Remarques", None),
        ("Newsletter", "consent_newsletter"),
    ]


def test_same_header_twice_uses_the_first():
    plan = recognise(["Email", "Nom", "Email"])
    assert plan.fields == {"email": 0, "last_name": 1}
    assert plan.ignored == [(2, "Email")]
    assert plan.warnings == ["La colonne « Email » apparaît deux fois : la première est utilisée."]
    assert plan.describe()[2] == ("Email", None)


def test_two_headers_for_the_same_field_use_the_first():
    plan = recognise(["Portable", "Nom", "Téléphone", "Téléphone", "Tel"])
    assert plan.fields["phone"] == 0
    assert plan.ignored == [(2, "Téléphone"), (3, "Téléphone"), (4, "Tel")]
    assert plan.warnings == [
        "Les colonnes « Portable » et « Téléphone » désignent toutes deux « téléphone » : "
        "« Portable » est utilisée.",
        "Les colonnes « Portable » et « Tel » désignent toutes deux « téléphone » : "
        "« Portable » est utilisée.",
    ]


def test_mapping_names_what_recognition_cannot_guess():
    mapping = Mapping(
        columns={
            "Code adhérent": "external_id",
            "Mail pro": "email",
            "Accepte nos offres": "consent_partner_offers",
            "Nom": "",  # the partner's "Nom" is a company name
        },
        defaults={"country": "FR"},
    )
    headers = ["Email", "Nom", "Code adhérent", "Mail pro", "Accepte nos offres", "Prénom"]
    plan = recognise(headers, mapping)
    assert plan.fields == {"external_id": 2, "email": 3, "first_name": 5}
    assert plan.consents == {"partner_offers": 4}
    assert plan.ignored == [(0, "Email"), (1, "Nom")]
    assert plan.warnings == [
        "Les colonnes « Mail pro » et « Email » désignent toutes deux « e-mail » : "
        "« Mail pro » est utilisée."
    ]


def test_mapping_matches_headers_loosely_and_reports_absent_ones():
    mapping = Mapping(columns={"TEL. PORTABLE": "phone", "Fax": ""})
    plan = recognise(["Tél. portable", "Nom"], mapping)
    assert plan.fields == {"phone": 0, "last_name": 1}
    assert plan.warnings == [
        "La colonne « Fax » prévue par la correspondance est absente du fichier."
    ]


@given(st.lists(st.text(max_size=20), max_size=30))
def test_every_column_is_used_once_or_ignored(headers):
    plan = recognise(headers)
    used = list(plan.fields.values()) + list(plan.consents.values())
    ignored = [index for index, _ in plan.ignored]
    assert sorted(used + ignored) == list(range(len(headers)))
    assert [header for header, _ in plan.describe()] == headers


# --- mapping files --------------------------------------------------------


def test_toml_mapping(tmp_path):
    path = tmp_path / "hotel.toml"
    path.write_text(
        '[columns]\n"Tél. portable" = "phone"\n"Remarques" = ""\n'
        '"Accepte offres" = "consent_partner_offers"\n\n[defaults]\ncountry = "FR"\n',
        encoding="utf-8",
    )
    mapping = load_mapping(path)
    assert mapping.columns == {
        "Tél. portable": "phone",
        "Remarques": "",
        "Accepte offres": "consent_partner_offers",
    }
    assert mapping.defaults == {"country": "FR"}


def test_json_mapping_with_bom_and_upload_name(tmp_path):
    path = tmp_path / "upload-123"
    path.write_text('{"columns": {"Courriel perso": "email"}}', encoding="utf-8-sig")
    mapping = load_mapping(path, filename="hotel.JSON")
    assert mapping == Mapping(columns={"Courriel perso": "email"}, defaults={})


def mapping_error(tmp_path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert str(caught.value) == caught.value.message
    return caught.value.message


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.yaml", "columns: {}", "doit être au format JSON (.json) ou TOML (.toml)"),
        ("m.json", '{"columns": {"Tel": "phone",}}', "n'est pas un JSON valide (ligne 1)"),
        ("m.toml", '[columns]\n"Tel" = phone\n', "n'est pas un TOML valide (ligne 2)"),
        ("m.json", b'{"columns": {"T\xe9l": "phone"}}', "doit être enregistré en UTF-8"),
        ("m.json", '["phone"]', "doit contenir une table"),
        ("m.json", '{"colonnes": {}}', "Clé inconnue « colonnes »"),
        ("m.json", '{"columns": ["Tel"]}', "« columns » doit être une table"),
        ("m.json", '{"columns": {"Tel": "telephone"}}', "« telephone » (pour la colonne « Tel »)"),
        ("m.json", '{"columns": {"Tel": 3}}', "associée à « Tel » doit être un texte (trouvé : 3)"),
        ("m.json", '{"columns": {" ": "phone"}}', "doivent être des textes non vides"),
        ("m.json", '{"columns": {"Ok": "consent_Offres"}}', "la finalité ne doit contenir"),
        ("m.json", '{"defaults": {"pays": "FR"}}', "« pays » n'est pas une colonne connue"),
        ("m.json", '{"defaults": {"country": null}}', "doit être un texte (trouvé : null)"),
        (
            "m.toml",
            '[defaults]\nconsent_newsletter = "oui"\n',
            "un consentement doit venir de la personne",
        ),
    ],
)
def test_bad_mapping_files_are_explained(tmp_path, name, text, message):
    assert message in mapping_error(tmp_path, name, text)


def test_missing_mapping_file(tmp_path):
    with pytest.raises(MappingError, match="ne peut pas être lu"):
        load_mapping(tmp_path / "absent.json")


@pytest.mark.parametrize(
    "cells",
    [
        ["N° client", "Nom", "Prénom", "E-mail"],
        ["E-mail"],  # a file of addresses alone
        ["Nom", "", "", "Ville", ""],
        ["Surname", "Email address", "Something else", "Another"],
    ],
)
def test_a_header_names_two_known_columns_or_its_only_one(cells):
    assert looks_like_header(cells)


@pytest.mark.parametrize(
    "cells",
    [
        ["Export clients - Hôtel du Lac - 22/11/2026", "", ""],
        ["Liste arrêtée au 22/11/2026"],
        ["C001", "DUPONT", "Jean", "jean@exemple.fr", "06 12 34 56 78"],
        ["Total : 25 clients", "", ""],
        ["", "", ""],
        ["Patronyme client", "Mail perso"],  # needs a mapping
    ],
)
def test_titles_data_and_unknown_names_are_not_a_header(cells):
    assert not looks_like_header(cells)


def test_a_mapping_makes_its_columns_known_to_the_header_test():
    mapping = Mapping(columns={"Patronyme client": "last_name", "Mail perso": "email"})
    assert looks_like_header(["Patronyme client", "Mail perso"], mapping)
