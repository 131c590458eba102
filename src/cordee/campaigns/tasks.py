from __future__ import annotations

import datetime as dt

from django.tasks import default_task_backend, task
from django.utils import timezone

from cordee.campaigns.models import Campaign, CampaignState
from cordee.campaigns.sending import campaign_send_run, campaign_start
from cordee.privacy.access import Actor


@task()
def campaign_send(campaign_id: int) -> None:
    """Send a campaign in the background; run it again later if it had to stop early."""
    report = campaign_send_run(campaign_id=campaign_id)
    later = report.deferred_until or (
        timezone.now() + dt.timedelta(minutes=5) if report.errors else None
    )
    still_sending = Campaign.objects.filter(pk=campaign_id, state=CampaignState.SENDING).exists()
    if later and still_sending and default_task_backend.supports_defer:
        campaign_send.using(run_after=later).enqueue(campaign_id)


@task()
def campaign_start_scheduled(campaign_id: int) -> None:
    """A scheduled campaign's time has come: take the snapshot then, and send."""
    campaign = Campaign.objects.select_related("purpose").get(pk=campaign_id)
    if campaign.state != CampaignState.SCHEDULED:
        return  # cancelled, or started by hand or by ``cordee campaign dispatch``
    if campaign.scheduled_at and campaign.scheduled_at > timezone.now():
        return
    campaign_start(campaign=campaign, actor=Actor.system("planificateur"))
    campaign_send.enqueue(campaign_id)
    from cordee.campaigns.services import winner_schedule

    winner_schedule(campaign)


@task()
def campaign_winner_auto(campaign_id: int) -> None:
    """An A/B test's delay is over: pick the winner by the metric and send it to the rest.

    Does nothing if the winner was already chosen (by the marketer, or another worker)."""
    from cordee.campaigns.abtest import campaign_winner_pick, winner_due_at

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or not campaign.winner_auto or campaign.winner_id is not None:
        return
    due = winner_due_at(campaign)
    if due is None or due > timezone.now():
        return
    campaign_winner_pick(campaign=campaign, actor=Actor.system("test A/B"))
