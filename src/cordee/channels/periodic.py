"""Huey's scheduler runs the channels' periodic work every minute in ``cordee worker``."""

from __future__ import annotations

from django.conf import settings


def register() -> None:
    if "HueyBackend" not in settings.TASKS["default"]["BACKEND"]:
        return  # immediate backend (tests, one-off commands): run `cordee feeds poll` instead
    from huey import crontab

    from cordee.core.tasks_backend import get_huey

    def channels_every_minute() -> None:
        from cordee.channels.tasks import channels_periodic

        channels_periodic.call()

    get_huey().periodic_task(crontab(minute="*"), name="cordee.channels_periodic")(
        channels_every_minute
    )
