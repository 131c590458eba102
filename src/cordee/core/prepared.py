"""Server-side prepared statements for the few statements every API call runs (PostgreSQL).

Django sends each statement with its values inlined (psycopg's client-side binding), so that
PostgreSQL parses and plans it again on every call: for the small statements of a one-activity
POST (the key, the customer, the seasons, the parents' hold, the insert) that is most of
PostgreSQL's CPU. A statement run through :func:`prepared_cursor` is sent with its values
apart and prepared once per connection (psycopg keeps up to 100 per connection, by their
text and the types of their values; a ``ROLLBACK`` or a schema change makes it forget them).

Only statements whose text names their columns (no ``SELECT *``: a column added by a
migration while the server runs would change a prepared statement's result) and whose
values have plain types go through here; everything else keeps Django's cursor. Prepared
statements are on when the connection allows them (``prepare_threshold`` in the database's
``OPTIONS``, set by cordee.settings unless ``CORDEE_DB_PREPARED=0``, e.g. behind a pooler in
transaction mode that cannot keep them); on SQLite, or when off, this is Django's cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper


def _prepared_cursor_class() -> type[Any]:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        """Django's server-binding cursor, each statement prepared on its first run."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs.setdefault("prepare", True)
            return super().execute(query, params, **kwargs)  # type: ignore[misc]

    return PreparedCursor


_CLASS: list[type[Any]] = []


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """Django's cursor (its checks, execute wrappers and query logging), whose statements
    PostgreSQL prepares once per connection."""
    with connection.cursor() as cur:
        raw = connection.connection
        if connection.vendor != "postgresql" or getattr(raw, "prepare_threshold", None) is None:
            yield cur
            return
        if not _CLASS:
            _CLASS.append(_prepared_cursor_class())
        plain = cur.cursor
        cur.cursor = _CLASS[0](raw)
        try:
            yield cur
        finally:
            cur.cursor.close()
            cur.cursor = plain
