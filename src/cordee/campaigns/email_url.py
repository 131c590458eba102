"""``CORDEE_EMAIL_URL`` → Django's EMAIL_* settings. Pure (settings.py imports it).

``smtp://host:port`` (plain, STARTTLS when the URL says ``?starttls=1``),
``smtps://user:password@host:port`` (TLS from the first byte). User and password are
percent-decoded, so a password may hold ``@`` or ``:`` written ``%40`` and ``%3A``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class EmailURLError(ValueError):
    pass


def email_settings(url: str) -> dict[str, Any]:
    if not url:
        return {"EMAIL_HOST": "localhost", "EMAIL_PORT": 25}
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
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if ssl else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": ssl,
        "EMAIL_USE_TLS": not ssl and query.get("starttls", ["0"])[0] in {"1", "true"},
    }
