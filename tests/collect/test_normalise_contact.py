"""email(), phone() and phone_kind(): the keys identity resolution matches on first."""

from __future__ import annotations

import pytest

from cordee.collect.normalise import InvalidValue, email, phone, phone_kind


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jean.Dupont@Example.FR ", "jean.dupont@example.fr"),
        ("ELODIE+hiver@orange.fr", "elodie+hiver@orange.fr"),
        ("o'brien@hotel-des-alpes.com", "o'brien@hotel-des-alpes.com"),
        ("a@b.c", "a@b.c"),  # one-letter top-level domain: left to email-validator, accepted
        ("Élodie@Exemple.fr", "élodie@exemple.fr"),  # Unicode local part
        ("jean@Bücher.ch", "jean@bücher.ch"),  # internationalised domain
        ("jean@xn--bcher-kva.ch", "jean@bücher.ch"),  # the same domain spelt in ASCII
    ],
)
def test_email_trims_lowercases_and_checks(raw: str, expected: str) -> None:
    assert email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "jean.dupont",
        "jean@",
        "@orange.fr",
        "jean dupont@orange.fr",
        "jean..dupont@orange.fr",
        "jean@orange",
        "jean@-orange.fr",
        "jean@orange.fr.",
        "jean@localhost",
        "jean@exemple.test",
        "jean@orange.fr\r\nBcc: victime@orange.fr",
        "Jean Dupont <jean@orange.fr>\r\nBcc: victime@orange.fr",
        "jean@orange.fr <autre@orange.fr>",  # two addresses: which one?
        "Jean <jean@orange.fr> Dupont",
        "<script>@orange.fr",
        "mailto:",
        "Jean <" + "x" * 300 + "@orange.fr>",
        "jean\n@orange.fr",
        "x" * 65 + "@orange.fr",
        "j@" + "a" * 300 + ".fr",
    ],
)
def test_email_rejects_what_cannot_receive_mail(raw: str) -> None:
    with pytest.raises(InvalidValue):
        email(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jean Dupont <Jean.Dupont@Orange.fr>", "jean.dupont@orange.fr"),
        ('"Dupont, Jean" <jean.dupont@orange.fr>', "jean.dupont@orange.fr"),
        ("<jean.dupont@orange.fr>", "jean.dupont@orange.fr"),
        ("mailto:jean.dupont@orange.fr", "jean.dupont@orange.fr"),
        ("MAILTO:jean.dupont@orange.fr?subject=Réservation", "jean.dupont@orange.fr"),
        ("Élodie <élodie@exemple.fr>", "élodie@exemple.fr"),
    ],
)
def test_email_out_of_an_address_book_or_a_link(raw: str, expected: str) -> None:
    # What mail programs and address books export: the address is taken out of it.
    assert email(raw) == expected


def test_email_says_why_in_french() -> None:
    with pytest.raises(InvalidValue) as caught:
        email("jean@")
    assert str(caught.value) == "Adresse e-mail invalide : jean@"


def test_email_placeholders_are_empty_not_rejected() -> None:
    # Addresses such as 'aucun@aucun.fr' are a later concern; the syntax is fine.
    assert email("aucun@aucun.fr") == "aucun@aucun.fr"
    assert email("N/A") is None


@pytest.mark.parametrize(
    "raw",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "06/12/34/56/78",
        "0612345678",
        "+33 (0)6 12 34 56 78",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 06 12 34 56 78",
        "0033 6 12 34 56 78",
        "0033612345678",
        "33612345678",
        "612345678",
        "612345678.0",
        "Tél. : 06 12 34 56 78",
        "06\u00a012\u00a034\u00a056\u00a078",
    ],
)
def test_phone_reads_every_french_way_of_writing_a_mobile(raw: str) -> None:
    assert phone(raw) == "+33612345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("04 50 53 00 24", "+33450530024"),
        ("450530024", "+33450530024"),
        ("09 70 12 34 56", "+33970123456"),
        ("0800 123 456", "+33800123456"),
        ("+49 30 1234567", "+49301234567"),
        ("0049 30 1234567", "+49301234567"),
        ("0041 22 345 67 89", "+41223456789"),
        ("+41 (0)22 345 67 89", "+41223456789"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 650-253-0000", "+16502530000"),
    ],
)
def test_phone_to_e164(raw: str, expected: str) -> None:
    assert phone(raw) == expected


def test_phone_reads_national_numbers_in_the_given_region() -> None:
    assert phone("022 345 67 89", region="CH") == "+41223456789"
    assert phone("030 1234567", region="DE") == "+49301234567"
    # French shortcuts belong to region FR only: nine digits elsewhere mean something else.
    assert phone("612345678", region="DE") == "+49612345678"


@pytest.mark.parametrize(
    "raw",
    [
        "0000000000",
        "06 12 34 56",
        "06 12 34 56 78 90",
        "+33 6 12",
        "+999 123456789",
        "0112345",
        "123",
        "pas de téléphone",
        "1" * 80,
        "06 12 / 34 56",
        "tél. 0612 (à rappeler)",
    ],
)
def test_phone_rejects_what_is_not_a_number(raw: str) -> None:
    with pytest.raises(InvalidValue):
        phone(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 12 34 56 78 / 04 50 12 34 56", "+33612345678"),
        ("0612345678 ou 0450123456", "+33612345678"),
        ("+33 6 12 34 56 78 (portable)", "+33612345678"),
        ("06 12 34 56 78 (M. Dupont)", "+33612345678"),
        ("Tél. : 06 12 34 56 78", "+33612345678"),
        ("06 12 34 56 7 / 04 50 12 34 56", "+33450123456"),  # the first is one digit short
        ("+44 20 7946 0958 (bureau)", "+442079460958"),
    ],
)
def test_phone_out_of_a_cell_holding_more_than_a_number(raw: str, expected: str) -> None:
    assert phone(raw) == expected


def test_phone_says_why_in_french() -> None:
    with pytest.raises(InvalidValue) as caught:
        phone("0000000000")
    assert str(caught.value) == "Numéro de téléphone invalide : 0000000000"


@pytest.mark.parametrize(
    ("e164", "kind"),
    [
        ("+33612345678", "mobile"),
        ("+33712345678", "mobile"),
        ("+33145123456", "fixed"),
        ("+33450530024", "fixed"),
        ("+33970123456", "fixed"),
        ("+33800123456", "other"),
        ("+4915112345678", "mobile"),
        ("+49301234567", "fixed"),
        ("+447911123456", "mobile"),
        ("+16502530000", "other"),  # North America: fixed or mobile, nobody can tell
    ],
)
def test_phone_kind(e164: str, kind: str) -> None:
    assert phone_kind(e164) == kind


def test_phone_kind_wants_e164() -> None:
    with pytest.raises(InvalidValue):
        phone_kind("06 12 34 56 78")


def _by_phonenumbers(text: str) -> str | None:
    import phonenumbers

    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _or_none(text: str) -> str | None:
    try:
        return phone(text)
    except InvalidValue:
        return None


@pytest.mark.parametrize(
    "text",
    ["+32 470 12 34 56", "+41 79 123 45 67", "+31 6 12345678", "+49 1512 3456789",
     "+34 612 34 56 78", "+44 7911 123456", "+39 312 345 6789", "+1 212 555 0123",
     "+41 0 79 123 45 67", "+32 12", "+4912345678901234567", "+999 123456"],
)  # fmt: skip
def test_international_numbers_read_as_phonenumbers_reads_them(text: str) -> None:
    assert _or_none(text) == _by_phonenumbers(text)


def test_the_e164_shortcut_agrees_with_phonenumbers_on_random_numbers() -> None:
    import random

    import phonenumbers

    rnd = random.Random(7)
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        for _ in range(40):
            digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 15)))
            text = f"+{code}{digits}"
            assert _or_none(text) == _by_phonenumbers(text), text
