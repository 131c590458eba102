"""Hostile and broken requests get a clear 4xx in JSON, never a 500, and store nothing harmful."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from cordee.customers.models import Customer, SourceRecord


def post_raw(
    key_client,
    body: bytes | str,
    content_type: str = "application/json",
    path: str = "/api/v1/customers",
):
    return key_client.client.generic(
        "POST", path, body, content_type=content_type, headers=key_client.headers()
    )


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    return body


def test_html_and_script_in_names_are_stored_harmless(hotel):
    body = {
        "first_name": "<script>alert(1)</script>",
        "last_name": '<img src=x onerror="alert(2)">Durand',
    }
    response = hotel.post("/api/v1/customers", body)
    assert response.status_code == 201
    customer = Customer.objects.get()
    assert "<" not in customer.first_name + customer.last_name
    assert response["Content-Type"].startswith("application/json")


def test_sql_in_values_is_just_text(hotel):
    body = {"last_name": "Robert'); DROP TABLE customers_customer;--", "city": "' OR '1'='1"}
    response = hotel.post("/api/v1/customers", body)
    assert response.status_code == 201
    assert "Drop Table" in response.json()["customer"]["last_name"]
    assert "customers_customer" in connection.introspection.table_names()
    assert hotel.get("/api/v1/customers/lookup", email="x' OR '1'='1@b.fr").status_code in (
        200,
        422,
    )


def test_header_injection_in_an_email_is_refused(hotel):
    response = hotel.post(
        "/api/v1/customers", {"last_name": "Durand", "email": "a@b.fr\r\nBcc: x@y.fr"}
    )
    assert response.status_code == 201
    assert [w["field"] for w in response.json()["warnings"]] == ["email"]
    assert Customer.objects.get().email == ""
    alone = hotel.post("/api/v1/customers", {"email": "a@b.fr\r\nBcc: x@y.fr"})
    assert_json_error(alone, 422)


def test_unicode_and_emoji_survive(hotel):
    body = {"first_name": "Zoë 🎿", "last_name": "Łukasiewicz-Ångström", "city": "Saint-Étienne"}
    response = hotel.post("/api/v1/customers", body)
    assert response.status_code == 201
    assert response.json()["customer"]["last_name"] == "Łukasiewicz-Ångström"


def test_control_characters_are_removed_from_the_golden_record(hotel):
    response = hotel.post(
        "/api/v1/customers", {"last_name": "Du\x07rand\x1b[31m", "city": "Anne\x0bcy"}
    )
    assert response.status_code == 201
    customer = Customer.objects.get()
    assert not any(ord(ch) < 32 for ch in customer.last_name + customer.city)


@pytest.mark.parametrize("value", ["Du\x00rand", "\ud800"])
def test_characters_no_database_can_store_are_refused(hotel, value):
    body = json.dumps({"last_name": value})  # escapes: \u0000 and a lone surrogate
    assert_json_error(post_raw(hotel, body), 422)
    assert SourceRecord.objects.count() == 0


def test_numbers_are_read_as_text_and_nulls_as_absent(hotel):
    body = {
        "last_name": "Durand",
        "postal_code": 74000,
        "children": 2,
        "phone": None,
        "email": None,
    }
    response = hotel.post("/api/v1/customers", body)
    assert response.status_code == 201
    assert response.json()["customer"]["postal_code"] == "74000"
    assert response.json()["customer"]["children"] == 2


@pytest.mark.parametrize(
    "body",
    [
        {"last_name": True},
        {"last_name": ["Durand"]},
        {"last_name": {"x": 1}},
        {"consents": {"newsletter": "peut-être"}, "last_name": "Durand"},
        {"consents": {"Pas Un Slug": True}, "last_name": "Durand"},
        {"consents": ["newsletter"], "last_name": "Durand"},
        {"last_name": "x" * 201},
        {"emial": "a@b.fr", "last_name": "Durand"},
        ["pas", "un", "objet"],
        '"texte"',
        42,
        None,
    ],
)
def test_wrong_types_and_unknown_fields_are_422(hotel, body):
    assert_json_error(hotel.post("/api/v1/customers", body), 422)


@pytest.mark.parametrize(
    "body",
    [
        "{",
        "{'last_name': 'x'}",
        '{"last_name": NaN}',
        "\xff\xfe",
        '{"a": 1} trailing',
        "[" * 100_000,
    ],
)
def test_malformed_json_is_400(hotel, body):
    raw = body.encode("latin-1") if body == "\xff\xfe" else body
    assert_json_error(post_raw(hotel, raw), 400)


def test_deeply_nested_json_is_refused(hotel):
    nested = '{"last_name": "x", "consents": ' + '{"a": ' * 50 + "1" + "}" * 50 + "}"
    assert_json_error(post_raw(hotel, nested), 400)


def test_a_2mb_body_is_413_before_it_is_parsed(hotel):
    body = json.dumps({"last_name": "x" * (2 * 1024 * 1024)})
    body_response = post_raw(hotel, body)
    assert_json_error(body_response, 413)
    bulk = json.dumps({"records": [{"last_name": "x" * 1000}] * 2000})
    assert_json_error(post_raw(hotel, bulk, path="/api/v1/customers/bulk"), 413)


def test_a_10mb_body_is_413_too(hotel, client):
    body = b"{" + b" " * (10 * 1024 * 1024) + b"}"
    assert_json_error(post_raw(hotel, body), 413)
    # Even without a key: the size is checked before anything else.
    response = client.generic("POST", "/api/v1/customers", body, content_type="application/json")
    assert_json_error(response, 413)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ],
)
def test_wrong_content_type_is_415(hotel, content_type):
    assert_json_error(post_raw(hotel, '{"last_name": "Durand"}', content_type=content_type), 415)


def test_json_with_a_charset_is_fine(hotel):
    response = post_raw(
        hotel, '{"last_name": "Durand"}', content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_empty_body_is_422(hotel):
    assert_json_error(post_raw(hotel, ""), 422)


def test_unknown_addresses_and_methods_answer_json(hotel, client):
    assert_json_error(hotel.get("/api/v1/inconnu"), 404)
    assert_json_error(hotel.get("/api/v1/customers/"), 404)
    assert_json_error(client.get("/api/v1/"), 404)
    response = hotel.client.delete("/api/v1/customers", headers=hotel.headers())
    assert_json_error(response, 405)
    assert "POST" in response["Allow"]


def test_the_api_is_behind_no_login_page_and_no_csrf_token(destination, hotel):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        "/api/v1/customers",
        {"last_name": "Durand"},
        content_type="application/json",
        headers=hotel.headers(),
    )
    assert response.status_code == 201
    anonymous = strict.get("/api/v1/customers")
    assert anonymous.status_code == 401  # not a redirect to the login page
    # A signed-in session is not a key.
    strict.force_login(destination.camille)
    assert strict.get("/api/v1/customers").status_code == 401


# What an API fuzzer (schemathesis, all checks, against `cordee serve`) found accepted although
# the published schema forbids it, or answered outside the schema.


def test_a_query_parameter_given_twice_is_refused_not_guessed(hotel):
    response = hotel.client.get(
        "/api/v1/customers/lookup?email=a@b.fr&email=c@d.fr", headers=hotel.headers()
    )
    body = assert_json_error(response, 422)
    assert "plusieurs fois" in body["detail"]
    assert body["errors"][0]["loc"] == ["query", "email"]
    # The same parameter once is fine.
    assert hotel.get("/api/v1/customers/lookup", email="a@b.fr").status_code == 200


@pytest.mark.parametrize("since", ["0.5", "1700000000", "demain", "2026-13-45", "2026-11-22T25:00"])
def test_updated_since_takes_iso_8601_only(hotel, since):
    body = assert_json_error(hotel.get("/api/v1/customers", updated_since=since), 422)
    assert "ISO 8601" in body["detail"]


@pytest.mark.parametrize("since", ["2026-11-22", "2026-11-22T10:00:00+01:00", "2026-11-22T09:00Z"])
def test_updated_since_in_iso_8601_is_read(hotel, since):
    assert hotel.get("/api/v1/customers", updated_since=since).status_code == 200


@pytest.mark.parametrize("value", [0, 1, "true", "oui", 2.5])
def test_a_consent_is_true_false_or_null_nothing_else(hotel, value):
    response = hotel.post(
        "/api/v1/customers", {"last_name": "Durand", "consents": {"newsletter": value}}
    )
    body = assert_json_error(response, 422)
    assert body["errors"][0]["loc"][-2:] == ["consents", "newsletter"]
    assert not Customer.objects.exists()


def test_a_cursor_outside_the_alphabet_it_is_written_in_is_422(hotel):
    body = assert_json_error(hotel.get("/api/v1/customers", cursor="é'; --"), 422)
    assert body["errors"][0]["loc"] == ["query", "cursor"]


def test_a_long_query_string_is_a_422_naming_the_parameter(hotel):
    # Under gunicorn's 8,190-byte request line the API reads it and says what is too long.
    response = hotel.get("/api/v1/customers/lookup", email="a" * 5000 + "@b.fr")
    body = assert_json_error(response, 422)
    assert body["errors"][0]["loc"] == ["query", "email"]


def test_an_idempotency_key_out_of_printable_ascii_is_422_with_its_reason(hotel):
    response = hotel.post(
        "/api/v1/customers", {"last_name": "Durand"}, headers={"Idempotency-Key": "clé é"}
    )
    body = assert_json_error(response, 422)
    assert "Idempotency-Key" in body["detail"]
    assert not Customer.objects.exists()


def test_the_schema_documents_the_414_of_the_http_server_in_front(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert set(operation["responses"]["414"]["content"]) == {"text/html"}, (method, path)
