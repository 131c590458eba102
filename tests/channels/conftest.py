"""Public channels stories: Hôtel des Alpes puts a newsletter sign-up, a contest and a
questionnaire on https://www.hotel-des-alpes.fr; visitors fill them in; a real SMTP server
(aiosmtpd) receives the confirmation e-mails.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from email.message import EmailMessage

import pytest

HOTEL_SITE = "https://www.hotel-des-alpes.fr"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        return list(self.messages)

    def text(self, message: EmailMessage) -> str:
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        return body.get_content()

    def link(self, message: EmailMessage) -> str:
        found = re.search(r"https?://\S+/f/confirmer/\S+/", self.text(message))
        assert found, self.text(message)
        return found.group(0)


def smtp_mailer(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@pytest.fixture
def mailbox(settings):
    from aiosmtpd.controller import Controller

    box = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd cannot start on port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = smtp_mailer(controller.port)
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def hotel_forms(destination):
    from cordee.channels.models import FormKind, PublicForm, SiteOrigin

    SiteOrigin.objects.create(partner=destination.hotel, origin=HOTEL_SITE)
    return {
        "newsletter": PublicForm.objects.create(
            partner=destination.hotel,
            slug="hotel-lettre",
            kind=FormKind.NEWSLETTER,
            title_fr="La lettre de l'Hôtel des Alpes",
            title_en="The Hôtel des Alpes letter",
        ),
        "contest": PublicForm.objects.create(
            partner=destination.hotel,
            slug="hotel-jeu",
            kind=FormKind.CONTEST,
            title_fr="Gagnez un week-end",
            rules_fr="Article 1 : un gagnant tiré au sort.",
        ),
        "questionnaire": PublicForm.objects.create(
            partner=destination.hotel,
            slug="hotel-envies",
            kind=FormKind.QUESTIONNAIRE,
            title_fr="Vos envies de séjour",
        ),
    }


@pytest.fixture
def submit(client):
    """Fetch the form (its signed token) and post the answers, like a browser would."""

    def post(form, data: dict, **extra):
        page = client.get(f"/f/{form.slug}/", {"page": HOTEL_SITE + "/reserver?x=1"})
        token = re.search(rb'name="token" value="([^"]+)"', page.content).group(1).decode()
        body = {"token": token, "page": HOTEL_SITE + "/reserver?x=1", **data}
        return client.post(f"/f/{form.slug}/", body, **extra)

    return post


@pytest.fixture
def purposes(db):
    """The purposes and wordings seeded by the privacy migration (flushed by transactional tests)."""
    import importlib

    from django.apps import apps

    seed = importlib.import_module("cordee.privacy.migrations.0003_seed_purposes").seed
    seed(apps, None)
