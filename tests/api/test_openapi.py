"""The published OpenAPI: complete with its 4xx answers, browsable without a CDN, and true.

schemathesis generates requests from the schema (valid ones and broken ones) against the
WSGI application with a hub key: no 5xx, and every answer conforms to what the schema says.
"""

from __future__ import annotations

import re
import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from cordee.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

OPERATIONS = {
    ("post", "/api/v1/customers"),
    ("post", "/api/v1/customers/bulk"),
    ("get", "/api/v1/customers"),
    ("get", "/api/v1/customers/lookup"),
    ("get", "/api/v1/customers/{customer_id}"),
    ("post", "/api/v1/activities"),
    ("post", "/api/v1/activities/bulk"),
    ("get", "/api/v1/customers/{customer_id}/activities"),
    ("get", "/api/v1/customers/{customer_id}/consents"),
    ("post", "/api/v1/customers/{customer_id}/consents"),
    ("get", "/api/v1/cards/{number}"),
    ("get", "/api/v1/segments"),
    ("post", "/api/v1/segments"),
    ("post", "/api/v1/segments/count"),
    ("get", "/api/v1/segments/{slug}"),
    ("put", "/api/v1/segments/{slug}"),
    ("get", "/api/v1/segments/{slug}/members"),
}


def test_openapi_is_3_1_and_lists_every_operation_with_its_errors(client, db):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    operations = {
        (method, path): spec
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
    }
    assert set(operations) == OPERATIONS
    for (method, path), spec in operations.items():
        codes = set(spec["responses"])
        assert {"400", "401", "403", "413", "415", "422", "429"} <= codes, (method, path)
        assert spec["security"], (method, path)
        if method == "post":
            assert "409" in codes
            assert any(p["name"] == "Idempotency-Key" for p in spec.get("parameters", []))
    assert "404" in operations[("get", "/api/v1/customers/{customer_id}")]["responses"]
    for path in ("/api/v1/segments/{slug}", "/api/v1/segments/{slug}/members"):
        assert "404" in operations[("get", path)]["responses"]
    assert document["components"]["securitySchemes"]


def test_text_fields_that_take_a_number_say_so(client, db, hub_key):
    document = client.get("/api/v1/openapi.json").json()
    components = document["components"]["schemas"]
    children = components["CustomerIn"]["properties"]["children"]
    assert children["anyOf"] == [
        {"maxLength": 10, "type": "string"},
        {"type": "number"},
        {"type": "null"},
    ]
    assert children["title"] == "Children" and children["examples"] == ["2"]
    assert {"type": "number"} in components["ActivityIn"]["properties"]["payment_means"]["anyOf"]
    # A field that is no text keeps its type: consents stay booleans.
    assert "number" not in str(components["CustomerIn"]["properties"]["consents"])
    # What the schema says is what the API does.
    response = client.post(
        "/api/v1/customers",
        {"last_name": "Martin", "postal_code": 74000, "children": 2, "preferred_season": 0},
        content_type="application/json",
        headers={"Authorization": f"Bearer {hub_key}"},
    )
    assert response.status_code in (200, 201), response.content
    customer = response.json()["customer"]
    assert (customer["postal_code"], customer["children"]) == ("74000", 2)


def test_docs_page_loads_nothing_from_elsewhere(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/") for s in sources)
    assert '"validatorUrl": null' in html
    for path in sources:
        assert client.get(path).status_code == 200, path


@pytest.fixture
def hub_key(make_key, destination, settings):
    settings.CORDEE_API_RATE = "0/min"  # schemathesis sends many requests quickly
    return make_key(destination.office).key


@pytest.fixture
def keep_test_connection():
    """Calls through the bare WSGI application would close the test's database connection
    at the end of each request (CONN_MAX_AGE): keep it, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]


@schema.parametrize()
@settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema(case, hub_key, keep_test_connection):
    token = (case.headers or {}).get("Idempotency-Key")
    if isinstance(token, str) and re.fullmatch(r"[\x21-\x7e]{1,255}", token):
        # Generated keys repeat ("0", "a"...) with other bodies: every example would be a 409.
        case.headers["Idempotency-Key"] = f"{token[:200]}-{uuid.uuid4().hex}"
    case.call_and_validate(headers={"Authorization": f"Bearer {hub_key}"}, checks=CHECKS)
