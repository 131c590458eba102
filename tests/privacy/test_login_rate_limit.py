"""Someone tries to guess Camille's password: after five failures the door stays shut a while."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from cordee.privacy.models import AuditEvent

PASSWORD = "une-corde-solide-2026"


@pytest.fixture(autouse=True)
def _setup(destination):
    cache.clear()
    for user in (destination.camille, destination.helene):
        user.set_password(PASSWORD)
        user.save()
    yield
    cache.clear()


def attempt(client, username, password, ip="10.0.0.1"):
    return client.post("/connexion/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_failures_block_the_username_even_with_the_right_password(client):
    for _ in range(5):
        assert attempt(client, "camille", "mauvais").status_code == 200
    blocked = attempt(client, "camille", PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login.blocked").count() == 1


def test_the_block_is_per_username_case_insensitive(client):
    for _ in range(5):
        attempt(client, "CAMILLE", "mauvais", ip="10.0.0.2")
    assert attempt(client, "camille", PASSWORD, ip="10.0.0.3").status_code == 429
    assert attempt(client, "helene", PASSWORD, ip="10.0.0.3").status_code == 302


def test_thirty_failures_from_one_address_block_that_address(client, settings):
    settings.CORDEE_LOGIN_LIMITS = "100,30,900"
    for n in range(30):
        attempt(client, f"user{n}", "x", ip="10.9.9.9")
    assert attempt(client, "helene", PASSWORD, ip="10.9.9.9").status_code == 429
    assert attempt(client, "helene", PASSWORD, ip="10.9.9.8").status_code == 302


def test_a_success_clears_the_usernames_counter(client):
    for _ in range(4):
        attempt(client, "camille", "mauvais")
    assert attempt(client, "camille", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "camille", "mauvais").status_code == 200
    assert attempt(client, "camille", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "username", ["x" * 10_000, "<script>alert(1)</script>", "' OR 1=1 --", "\x00\x01", "é" * 200]
)
def test_hostile_usernames_are_counted_and_refused_without_error(client, username):
    for _ in range(6):
        response = attempt(client, username, "x")
        assert response.status_code in (200, 429)
    assert response.status_code == 429
