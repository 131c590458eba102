"""Campaign stories: the office writes to Élodie, Jean-Luc, Hans (in English) and Zoé.

Élodie, Hans and Zoé said yes to the newsletter; Élodie and Hans also to "messages suited to
their profile" (so their opens and clicks may be counted); Jean-Luc said nothing. Zoé has no
profile consent: her links go straight to the site. A real SMTP server (aiosmtpd) on
loopback receives everything; tests read the messages it got.
"""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest

from cordee.campaigns.sink import Sink, SinkServer


@pytest.fixture
def sink(settings):
    box = Sink()
    with SinkServer(box) as (host, port):
        use_smtp(settings, host, port)
        yield box


def use_smtp(settings, host, port):
    from cordee.campaigns.email_url import email_mailer

    settings.MAILERS = {"default": email_mailer(f"smtp://{host}:{port}")}


@pytest.fixture(autouse=True)
def _target_segment(request):
    """The segment the campaigns of these tests target: everyone (an empty definition)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    from cordee.segments.models import Segment

    Segment.objects.get_or_create(
        slug="fideles-hiver", defaults={"name": "Fidèles de l'hiver", "definition": {}}
    )


@pytest.fixture(autouse=True)
def _campaign_settings(settings):
    settings.CORDEE_PUBLIC_URL = "https://crm.vallee.example"
    settings.CORDEE_CAMPAIGN_LEASE = 300
    settings.CORDEE_CAMPAIGN_RETRIES = 3
    settings.CORDEE_SMS_QUIET_HOURS = ""


def make_customer(first_name, email_address, *, language="fr", phone="", birth_date=None, **extra):
    from cordee.customers.models import Customer
    from cordee.privacy.crypto import email_index, phone_index

    return Customer.objects.create(
        first_name=first_name,
        last_name=extra.pop("last_name", "Test"),
        email=email_address,
        email_hash=email_index(email_address) if email_address else "",
        phone=phone,
        phone_hash=phone_index(phone) if phone else "",
        language=language,
        birth_date=birth_date,
        **extra,
    )


def grant(customer, *purposes, status="granted"):
    from cordee.privacy.access import Actor
    from cordee.privacy.services import consent_record

    for purpose in purposes:
        consent_record(
            customer=customer,
            purpose=purpose,
            status=status,
            channel="form",
            actor=Actor.system("test"),
        )


@pytest.fixture
def purposes(destination):
    """The purposes the privacy migration seeds: a transactional test before this one flushed
    them (flush empties every table, data migrations included)."""
    import importlib

    from django.apps import apps

    importlib.import_module("cordee.privacy.migrations.0003_seed_purposes").seed(apps, None)


@pytest.fixture
def people(destination, purposes):
    elodie = make_customer(
        "Élodie", "elodie.martin@example.fr", phone="+33612345678", birth_date=dt.date(1985, 3, 14)
    )
    jean_luc = make_customer("Jean-Luc", "jl.dupont@example.com")
    hans = make_customer("Hans", "hans.mueller@example.de", language="en")
    zoe = make_customer("", "zoe.lambert@example.fr")
    grant(elodie, "newsletter", "profiling", "sms")
    grant(hans, "newsletter", "profiling")
    grant(zoe, "newsletter")
    return {"elodie": elodie, "jean_luc": jean_luc, "hans": hans, "zoe": zoe}


BLOCKS_FR = [
    {"type": "title", "text": "Bonjour {{ first_name }} !"},
    {
        "type": "paragraph",
        "text": "Depuis {{ last_stay }} ({{ last_stay_date }}), la neige est tombée. Votre activité : {{ favourite_activity }}.",
    },
    {"type": "button", "text": "Réserver", "url": "https://vallee.example/reserver?from=mail"},
    {"type": "image", "text": "Le lac", "url": "https://vallee.example/lac.jpg"},
    {
        "type": "offer",
        "text": "-20 % pour le groupe {{ loyalty_group }}",
        "url": "https://vallee.example/offre",
    },
]
BLOCKS_EN = [
    {"type": "title", "text": "Hello {{ first_name }}!"},
    {"type": "button", "text": "Book now", "url": "https://vallee.example/en/book"},
]


@pytest.fixture
def campaign_of(destination, purposes):
    from cordee.campaigns.services import campaign_save
    from cordee.privacy.access import Actor

    def make(**overrides):
        fields = dict(
            name="Ouverture de l'hiver",
            purpose="newsletter",
            channel="email",
            sender_name="Office de tourisme de la Vallée",
            sender_email="bonjour@vallee.example",
            subject_fr='{{ first_name|default:"Bonjour" }}, l\'hiver arrive ❄',
            subject_en="Winter is coming, {{ first_name }}",
            blocks_fr=BLOCKS_FR,
            blocks_en=BLOCKS_EN,
            sms_fr="",
            sms_en="",
        )
        fields.update(overrides)
        return campaign_save(actor=Actor.for_user(destination.marc), **fields)

    return make


@pytest.fixture
def send(destination):
    """Start a campaign and send it all, in this process."""
    from cordee.campaigns.sending import campaign_send_run, campaign_start
    from cordee.privacy.access import Actor

    def run(campaign, **kwargs):
        campaign_start(campaign=campaign, actor=Actor.for_user(destination.marc))
        return campaign_send_run(campaign_id=campaign.pk, backoff=0, **kwargs)

    return run


def parse(received):
    return email.message_from_bytes(received.data, policy=policy.default)


def by_recipient(sink):
    return {m.rcpt_tos[0]: parse(m) for m in sink.messages}
