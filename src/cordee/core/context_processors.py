from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def cordee(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    authenticated = bool(user and user.is_authenticated)
    return {
        "current_partner": user.partner if authenticated else None,  # type: ignore[union-attr]
        "can_manage_partners": authenticated and user.can_manage_partners,  # type: ignore[union-attr]
        "can_import": authenticated and user.can_import,  # type: ignore[union-attr]
        "can_read_register": authenticated and user.can_read_register,  # type: ignore[union-attr]
    }
