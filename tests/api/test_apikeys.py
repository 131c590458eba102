"""API keys: shown once, stored as a keyed hash, scoped, revocable — from the CLI and over HTTP."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cordee.partners.apikeys import api_key_create, api_key_for_token, api_key_revoke
from cordee.partners.models import APIKey
from cordee.privacy.access import Actor
from cordee.privacy.models import AuditEvent


def test_only_a_keyed_hash_of_the_key_is_stored(destination):
    key, text = api_key_create(
        partner=destination.hotel, scopes=["customers:read"], actor=Actor.system("test")
    )
    prefix, secret = text.split("_", 2)[1:]
    assert text.startswith(f"cdk_{key.prefix}_") and prefix == key.prefix
    stored = APIKey.objects.values().get(pk=key.pk)
    assert all(secret not in str(value) for value in stored.values())
    assert api_key_for_token(text) == key
    assert api_key_for_token(text[:-1] + ("A" if text[-1] != "A" else "B")) is None
    assert AuditEvent.objects.filter(action="apikey.create", object_id=str(key.pk)).exists()


def test_cli_creates_lists_and_revokes_a_key(destination):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "apikey",
        "create",
        "--partner",
        "hotel-des-alpes",
        "--scopes",
        "customers:read",
        "--name",
        "réservation",
        stdout=out,
        stderr=err,
    )
    text = out.getvalue().strip()
    assert text.startswith("cdk_")
    assert "plus jamais affichée" in err.getvalue()
    key = api_key_for_token(text)
    assert key is not None and key.scopes == ["customers:read"] and key.name == "réservation"

    listing = io.StringIO()
    call_command("apikey", "list", "--partner", "hotel-des-alpes", stdout=listing)
    lines = listing.getvalue().splitlines()
    assert lines[0].startswith("prefix\tpartner") and lines[1].startswith(
        f"{key.prefix}\thotel-des-alpes"
    )
    assert text.split("_", 2)[2] not in listing.getvalue()

    call_command("apikey", "revoke", key.prefix, stdout=io.StringIO())
    assert api_key_for_token(text) is None


def test_cli_refuses_unknown_partner_and_scope(destination):
    with pytest.raises(CommandError, match="Partenaire inconnu"):
        call_command("apikey", "create", "--partner", "nulle-part", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Droit inconnu"):
        call_command(
            "apikey", "create", "--partner", "hotel-des-alpes", "--scopes", "customers:delete",
            stdout=io.StringIO(),
        )  # fmt: skip


def test_wrong_missing_or_malformed_key_is_401_json(client, hotel, db):
    for header in (
        None,
        "Bearer",
        "Bearer cdk_nope_nope",
        "Basic abc",
        f"Bearer {hotel.key}x",
        "Bearer " + "x" * 5000,
    ):
        headers = {"Authorization": header} if header else {}
        response = client.get("/api/v1/customers", headers=headers)
        assert response.status_code == 401, header
        assert response["Content-Type"].startswith("application/json")
        assert "Clé d'API" in response.json()["detail"]
        assert response["WWW-Authenticate"] == "Bearer"


def test_revoked_key_is_refused(hotel, destination):
    assert hotel.get("/api/v1/customers").status_code == 200
    key = api_key_for_token(hotel.key)
    assert key is not None
    api_key_revoke(key=key, actor=Actor.for_user(destination.camille))
    response = hotel.get("/api/v1/customers")
    assert response.status_code == 401


def test_key_of_an_inactive_partner_is_refused(hotel, destination):
    destination.hotel.is_active = False
    destination.hotel.save()
    assert hotel.get("/api/v1/customers").status_code == 401


def test_read_only_key_cannot_write_and_write_only_key_cannot_read(make_key, destination):
    reader = make_key(destination.hotel, scopes=["customers:read"])
    writer = make_key(destination.hotel, scopes=["customers:write"])
    refused = reader.post("/api/v1/customers", {"last_name": "Martin"})
    assert refused.status_code == 403
    assert "customers:write" in refused.json()["detail"]
    assert writer.post("/api/v1/customers", {"last_name": "Martin"}).status_code == 201
    assert writer.get("/api/v1/customers").status_code == 403
    assert writer.get("/api/v1/customers/lookup", email="a@b.fr").status_code == 403
    assert reader.get("/api/v1/customers").status_code == 200


def test_last_use_is_recorded(hotel):
    key = APIKey.objects.get()
    assert key.last_used_at is None
    hotel.get("/api/v1/customers")
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_key_used_before_is_checked_again_on_every_request(hotel, destination):
    """The server keeps the key it built last time, but only while its row is unchanged."""
    from cordee.partners.models import Partner

    prefix = hotel.key.split("_")[1]
    assert hotel.get("/api/v1/customers").status_code == 200  # known to the process now
    APIKey.objects.filter(prefix=prefix).update(scopes=["activities:write"])
    assert hotel.get("/api/v1/customers").status_code == 403
    APIKey.objects.filter(prefix=prefix).update(scopes=["customers:read"])
    assert hotel.get("/api/v1/customers").status_code == 200
    Partner.objects.filter(pk=destination.hotel.pk).update(is_active=False)
    assert hotel.get("/api/v1/customers").status_code == 401
    Partner.objects.filter(pk=destination.hotel.pk).update(is_active=True)
    assert hotel.get("/api/v1/customers").status_code == 200
    APIKey.objects.filter(prefix=prefix).update(revoked_at=timezone.now())
    assert hotel.get("/api/v1/customers").status_code == 401
    APIKey.objects.filter(prefix=prefix).delete()
    assert hotel.get("/api/v1/customers").status_code == 401
