"""Statements run through cordee.core.prepared: the same rows as Django's cursor, prepared
once per connection on PostgreSQL, and still right after a rollback or a schema change."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from cordee.core.prepared import prepared_cursor
from cordee.partners.models import Partner

pytestmark = pytest.mark.django_db(transaction=True)

SQL = 'SELECT "id", "slug", "name" FROM "partners_partner" WHERE "slug" = %s ORDER BY "id"'


def _prepared_here() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cur.fetchall()]


def test_same_rows_as_djangos_cursor() -> None:
    Partner.objects.create(slug="hotel", name="Hôtel des Alpes", kind="hotel")
    for _ in range(3):
        with prepared_cursor() as cur:
            cur.execute(SQL, ["hotel"])
            prepared = cur.fetchall()
        with connection.cursor() as cur:
            cur.execute(SQL, ["hotel"])
            plain = cur.fetchall()
        assert prepared == plain
        assert [row[1:] for row in prepared] == [("hotel", "Hôtel des Alpes")]
    with prepared_cursor() as cur:
        cur.execute(SQL, ["nobody"])
        assert cur.fetchall() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_prepared_once_per_connection_on_postgresql() -> None:
    Partner.objects.create(slug="hotel", name="Hôtel", kind="hotel")
    for _ in range(3):
        with prepared_cursor() as cur:
            cur.execute(SQL, ["hotel"])
            assert cur.fetchone() is not None
    assert sum(1 for text in _prepared_here() if '"partners_partner"' in text) == 1
    # Django's own statements stay unprepared.
    list(Partner.objects.filter(slug="hotel"))
    assert sum(1 for text in _prepared_here() if '"partners_partner"' in text) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_a_rollback_or_a_new_column_does_not_break_them() -> None:
    Partner.objects.create(slug="hotel", name="Hôtel", kind="hotel")
    with prepared_cursor() as cur:
        cur.execute(SQL, ["hotel"])
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        with prepared_cursor() as cur:
            cur.execute(SQL, ["hotel"])
        raise ZeroDivisionError
    with prepared_cursor() as cur:
        cur.execute(SQL, ["hotel"])
        assert cur.fetchone()[1] == "hotel"
    # A column added while the statement is prepared: its named columns still read the same.
    with connection.cursor() as cur:
        cur.execute('ALTER TABLE "partners_partner" ADD COLUMN "extra_for_test" integer')
    try:
        with prepared_cursor() as cur:
            cur.execute(SQL, ["hotel"])
            assert cur.fetchone()[1:] == ("hotel", "Hôtel")
    finally:
        with connection.cursor() as cur:
            cur.execute('ALTER TABLE "partners_partner" DROP COLUMN "extra_for_test"')


def test_off_when_the_connection_does_not_prepare() -> None:
    Partner.objects.create(slug="hotel", name="Hôtel", kind="hotel")
    connection.ensure_connection()
    raw = connection.connection
    before = getattr(raw, "prepare_threshold", None)
    if connection.vendor == "postgresql":
        raw.prepare_threshold = None  # as with CORDEE_DB_PREPARED=0
    try:
        with prepared_cursor() as cur:
            cur.execute(SQL, ["hotel"])
            assert cur.fetchone()[1] == "hotel"
        if connection.vendor == "postgresql":
            assert not any('"partners_partner"' in text for text in _prepared_here())
    finally:
        if connection.vendor == "postgresql":
            raw.prepare_threshold = before
