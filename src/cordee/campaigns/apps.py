from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "cordee.campaigns"
    verbose_name = _("Campagnes")

    def ready(self) -> None:
        # A withdrawal stops what is still queued for the person (send time re-checks anyway).
        from cordee.campaigns import receivers  # noqa: F401
