"""Encryption at rest of identifying values (AES-256-GCM), with several keys alive at once.

A stored value reads ``enc:v1:<key id>:<base64 of nonce + ciphertext + tag>``: the key id
says which key opens it, so a new key can become current while older values stay readable
until ``cordee privacy rotate-key`` has re-encrypted them. An empty value stays empty (so
"has an e-mail" is still ``email <> ''``), and a value without the prefix is read as it is
(rows written before encryption, until the migration has run).

The keys live outside the database, like the keyed-hash key (:mod:`cordee.privacy.crypto`):

- ``CORDEE_FIELD_KEYS`` (production): ``id:base64key[,id:base64key...]``, the **first** is
  the one new values are written with; the others are only read.
- otherwise the file ``CORDEE_HOME/field_keys``, created once (mode 0600), one key a line
  ``id base64key``, the first line current. ``rotate-key`` writes it.

Free of Django models: import workers encrypt the records they prepare.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc:v1:"
_KEY_ID = re.compile(r"[a-z0-9]{1,16}")
_NONCE = 12
# The identifying keys of a source record's normalised data, encrypted inside the JSON
# (the rest stays queryable: last name for resolution, consents for the consent ledger).
DATA_KEYS = ("email", "phone", "phone_other", "address_line1", "address_line2")


class FieldKeyError(Exception):
    """The keys cannot be read, or a value names a key that is not there, or does not open."""


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, bytes]
    source: str  # "env" or the path of the key file
    stamp: float = 0.0  # the key file's mtime when read

    def cipher(self, key_id: str) -> AESGCM:
        return _cipher(self.keys[key_id])


@cache
def _cipher(key: bytes) -> AESGCM:
    return AESGCM(key)


def new_key_id(existing: Iterable[str] = ()) -> str:
    taken = set(existing)
    while True:
        key_id = secrets.token_hex(4)
        if key_id not in taken:
            return key_id


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def keys_setting() -> str:
    """The keys in use as a CORDEE_FIELD_KEYS value (for a child process with another home)."""
    ring = keyring()
    return ",".join(key_line(k, v).replace(" ", ":") for k, v in ring.keys.items())


def key_line(key_id: str, key: bytes) -> str:
    return f"{key_id} {base64.b64encode(key).decode()}"


def _parse(pairs: list[tuple[str, str]], where: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for key_id, text in pairs:
        if not _KEY_ID.fullmatch(key_id):
            raise FieldKeyError(
                f"{where}: identifiant de clé invalide {key_id[:20]!r} (a-z, 0-9, 16 au plus)"
            )
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise FieldKeyError(f"{where}: la clé {key_id} n'est pas du base64") from None
        if len(key) != 32:
            raise FieldKeyError(f"{where}: la clé {key_id} doit faire 32 octets (AES-256)")
        if key_id in keys:
            raise FieldKeyError(f"{where}: la clé {key_id} apparaît deux fois")
        keys[key_id] = key
    if not keys:
        raise FieldKeyError(f"{where}: aucune clé")
    return keys


def key_file() -> Path:
    from django.conf import settings

    return Path(settings.CORDEE_HOME) / "field_keys"


def read_key_file(path: Path) -> dict[str, bytes]:
    pairs = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key_id, _, text = line.partition(" ")
        pairs.append((key_id, text.strip()))
    return _parse(pairs, str(path))


def write_key_file(path: Path, keys: dict[str, bytes]) -> None:
    """Replace the key file (first key current) atomically, readable by its owner only."""
    text = "# Cordée: field encryption keys, the first is current. Keep a copy off this machine.\n"
    text += "".join(key_line(k, v) + "\n" for k, v in keys.items())
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    keyring.cache_clear()


@cache
def keyring() -> Keyring:
    from_env = os.environ.get("CORDEE_FIELD_KEYS", "").strip()
    if from_env:
        pairs = []
        for item in from_env.split(","):
            key_id, _, text = item.strip().partition(":")
            pairs.append((key_id, text))
        keys = _parse(pairs, "CORDEE_FIELD_KEYS")
        return Keyring(next(iter(keys)), keys, "env")
    path = key_file()
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: read theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(key_line(new_key_id(), new_key()) + "\n")
    try:
        keys = read_key_file(path)
    except OSError as exc:
        raise FieldKeyError(f"{path}: {exc.strerror}") from None
    return Keyring(next(iter(keys)), keys, str(path), path.stat().st_mtime)


_RECHECK = 2.0
_checked = [0.0]


def _fresh_keyring() -> Keyring:
    """keyring(), read again if the key file changed (another process rotated the key).

    Checked every few seconds at most: a long-running server or worker starts encrypting
    with a new key soon after ``rotate-key`` wrote it, without a restart.
    """
    ring = keyring()
    if ring.source != "env":
        now = time.monotonic()
        if now - _checked[0] > _RECHECK:
            _checked[0] = now
            try:
                changed = Path(ring.source).stat().st_mtime != ring.stamp
            except OSError:
                changed = False
            if changed:
                keyring.cache_clear()
                ring = keyring()
    return ring


def encrypt(value: str) -> str:
    """The stored form of ``value`` under the current key; '' stays ''."""
    if not value:
        return value
    ring = _fresh_keyring()
    nonce = os.urandom(_NONCE)
    sealed = ring.cipher(ring.current).encrypt(nonce, value.encode("utf-8", "surrogatepass"), None)
    return f"{PREFIX}{ring.current}:{binascii.b2a_base64(nonce + sealed, newline=False).decode()}"


def sealer() -> Callable[[str], str]:
    """:func:`encrypt` bound to the key current now, for a loop over many values.

    The same stored form, a fresh random nonce per value; only the key look-up (and the
    check that the key file has not changed) is done once, here. A bulk path takes one per
    batch of a few thousand values, so a new key is still picked up within seconds.
    """
    ring = _fresh_keyring()
    seal = ring.cipher(ring.current).encrypt
    prefix = f"{PREFIX}{ring.current}:"
    urandom, b2a = os.urandom, binascii.b2a_base64

    def encrypt_bound(value: str) -> str:
        if not value:
            return value
        nonce = urandom(_NONCE)
        sealed = seal(nonce, value.encode("utf-8", "surrogatepass"), None)
        return prefix + b2a(nonce + sealed, newline=False).decode()

    return encrypt_bound


def is_encrypted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(value: str) -> str:
    return value[len(PREFIX) :].partition(":")[0]


def decrypt(value: str) -> str:
    """The clear text of a stored value (a value without the prefix is returned as it is)."""
    if not value.startswith(PREFIX):
        return value
    key_id, sep, text = value[len(PREFIX) :].partition(":")
    ring = keyring()
    key = ring.keys.get(key_id)
    if key is None and ring.source != "env":
        keyring.cache_clear()  # a key another process has just added?
        ring = keyring()
        key = ring.keys.get(key_id)
    if key is None or not sep:
        raise FieldKeyError(
            f"valeur chiffrée avec la clé {key_id[:16]!r}, absente de {ring.source} "
            "(CORDEE_FIELD_KEYS ou CORDEE_HOME/field_keys)"
        )
    try:
        blob = binascii.a2b_base64(text, strict_mode=True)
        if len(blob) < _NONCE + 16:
            raise ValueError
        clear = _cipher(key).decrypt(blob[:_NONCE], blob[_NONCE:], None)
    except (InvalidTag, binascii.Error, ValueError):
        raise FieldKeyError(
            f"valeur chiffrée illisible avec la clé {key_id}: altérée, ou la clé n'est pas la bonne"
        ) from None
    return clear.decode("utf-8", "surrogatepass")


def encrypt_data(data: dict[str, Any], seal: Callable[[str], str] | None = None) -> dict[str, Any]:
    """A copy of a record's normalised data with its identifying values encrypted.

    ``seal``: a :func:`sealer` to encrypt with (a bulk path's), else :func:`encrypt`.
    """
    if not any(data.get(k) for k in DATA_KEYS):
        return data
    seal = seal or encrypt
    out = dict(data)
    for k in DATA_KEYS:
        value = out.get(k)
        if isinstance(value, str) and value:
            out[k] = seal(value)
    return out


def decrypt_data(data: dict[str, Any]) -> dict[str, Any]:
    for k in DATA_KEYS:
        value = data.get(k)
        if value.__class__ is str and value.startswith(PREFIX):
            data[k] = decrypt(value)
    return data
