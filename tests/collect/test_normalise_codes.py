"""country(), country_name(), language(), civility(), gender()."""

from __future__ import annotations

import pytest

from cordee.collect.normalise import (
    InvalidValue,
    civility,
    country,
    country_name,
    gender,
    language,
)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Allemagne", "DE"),
        ("germany", "DE"),
        ("DEU", "DE"),
        ("de", "DE"),
        ("Deutschland", "DE"),
        ("Royaume-Uni", "GB"),
        ("royaume uni", "GB"),
        ("UK", "GB"),
        ("Angleterre", "GB"),
        ("Great Britain", "GB"),
        ("Suisse", "CH"),
        ("Belgique", "BE"),
        ("Pays-Bas", "NL"),
        ("Hollande", "NL"),
        ("the Netherlands", "NL"),
        ("USA", "US"),
        ("États-Unis", "US"),
        ("ETATS UNIS", "US"),
        ("France", "FR"),
        ("FR", "FR"),
        ("FRA", "FR"),
        ("  france  ", "FR"),
        ("la France", "FR"),
        ("Espagne", "ES"),
        ("Italie", "IT"),
        ("Corée du Sud", "KR"),
        ("République de Corée", "KR"),
        ("Russie", "RU"),
        ("Côte d’Ivoire", "CI"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Tchéquie", "CZ"),
        ("La Réunion", "RE"),
        ("NA", "NA"),  # Namibia, not a placeholder
    ],
)
def test_country_code_from_names_and_codes(raw: str, code: str) -> None:
    assert country(raw) == code


@pytest.mark.parametrize("raw", ["Corée", "Atlantide", "XX", "Europe", "🇫🇷", "F R A N C E"])
def test_unknown_or_ambiguous_country(raw: str) -> None:
    with pytest.raises(InvalidValue):
        country(raw)


def test_country_message() -> None:
    with pytest.raises(InvalidValue) as caught:
        country("Atlantide")
    assert str(caught.value) == "Pays inconnu : Atlantide"


@pytest.mark.parametrize(
    ("code", "french", "english"),
    [
        ("DE", "Allemagne", "Germany"),
        ("GB", "Royaume-Uni", "United Kingdom"),
        ("US", "États-Unis", "United States"),
        ("CH", "Suisse", "Switzerland"),
        ("KR", "Corée du Sud", "South Korea"),
        ("RU", "Russie", "Russian Federation"),
        ("fr", "France", "France"),
    ],
)
def test_country_name(code: str, french: str, english: str) -> None:
    assert country_name(code) == french
    assert country_name(code, "en") == english


def test_country_name_in_other_languages_and_unknown_codes() -> None:
    assert country_name("DE", "de") == "Deutschland"
    with pytest.raises(InvalidValue):
        country_name("XX")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("fr", "fr"),
        ("FR", "fr"),
        ("français", "fr"),
        ("Francais", "fr"),
        ("French", "fr"),
        ("fr-FR", "fr"),
        ("fr_CA", "fr"),
        ("de_DE", "de"),
        ("anglais", "en"),
        ("English", "en"),
        ("en-GB", "en"),
        ("allemand", "de"),
        ("Néerlandais", "nl"),
        ("flamand", "nl"),
        ("italien", "it"),
        ("espagnol", "es"),
        ("es-419", "es"),
        ("zh-Hans", "zh"),
        ("fra", "fr"),
        ("fre", "fr"),
        ("ger", "de"),
        ("grec", "el"),
    ],
)
def test_language(raw: str, code: str) -> None:
    assert language(raw) == code


@pytest.mark.parametrize("raw", ["xx", "klingon", "fr-FR-x-private-stuff", "?!"])
def test_unknown_language(raw: str) -> None:
    with pytest.raises(InvalidValue):
        language(raw)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("M", "M"),
        ("M.", "M"),
        ("m.", "M"),
        ("Mr", "M"),
        ("Mr.", "M"),
        ("Monsieur", "M"),
        ("MONSIEUR", "M"),
        ("Mme", "MME"),
        ("Mme.", "MME"),
        ("Madame", "MME"),
        ("Mrs", "MME"),
        ("Ms", "MME"),
        ("Mlle", "MME"),
        ("Mademoiselle", "MME"),
        ("Herr", "M"),
        ("Frau", "MME"),
        ("Dr", None),  # a title, not a civility
    ],
)
def test_civility(raw: str, code: str | None) -> None:
    assert civility(raw) == code


@pytest.mark.parametrize("raw", ["M. et Mme", "Famille", "Sa Majesté", "X"])
def test_unknown_civility(raw: str) -> None:
    with pytest.raises(InvalidValue):
        civility(raw)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("F", "F"),
        ("f", "F"),
        ("Femme", "F"),
        ("Female", "F"),
        ("W", "F"),
        ("Féminin", "F"),
        ("H", "M"),
        ("M", "M"),
        ("Homme", "M"),
        ("Male", "M"),
        ("X", "X"),
        ("Autre", "X"),
        ("Other", "X"),
        ("1", "M"),  # INSEE sex codes
        ("2", "F"),
        ("Inconnu", None),
    ],
)
def test_gender(raw: str, code: str | None) -> None:
    assert gender(raw) == code


def test_unknown_gender() -> None:
    with pytest.raises(InvalidValue) as caught:
        gender("Z")
    assert str(caught.value) == "Genre inconnu : Z"
