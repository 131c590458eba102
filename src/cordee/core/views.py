from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django_htmx.middleware import HtmxDetails

from cordee.partners.models import User

logger = logging.getLogger(__name__)


class SignedInRequest(HttpRequest):
    """A request as the views behind LoginRequiredMiddleware see it (for the type checker)."""

    user: User
    htmx: HtmxDetails


def home(request: HttpRequest) -> HttpResponseRedirect:
    return redirect("customers:list")


@login_not_required
@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """For load balancers and monitoring: 200 "ok" when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: the database does not answer")
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
