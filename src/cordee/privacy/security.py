"""Sign-in protection: failed attempts counted per IP and per username, in Django's cache.

Five failures for one username, or thirty from one address, within fifteen minutes block
further attempts for the rest of the window (``CORDEE_LOGIN_LIMITS`` = "5,30,900" changes
them). A success clears the username's counter. The block answers 429 with the login form and
a clear message, and leaves an audit row; it never says whether the username exists.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log, client_ip


def login_limits() -> tuple[int, int, int]:
    text = str(getattr(settings, "CORDEE_LOGIN_LIMITS", "5,30,900"))
    per_user, per_ip, window = (int(part) for part in text.split(","))
    return per_user, per_ip, window


def _key(kind: str, value: str) -> str:
    # Hashed: a cache key must not be arbitrary user input (length, control characters).
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return f"cordee:login-fail:{kind}:{digest}"


def _count(key: str) -> int:
    return int(cache.get(key) or 0)


def login_blocked(*, ip: str, username: str) -> bool:
    per_user, per_ip, _window = login_limits()
    return _count(_key("user", username)) >= per_user or _count(_key("ip", ip)) >= per_ip


def login_failed(*, ip: str, username: str) -> None:
    _per_user, _per_ip, window = login_limits()
    for key in (_key("user", username), _key("ip", ip)):
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:
            cache.add(key, 1, timeout=window)


def login_succeeded(*, username: str) -> None:
    cache.delete(_key("user", username))


class GuardedLoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = (request.POST.get("username") or "")[:150].strip().lower()
        ip = client_ip(request) or "-"
        if login_blocked(ip=ip, username=username):
            audit_log(actor=Actor.system("login"), action="login.blocked", ip=client_ip(request))
            form = self.get_form()
            form.is_bound = False  # show the form again without checking the password
            response = self.render_to_response(
                self.get_context_data(
                    form=form,
                    blocked=_("Trop de tentatives de connexion : réessayez dans quelques minutes."),
                )
            )
            response.status_code = 429
            return response
        response = super().post(request, *args, **kwargs)
        if response.status_code == 302:
            login_succeeded(username=username)
        else:
            login_failed(ip=ip, username=username)
        return response
