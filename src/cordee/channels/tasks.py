from __future__ import annotations

from django.tasks import task


@task()
def webhook_deliver(delivery_id: int) -> None:
    """Send one webhook delivery; a failure schedules its retry (see channels.webhooks)."""
    from cordee.channels.webhooks import delivery_attempt

    delivery_attempt(delivery_id=delivery_id)


@task()
def webhooks_sweep() -> None:
    """Send every due delivery (after an event about many customers at once)."""
    from cordee.channels.webhooks import deliveries_retry_due

    deliveries_retry_due()


@task()
def channels_periodic() -> None:
    """The channels' periodic work: drop folders, webhook retries, expired sign-ups, old views."""
    from cordee.channels.cookies import page_views_purge
    from cordee.channels.entries import entries_expire
    from cordee.channels.feeds import feeds_poll
    from cordee.channels.webhooks import deliveries_retry_due

    feeds_poll()
    deliveries_retry_due()
    entries_expire()
    page_views_purge()
