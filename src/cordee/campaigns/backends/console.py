"""The default SMS backend: writes each SMS to the log (and keeps the last ones for tests)."""

from __future__ import annotations

import logging
import secrets
from collections import deque

logger = logging.getLogger("cordee.sms")

# The last messages "sent", newest last: what a test or the demo can look at.
OUTBOX: deque[tuple[str, str, str]] = deque(maxlen=1000)


class ConsoleSmsBackend:
    def send(self, *, to: str, text: str, sender: str) -> str:
        message_id = "console-" + secrets.token_hex(8)
        OUTBOX.append((to, sender, text))
        logger.info("SMS %s from %s to …%s: %s", message_id, sender, to[-2:], len(text))
        return message_id
