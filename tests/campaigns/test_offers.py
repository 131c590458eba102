"""Partner offers and joint actions.

Hélène (Hôtel des Alpes) proposes an offer; Marc (office marketer) approves it and the office
sends it as a joint action. Élodie and Hans agreed to be shared with the destination's
partners (``partner_offers``); Zoé did not, but she stayed at the hotel (the hotel brought
her); Jean-Luc neither agreed nor knows the hotel. Nadia (Camping du Lac) proposes too.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from tests.campaigns.conftest import by_recipient, grant

from cordee.activities.models import Activity
from cordee.campaigns.models import (
    Campaign,
    Delivery,
    DeliveryStatus,
    ExposedSegment,
    OfferState,
    PartnerOffer,
)
from cordee.campaigns.offers import (
    offer_refuse,
    offer_report,
    offer_save,
    offers_approve,
    segment_expose,
)
from cordee.customers.models import CustomerLink
from cordee.privacy.access import Actor
from cordee.privacy.models import AuditEvent
from cordee.segments.models import Segment

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


@pytest.fixture
def shared(people, destination):
    """Élodie and Hans shared with partners; Zoé brought by the hotel but not shared."""
    grant(people["elodie"], "partner_offers")
    grant(people["hans"], "partner_offers")
    CustomerLink.objects.create(
        customer=people["zoe"], partner=destination.hotel, first_seen=timezone.now()
    )
    return people


def actor(user):
    return Actor.for_user(user)


def propose(user, **overrides):
    fields = dict(
        title="Nuit offerte",
        valid_from=TODAY,
        valid_until=TODAY + dt.timedelta(days=30),
        link="https://hotel-des-alpes.example/offre",
        code="NEIGE26",
        segment_slug="",
        subject_fr="{{ first_name }}, une nuit offerte à l'Hôtel des Alpes",
        subject_en="{{ first_name }}, a free night at Hôtel des Alpes",
        blocks_fr=[
            {"type": "paragraph", "text": "Bonjour {{ first_name }}, la 3e nuit est offerte."}
        ],
        blocks_en=[{"type": "paragraph", "text": "Hello {{ first_name }}, the 3rd night is free."}],
    )
    fields.update(overrides)
    return offer_save(actor=actor(user), **fields)


# --- services ----------------------------------------------------------------------------------


def test_a_partner_manager_proposes_and_the_office_approves_a_joint_action(
    destination, shared, sink, send
):
    offer = propose(destination.helene)
    assert offer.state == OfferState.PENDING and offer.partner == destination.hotel
    campaign = offers_approve(
        offers=[offer], actor=actor(destination.marc), sender_email="bonjour@vallee.example"
    )
    offer.refresh_from_db()
    assert offer.state == OfferState.APPROVED and offer.campaign == campaign
    assert campaign.is_joint and campaign.purpose.slug == "partner_offers"
    assert campaign.partner == destination.office
    assert "Hôtel des Alpes" in campaign.sender_name
    send(campaign)
    got = by_recipient(sink)
    # Only those shared with partners: not Zoé (the hotel knows her, but she never agreed to
    # partner offers), not Jean-Luc.
    assert set(got) == {"elodie.martin@example.fr", "hans.mueller@example.de"}
    body = got["elodie.martin@example.fr"].get_body(("plain",)).get_content()
    assert "la 3e nuit est offerte" in body and "Code NEIGE26" in body
    assert "Hôtel des Alpes" in got["elodie.martin@example.fr"]["From"]
    assert "3rd night is free" in got["hans.mueller@example.de"].get_body(("plain",)).get_content()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"offer.save", "offer.approve", "campaign.start"} <= actions


def test_refusing_an_offer_never_sends_and_the_partner_reads_why(destination, shared, sink):
    offer = propose(destination.helene)
    offer_refuse(offer=offer, actor=actor(destination.marc), reason="Offre trop proche de Noël.")
    offer.refresh_from_db()
    assert offer.state == OfferState.REFUSED and offer.campaign is None
    assert offer.refusal_reason == "Offre trop proche de Noël."
    assert not Campaign.objects.exists() and not Delivery.objects.exists()
    assert sink.messages == []
    with pytest.raises(ValidationError):
        offers_approve(offers=[offer], actor=actor(destination.marc), sender_email="a@b.example")
    assert not Campaign.objects.exists()


def test_a_refusal_needs_a_reason(destination, shared):
    offer = propose(destination.helene)
    with pytest.raises(ValidationError):
        offer_refuse(offer=offer, actor=actor(destination.marc), reason="   ")
    offer.refresh_from_db()
    assert offer.state == OfferState.PENDING


def test_the_pressure_cap_holds_across_a_campaign_and_a_joint_action(
    destination, shared, sink, send, campaign_of, settings
):
    settings.CORDEE_PRESSURE_CAP = 1
    send(campaign_of())  # the office's newsletter this week: Élodie, Hans, Zoé
    assert len(sink.messages) == 3
    campaign = offers_approve(
        offers=[propose(destination.helene)],
        actor=actor(destination.marc),
        sender_email="bonjour@vallee.example",
    )
    send(campaign)
    assert len(sink.messages) == 3  # nobody twice in the week, all senders together
    steps = {s["key"]: s["count"] for s in Campaign.objects.get(pk=campaign.pk).audience_steps}
    assert steps["consent"] == 2 and steps["pressure"] == 0


def test_several_partners_co_sign_one_message(destination, shared, sink, send):
    hotel = propose(destination.helene)
    camping = propose(destination.nadia, title="Emplacement -15 %", code="LAC15", link="")
    campaign = offers_approve(
        offers=[hotel, camping],
        actor=actor(destination.camille),
        sender_email="bonjour@vallee.example",
        subject_fr="Les offres de la Vallée",
    )
    assert {o.campaign_id for o in PartnerOffer.objects.all()} == {campaign.pk}
    send(campaign)
    mail = by_recipient(sink)["elodie.martin@example.fr"]
    text = mail.get_body(("plain",)).get_content()
    assert "Hôtel des Alpes — Nuit offerte" in text and "Camping du Lac — Emplacement -15 %" in text
    assert "Camping du Lac" in mail["From"] and "Hôtel des Alpes" in mail["From"]
    assert mail["Subject"] == "Les offres de la Vallée"


def test_a_joint_action_reaches_only_customers_every_co_signer_may_see(
    destination, shared, send, sink
):
    # Jean-Luc agreed to partner offers with the hotel only as its own purpose? No: he stayed
    # at the camping and agreed to nothing shared. A segment of everyone still does not
    # reach him.
    CustomerLink.objects.create(
        customer=shared["jean_luc"], partner=destination.camping, first_seen=timezone.now()
    )
    ExposedSegment.objects.create(segment=Segment.objects.get(slug="fideles-hiver"))
    offer = propose(destination.nadia, segment_slug="fideles-hiver")
    campaign = offers_approve(
        offers=[offer], actor=actor(destination.marc), sender_email="bonjour@vallee.example"
    )
    send(campaign)
    assert set(by_recipient(sink)) == {"elodie.martin@example.fr", "hans.mueller@example.de"}


def test_offers_with_different_targets_are_not_combined(destination, shared):
    ExposedSegment.objects.create(segment=Segment.objects.get(slug="fideles-hiver"))
    a = propose(destination.helene)
    b = propose(destination.nadia, segment_slug="fideles-hiver")
    with pytest.raises(ValidationError, match="même cible"):
        offers_approve(offers=[a, b], actor=actor(destination.marc), sender_email="a@b.example")
    assert not Campaign.objects.exists()
    assert set(PartnerOffer.objects.values_list("state", flat=True)) == {OfferState.PENDING}


@pytest.mark.parametrize("who", ["lucas", "sophie", "marc", "camille"])
def test_only_a_partner_manager_proposes(destination, shared, who):
    with pytest.raises(PermissionDenied):
        propose(getattr(destination, who))


@pytest.mark.parametrize("who", ["helene", "nadia", "lucas", "sophie"])
def test_only_office_marketers_decide(destination, shared, who):
    offer = propose(destination.helene)
    with pytest.raises(PermissionDenied):
        offers_approve(
            offers=[offer], actor=actor(getattr(destination, who)), sender_email="a@b.fr"
        )
    with pytest.raises(PermissionDenied):
        offer_refuse(offer=offer, actor=actor(getattr(destination, who)), reason="non")
    with pytest.raises(PermissionDenied):
        segment_expose(
            actor=actor(getattr(destination, who)),
            segment=Segment.objects.get(slug="fideles-hiver"),
            exposed=True,
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "obligatoire"),
        ("title", "x" * 5000, "150"),
        ("title", "Nuit\nofferte", "une ligne"),
        ("valid_until", TODAY - dt.timedelta(days=1), "précède"),
        ("valid_until", TODAY + dt.timedelta(days=800), "un an"),
        ("valid_from", None, "obligatoires"),
        ("link", "javascript:alert(1)", "http"),
        ("code", "{{ first_name }}", "accolades"),
        ("code", "C" * 200, "40"),
        ("segment_slug", "fideles-hiver", "non proposée"),
        ("segment_slug", "x" * 500, "non proposée"),
        ("subject_fr", "Bonjour\r\nBcc: all@example.org", "retours à la ligne"),
        ("blocks_fr", [{"type": "paragraph", "text": "<script>alert(1)</script>"}], "HTML"),
        ("blocks_fr", [], "aucun bloc"),
        ("blocks_fr", "pas une liste", ""),
    ],
)
def test_hostile_offers_are_refused_and_nothing_saved(destination, shared, field, value, message):
    with pytest.raises(ValidationError) as caught:
        propose(destination.helene, **{field: value})
    assert message in " ".join(caught.value.messages)
    assert not PartnerOffer.objects.exists()


def test_the_partner_sees_counts_and_its_own_return_never_a_list(destination, shared, sink, send):
    offer = propose(destination.helene)
    campaign = offers_approve(
        offers=[offer], actor=actor(destination.marc), sender_email="bonjour@vallee.example"
    )
    send(campaign)
    later = timezone.localdate() + dt.timedelta(days=20)
    for who, partner in (("elodie", destination.hotel), ("hans", destination.camping)):
        Activity.objects.create(
            customer=shared[who],
            partner=partner,
            kind="stay",
            channel="api",
            starts_on=later,
            amount=300,
        )
    offer.refresh_from_db()
    report = offer_report(offer)
    assert report is not None
    assert report.sent == 2 and report.converted == 1 and report.revenue == 300
    assert not hasattr(report, "recipients")


# --- pages -------------------------------------------------------------------------------------

FORM = {
    "title": "Nuit offerte",
    "segment": "",
    "valid_from": TODAY.isoformat(),
    "valid_until": (TODAY + dt.timedelta(days=30)).isoformat(),
    "link": "https://hotel-des-alpes.example/offre",
    "code": "NEIGE26",
    "subject_fr": "{{ first_name }}, une nuit offerte",
    "subject_en": "",
    "block_fr_type": ["title", "paragraph"],
    "block_fr_text": ["Une nuit offerte", "Bonjour {{ first_name }}, la 3e nuit est offerte."],
    "block_fr_url": ["", ""],
}


def login(client, user):
    client.force_login(user)
    return client


def test_helene_proposes_through_the_page_and_marc_approves_and_sends(
    client, destination, shared, sink, django_capture_on_commit_callbacks
):
    login(client, destination.helene)
    assert client.get("/campagnes/offres/nouvelle/").status_code == 200
    response = client.post("/campagnes/offres/nouvelle/", FORM)
    offer = PartnerOffer.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/campagnes/offres/{offer.pk}/"
    page = client.get(f"/campagnes/offres/{offer.pk}/")
    assert "En attente de l&#x27;office" in page.text and "Approuver" not in page.text
    frame = client.get(f"/campagnes/offres/{offer.pk}/apercu.html")
    assert (
        "la 3e nuit est offerte" in frame.text
        and "script-src" not in frame["Content-Security-Policy"]
    )
    # Hélène cannot approve her own offer.
    assert client.post(f"/campagnes/offres/{offer.pk}/approuver/").status_code == 403

    login(client, destination.marc)
    listing = client.get("/campagnes/offres/")
    assert "Nuit offerte" in listing.text and "Hôtel des Alpes" in listing.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/campagnes/offres/{offer.pk}/approuver/",
            {"sender_email": "bonjour@vallee.example", "send_now": "1"},
        )
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/campagnes/{campaign.pk}/"
    joint = client.get(f"/campagnes/{campaign.pk}/")
    assert 'id="joint-offers"' in joint.text and "Hôtel des Alpes — Nuit offerte" in joint.text
    # The task (immediate backend in tests) sent it at commit.
    assert set(by_recipient(sink)) == {"elodie.martin@example.fr", "hans.mueller@example.de"}

    login(client, destination.helene)
    page = client.get(f"/campagnes/offres/{offer.pk}/")
    assert 'id="offer-figures"' in page.text and "<strong>2</strong>" in page.text
    for secret in ("elodie", "hans.mueller", "Élodie"):
        assert secret not in page.text
    # The joint campaign's own pages stay the office's.
    assert client.get(f"/campagnes/{campaign.pk}/").status_code == 404


def test_marc_refuses_with_a_reason_that_helene_reads(client, destination, shared, sink):
    offer = propose(destination.helene)
    login(client, destination.marc)
    response = client.post(f"/campagnes/offres/{offer.pk}/refuser/", {"reason": ""}, follow=True)
    assert "pourquoi l&#x27;offre est refusée" in response.text
    client.post(f"/campagnes/offres/{offer.pk}/refuser/", {"reason": "Hors saison <b>!</b>"})
    login(client, destination.helene)
    page = client.get(f"/campagnes/offres/{offer.pk}/")
    assert "Refusée par l'office" in page.text
    assert "Hors saison &lt;b&gt;!&lt;/b&gt;" in page.text
    assert not Campaign.objects.exists() and sink.messages == []


def test_a_partner_never_sees_another_partners_offers(client, destination, shared):
    mine = propose(destination.helene)
    theirs = propose(destination.nadia, title="Emplacement au bord du lac")
    login(client, destination.helene)
    listing = client.get("/campagnes/offres/")
    assert "Nuit offerte" in listing.text and "Emplacement au bord du lac" not in listing.text
    for url in ("/", "/apercu.html", "/modifier/"):
        assert client.get(f"/campagnes/offres/{theirs.pk}{url}").status_code == 404
    response = client.post(f"/campagnes/offres/{theirs.pk}/modifier/", FORM)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "Emplacement au bord du lac"
    assert client.get(f"/campagnes/offres/{mine.pk}/").status_code == 200
    assert client.get("/campagnes/offres/99999999999999999999/").status_code == 404


@pytest.mark.parametrize("who", ["lucas", "sophie"])
def test_staff_and_dpo_have_no_offer_pages(client, destination, shared, who):
    offer = propose(destination.helene)
    login(client, getattr(destination, who))
    assert client.get("/campagnes/offres/").status_code == 403
    assert client.get(f"/campagnes/offres/{offer.pk}/").status_code == 403
    assert client.post("/campagnes/offres/nouvelle/", FORM).status_code == 403


def test_the_office_exposes_segments_partners_may_target(client, destination, shared):
    login(client, destination.marc)
    client.post("/campagnes/offres/segments/", {"segment": "fideles-hiver", "exposed": "1"})
    assert ExposedSegment.objects.filter(segment__slug="fideles-hiver").exists()
    login(client, destination.helene)
    form = client.get("/campagnes/offres/nouvelle/")
    assert "Fidèles de l&#x27;hiver" in form.text
    assert (
        client.post(
            "/campagnes/offres/segments/", {"segment": "fideles-hiver", "exposed": "0"}
        ).status_code
        == 403
    )
    client.post("/campagnes/offres/nouvelle/", {**FORM, "segment": "fideles-hiver"})
    assert PartnerOffer.objects.get().segment.slug == "fideles-hiver"


def test_a_partner_segment_cannot_be_exposed(client, destination, shared):
    Segment.objects.create(slug="hotel-vip", name="VIP de l'hôtel", owner=destination.hotel)
    login(client, destination.marc)
    client.post("/campagnes/offres/segments/", {"segment": "hotel-vip", "exposed": "1"})
    assert not ExposedSegment.objects.exists()


def test_hostile_page_input_is_answered_not_crashed(client, destination, shared):
    login(client, destination.helene)
    for field, value in (
        ("valid_from", "31/02/2026"),
        ("title", "x" * 100_000),
        ("segment", "'; drop table x; --"),
        ("block_fr_type", ["<script>", "paragraph"]),
    ):
        response = client.post("/campagnes/offres/nouvelle/", {**FORM, field: value})
        assert response.status_code == 200 and "n'est pas enregistrée" in response.text
    assert not PartnerOffer.objects.exists()
    offer = propose(destination.helene)
    login(client, destination.marc)
    response = client.post(
        f"/campagnes/offres/{offer.pk}/approuver/",
        {"sender_email": "pas une adresse", "with": ["x", "99999999999999"]},
        follow=True,
    )
    assert "Adresse e-mail invalide" in response.text
    offer.refresh_from_db()
    assert offer.state == OfferState.PENDING and not Campaign.objects.exists()


def test_a_decided_offer_is_not_edited(client, destination, shared):
    offer = propose(destination.helene)
    offer_refuse(offer=offer, actor=actor(destination.marc), reason="Non.")
    login(client, destination.helene)
    response = client.post(f"/campagnes/offres/{offer.pk}/modifier/", FORM)
    assert response.status_code == 302
    with pytest.raises(ValidationError):
        propose(destination.helene, offer=PartnerOffer.objects.get(pk=offer.pk))
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 0


def test_the_offer_pages_speak_english_too(client, destination, shared, settings):
    offer = propose(destination.helene)
    offer_refuse(offer=offer, actor=actor(destination.marc), reason="Trop tard.")
    login(client, destination.helene)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    listing = client.get("/campagnes/offres/")
    assert "Partner offers" in listing.text and "Propose an offer" in listing.text
    page = client.get(f"/campagnes/offres/{offer.pk}/")
    assert "Refused by the office" in page.text and "Trop tard." in page.text
