"""The rules' knobs, documented in docs/segments.md; a destination overrides them in settings.

``CORDEE_SEGMENTS = {"window": 3, "loyal_min": 2, ...}`` replaces the defaults key by key.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The 3F window: the last N seasons of the same kind, the reference season included.
    "window": 3,
    # Fidèle (or forcé): came in at least this many seasons of the window.
    "loyal_min": 2,
    # Dissatisfied: average satisfaction (0–10) over the window at most this...
    "dissatisfied_max": 6.0,
    # ...or at least this many complaints in the window.
    "complaints_min": 1,
    # An activity is "constrained" (group trip, business trip, captive customer) when its
    # details carry one of these motives: {"motive": "business"}.
    "constrained_motives": ["group", "business", "captive", "groupe", "affaires", "captif"],
    # How many seasons of each kind get a typology (the flow view and churn training need 2+).
    "history": 3,
    # "YYYY-MM-DD" to fix the date that decides the reference season (benchmarks, demos).
    "today": None,
    # RFM in quintiles.
    "rfm_tiles": 5,
}


def segments_config() -> dict[str, Any]:
    return {**DEFAULTS, **getattr(settings, "CORDEE_SEGMENTS", {})}
