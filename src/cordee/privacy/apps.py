from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


def _field_keys_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """The field encryption keys can be read (a malformed CORDEE_FIELD_KEYS stops here)."""
    from cordee.privacy.encryption import FieldKeyError, keyring

    try:
        keyring()
    except FieldKeyError as exc:
        return [checks.Error(str(exc), id="cordee.E001")]
    return []


class PrivacyConfig(AppConfig):
    name = "cordee.privacy"
    verbose_name = _("Protection des données")

    def ready(self) -> None:
        checks.register(_field_keys_check, checks.Tags.security)
