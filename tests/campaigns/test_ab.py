"""A/B tests: a share split between variants, the winner for the rest, chosen once.

A real SMTP server (aiosmtpd) receives everything; messages are counted per subject and per
recipient from what it received, clicks go through the real redirect view.
"""

from __future__ import annotations

import re
import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone, translation
from tests.campaigns.conftest import grant, make_customer, parse

from cordee.campaigns.models import Campaign, Delivery, DeliveryStatus, Variant

pytestmark = pytest.mark.django_db

SUBJECT_A = "A : l'hiver arrive, {{ first_name }}"
SUBJECT_B = "B : la neige est là, {{ first_name }}"


@pytest.fixture
def crowd(destination, purposes):
    people = []
    for i in range(80):
        c = make_customer(f"P{i}", f"p{i}@example.org")
        grant(c, "newsletter", "profiling")  # profiling: their clicks may be counted
        people.append(c)
    return people


def ab_campaign(campaign_of, **overrides):
    fields = dict(
        subject_fr=SUBJECT_A,
        variants=[{"subject_fr": SUBJECT_B}],
        test_percent=40,
        winner_metric="clicks",
        winner_delay=0,
    )
    fields.update(overrides)
    return campaign_of(**fields)


def subjects_by_recipient(sink):
    got: dict[str, list[str]] = {}
    for m in sink.messages:
        got.setdefault(m.rcpt_tos[0], []).append(str(parse(m)["Subject"]))
    return got


def letter(subject: str) -> str:
    return subject.split(" :")[0]


def test_the_test_share_is_split_between_variants_and_recorded_in_the_ledger(
    crowd, sink, campaign_of, send
):
    campaign = ab_campaign(campaign_of)
    report = send(campaign)
    variants = {v.pk: v.label for v in Variant.objects.filter(campaign=campaign)}
    assert sorted(variants.values()) == ["A", "B"]
    rows = Delivery.objects.filter(campaign=campaign)
    test_rows = rows.filter(variant__isnull=False)
    held = rows.filter(status=DeliveryStatus.HELD)
    # About 40 % tested, the rest held; everyone is in one or the other.
    assert 15 <= test_rows.count() <= 50 and test_rows.count() + held.count() == 80
    assert not held.filter(variant__isnull=False).exists()
    # What the server received, counted per variant, is what the ledger says was drawn.
    received = subjects_by_recipient(sink)
    per_variant = Counter(letter(s[0]) for s in received.values())
    ledger = Counter(variants[v] for v in test_rows.values_list("variant_id", flat=True))
    assert per_variant == ledger and report.sent == sink.count == test_rows.count()
    assert min(per_variant.values()) >= 5  # both variants really went out
    # Nobody of the rest got anything yet; the campaign waits for its winner.
    held_addresses = {c.email for c in crowd if held.filter(customer=c).exists()}
    assert not held_addresses & set(received)
    campaign.refresh_from_db()
    assert campaign.state == "sending" and campaign.winner is None
    # The draw is deterministic: a recipient's variant comes from the campaign and its id.
    from cordee.campaigns.abtest import ab_draw

    labels = sorted(variants, key=variants.get)
    for row in rows:
        drawn = ab_draw(campaign.pk, row.customer_id, 40, 2)
        assert row.variant_id == (None if drawn is None else labels[drawn])


def test_the_winner_by_clicks_goes_to_the_rest_and_nobody_gets_two_variants(
    crowd, sink, campaign_of, send, client, django_capture_on_commit_callbacks
):
    from cordee.campaigns.abtest import campaign_winner_pick, variant_results
    from cordee.campaigns.sending import campaign_send_run
    from cordee.privacy.access import Actor

    campaign = ab_campaign(campaign_of)
    send(campaign)
    # Recipients of B click the button in the mail they received (the real redirect).
    clicked = 0
    for m in sink.messages:
        msg = parse(m)
        if letter(str(msg["Subject"])) != "B":
            continue
        url = re.search(
            r"https://crm\.vallee\.example(/campagnes/m/k/[^\"]+/)",
            str(msg.get_body("html").get_content()),
        )
        assert url
        assert client.get(url.group(1)).status_code == 302
        clicked += 1
        if clicked == 3:
            break
    results = {r.variant.label: r for r in variant_results(campaign)}
    assert results["B"].clicks == 3 and results["A"].clicks == 0
    with django_capture_on_commit_callbacks(execute=True):
        winner = campaign_winner_pick(campaign=campaign, actor=Actor.system("test"))
    assert winner is not None and winner.label == "B"
    campaign_send_run(campaign_id=campaign.pk, backoff=0)  # idempotent if the task sent already
    received = subjects_by_recipient(sink)
    # Every one of the 80 got exactly one mail; the rest got B's.
    assert len(received) == 80 and all(len(s) == 1 for s in received.values())
    assert set(sink.ids.values()) == {1}
    rest = Delivery.objects.filter(campaign=campaign, variant__isnull=True)
    for row in rest.select_related("customer"):
        assert row.status == DeliveryStatus.SENT
        assert letter(received[row.customer.email][0]) == "B"
    for row in Delivery.objects.filter(campaign=campaign, variant__isnull=False).select_related(
        "customer", "variant"
    ):
        assert letter(received[row.customer.email][0]) == row.variant.label
    campaign.refresh_from_db()
    assert campaign.state == "sent" and campaign.winner == winner
    # A second pick (the marketer's click, a late worker) changes nothing.
    a = Variant.objects.get(campaign=campaign, label="A")
    assert campaign_winner_pick(campaign=campaign, actor=Actor.system("t"), variant=a) is None
    campaign.refresh_from_db()
    assert campaign.winner == winner


def test_a_tie_goes_to_the_first_variant_and_opens_can_decide(crowd, sink, campaign_of, send):
    from cordee.campaigns.abtest import winner_choose
    from cordee.campaigns.models import EventKind, TrackingEvent

    campaign = ab_campaign(campaign_of, winner_metric="opens")
    send(campaign)
    assert winner_choose(campaign).label == "A"  # nothing opened yet: A
    b_rows = Delivery.objects.filter(campaign=campaign, variant__label="B", status="sent")
    a_rows = Delivery.objects.filter(campaign=campaign, variant__label="A", status="sent")
    # One open in B and one in A, but B has fewer recipients or as many: compare the rates.
    TrackingEvent.objects.create(delivery=b_rows.first(), kind=EventKind.OPEN)
    TrackingEvent.objects.create(delivery=a_rows.first(), kind=EventKind.OPEN)
    TrackingEvent.objects.create(delivery=a_rows.first(), kind=EventKind.OPEN)  # same person
    expected = "B" if b_rows.count() < a_rows.count() else "A"
    assert winner_choose(campaign).label == expected


def test_conversions_decide_when_the_campaign_tracks_orders(crowd, sink, campaign_of, send):
    from cordee.activities.models import Activity
    from cordee.campaigns.abtest import winner_choose

    campaign = ab_campaign(campaign_of, winner_metric="conversions")
    send(campaign)
    b_row = Delivery.objects.filter(campaign=campaign, variant__label="B", status="sent").first()
    Activity.objects.create(
        customer_id=b_row.customer_id,
        partner=Campaign.objects.get(pk=campaign.pk).partner,
        kind="purchase",
        channel="desk",
        amount=80,
        starts_on=timezone.localdate(Campaign.objects.get(pk=campaign.pk).started_at),
    )
    assert winner_choose(campaign).label == "B"


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_pick_the_winner_once(crowd, sink, campaign_of, send):
    from cordee.campaigns.abtest import campaign_winner_pick
    from cordee.privacy.access import Actor

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need their own connections to one database file or server")
    campaign = ab_campaign(campaign_of)
    send(campaign)
    held = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.HELD).count()
    a, b = Variant.objects.filter(campaign=campaign).order_by("label")
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def pick(name, variant):
        from django.db import connections

        try:
            barrier.wait()
            results[name] = campaign_winner_pick(
                campaign=Campaign.objects.get(pk=campaign.pk),
                actor=Actor.system(name),
                variant=variant,
            )
        except Exception as exc:  # noqa: BLE001 — reported below
            results[name] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=pick, args=("w1", a)),
        threading.Thread(target=pick, args=("w2", b)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [r for r in results.values() if isinstance(r, Variant)]
    assert len(winners) == 1, results
    assert all(r is None for r in results.values() if not isinstance(r, Variant)), results
    campaign.refresh_from_db()
    assert campaign.winner_id == winners[0].pk
    from cordee.privacy.models import AuditEvent

    assert AuditEvent.objects.filter(action="campaign.winner").count() == 1
    pending = Delivery.objects.filter(campaign=campaign, status__in=("pending", "sent"))
    assert pending.filter(variant__isnull=True).count() == held


def test_the_marketer_sees_results_per_variant_and_picks_the_winner(
    crowd, sink, campaign_of, send, client, destination, django_capture_on_commit_callbacks
):
    campaign = ab_campaign(campaign_of, winner_auto=False, winner_delay=24)
    send(campaign)
    client.force_login(destination.marc)
    page = client.get(f"/campagnes/{campaign.pk}/")
    assert 'id="ab-test"' in page.text and "Envoyer au reste" in page.text
    assert "la neige est là" in page.text  # B's subject in its row
    assert client.post(f"/campagnes/{campaign.pk}/gagnant/", {"variant": "Z"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/campagnes/{campaign.pk}/gagnant/", {"variant": "A"})
    assert response.status_code == 302
    # The task (immediate backend in tests) sent A to the rest at commit.
    received = subjects_by_recipient(sink)
    assert len(received) == 80 and all(len(s) == 1 for s in received.values())
    page = client.get(f"/campagnes/{campaign.pk}/")
    assert "Variante A gagnante" in page.text and "Envoyer au reste" not in page.text
    assert client.post(f"/campagnes/{campaign.pk}/gagnant/", {"variant": "B"}).status_code == 400
    english = client.get(f"/campagnes/{campaign.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    translation.activate("fr")  # the request left English active in this thread
    assert "A/B test" in english.text and "Variant A won" in english.text


def test_the_automatic_winner_comes_from_dispatch_when_its_delay_is_over(
    crowd, sink, campaign_of, send, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    later = ab_campaign(campaign_of, name="Plus tard", winner_delay=48)
    now = ab_campaign(campaign_of, name="Maintenant", winner_delay=0)
    manual = ab_campaign(campaign_of, name="À la main", winner_delay=0, winner_auto=False)
    for c in (later, now, manual):
        send(c)
    from io import StringIO

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("campaign", "dispatch", stdout=out)
    assert "1 test(s) A/B" in out.getvalue()
    for c in (later, now, manual):
        c.refresh_from_db()
    assert now.winner is not None and now.state == "sent"
    assert later.winner is None and manual.winner is None
    assert Delivery.objects.filter(campaign=later, status="held").exists()
    # Run again: nothing is picked twice.
    out = StringIO()
    call_command("campaign", "dispatch", stdout=out)
    assert "test(s) A/B" not in out.getvalue()


def test_the_command_line_runs_an_ab_test(people, sink, tmp_path, crowd):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "a.txt"
    path.write_text("# Bonjour {{ first_name }}\n\n[Réserver](https://vallee.example/r)\n")
    other = tmp_path / "b.txt"
    other.write_text("# Salut {{ first_name }}\n\n[Voir les offres](https://vallee.example/o)\n")
    out = StringIO()
    call_command(
        "campaign",
        "send",
        "--purpose",
        "newsletter",
        "--subject",
        "A : objet",
        "--template",
        str(path),
        "--variant-subject",
        "B : objet",
        "--variant-template",
        str(other),
        "--test-percent",
        "50",
        "--wait",
        stdout=out,
    )
    assert "test A/B (2 variantes)" in out.getvalue()
    campaign = Campaign.objects.get()
    first = subjects_by_recipient(sink)
    b_bodies = [
        parse(m).get_body("plain").get_content()
        for m in sink.messages
        if str(parse(m)["Subject"]).startswith("B")
    ]
    assert b_bodies and all("Salut" in body for body in b_bodies)
    out = StringIO()
    call_command("campaign", "winner", str(campaign.pk), "--variant", "b", "--wait", stdout=out)
    assert "Variante B envoyée au reste" in out.getvalue()
    assert "B *" in out.getvalue()
    received = subjects_by_recipient(sink)
    assert len(received) > len(first) and all(len(s) == 1 for s in received.values())
    err = StringIO()
    call_command("campaign", "winner", str(campaign.pk), "--variant", "a", stdout=out, stderr=err)
    assert "déjà choisi" in err.getvalue()
