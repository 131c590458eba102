"""The destination's purposes are data, seeded with stable slugs and versioned wordings."""

from __future__ import annotations

import pytest
from django.utils import translation

from cordee.privacy.models import (
    ConsentWording,
    ImmutableRecord,
    LegalBasis,
    Purpose,
    WordingKind,
)

SLUGS = {
    "newsletter",
    "partner_offers",
    "sms",
    "profiling",
    "surveys",
    "analytics_cookies",
    "orders",
}

pytestmark = pytest.mark.django_db


def test_seeded_purposes_have_the_stable_slugs_import_columns_use():
    assert set(Purpose.objects.values_list("slug", flat=True)) == SLUGS


def test_orders_rest_on_the_contract_and_marketing_on_consent():
    bases = dict(Purpose.objects.values_list("slug", "legal_basis"))
    assert bases["orders"] == LegalBasis.CONTRACT
    assert all(bases[slug] == LegalBasis.CONSENT for slug in SLUGS - {"orders"})


def test_prospect_data_is_kept_three_years_after_the_last_contact():
    newsletter = Purpose.objects.get(slug="newsletter")
    assert newsletter.retention_months == 36
    assert "dernier contact" in newsletter.retention_scope


def test_every_purpose_is_described_for_the_register():
    for purpose in Purpose.objects.all():
        assert purpose.name_fr and purpose.name_en
        assert purpose.description_fr and purpose.description_en
        assert purpose.data_categories and purpose.data_subjects
        assert purpose.recipients and purpose.processors
        assert purpose.retention_months > 0


def test_a_purpose_speaks_the_readers_language():
    newsletter = Purpose.objects.get(slug="newsletter")
    with translation.override("fr"):
        assert newsletter.name == "Lettre d'information de la destination"
    with translation.override("en"):
        assert newsletter.name == "The destination's newsletter"


@pytest.mark.parametrize("kind", [WordingKind.SHOWN, WordingKind.DECLARATION])
def test_each_purpose_has_a_first_wording_in_french_and_english(kind):
    for purpose in Purpose.objects.all():
        languages = set(
            ConsentWording.objects.filter(purpose=purpose, kind=kind, version=1).values_list(
                "language", flat=True
            )
        )
        assert languages == {"fr", "en"}, purpose.slug


def test_a_wording_is_never_edited_only_versioned():
    wording = ConsentWording.objects.get(
        purpose__slug="newsletter", kind=WordingKind.SHOWN, version=1, language="fr"
    )
    wording.text = "Autre chose"
    with pytest.raises(ImmutableRecord):
        wording.save()
