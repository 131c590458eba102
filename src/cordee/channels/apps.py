from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "cordee.channels"
    verbose_name = _("Canaux")

    def ready(self) -> None:
        # Outbound webhooks listen to the events of cordee.core.signals; the periodic jobs
        # (feeds, webhook retries, expired sign-ups) are registered with Huey's scheduler.
        from cordee.channels import periodic, receivers

        receivers.connect()
        periodic.register()
