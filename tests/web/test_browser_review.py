"""The review queue and the merge history in a real browser (Chromium through Playwright)."""

from __future__ import annotations

import re

import pytest

from cordee.customers.matching.evidence import pair_evidence
from cordee.customers.merging import customers_merge
from cordee.customers.models import Customer, HouseholdLink, PairDecision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_camille_reviews_pairs_and_undoes_a_merge(visit, destination, customers):
    from playwright.sync_api import expect

    jean_luc, hans = customers["Jean-Luc"], customers["Hans"]
    left, right = jean_luc.source_records.get(), hans.source_records.get()
    PairDecision.objects.create(
        left=left,
        right=right,
        score=0.82,
        reason="would join contradicting records",
        evidence=pair_evidence(left.data, right.data),
    )
    elodie, zoe, paul = customers["Élodie"], customers["Zoé"], customers["Paul"]
    HouseholdLink.objects.create(
        left=elodie.source_records.get(), right=zoe.source_records.get(),
        reason="shared contact, different first names",
    )  # fmt: skip
    evidence = pair_evidence(elodie.source_records.get().data, paul.source_records.get().data)
    merge = customers_merge(elodie, paul, score=0.995, evidence=evidence)

    page = visit.page
    visit.sign_in(destination.camille)
    page.get_by_role("link", name="Doublons").click()
    page.wait_for_url(re.compile(r"/clients/doublons/$"))
    expect(page.locator("article.review-pair")).to_have_count(PairDecision.objects.count())
    visit.shot("review-queue")

    pair = page.locator("article.review-pair").filter(has_text="Hans")
    pair.get_by_role("button", name="Personnes différentes").click()
    expect(page.locator("article.decided")).to_contain_text("deux personnes différentes")
    visit.shot("review-queue-decided")
    assert PairDecision.objects.get(left__customer=jean_luc).status == "different"

    visit.go(f"/clients/{elodie.pk}/")
    expect(page.locator("#identite")).to_contain_text("Zoé Lambert")
    page.locator("#identite details summary").first.click()
    expect(page.locator("#identite .evidence-list")).to_contain_text("différent")
    page.locator("#identite").scroll_into_view_if_needed()
    visit.shot("customer-merge-history")
    page.get_by_role("button", name="Annuler cette fusion").click()
    expect(page.locator(".messages")).to_contain_text("Fusion annulée")
    visit.shot("customer-after-undo")
    assert Customer.objects.filter(pk=paul.pk).exists()
    merge.refresh_from_db()
    assert merge.undone_by.kind == "unmerge"
