from __future__ import annotations

from django.tasks import task


@task()
def breach_notify_task(breach_id: int, subject: str, body: str, user_id: int) -> int:
    """Send a breach's message to the people it touches, in the background; returns how many."""
    from cordee.partners.models import User
    from cordee.privacy.access import Actor
    from cordee.privacy.breaches import breach_people_notify
    from cordee.privacy.models import Breach

    breach = Breach.objects.get(pk=breach_id)
    actor = Actor.for_user(User.objects.get(pk=user_id))
    return breach_people_notify(breach, subject=subject, body=body, actor=actor).sent
