"""What a recipient reaches from a message: one-click unsubscribe, preferences, clicks, opens."""

from __future__ import annotations

import re

import pytest
from tests.campaigns.conftest import by_recipient

from cordee.campaigns import links
from cordee.campaigns.models import Delivery, DeliveryStatus, Suppression, TrackingEvent
from cordee.privacy.models import ConsentState

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(people, sink, campaign_of, send):
    campaign = campaign_of()
    send(campaign)
    return campaign, by_recipient(sink)


def path_of(url):
    return url.replace("https://crm.vallee.example", "")


def test_one_click_unsubscribe_from_the_mail_header(sent, client, people):
    campaign, got = sent
    url = got["zoe.lambert@example.fr"]["List-Unsubscribe"].strip("<>")
    response = client.post(
        path_of(url), {"List-Unsubscribe": "One-Click"}
    )  # no session, no CSRF token
    assert response.status_code == 200
    state = ConsentState.objects.get(customer=people["zoe"], purpose__slug="newsletter")
    assert state.status == "withdrawn"
    assert Suppression.objects.filter(
        address_hash=people["zoe"].email_hash, reason="unsubscribe"
    ).exists()
    assert (
        TrackingEvent.objects.filter(kind="unsubscribe", delivery__customer=people["zoe"]).count()
        == 1
    )


def test_following_the_link_only_asks_for_confirmation(sent, client, people):
    _campaign, got = sent
    url = got["zoe.lambert@example.fr"]["List-Unsubscribe"].strip("<>")
    response = client.get(path_of(url))
    assert response.status_code == 200 and "Me désinscrire" in response.text
    assert (
        ConsentState.objects.get(customer=people["zoe"], purpose__slug="newsletter").status
        == "granted"
    )


@pytest.mark.parametrize("token", ["d1:forged", "nothing", "d" + "9" * 50, "<script>", "k1.0:abc"])
def test_a_forged_token_unsubscribes_nobody(sent, client, token):
    response = client.post(f"/campagnes/m/d/{token}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404
    assert not Suppression.objects.exists()


def test_an_unsubscribed_person_gets_nothing_more(sent, client, people, sink, campaign_of, send):
    _campaign, got = sent
    client.post(
        path_of(got["zoe.lambert@example.fr"]["List-Unsubscribe"].strip("<>")),
        {"List-Unsubscribe": "One-Click"},
    )
    sink.messages.clear()
    send(campaign_of(name="Encore"))
    assert "zoe.lambert@example.fr" not in by_recipient(sink)


def test_a_click_redirects_only_to_the_campaign_own_links_and_is_counted(sent, client, people):
    campaign, got = sent
    html = got["elodie.martin@example.fr"].get_body("html").get_content()
    first = re.search(r'href="https://crm\.vallee\.example(/campagnes/m/k/[^"]+)"', html).group(1)
    response = client.get(first)
    assert (
        response.status_code == 302
        and response["Location"] == "https://vallee.example/reserver?from=mail"
    )
    assert (
        TrackingEvent.objects.filter(kind="click", delivery__customer=people["elodie"]).count() == 1
    )
    delivery = Delivery.objects.get(campaign=campaign, customer=people["elodie"])
    # Another link number, or a URL smuggled in the query string, leads nowhere else.
    assert (
        client.get(f"/campagnes/m/k/{links.token_make('k', delivery.pk, 99)}/").status_code == 404
    )
    assert (
        client.get(first + "?next=https://evil.example")
        .headers["Location"]
        .startswith("https://vallee.example/")
    )
    assert client.get("/campagnes/m/k/k1.0:forged/").status_code == 404


def test_opens_are_recorded_only_with_consent(sent, client, people, campaign_of):
    campaign, _got = sent
    elodie = Delivery.objects.get(campaign=campaign, customer=people["elodie"])
    zoe = Delivery.objects.get(campaign=campaign, customer=people["zoe"])
    assert (
        client.get(f"/campagnes/m/o/{links.token_make('o', elodie.pk)}.gif")["Content-Type"]
        == "image/gif"
    )
    assert client.get(f"/campagnes/m/o/{links.token_make('o', zoe.pk)}.gif").status_code == 200
    assert list(
        TrackingEvent.objects.filter(kind="open").values_list("delivery_id", flat=True)
    ) == [elodie.pk]


def test_the_preference_link_opens_the_visitors_preference_centre(sent, client, people):
    _campaign, got = sent
    text = got["elodie.martin@example.fr"].get_body("plain").get_content()
    url = re.search(r"https://crm\.vallee\.example(/preferences/\?t=\S+)", text).group(1)
    page = client.get(url)
    assert page.status_code == 200
    assert "Élodie" in page.text or "lodie" in page.text


def test_a_withdrawal_sets_aside_what_is_still_queued(people, campaign_of, destination):
    from cordee.campaigns.receivers import deliveries_skip_withdrawn
    from cordee.campaigns.sending import campaign_start
    from cordee.privacy.access import Actor

    campaign = campaign_of()
    campaign_start(campaign=campaign, actor=Actor.for_user(destination.marc))
    assert deliveries_skip_withdrawn(customer_id=people["hans"].pk, purpose="newsletter") == 1
    assert (
        Delivery.objects.get(campaign=campaign, customer=people["hans"]).status
        == DeliveryStatus.SKIPPED
    )
