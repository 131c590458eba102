"""What every channel hands to the customer base: a record, raw and normalised.

Free of Django models on purpose: worker processes build these before the app registry is
loaded (see cordee.collect.prepare).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cordee.privacy.crypto import email_index, phone_index


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

    def prepare(self) -> IncomingRecord:
        if self.fingerprint:
            return self
        h = hashlib.blake2b(digest_size=16)
        for key, value in self.raw.items():
            h.update(key.encode("utf-8", "surrogatepass"))
            h.update(b"\x1e")
            h.update(str(value).encode("utf-8", "surrogatepass"))
            h.update(b"\x1f")
        self.fingerprint = h.hexdigest()
        self.email_hash = email_index(self.data.get("email") or "")
        self.phone_hash = phone_index(self.data.get("phone") or "")
        self.raw_json = json.dumps(self.raw, ensure_ascii=False)
        self.data_json = json.dumps(self.data, ensure_ascii=False)
        return self

    def keys(self) -> list[str]:
        """Deterministic identity keys, strongest first (the external id counts within its partner only)."""
        keys = []
        if self.external_id:
            keys.append("x" + self.external_id)
        if self.email_hash:
            keys.append("e" + self.email_hash)
        if self.phone_hash:
            keys.append("p" + self.phone_hash)
        return keys
