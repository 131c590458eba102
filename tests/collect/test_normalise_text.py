"""fold() search keys and person_name() tidying."""

from __future__ import annotations

import pytest

from cordee.collect.normalise import InvalidValue, fold, person_name, split_full_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Élodie", "elodie"),
        ("JEAN-LUC", "jean luc"),
        ("  Jean-Luc   D'Artagnan ", "jean luc d artagnan"),
        ("Hélène L’Hermite", "helene l hermite"),
        ("St.-Gervais", "st gervais"),
        ("Œuvre Lætitia", "oeuvre laetitia"),
        ("Straße", "strasse"),
        ("Søren Łukasz", "soren lukasz"),
        ("François\u00a0Müller", "francois muller"),  # no-break space
        ("e\u0301lodie", "elodie"),  # decomposed accent, as macOS writes it
        ("Jo\u00adël", "joel"),  # soft hyphen: invisible, dropped
        ("", ""),
    ],
)
def test_fold_makes_one_key_for_every_spelling(raw: str, expected: str) -> None:
    assert fold(raw) == expected


def test_fold_turns_control_characters_into_spaces() -> None:
    assert fold("jean\x00luc\tmartin") == "jean luc martin"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("JEAN-LUC", "Jean-Luc"),
        ("jean-luc", "Jean-Luc"),
        ("DE LA FONTAINE", "de La Fontaine"),
        ("de la fontaine", "de La Fontaine"),
        ("Jean DE LA FONTAINE", "Jean de La Fontaine"),
        ("D'ARTAGNAN", "d'Artagnan"),
        ("o'brien", "O'Brien"),
        ("O’BRIEN", "O'Brien"),
        ("van der berg", "van der Berg"),
        ("DU BELLAY", "du Bellay"),
        ("LE GOFF", "Le Goff"),
        ("L'HERMITE", "L'Hermite"),
        ("MC DONALD", "Mc Donald"),
        ("MCDONALD", "McDonald"),
        ("marie-de-lourdes", "Marie-de-Lourdes"),
        ("ÉLODIE", "Élodie"),
        ("  élodie   MARTIN ", "Élodie Martin"),
        ("Jean DUPONT", "Jean Dupont"),
        ("DES", "Des"),  # a particle with no name after it is a name
    ],
)
def test_person_name_proper_case(raw: str, expected: str) -> None:
    assert person_name(raw) == expected


@pytest.mark.parametrize("typed", ["McDonald", "de La Fontaine", "DiCaprio", "Van Damme"])
def test_person_name_keeps_a_deliberate_mixed_case(typed: str) -> None:
    assert person_name(typed) == typed


def test_person_name_recomposes_decomposed_accents() -> None:
    assert person_name("E\u0301LODIE") == "Élodie"


def test_person_name_keeps_markup_as_text_without_angle_brackets() -> None:
    assert person_name("<script>alert(1)</script>") == "Script Alert(1) /script"
    assert person_name("Jean<b>") == "Jean B"


def test_person_name_removes_control_and_invisible_characters() -> None:
    assert person_name("JEAN\x00LUC") == "Jeanluc"
    assert person_name("JEAN\tLUC") == "Jean Luc"
    assert person_name("Zo\u200bé") == "Zoé"
    assert person_name("\u202eNADIA") == "Nadia"


def test_person_name_up_to_100_characters() -> None:
    assert person_name("a" * 100) == "A" + "a" * 99
    with pytest.raises(InvalidValue):
        person_name("a" * 101)
    with pytest.raises(InvalidValue):
        person_name("Jean " * 2000)


def test_person_name_needs_a_letter() -> None:
    for raw in ["12345", "😀", "!!!", "<1>"]:
        with pytest.raises(InvalidValue):
            person_name(raw)


def test_person_name_keeps_emoji_next_to_letters() -> None:
    assert person_name("zoé 😀") == "Zoé 😀"


@pytest.mark.parametrize("empty", ["", "   ", "<>", "\x00"])
def test_person_name_of_nothing_is_none(empty: str) -> None:
    assert person_name(empty) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("M. DUPONT Jean", ("M", "Jean", "DUPONT")),
        ("Mme Léa MARTIN-ROUX", ("Mme", "Léa", "MARTIN-ROUX")),
        ("DUPONT Jean-Pierre", ("", "Jean-Pierre", "DUPONT")),
        ("Jean de LA FONTAINE", ("", "Jean", "de LA FONTAINE")),
        ("O'BRIEN Seán", ("", "Seán", "O'BRIEN")),
        ("Dupont, Jean", ("", "Jean", "Dupont")),
        ("Madame Dupont, Marie", ("Madame", "Marie", "Dupont")),
        ("Jean Dupont", ("", "Jean", "Dupont")),
        ("Marie Claire Dubois", ("", "Marie Claire", "Dubois")),
        ("Jean-Marc de la Fontaine", ("", "Jean-Marc", "de la Fontaine")),
        ("Anna van der Berg", ("", "Anna", "van der Berg")),
        ("van der Berg Anna", ("", "Anna", "van der Berg")),
        ("  Dupont  ", ("", "", "Dupont")),
        ("M Dupont", ("M", "", "Dupont")),
        ("Mme", ("", "", "Mme")),  # a civility alone is left for the name check to judge
    ],
)
def test_split_full_name(raw: str, expected: tuple[str, str, str]) -> None:
    assert split_full_name(raw) == expected


@pytest.mark.parametrize("raw", ["C001", "Chambre 12", "x" * 400])
def test_split_full_name_refuses_what_is_not_a_name(raw: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        split_full_name(raw)
    assert str(caught.value).startswith("Nom complet illisible : ")


def test_split_full_name_of_nothing() -> None:
    assert split_full_name("") is None and split_full_name(None) is None
