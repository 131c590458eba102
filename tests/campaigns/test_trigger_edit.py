"""The office creates and changes a trigger from the browser: occasion, days, purpose,
segment, sender and the message in blocks; every wrong field is named and nothing is saved."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.campaigns.conftest import by_recipient
from tests.campaigns.test_triggers import person, rule, run  # noqa: F401  (fixture)

from cordee.campaigns.models import TriggerRule
from cordee.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db


def form(**changes):
    data = {
        "name": "Bon anniversaire",
        "kind": "birthday",
        "days": "0",
        "purpose": "newsletter",
        "segment_slug": "",
        "sender_name": "Office du Val Combeyre",
        "sender_email": "bonjour@valcombeyre.fr",
        "subject_fr": "Joyeux anniversaire {{ first_name }} !",
        "subject_en": "Happy birthday {{ first_name }}!",
        "block_fr_type": ["title", "paragraph"],
        "block_fr_text": ["Bon anniversaire", "Un verre vous attend à l'office, {{ first_name }}."],
        "block_fr_url": ["", ""],
        "block_en_type": ["paragraph"],
        "block_en_text": ["A drink awaits you, {{ first_name }}."],
        "block_en_url": [""],
    }
    data.update(changes)
    return data


def test_marc_creates_a_birthday_trigger_that_then_runs_by_itself(
    client, destination, purposes, sink
):
    client.force_login(destination.marc)
    page = client.get("/campagnes/declencheurs/nouveau/")
    assert page.status_code == 200 and "Nouveau déclencheur" in page.text
    response = client.post("/campagnes/declencheurs/nouveau/", form())
    assert response.status_code == 302
    created = TriggerRule.objects.get()
    assert response["Location"].endswith(f"/campagnes/declencheurs/#trigger-{created.pk}")
    assert (created.kind, created.days, created.purpose.slug) == ("birthday", 0, "newsletter")
    assert created.sender_email == "bonjour@valcombeyre.fr" and created.is_active
    assert created.message.blocks_fr[1]["text"].startswith("Un verre")
    assert created.message.subject_en == "Happy birthday {{ first_name }}!"
    assert AuditEvent.objects.filter(action="trigger.add", actor=destination.marc).exists()
    person("Elodie", birth_date=dt.date(1985, 3, 14))
    run(dt.date(2027, 3, 14))
    assert sink.count == 1
    assert "Joyeux anniversaire Elodie" in by_recipient(sink)["elodie@example.fr"]["Subject"]


def test_marc_changes_the_days_and_the_message_of_a_trigger(client, destination, rule):  # noqa: F811
    winback = rule("winback", days=540)
    client.force_login(destination.marc)
    page = client.get(f"/campagnes/declencheurs/{winback.pk}/modifier/")
    assert page.status_code == 200 and 'value="540"' in page.text
    response = client.post(
        f"/campagnes/declencheurs/{winback.pk}/modifier/",
        form(name="Reconquête", kind="winback", days="400", subject_fr="Vous nous manquez"),
    )
    assert response.status_code == 302
    changed = TriggerRule.objects.get(pk=winback.pk)
    assert (changed.name, changed.days, changed.message.subject_fr) == (
        "Reconquête",
        400,
        "Vous nous manquez",
    )
    assert TriggerRule.objects.count() == 1
    assert AuditEvent.objects.filter(action="trigger.change").exists()


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"days": "4000"}, "3650"),
        ({"days": "-1"}, "supérieure ou égale à 0"),
        ({"purpose": "inconnue"}, "Finalité"),
        ({"kind": "tous-les-jours"}, "Occasion"),
        ({"segment_slug": "segment-absent"}, "Segment inconnu"),
        ({"subject_fr": "Bonjour\r\nBcc: x@y.fr"}, "Objet"),
        ({"subject_fr": "Bonjour {{ prenom"}, "{{"),
        ({"sender_email": "pas une adresse"}, "adresse"),
        ({"sender_name": 'Office" <x@y.fr>'}, "expéditeur"),
        ({"name": ""}, "Nom"),
        ({"block_fr_type": ["script"], "block_fr_text": ["<script>alert(1)</script>"]}, "bloc"),
    ],
)
def test_each_wrong_field_is_named_and_nothing_is_saved(
    client, destination, purposes, changes, says
):
    client.force_login(destination.marc)
    response = client.post("/campagnes/declencheurs/nouveau/", form(**changes))
    assert response.status_code == 200
    # The error list itself names the field (labels and help texts elsewhere say it anyway).
    errors = response.text.split('class="form-error"')[1].split("</div>")[0]
    assert "n'est pas enregistré" in errors
    assert says.lower() in errors.lower(), errors
    assert not TriggerRule.objects.exists()


@pytest.mark.parametrize("who", ["helene", "lucas", "nadia", "sophie"])
def test_only_the_office_marketing_creates_or_changes_triggers(client, destination, rule, who):  # noqa: F811
    birthday = rule("birthday")
    client.force_login(getattr(destination, who))
    assert client.get("/campagnes/declencheurs/nouveau/").status_code == 403
    assert client.post("/campagnes/declencheurs/nouveau/", form()).status_code == 403
    assert (
        client.post(f"/campagnes/declencheurs/{birthday.pk}/modifier/", form()).status_code == 403
    )
    assert TriggerRule.objects.count() == 1


def test_a_huge_message_is_refused_whole(client, destination, purposes):
    client.force_login(destination.marc)
    response = client.post(
        "/campagnes/declencheurs/nouveau/",
        form(block_fr_type=["paragraph"], block_fr_text=["x" * 2_000_000], block_fr_url=[""]),
    )
    assert response.status_code in (200, 400, 413)
    assert not TriggerRule.objects.exists()
