"""Sending through an e-mail provider's HTTP API (django-anymail) instead of SMTP.

With ``CORDEE_EMAIL_PROVIDER`` (brevo, mailgun, mailjet, postmark, sendgrid, sparkpost) AND
``CORDEE_EMAIL_PROVIDER_API_KEY`` set, campaigns go out through that provider's send API;
with the provider alone, through its SMTP relay (``CORDEE_EMAIL_URL``) as before, the
webhooks working either way. ``CORDEE_EMAIL_PROVIDER_API_URL`` overrides the API's base URL
(an EU endpoint, a proxy, a test server). Mailjet's key is ``API_KEY:SECRET_KEY``.

Each mail carries ``cordee_delivery`` as provider metadata and the ledger keeps the
provider's message id (``Delivery.message_id``): the provider's webhooks find the row by
either. The provider's own open and click tracking is switched off per message (Brevo: in
the account's settings, its API has no such switch): only ours, which asks for consent, runs.

An HTTP API has no "final dot" to hold back (see ``mailer``): the row is marked sent before
the call (conditional on the claim) and put back if the provider refuses. A worker killed
during the call leaves a row marked sent without a provider id: at most once, never twice.
"""

from __future__ import annotations

from typing import Any

from anymail.exceptions import (
    AnymailError,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
)
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string

from cordee.campaigns.conf import setting
from cordee.campaigns.mailer import PermanentError, RejectedError, TransientError

# provider -> (anymail backend, the backend's name for the key)
API_BACKENDS: dict[str, tuple[str, str]] = {
    "brevo": ("anymail.backends.brevo.EmailBackend", "api_key"),
    "mailgun": ("anymail.backends.mailgun.EmailBackend", "api_key"),
    "mailjet": ("anymail.backends.mailjet.EmailBackend", "api_key"),
    "postmark": ("anymail.backends.postmark.EmailBackend", "server_token"),
    "sendgrid": ("anymail.backends.sendgrid.EmailBackend", "api_key"),
    "sparkpost": ("anymail.backends.sparkpost.EmailBackend", "api_key"),
}

# Providers whose own tracking is set for the account, not per message: switch it off there.
ACCOUNT_TRACKING = {"brevo"}


def api_provider() -> str:
    """The provider whose API sends campaigns, or "" (SMTP)."""
    name = str(setting("CORDEE_EMAIL_PROVIDER", "")).strip().lower()
    key = str(setting("CORDEE_EMAIL_PROVIDER_API_KEY", "")).strip()
    return name if name in API_BACKENDS and key else ""


def api_connection(name: str, timeout: float = 30.0) -> Any:
    backend, key_name = API_BACKENDS[name]
    key = str(setting("CORDEE_EMAIL_PROVIDER_API_KEY", "")).strip()
    kwargs: dict[str, Any] = {"fail_silently": False, "timeout": timeout}
    if name == "mailjet":
        kwargs["api_key"], _sep, kwargs["secret_key"] = key.partition(":")
    else:
        kwargs[key_name] = key
    url = str(setting("CORDEE_EMAIL_PROVIDER_API_URL", "")).strip()
    if url:
        kwargs["api_url"] = url
    return import_string(backend)(**kwargs)


class ApiSession:
    """One provider connection (an HTTP keep-alive session) for a worker's run."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.connection = api_connection(name)
        self.connection.open()

    def close(self) -> None:
        self.connection.close()

    def send(
        self,
        *,
        sender: str,
        to: str,
        subject: str,
        text: str,
        html: str,
        delivery_id: int,
        headers: dict[str, str],
    ) -> str:
        """The provider's message id; PermanentError, RejectedError or TransientError."""
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=sender,
            to=[to],
            headers=headers,
            connection=self.connection,
        )
        message.attach_alternative(html, "text/html")
        message.metadata = {"cordee_delivery": str(delivery_id)}  # type: ignore[attr-defined]
        if self.name not in ACCOUNT_TRACKING:
            message.track_opens = False  # type: ignore[attr-defined]
            message.track_clicks = False  # type: ignore[attr-defined]
        try:
            message.send()
        except AnymailRecipientsRefused as exc:
            raise PermanentError(f"{self.name} : destinataire refusé ({exc})"[:200]) from None
        except AnymailRequestsAPIError as exc:
            status = exc.status_code
            detail = f"{self.name} : {status or 'pas de réponse'} {exc.response.text if exc.response is not None else exc}"
            if status is None or status >= 500 or status == 429:
                raise TransientError(detail[:200]) from None
            raise RejectedError(detail[:200]) from None
        except AnymailError as exc:
            raise RejectedError(f"{self.name} : {exc}"[:200]) from None
        status = message.anymail_status  # type: ignore[attr-defined]
        recipient = status.recipients.get(to.lower()) or next(
            iter(status.recipients.values()), None
        )
        if recipient is not None and recipient.status in ("rejected", "invalid"):
            raise PermanentError(f"{self.name} : destinataire refusé ({recipient.status})")
        message_id = (recipient.message_id if recipient is not None else None) or status.message_id
        return str(message_id or "")[:120]
