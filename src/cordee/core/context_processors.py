from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cordee.customers.desk import may_enter_customers


def cordee(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    authenticated = bool(user and user.is_authenticated)
    return {
        "current_partner": user.partner if authenticated else None,  # type: ignore[union-attr]
        "can_manage_partners": authenticated and user.can_manage_partners,  # type: ignore[union-attr]
        "can_import": authenticated and user.can_import,  # type: ignore[union-attr]
        "can_enter_customers": authenticated and may_enter_customers(user),  # type: ignore[arg-type]
        "can_read_register": authenticated and user.can_read_register,  # type: ignore[union-attr]
    }
