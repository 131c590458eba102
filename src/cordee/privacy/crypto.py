"""Keyed hashes ("blind indexes") for exact look-ups of e-mails and phones without reading them.

The key lives outside the database (CORDEE_INDEX_KEY, or a file in CORDEE_HOME created once):
a copy of the database alone does not let anyone test whether a given e-mail is in it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from functools import cache, lru_cache

from django.conf import settings


@cache
def _index_key() -> bytes:
    from_env = os.environ.get("CORDEE_INDEX_KEY")
    if from_env:
        return from_env.encode()
    path = settings.CORDEE_HOME / "index_key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: read theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


@cache
def _keyed() -> hashlib.blake2b:
    # Keyed BLAKE2b is a MAC by design (no HMAC construction needed) and several times
    # faster than HMAC-SHA256: a million-line import computes millions of these.
    return hashlib.blake2b(key=hashlib.blake2b(_index_key()).digest(), digest_size=16)


def blind_index(kind: str, value: str) -> str:
    """32 hex characters (128 bits) of keyed BLAKE2b over ``kind:value``; '' for an empty value."""
    if not value:
        return ""
    mac = _keyed().copy()
    mac.update(f"{kind}:{value}".encode("utf-8", "surrogatepass"))
    return mac.hexdigest()


@lru_cache(maxsize=200_000)
def email_index(email: str) -> str:
    return blind_index("e", email)


@lru_cache(maxsize=200_000)
def phone_index(phone: str) -> str:
    return blind_index("p", phone)
