"""SMS backends, chosen by CORDEE_SMS_BACKEND (a dotted path to a class with ``send``).

A backend sends one text to one E.164 number and returns the provider's message id, or raises
``TransientError`` (try again later) or ``PermanentError`` (this number will not take SMS).
"""

from __future__ import annotations

from functools import cache
from typing import Protocol

from django.utils.module_loading import import_string

from cordee.campaigns.conf import setting


class SmsBackend(Protocol):
    def send(self, *, to: str, text: str, sender: str) -> str: ...


@cache
def _backend_class(path: str) -> type[SmsBackend]:
    return import_string(path)  # type: ignore[no-any-return,unused-ignore]


def sms_backend() -> SmsBackend:
    path = str(setting("CORDEE_SMS_BACKEND", "cordee.campaigns.backends.console.ConsoleSmsBackend"))
    return _backend_class(path)()
