"""What every channel hands to the customer base: a record, raw and normalised.

Free of Django models on purpose: worker processes build these before the app registry is
loaded (see cordee.collect.prepare).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cordee.core.jsontext import flat_json
from cordee.customers.matching.features import clean_card_number, is_placeholder_key
from cordee.privacy.crypto import email_index, phone_index
from cordee.privacy.encryption import DATA_KEYS, encrypt, encrypt_data

# Equivalent to json.dumps(value, ensure_ascii=False), without building an encoder per call.
_json_text = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(slots=True)
class IncomingRecord:
    """One record as a channel hands it over: raw text and its normalised form.

    The derived fields (fingerprint, keyed hashes, JSON text) are filled by :meth:`prepare`,
    which a bulk path may run in worker processes before the records reach the database.
    """

    raw: dict[str, str]
    data: dict[str, Any]
    external_id: str = ""
    line: int | None = None
    collected_at: dt.datetime | None = None
    fingerprint: str = ""
    email_hash: str = ""
    phone_hash: str = ""
    raw_json: str = ""
    data_json: str = ""
    # Filled by prepare(golden=True): the customer this record would create on its own
    # (cordee.customers.golden.first_record_values) ...
    golden: tuple[Any, ...] | None = None
    golden_fields: tuple[str, ...] = ()
    # ... and by prepare(copy_text=True), PostgreSQL COPY text: the record's own columns
    # (external id to phone hash, see services.SOURCE_TAIL) and that customer's columns.
    copy_tail: str = ""
    golden_copy: str = ""
    # {clear value: its ciphertext} for the identifying values of data, encrypted once and
    # reused for the same values of the customer row.
    sealed: dict[str, str] = field(default_factory=dict)

    def prepare(
        self,
        *,
        golden: bool = False,
        copy_text: bool = False,
        seal: Callable[[str], str] | None = None,
    ) -> IncomingRecord:
        """Fill the derived fields; ``golden`` and ``copy_text`` add work bulk paths want done early.

        ``seal``: a bulk path's :func:`cordee.privacy.encryption.sealer`, taken once per batch.
        """
        if not self.fingerprint:
            self._prepare(seal or encrypt)
        if (golden or copy_text) and self.golden is None:
            from cordee.customers.golden import first_record_values

            self.golden, self.golden_fields = first_record_values(self.data)
        if copy_text and not self.copy_tail:
            from cordee.core.bulk import copy_line

            self.copy_tail = copy_line(
                (
                    self.external_id[:100],
                    self.line,
                    self.raw_json,
                    self.data_json,
                    self.fingerprint,
                    self.email_hash,
                    self.phone_hash,
                )
            )
            assert self.golden is not None
            from cordee.customers.golden import stored_values

            self.golden_copy = copy_line(stored_values(self.golden, self.sealed))
        return self

    def _prepare(self, seal: Callable[[str], str]) -> None:
        # key 0x1E value 0x1F for each item, hashed in one call.
        content = "".join([f"{key}\x1e{value}\x1f" for key, value in self.raw.items()])
        self.fingerprint = hashlib.blake2b(
            content.encode("utf-8", "surrogatepass"), digest_size=16
        ).hexdigest()
        self.email_hash = email_index(self.data.get("email") or "")
        self.phone_hash = phone_index(self.data.get("phone") or "")
        # As the columns store them (cordee.privacy.fields): raw encrypted whole, the
        # identifying values of data encrypted inside.
        self.raw_json = seal(flat_json(self.raw))
        stored = encrypt_data(self.data, seal)
        if stored is not self.data:
            for k in DATA_KEYS:
                if (clear := self.data.get(k)) and isinstance(clear, str):
                    self.sealed[clear] = stored[k]
        self.data_json = _json_text(stored)

    def keys(self) -> list[str]:
        """Deterministic identity keys, strongest first (the external id counts within its partner only)."""
        keys = []
        if self.external_id:
            keys.append("x" + self.external_id)
        # The destination's loyalty card: only an issued card counts, and only for the
        # person it was issued to (source_records_attach checks both).
        card = clean_card_number(self.data.get("card_number"))
        if card:
            keys.append("c" + card)
        # A placeholder (test@test.com, 06 00 00 00 00) is no key: it would join strangers.
        bad_email, bad_phone = is_placeholder_key(self.data.get("email"), self.data.get("phone"))
        if self.email_hash and not bad_email:
            keys.append("e" + self.email_hash)
        if self.phone_hash and not bad_phone:
            keys.append("p" + self.phone_hash)
        return keys
