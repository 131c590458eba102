"""The campaigns' settings, each with a default: settings.py need not know them.

CORDEE_PUBLIC_URL              where recipients reach Cordée (links in mails): https://crm.example
CORDEE_PRESSURE_CAP            messages a person receives per 7 days, all senders together (3)
CORDEE_CAMPAIGN_RATE           messages per second per worker, 0 for no limit (0)
CORDEE_CAMPAIGN_BATCH          recipients claimed at once (200)
CORDEE_CAMPAIGN_LEASE          seconds after which a claim by a silent worker is taken back (300)
CORDEE_SMTP_CONNECTIONS       SMTP connections a worker keeps open, one message on each at a time (8)
CORDEE_CAMPAIGN_RETRIES        attempts on transient SMTP errors before a row fails (5)
CORDEE_SMS_BACKEND             dotted path of the SMS backend (console)
CORDEE_SMS_QUIET_HOURS         "21-8": no SMS from 21:00 to 08:00, destination time
CORDEE_SMS_INBOUND_TOKEN       shared secret the SMS provider puts in its inbound webhook URL
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings


def setting(name: str, default: Any) -> Any:
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    if raw is None:
        return default
    return type(default)(raw) if not isinstance(default, str) else raw


def public_url() -> str:
    return str(setting("CORDEE_PUBLIC_URL", "http://localhost:8000")).rstrip("/")


def pressure_cap() -> int:
    return int(setting("CORDEE_PRESSURE_CAP", 3))


def send_rate() -> float:
    return float(setting("CORDEE_CAMPAIGN_RATE", 0.0))


def batch_size() -> int:
    return max(1, int(setting("CORDEE_CAMPAIGN_BATCH", 200)))


def claim_lease() -> int:
    return int(setting("CORDEE_CAMPAIGN_LEASE", 300))


def smtp_connections() -> int:
    return max(1, int(setting("CORDEE_SMTP_CONNECTIONS", 8)))


def max_attempts() -> int:
    return int(setting("CORDEE_CAMPAIGN_RETRIES", 5))


def quiet_hours() -> tuple[int, int] | None:
    raw = str(setting("CORDEE_SMS_QUIET_HOURS", "21-8")).strip()
    if not raw:
        return None
    start, _sep, end = raw.partition("-")
    return int(start), int(end)


def provider_metadata_headers(delivery_id: int) -> dict[str, str]:
    """Headers a provider's SMTP relay turns into event metadata, so that its webhooks name
    the ledger row (``cordee_delivery``) rather than leave us to match by address."""
    name = str(setting("CORDEE_EMAIL_PROVIDER", "")).strip().lower()
    if not delivery_id:
        return {}
    if name == "postmark":
        return {"X-PM-Metadata-cordee_delivery": str(delivery_id)}
    if name == "mailgun":
        return {"X-Mailgun-Variables": f'{{"cordee_delivery": "{delivery_id}"}}'}
    return {}
