"""The triggers page: each rule with its last runs and what they sent; the office switches
them on and off, nobody else sees it."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.campaigns.test_triggers import person, rule, run  # noqa: F401  (fixture)

from cordee.campaigns.models import TriggerRule
from cordee.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_marc_sees_each_trigger_its_runs_and_what_they_sent(client, destination, rule, sink):  # noqa: F811
    birthday = rule("birthday")
    rule("winback", days=540)
    person("Elodie", birth_date=dt.date(1985, 3, 14))
    run(dt.date(2027, 3, 14))
    rule("post_stay", days=1)  # added afterwards: never ran
    client.force_login(destination.marc)
    page = client.get("/campagnes/declencheurs/")
    assert page.status_code == 200
    assert "Règle birthday" in page.text and "Règle winback" in page.text
    section = page.text.split(f'id="trigger-{birthday.pk}"')[1].split("</article>")[0]
    assert "14/03/2027" in section and '<td class="num">1</td>' in section
    assert "jamais" in page.text.split("Règle post_stay")[1]


def test_marc_suspends_a_trigger_and_it_sends_nothing_more(client, destination, rule, sink):  # noqa: F811
    birthday = rule("birthday")
    person("Elodie", birth_date=dt.date(1985, 3, 14))
    client.force_login(destination.marc)
    response = client.post(f"/campagnes/declencheurs/{birthday.pk}/actif/", {"active": "0"})
    assert response.status_code == 302
    assert not TriggerRule.objects.get(pk=birthday.pk).is_active
    assert run(dt.date(2027, 3, 14)) == [] and sink.count == 0
    assert AuditEvent.objects.filter(action="trigger.toggle").exists()
    client.post(f"/campagnes/declencheurs/{birthday.pk}/actif/", {"active": "1"})
    run(dt.date(2027, 3, 14))
    assert sink.count == 1


@pytest.mark.parametrize("who", ["helene", "lucas", "nadia", "sophie"])
def test_others_cannot_see_or_switch_triggers(client, destination, rule, who):  # noqa: F811
    birthday = rule("birthday")
    client.force_login(getattr(destination, who))
    assert client.get("/campagnes/declencheurs/").status_code == 403
    assert (
        client.post(f"/campagnes/declencheurs/{birthday.pk}/actif/", {"active": "0"}).status_code
        == 403
    )
    assert TriggerRule.objects.get(pk=birthday.pk).is_active


def test_an_unknown_trigger_is_a_404(client, destination):
    client.force_login(destination.marc)
    assert client.post("/campagnes/declencheurs/999999/actif/", {"active": "0"}).status_code == 404
