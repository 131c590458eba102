"""Middleware that only browser pages need, skipped for the REST API.

The API (``/api/v1/``) authenticates every call with a key, trusts no cookie and answers
JSON: sessions, CSRF, the signed-in user, the staff's second factor, flash messages and
htmx headers have nothing to do there, and on a one-activity POST they cost as much CPU as
the health check's whole request. Each class here is Django's (or Cordée's) middleware,
unchanged for every other address; subclasses, so that Django's checks still find them.
The security headers, locale, common and CSP middleware still run for the API.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.middleware.csrf import CsrfViewMiddleware
from django_htmx.middleware import HtmxMiddleware

from cordee.privacy.mfa import MFAMiddleware

API_PREFIX = "/api/v1/"


class _BrowserOnly:
    get_response: Any

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            response: HttpResponse = self.get_response(request)
            return response
        return super().__call__(request)  # type: ignore[misc]


class BrowserSessionMiddleware(_BrowserOnly, SessionMiddleware):
    pass


class BrowserCsrfViewMiddleware(_BrowserOnly, CsrfViewMiddleware):
    def process_view(
        self, request: HttpRequest, callback: Any, callback_args: Any, callback_kwargs: Any
    ) -> HttpResponseForbidden | None:
        if request.path_info.startswith(API_PREFIX):
            return None  # every API view is CSRF-exempt: no cookie is trusted there
        return super().process_view(request, callback, callback_args, callback_kwargs)


class BrowserAuthenticationMiddleware(_BrowserOnly, AuthenticationMiddleware):
    pass


class BrowserMFAMiddleware(_BrowserOnly, MFAMiddleware):
    pass


class BrowserMessageMiddleware(_BrowserOnly, MessageMiddleware):
    pass


class BrowserHtmxMiddleware(_BrowserOnly, HtmxMiddleware):
    pass
