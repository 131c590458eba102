"""``CORDEE_EMAIL_URL`` → Django's ``MAILERS["default"]``. Pure (settings.py imports it).

``smtp://host:port`` (plain, STARTTLS when the URL says ``?starttls=1``),
``smtps://user:password@host:port`` (TLS from the first byte). User and password are
percent-decoded, so a password may hold ``@`` or ``:`` written ``%40`` and ``%3A``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class EmailURLError(ValueError):
    pass


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def email_mailer(url: str) -> dict[str, Any]:
    """A MAILERS entry: Django's own mail and the campaigns' sender both read its OPTIONS."""
    return {"BACKEND": SMTP_BACKEND, "OPTIONS": smtp_options(url)}


def smtp_options(url: str) -> dict[str, Any]:
    if not url:
        return {"host": "localhost", "port": 25}
    parts = urlsplit(url.strip())
    if parts.scheme not in {"smtp", "smtps"}:
        raise EmailURLError(f"CORDEE_EMAIL_URL: scheme must be smtp or smtps, not {parts.scheme!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise EmailURLError(f"CORDEE_EMAIL_URL: bad port ({exc})") from None
    if not parts.hostname:
        raise EmailURLError("CORDEE_EMAIL_URL: no host")
    ssl = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    return {
        "host": parts.hostname,
        "port": port or (465 if ssl else 25),
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "use_ssl": ssl,
        "use_tls": not ssl and query.get("starttls", ["0"])[0] in {"1", "true"},
    }
