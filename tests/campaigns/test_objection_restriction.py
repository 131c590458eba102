"""Objection and restriction carried out from the DPO desk: Élodie objects to the newsletter
and the SMS, then asks for her data's processing to be restricted; the campaigns, the triggers'
audience and the segments leave her out until Sophie lifts it."""

from __future__ import annotations

import io

import pytest

from cordee.campaigns.audience import audience_steps
from cordee.campaigns.models import Suppression
from cordee.privacy.access import Actor
from cordee.privacy.models import AuditEvent
from cordee.privacy.queries import consent_state
from cordee.privacy.requests import request_create

from .conftest import grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def sophie(client, destination):
    client.force_login(destination.sophie)
    return client


def audience_ids(campaign, destination) -> set[int]:
    _steps, qs = audience_steps(campaign, Actor.for_user(destination.marc))
    return set(qs.values_list("pk", flat=True))


def desk(sophie, request, **data):
    return sophie.post(f"/confidentialite/demandes/{request.pk}/", data)


def a_request(customer, kind, identity="other"):
    return request_create(
        kind=kind,
        channel="email",
        customer_ref=customer.pk,
        actor=Actor.system("t"),
        identity=identity,
    )


def test_an_objection_withdraws_the_consents_and_suppresses_the_person(
    sophie, destination, people, campaign_of
):
    elodie, hans = people["elodie"], people["hans"]
    newsletter = campaign_of()
    sms = campaign_of(channel="sms", purpose="sms", sms_fr="Neige fraîche !", sms_en="Fresh snow!")
    assert elodie.pk in audience_ids(newsletter, destination)
    assert elodie.pk in audience_ids(sms, destination)

    request = a_request(elodie, "objection")
    response = desk(sophie, request, action="object", purposes=["newsletter", "sms"])
    assert response.status_code == 302, response.content

    state = consent_state(elodie)
    assert {e.status for e in state["newsletter"].values()} == {"withdrawn"}
    assert {e.status for e in state["sms"].values()} == {"withdrawn"}
    assert {e.status for e in state["profiling"].values()} == {"granted"}  # not objected to
    blocked = Suppression.objects.filter(
        reason="objection", purpose__slug__in=["newsletter", "sms"]
    )
    assert {(s.channel, s.address_hash, s.purpose.slug) for s in blocked} >= {
        ("email", elodie.email_hash, "newsletter"),
        ("sms", elodie.phone_hash, "sms"),
    }
    assert elodie.pk not in audience_ids(newsletter, destination)
    assert elodie.pk not in audience_ids(sms, destination)
    assert hans.pk in audience_ids(newsletter, destination)
    request.refresh_from_db()
    assert request.status == "done"
    assert AuditEvent.objects.filter(action="customer.objection", object_id=str(elodie.pk)).exists()

    # A partner's later file says "yes" again: the objection still holds.
    grant(elodie, "newsletter")
    assert elodie.pk not in audience_ids(newsletter, destination)


def test_nothing_is_done_before_the_identity_is_confirmed(
    sophie, destination, people, campaign_of, settings
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    elodie = people["elodie"]
    request = a_request(elodie, "objection", identity="awaiting")
    assert desk(sophie, request, action="object", purposes=["newsletter"]).status_code == 422
    assert (
        desk(sophie, a_request(elodie, "restriction", "awaiting"), action="restrict").status_code
        == 422
    )
    assert {e.status for e in consent_state(elodie)["newsletter"].values()} == {"granted"}
    assert not Suppression.objects.exists()
    elodie.refresh_from_db()
    assert elodie.restricted_at is None


def test_a_restriction_takes_the_person_out_until_it_is_lifted(
    sophie, destination, people, campaign_of
):
    from cordee.segments.exports import segment_export
    from cordee.segments.models import Segment

    elodie = people["elodie"]
    campaign = campaign_of()
    segment = Segment.objects.get(slug="fideles-hiver")
    marc = Actor.for_user(destination.marc)

    def exported() -> str:
        stream = io.StringIO()
        segment_export(segment=segment, actor=marc, stream=stream, fmt="csv")
        return stream.getvalue()

    assert elodie.pk in audience_ids(campaign, destination)
    assert "elodie.martin@example.fr" in exported()

    request = a_request(elodie, "restriction")
    assert desk(sophie, request, action="restrict").status_code == 302
    elodie.refresh_from_db()
    assert elodie.restricted_at is not None
    assert elodie.pk not in audience_ids(campaign, destination)
    assert "elodie.martin@example.fr" not in exported()
    assert "hans.mueller@example.de" in exported()
    # Her data are kept, and her consents untouched.
    assert {e.status for e in consent_state(elodie)["newsletter"].values()} == {"granted"}

    assert desk(sophie, request, action="lift", reason="").status_code == 422
    assert desk(sophie, request, action="lift", reason="Contestation réglée").status_code == 302
    elodie.refresh_from_db()
    assert elodie.restricted_at is None
    assert elodie.pk in audience_ids(campaign, destination)
    assert "elodie.martin@example.fr" in exported()
    actions = set(
        AuditEvent.objects.filter(object_id=str(elodie.pk)).values_list("action", flat=True)
    )
    assert {"customer.restrict", "customer.restriction_lifted"} <= actions
