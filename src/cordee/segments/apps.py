from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "cordee.segments"
    verbose_name = _("Segments")

    def ready(self) -> None:
        from cordee.segments import receivers  # noqa: F401  (connects the signal receivers)
        from cordee.segments.refresh import register_sweep

        register_sweep()
