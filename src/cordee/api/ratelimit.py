"""Requests per API key and per period: a fixed-window counter in Django's cache.

``CORDEE_API_RATE`` (setting or environment) reads ``600/min``; also ``/s``, ``/h``.
A fixed window lets a client burst up to twice the rate across a window's edge: acceptable
for protecting the server, and the counter is one atomic ``incr`` (locmem, Redis, memcached).
With the default local-memory cache each server process counts on its own: put a shared
cache (Redis) in CACHES when several processes serve the API.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

DEFAULT_RATE = "600/min"
_PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
}


@dataclass(frozen=True)
class Rate:
    requests: int
    seconds: int


def parse_rate(text: str) -> Rate:
    count, _sep, period = text.strip().partition("/")
    seconds = _PERIODS.get(period.strip().lower() or "min")
    if seconds is None or not count.strip().isdigit():
        raise ValueError(f"CORDEE_API_RATE: {text!r} is not like 600/min")
    return Rate(int(count), seconds)


def configured_rate() -> Rate:
    text = getattr(settings, "CORDEE_API_RATE", None) or os.environ.get(
        "CORDEE_API_RATE", DEFAULT_RATE
    )
    return parse_rate(text)


def hit(bucket: str, rate: Rate | None = None) -> float | None:
    """Count one request; None when allowed, else the seconds to wait for the next window."""
    rate = rate or configured_rate()
    if rate.requests <= 0:
        return None
    now = time.time()
    window = int(now // rate.seconds)
    key = f"cordee:api-rate:{bucket}:{rate.seconds}:{window}"
    cache.add(key, 0, timeout=rate.seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=rate.seconds + 1)
        count = 1
    if count <= rate.requests:
        return None
    return (window + 1) * rate.seconds - now
