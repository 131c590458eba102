"""Re-encrypting the stored values in batches: the first encryption (migration), key rotation,
and the check that a key is no longer used before it is retired.

Plain SQL by primary-key ranges, the same on SQLite and PostgreSQL: a batch reads
``BATCH`` rows, re-encrypts in Python those whose values are in clear or under another key
than the current one, and writes back only the rows that changed. Interrupted, a rerun
carries on (rows already under the current key are skipped).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from cordee.privacy.encryption import (
    DATA_KEYS,
    PREFIX,
    decrypt,
    encrypt,
    is_encrypted,
    key_id_of,
    keyring,
)

BATCH = 2_000
TEXT, JSON_WHOLE, JSON_KEYS = "text", "json_whole", "json_keys"


@dataclass(frozen=True)
class Target:
    table: str
    columns: tuple[tuple[str, str], ...]  # (column, TEXT | JSON_WHOLE | JSON_KEYS)


# What the migrations encrypt; encrypted_targets() reads the same from the models.
MIGRATION_TARGETS = (
    Target(
        "customers_customer",
        tuple(
            (c, TEXT) for c in ("email", "phone", "phone_other", "address_line1", "address_line2")
        ),
    ),
    Target("customers_sourcerecord", (("raw", TEXT), ("data", JSON_KEYS))),
    Target("customers_mergeevent", (("snapshot", JSON_WHOLE),)),
    Target("privacy_stafftotp", (("secret", TEXT),)),
)
# The same as the encryption migration (privacy 0007) saw them: source records' raw was
# then a jsonb column holding the ciphertext as a JSON string (customers 0008 made it text).
MIGRATION_0007_TARGETS = tuple(
    Target(t.table, (("raw", JSON_WHOLE), ("data", JSON_KEYS)))
    if t.table == "customers_sourcerecord"
    else t
    for t in MIGRATION_TARGETS
)


def encrypted_targets() -> list[Target]:
    """Every encrypted column of every installed model."""
    from django.apps import apps

    from cordee.privacy.fields import (
        EncryptedCharField,
        EncryptedJSONField,
        EncryptedJSONTextField,
    )

    targets = []
    for model in apps.get_models():
        columns = []
        for f in model._meta.concrete_fields:
            kind = getattr(f, "stored", None) and (
                TEXT
                if isinstance(f, EncryptedCharField | EncryptedJSONTextField)
                else JSON_WHOLE
                if isinstance(f, EncryptedJSONField)
                else JSON_KEYS
            )
            if kind and f.column:
                columns.append((f.column, kind))
        if columns:
            targets.append(Target(model._meta.db_table, tuple(columns)))
    return targets


Progress = Callable[[str, int, int], None]


def _text(value: str, mode: str, current: str) -> str | None:
    """The new stored text, or None if it stays."""
    if not value:
        return None
    if is_encrypted(value):
        if mode == "encrypt" and key_id_of(value) == current:
            return None
        clear = decrypt(value)
        return clear if mode == "decrypt" else encrypt(clear)
    return None if mode == "decrypt" else encrypt(value)


def _json(value: Any, kind: str, mode: str, current: str) -> str | None:
    if value is None:
        return None
    parsed = json.loads(value) if isinstance(value, str) else value
    if kind == JSON_WHOLE:
        if isinstance(parsed, str) and is_encrypted(parsed):
            if mode == "encrypt" and key_id_of(parsed) == current:
                return None
            clear = decrypt(parsed)
            return clear if mode == "decrypt" else json.dumps(encrypt(clear))
        if mode == "decrypt":
            return None
        return json.dumps(encrypt(json.dumps(parsed, ensure_ascii=False)))
    if not isinstance(parsed, dict):
        return None
    changed = False
    for k in DATA_KEYS:
        item = parsed.get(k)
        if isinstance(item, str) and (new := _text(item, mode, current)) is not None:
            parsed[k] = new
            changed = True
    return json.dumps(parsed, ensure_ascii=False) if changed else None


def _count(table: str) -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return int(cur.fetchone()[0])


def reencrypt(
    targets: Sequence[Target] | None = None,
    *,
    mode: str = "encrypt",
    progress: Progress | None = None,
    batch: int = BATCH,
) -> dict[str, int]:
    """Bring every value under the current key (``mode="decrypt"``: back to clear).

    Returns the number of rows rewritten per table. Each batch commits on its own.
    """
    qn = connection.ops.quote_name
    current = keyring().current
    postgres = connection.vendor == "postgresql"
    rewritten: dict[str, int] = {}
    for target in targets if targets is not None else encrypted_targets():
        table = qn(target.table)
        names = [c for c, _ in target.columns]
        select = (
            f"SELECT id, {', '.join(qn(c) for c in names)} FROM {table} "  # noqa: S608
            "WHERE id > %s ORDER BY id LIMIT %s"
        )
        sets = ", ".join(
            f"{qn(c)} = %s" + ("::jsonb" if postgres and kind != TEXT else "")
            for c, kind in target.columns
        )
        update = f"UPDATE {table} SET {sets} WHERE id = %s"  # noqa: S608
        total, done, last, count = _count(target.table), 0, 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(select, [last, batch])
                rows = cur.fetchall()
                if not rows:
                    break
                writes = []
                for row in rows:
                    new = []
                    changed = False
                    for (_, kind), value in zip(target.columns, row[1:], strict=True):
                        if kind == TEXT:
                            value_new = _text(value, mode, current) if value else None
                        else:
                            value_new = _json(value, kind, mode, current)
                        if value_new is not None:
                            changed = True
                            new.append(value_new)
                        elif kind != TEXT and value is not None and not isinstance(value, str):
                            new.append(json.dumps(value, ensure_ascii=False))
                        else:
                            new.append(value)
                    if changed:
                        writes.append([*new, row[0]])
                if writes:
                    cur.executemany(update, writes)
            last = rows[-1][0]
            done += len(rows)
            count += len(writes)
            if progress:
                progress(target.table, done, total)
        rewritten[target.table] = count
    return rewritten


def key_usage(key_id: str, targets: Sequence[Target] | None = None) -> dict[str, int]:
    """Rows per ``table.column`` holding a value encrypted with ``key_id`` (0s left out)."""
    qn = connection.ops.quote_name
    needle = f"{PREFIX}{key_id}:"
    found: dict[str, int] = {}
    for target in targets if targets is not None else encrypted_targets():
        for column, kind in target.columns:
            # LIKE narrows the rows down; each candidate is then checked for real (a clear
            # value of a data key outside DATA_KEYS may well read "enc:v1:…").
            sql = (
                f"SELECT {qn(column)} FROM {qn(target.table)} "  # noqa: S608
                f"WHERE CAST({qn(column)} AS TEXT) LIKE %s"
            )
            pattern = needle + "%" if kind == TEXT else "%" + needle + "%"
            with connection.cursor() as cur:
                cur.execute(sql, [pattern])
                rows = cur.fetchall()
            n = sum(1 for (value,) in rows if key_id in _key_ids(value, kind))
            if n:
                found[f"{target.table}.{column}"] = n
    return found


def _key_ids(value: Any, kind: str) -> set[str]:
    if value is None:
        return set()
    if kind == TEXT:
        return {key_id_of(value)} if is_encrypted(value) else set()
    parsed = json.loads(value) if isinstance(value, str) else value
    if kind == JSON_WHOLE:
        return {key_id_of(parsed)} if is_encrypted(parsed) else set()
    if not isinstance(parsed, dict):
        return set()
    items = [parsed.get(k) for k in DATA_KEYS]
    return {key_id_of(v) for v in items if isinstance(v, str) and is_encrypted(v)}


def clear_values(targets: Sequence[Target] | None = None) -> dict[str, int]:
    """Rows per ``table.column`` with a non-empty value still in clear (before the migration)."""
    qn = connection.ops.quote_name
    found: dict[str, int] = {}
    for target in targets if targets is not None else encrypted_targets():
        for column, kind in target.columns:
            if kind != TEXT:
                continue  # JSON: see reencrypt, which rewrites them anyway
            sql = (
                f"SELECT COUNT(*) FROM {qn(target.table)} WHERE {qn(column)} <> '' "  # noqa: S608
                f"AND {qn(column)} NOT LIKE %s"
            )
            with connection.cursor() as cur:
                cur.execute(sql, [PREFIX + "%"])
                n = int(cur.fetchone()[0])
            if n:
                found[f"{target.table}.{column}"] = n
    return found


class RotationRefused(Exception):
    """A key operation that would lose data or cannot be done here; the message says why."""


def key_add() -> str:
    """A new key, first (current) in CORDEE_HOME/field_keys; the older ones stay readable."""
    from cordee.privacy.encryption import key_file, new_key, new_key_id, write_key_file

    ring = keyring()
    if ring.source == "env":
        raise RotationRefused(
            "les clés viennent de CORDEE_FIELD_KEYS : mettez une nouvelle clé en tête "
            "(cordee privacy rotate-key --print-key), redémarrez, puis lancez "
            "cordee privacy rotate-key --resume"
        )
    key_id = new_key_id(ring.keys)
    write_key_file(key_file(), {key_id: new_key(), **ring.keys})
    return key_id


def key_retire(key_id: str) -> dict[str, int]:
    """Drop ``key_id`` from the key file once no stored value uses it.

    Returns {} when done; raises RotationRefused with the counts otherwise.
    """
    from cordee.privacy.encryption import key_file, write_key_file

    ring = keyring()
    if key_id not in ring.keys:
        raise RotationRefused(f"clé {key_id[:16]!r} inconnue (clés : {', '.join(ring.keys)})")
    if key_id == ring.current:
        raise RotationRefused(f"la clé {key_id} est la clé courante : ajoutez-en une autre d'abord")
    usage = key_usage(key_id)
    if usage:
        where = ", ".join(f"{name} : {n}" for name, n in sorted(usage.items()))
        raise RotationRefused(
            f"la clé {key_id} chiffre encore des valeurs ({where}) : "
            "lancez cordee privacy rotate-key --resume d'abord"
        )
    if ring.source == "env":
        raise RotationRefused(
            f"plus rien n'utilise la clé {key_id} : retirez-la de CORDEE_FIELD_KEYS et redémarrez"
        )
    write_key_file(key_file(), {k: v for k, v in ring.keys.items() if k != key_id})
    return {}
