"""postcode(), départements, regions and the commune list."""

from __future__ import annotations

import pytest

from cordee.collect.normalise import (
    Commune,
    InvalidValue,
    all_communes,
    commune_lookup,
    communes_for_postcode,
    departement_of,
    postcode,
    region_of,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("74400", "74400"),
        (" 74400 ", "74400"),
        ("74 400", "74400"),
        ("1000", "01000"),  # the zero a spreadsheet dropped
        ("1000.0", "01000"),
        ("75381 CEDEX 08", "75381"),
        ("75381 Cedex", "75381"),
        ("F-74400", "74400"),
        ("97400", "97400"),
        ("98000", "98000"),
    ],
)
def test_french_postcode(raw: str, expected: str) -> None:
    assert postcode(raw) == expected


@pytest.mark.parametrize("raw", ["744", "744000", "00100", "74A00", "Chamonix", "7 4 4 0 0 0"])
def test_french_postcode_rejects(raw: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        postcode(raw)
    assert str(caught.value) == f"Code postal invalide : {raw}"


def test_french_rules_for_overseas_and_monaco() -> None:
    assert postcode("7400", country="RE") == "07400"
    assert postcode("98000", country="MC") == "98000"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("sw1a  1aa", "GB", "SW1A 1AA"),
        ("8001", "CH", "8001"),
        ("1000", "BE", "1000"),
        ("1012 ab", "NL", "1012 AB"),
        ("10115", "de", "10115"),
        ("H3Z 2Y7", None, "H3Z 2Y7"),
    ],
)
def test_foreign_postcode_kept_as_given(raw: str, country: str | None, expected: str) -> None:
    assert postcode(raw, country=country) == expected


@pytest.mark.parametrize("raw", ["1234567890123", "<script>", "10115\x00"])
def test_foreign_postcode_rejects(raw: str) -> None:
    with pytest.raises(InvalidValue):
        postcode(raw, country="DE")


@pytest.mark.parametrize(
    ("code", "departement"),
    [
        ("75001", "75"),
        ("01000", "01"),
        ("1000", "01"),
        ("20000", "2A"),
        ("20167", "2A"),
        ("20200", "2B"),
        ("20600", "2B"),
        ("97400", "974"),
        ("97133", "971"),  # Saint-Barthélemy keeps Guadeloupe's postcodes
        ("98800", "988"),
        ("98000", None),  # Monaco
        ("00000", None),
        ("abc", None),
    ],
)
def test_departement_of(code: str, departement: str | None) -> None:
    assert departement_of(code) == departement


@pytest.mark.parametrize(
    ("departement", "region"),
    [
        ("75", "Île-de-France"),
        ("74", "Auvergne-Rhône-Alpes"),
        ("1", "Auvergne-Rhône-Alpes"),
        ("2A", "Corse"),
        ("2b", "Corse"),
        ("13", "Provence-Alpes-Côte d'Azur"),
        ("974", "La Réunion"),
        ("975", None),
        ("99", None),
    ],
)
def test_region_of(departement: str, region: str | None) -> None:
    assert region_of(departement) == region


def test_every_departement_of_the_commune_list_has_its_region() -> None:
    departements = {c.departement for c in all_communes()}
    assert len(departements) == 96 + 6  # metropolitan France, and 971 to 976
    assert {d for d in departements if region_of(d) is None} == {"975"}


def test_communes_for_postcode() -> None:
    names = {c.name for c in communes_for_postcode("74170")}
    assert {"Saint-Gervais-les-Bains", "Les Contamines-Montjoie"} <= names
    assert communes_for_postcode("74400") == [
        Commune("74056", "Chamonix-Mont-Blanc", "74400", "74", "Auvergne-Rhône-Alpes")
    ]
    assert [c.name for c in communes_for_postcode("1000")] == [
        "Bourg-en-Bresse",
        "Saint-Denis-lès-Bourg",
    ]
    assert communes_for_postcode("99999") == []
    assert communes_for_postcode("pas un code") == []


@pytest.mark.parametrize(
    ("code", "city", "insee"),
    [
        ("74170", "Saint-Gervais-les-Bains", "74236"),  # exact
        ("74170", "ST GERVAIS LES BAINS", "74236"),  # St, capitals, spaces
        ("74170", "les contamines montjoie", "74085"),
        ("74400", "Chamonix", "74056"),  # the start of the only name that fits
        ("74400", None, "74056"),  # the postcode's only commune
        ("74400", "Chamounix", "74056"),
        ("85000", "ROCHE SUR YON (LA)", "85191"),  # La Poste's spelling
        ("85000", "Roche-sur-Yon", "85191"),
        ("75008", "PARIS CEDEX 08", "75108"),
        ("20167", "MEZZAVIA", "2A004"),  # a delivery name: Ajaccio
        ("1000", "bourg en bresse", "01053"),
        (None, "Chamonix-Mont-Blanc", "74056"),  # a name unique in France
        ("74999", "Annecy", "74010"),  # unknown postcode: the name within its département
        ("97400", "Saint-Denis", "97411"),
    ],
)
def test_commune_lookup(code: str | None, city: str | None, insee: str) -> None:
    found = commune_lookup(code, city)
    assert found is not None
    assert found.insee == insee


@pytest.mark.parametrize(
    ("code", "city"),
    [
        (None, "Saint-Denis"),  # dozens of them
        (None, None),
        ("74170", None),  # three communes share it
        ("74170", "Paris"),
        ("99999", "Atlantide"),
        ("", ""),
    ],
)
def test_commune_lookup_unsure(code: str | None, city: str | None) -> None:
    assert commune_lookup(code, city) is None


def test_commune_fields() -> None:
    found = commune_lookup("20200", "Bastia")
    assert found == Commune("2B033", "Bastia", "20200", "2B", "Corse")


def test_all_communes() -> None:
    communes = list(all_communes())
    assert len(communes) > 35_000
    assert len({c.insee for c in communes}) > 34_000
    assert all(len(c.postcode) == 5 and c.region for c in communes if c.departement != "975")
