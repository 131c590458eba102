"""The review queue in pages: keyset paging over many pending pairs, with counts (issue 3)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cordee.customers.identity import ReviewCursor, review_page
from cordee.customers.incoming import IncomingRecord
from cordee.customers.models import PairDecision, ReviewStatus, SourceRecord
from cordee.customers.services import source_records_attach
from cordee.privacy.access import Actor

pytestmark = pytest.mark.django_db

PAIRS = 700  # 24 pages of 30
_PAIR_ID = re.compile(r'id="pair-(\d+)"')
_NEXT = re.compile(r'href="/clients/doublons/\?apres=([^"]+)" rel="next"')


@pytest.fixture
def queue(destination) -> list[int]:
    """PAIRS pending pairs of two customers each, few distinct scores (ties abound, as
    when many pairs share one comparison vector); their ids in queue order."""
    records = [
        IncomingRecord(raw={"n": str(n)}, data={"last_name": f"Nom{n}", "email": f"p{n}@ex.fr"})
        for n in range(2 * PAIRS)
    ]
    source_records_attach(partner=destination.hotel, channel="import", records=records)
    ids = list(SourceRecord.objects.order_by("pk").values_list("pk", flat=True))
    PairDecision.objects.bulk_create(
        PairDecision(left_id=ids[2 * n], right_id=ids[2 * n + 1], score=0.8 + (n % 7) / 100)
        for n in range(PAIRS)
    )
    ordered = PairDecision.objects.order_by("-score", "-pk").values_list("pk", flat=True)
    return list(ordered)


def _walk(client, first: str = "/clients/doublons/") -> tuple[list[int], list[str]]:
    seen: list[int] = []
    pages: list[str] = []
    url: str | None = first
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(response.text)
        seen += [int(pk) for pk in _PAIR_ID.findall(response.text)]
        link = _NEXT.search(response.text)
        url = f"/clients/doublons/?apres={link.group(1)}" if link else None
        assert len(pages) <= PAIRS // 30 + 2, "the pages never end"
    return seen, pages


def test_every_pending_pair_is_on_exactly_one_page_in_order(signed_in, destination, queue):
    seen, pages = _walk(signed_in(destination.camille))
    assert seen == queue
    assert len(pages) == -(-PAIRS // 30)
    assert "Paires 1 à 30 sur 700" in pages[0]
    assert "Paires 31 à 60 sur 700" in pages[1]
    assert "Paires 691 à 700 sur 700" in pages[-1] and 'rel="next"' not in pages[-1]
    assert "Début de la file" in pages[1] and "Début de la file" not in pages[0]


def test_deciding_while_reading_skips_no_pair(signed_in, destination, queue):
    client = signed_in(destination.camille)
    first = client.get("/clients/doublons/").text
    for pk in [int(p) for p in _PAIR_ID.findall(first)][:5]:
        client.post(f"/clients/doublons/{pk}/", {"action": "reject"})
    cursor = _NEXT.search(first).group(1)
    seen, _pages = _walk(client, f"/clients/doublons/?apres={cursor}")
    assert seen == queue[30:]
    assert PairDecision.objects.filter(status=ReviewStatus.PENDING).count() == PAIRS - 5


def test_a_deep_page_is_an_index_range_not_an_offset(destination, queue):
    actor = Actor.for_user(destination.camille)
    deep = PairDecision.objects.get(pk=queue[600])
    with CaptureQueriesContext(connection) as queries:
        page = review_page(actor, after=ReviewCursor(deep.score, deep.pk))
    assert [p.decision.pk for p in page.pairs] == queue[601:631]
    assert page.start == 602 and page.end == 631 and page.pending == PAIRS
    sql = " ".join(q["sql"] for q in queries.captured_queries).upper()
    assert "OFFSET" not in sql
    assert len(queries.captured_queries) <= 8  # whatever the depth


@pytest.mark.parametrize(
    "cursor",
    [
        "", "abc", "nan_5", "inf_5", "-inf_5", "1e999_3", "0.9_-1", "0.9_0", "0.9",
        "0.9_99999999999999999999999", "\x00", "0.9_1_2", "x" * 10_000, "%00", "0,9_3",
        "' OR 1=1 --",
    ],
)  # fmt: skip
def test_a_broken_or_hostile_cursor_shows_the_first_page(signed_in, destination, queue, cursor):
    response = signed_in(destination.camille).get("/clients/doublons/", {"apres": cursor})
    assert response.status_code == 200
    shown = [int(pk) for pk in _PAIR_ID.findall(response.text)]
    assert shown == queue[:30]


def test_a_cursor_past_the_end_says_there_is_nothing_more(signed_in, destination, queue):
    response = signed_in(destination.camille).get("/clients/doublons/", {"apres": "0.0001_1"})
    assert response.status_code == 200
    assert _PAIR_ID.findall(response.text) == []
    assert "Plus rien à revoir" in response.text
