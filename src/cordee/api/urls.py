"""/api/v1/: ninja's views behind the request guard, and JSON for any other address."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, re_path

from cordee.api.guard import api_view, not_found
from cordee.api.main import api

app_name = "api"


def _guarded() -> list[URLPattern | URLResolver]:
    patterns, _app, _namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = api_view(pattern.callback)
    return patterns


urlpatterns = [*_guarded(), re_path(r"^.*$", not_found, name="not-found")]
