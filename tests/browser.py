"""What the browser stories share: Debian's Chromium through Playwright, one tab per story
that collects console errors, full-page screenshots for a person to look at, and signing in
through the real login form.

The fixtures ``chromium`` and ``visit`` built on this live in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
PASSWORD = "une-corde-solide-2026"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@contextmanager
def chromium_launched() -> Iterator[object]:
    """Chromium for the length of the block; skipped (failed on CI) when it is not installed."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI runs these tests")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # (fixtures, assertions) are plain synchronous code all the same.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def tab(browser, **options) -> tuple[object, object, list[str]]:
    """A new context and page (French unless told otherwise) and the list its errors go to."""
    options.setdefault("locale", "fr-FR")
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll ``check`` (a read of the database) until it holds, while the live server writes.

    The test and the live server share one in-memory SQLite database in shared-cache mode,
    where a read that meets the server's write lock fails at once ("database table is
    locked") instead of waiting: such a read is tried again."""
    from django.db import OperationalError

    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return True
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def shot(page, name: str) -> Path:
    """A full-page screenshot under test-artifacts/screenshots/ (``name`` may hold a folder)."""
    path = SHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, base_url: str, user) -> None:
    """Sign ``user`` in through the login form; lands on the customer list."""
    user.set_password(PASSWORD)
    user.save()
    page.goto(base_url + "/connexion/")
    page.get_by_label("Identifiant").fill(user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/clients/$"))


@dataclass
class Visit:
    """One browser tab on the live server, with the console errors it collected."""

    page: object
    base_url: str
    errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def shot(self, name: str) -> Path:
        return shot(self.page, name)

    def sign_in(self, user) -> None:
        sign_in(self.page, self.base_url, user)
