"""The campaign pages: editor with blocks, audience, preview, test send, sending, follow-up."""

from __future__ import annotations

import pytest
from tests.campaigns.conftest import parse

from cordee.campaigns.models import Campaign

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Ouverture de l'hiver",
    "channel": "email",
    "purpose": "newsletter",
    "segment_slug": "fideles-hiver",
    "sender_name": "Office de tourisme",
    "sender_email": "bonjour@vallee.example",
    "reply_to": "",
    "cost": "120",
    "control_percent": "0",
    "subject_fr": "Bonjour {{ first_name }}",
    "subject_en": "",
    "sms_fr": "",
    "sms_en": "",
    "block_fr_type": ["title", "paragraph", "button"],
    "block_fr_text": ["L'hiver arrive", "Bonjour {{ first_name }}, la neige est là.", "Réserver"],
    "block_fr_url": ["", "", "https://vallee.example/reserver"],
}


@pytest.fixture
def marc(client, destination):
    client.force_login(destination.marc)
    return client


def test_a_marketer_writes_a_campaign_with_blocks(marc):
    assert marc.get("/campagnes/nouvelle/").status_code == 200
    response = marc.post("/campagnes/nouvelle/", FORM)
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/campagnes/{campaign.pk}/"
    assert [b["type"] for b in campaign.message.blocks_fr] == ["title", "paragraph", "button"]
    assert "Ouverture de l&#x27;hiver" in marc.get("/campagnes/").text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("block_fr_text", ["<script>alert(1)</script>", "x", "Réserver"], "HTML"),
        ("block_fr_text", ["{{ first_name", "x", "Réserver"], "mal formée"),
        ("subject_fr", "Bonjour\r\nBcc: all@example.org", "retours à la ligne"),
        ("block_fr_url", ["", "", "javascript:alert(1)"], "http"),
        ("name", "x" * 5000, "150"),
        ("sender_name", "Office\x00", "nul"),
    ],
)
def test_hostile_input_is_refused_with_a_clear_message_and_nothing_saved(
    marc, field, value, message
):
    response = marc.post("/campagnes/nouvelle/", {**FORM, field: value})
    assert response.status_code == 200 and message in response.text
    assert not Campaign.objects.exists()
    assert "<script>alert(1)</script>" not in response.text


def test_audience_preview_and_test_send(marc, people, sink):
    marc.post("/campagnes/nouvelle/", FORM)
    campaign = Campaign.objects.get()
    audience = marc.get(f"/campagnes/{campaign.pk}/audience/", headers={"HX-Request": "true"})
    assert "ayant consenti" in audience.text and '<strong class="num">3</strong>' in audience.text
    elodie = people["elodie"]
    preview = marc.get(f"/campagnes/{campaign.pk}/apercu/", {"client": elodie.pk, "langue": "fr"})
    assert "Bonjour Élodie" in preview.text
    frame = marc.get(f"/campagnes/{campaign.pk}/apercu.html", {"client": elodie.pk})
    assert "Bonjour Élodie, la neige est là." in frame.text
    assert (
        "unsafe-inline" in frame["Content-Security-Policy"]
        and "script-src" not in frame["Content-Security-Policy"]
    )
    assert marc.get(f"/campagnes/{campaign.pk}/apercu/", {"client": "99999"}).status_code == 404
    result = marc.post(
        f"/campagnes/{campaign.pk}/test/",
        {"client": elodie.pk, "to": "marc@office.example", "langue": "fr"},
    )
    assert "Envoi de test parti" in result.text
    (received,) = sink.messages
    assert received.rcpt_tos == ["marc@office.example"]
    assert parse(received)["Subject"] == "[TEST] Bonjour Élodie"
    bad = marc.post(
        f"/campagnes/{campaign.pk}/test/", {"client": elodie.pk, "to": "x@y\r\nBcc: z@z.example"}
    )
    assert "invalide" in bad.text and len(sink.messages) == 1


def test_sending_from_the_page_and_following_it(
    marc, people, sink, django_capture_on_commit_callbacks
):
    marc.post("/campagnes/nouvelle/", FORM)
    campaign = Campaign.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = marc.post(f"/campagnes/{campaign.pk}/envoi/", {"at": ""})
    assert response.status_code == 302 and sink.count == 3
    page = marc.get(f"/campagnes/{campaign.pk}/")
    assert "Suivi de l" in page.text and "Retour sur coût" in page.text
    assert (
        marc.post(f"/campagnes/{campaign.pk}/envoi/", {"at": ""}).status_code == 400
    )  # already gone


def test_scheduling_and_bad_dates(marc, people):
    marc.post("/campagnes/nouvelle/", FORM)
    campaign = Campaign.objects.get()
    assert marc.post(f"/campagnes/{campaign.pk}/envoi/", {"at": "demain midi"}).status_code == 400
    assert (
        marc.post(f"/campagnes/{campaign.pk}/envoi/", {"at": "2099-01-01T10:00"}).status_code == 302
    )
    campaign.refresh_from_db()
    assert campaign.state == "scheduled"


def test_a_partner_does_not_see_the_office_campaigns(marc, client, destination, people):
    marc.post("/campagnes/nouvelle/", FORM)
    campaign = Campaign.objects.get()
    client.force_login(destination.helene)
    assert client.get(f"/campagnes/{campaign.pk}/").status_code == 404
    assert client.get(f"/campagnes/{campaign.pk}/audience/").status_code == 404
    assert "Ouverture" not in client.get("/campagnes/").text


def test_pages_need_a_signed_in_user(client, people):
    assert client.get("/campagnes/").status_code == 302


AB_FORM = {
    **FORM,
    "test_percent": "20",
    "winner_metric": "clicks",
    "winner_delay": "4",
    "subject_b_fr": "Dernières places, {{ first_name }}",
}


def test_variant_b_gets_its_own_blocks_and_the_page_shows_them_again(marc):
    form = {
        **AB_FORM,
        "b_own_content": "on",
        "block_bfr_type": ["title", "button"],
        "block_bfr_text": ["Plus que 12 chambres", "J'en profite"],
        "block_bfr_url": ["", "https://vallee.example/derniere-minute"],
    }
    response = marc.post("/campagnes/nouvelle/", form)
    campaign = Campaign.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    a = campaign.variants.get(label="A").message
    b = campaign.variants.get(label="B").message
    assert [x["text"] for x in a.blocks_fr] == [
        "L'hiver arrive",
        "Bonjour {{ first_name }}, la neige est là.",
        "Réserver",
    ]
    assert [(x["type"], x["text"]) for x in b.blocks_fr] == [
        ("title", "Plus que 12 chambres"),
        ("button", "J'en profite"),
    ]
    assert b.subject_fr == "Dernières places, {{ first_name }}"
    page = marc.get(f"/campagnes/{campaign.pk}/modifier/").text
    assert 'name="b_own_content" id="id_b_own_content" checked' in page
    assert "Plus que 12 chambres" in page and 'name="block_bfr_text"' in page


def test_without_its_own_content_variant_b_changes_only_the_subject(marc):
    marc.post(
        "/campagnes/nouvelle/",
        {**AB_FORM, "block_bfr_text": ["ignoré"], "block_bfr_type": ["title"]},
    )
    campaign = Campaign.objects.get()
    a = campaign.variants.get(label="A").message
    b = campaign.variants.get(label="B").message
    assert b.blocks_fr == a.blocks_fr and b.subject_fr != a.subject_fr
    page = marc.get(f"/campagnes/{campaign.pk}/modifier/").text
    assert 'id="id_b_own_content" checked' not in page


def test_hostile_variant_b_content_is_refused_and_nothing_saved(marc):
    form = {
        **AB_FORM,
        "b_own_content": "on",
        "block_bfr_type": ["paragraph"],
        "block_bfr_text": ["<script>alert(1)</script>"],
        "block_bfr_url": [""],
    }
    response = marc.post("/campagnes/nouvelle/", form)
    assert response.status_code == 200
    assert "Variante B" in response.text and "HTML" in response.text
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(("lang", "name"), [("bfr", "block_bfr_text"), ("<x>", "block_fr_text")])
def test_a_new_block_row_for_each_editor(marc, lang, name):
    response = marc.get("/campagnes/bloc/", {"lang": lang})
    assert response.status_code == 200 and f'name="{name}"' in response.text
