"""The message file ``cordee campaign send --template FILE`` reads.

Either JSON — ``{"fr": [blocks], "en": [blocks], "subject_en": "...", "sms_fr": "..."}`` — or
a plain text file, one block per paragraph (separated by a blank line):

    # A title
    A paragraph, with {{ first_name }}.
    [Button text](https://example.org/offre)
    ![Image description](https://example.org/photo.jpg)
    > An offer (https://example.org/code)

A line ``--- en ---`` starts the English version.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_BYTES = 1_000_000
_BUTTON = re.compile(r"^\[(.+)\]\((\S+)\)$")
_IMAGE = re.compile(r"^!\[(.*)\]\((\S+)\)$")
_OFFER_URL = re.compile(r"^(.*?)\s*\((https?://\S+)\)$")


def _blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        chunk = chunk.strip()
        if not chunk:
            continue
        if m := _IMAGE.match(chunk):
            blocks.append({"type": "image", "text": m.group(1), "url": m.group(2)})
        elif m := _BUTTON.match(chunk):
            blocks.append({"type": "button", "text": m.group(1), "url": m.group(2)})
        elif chunk.startswith("# "):
            blocks.append({"type": "title", "text": chunk[2:].strip()})
        elif chunk.startswith("> "):
            body = chunk[2:].strip()
            if m := _OFFER_URL.match(body):
                blocks.append({"type": "offer", "text": m.group(1), "url": m.group(2)})
            else:
                blocks.append({"type": "offer", "text": body})
        else:
            blocks.append({"type": "paragraph", "text": " ".join(chunk.split("\n"))})
    return blocks


def template_file_read(path: Path) -> dict[str, Any]:
    """{"blocks_fr", "blocks_en", "subject_en", "sms_fr", "sms_en"}; unchecked (services check)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ValidationError(_("Fichier de message trop gros (1 Mo au plus)."))
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(
            _("Fichier de message illisible : %(error)s") % {"error": exc.strerror}
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("Le fichier de message doit être en UTF-8.")) from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _("JSON invalide ligne %(line)s : %(msg)s") % {"line": exc.lineno, "msg": exc.msg}
            ) from None
        if not isinstance(data, dict):
            raise ValidationError(_("Le JSON doit être un objet avec les clés fr et en."))
        return {
            "blocks_fr": data.get("fr", []),
            "blocks_en": data.get("en", []),
            "subject_en": data.get("subject_en", ""),
            "sms_fr": data.get("sms_fr", ""),
            "sms_en": data.get("sms_en", ""),
        }
    parts = re.split(r"(?m)^---\s*en\s*---\s*$", text, maxsplit=1)
    fr, en = parts[0], parts[1] if len(parts) > 1 else ""
    return {
        "blocks_fr": _blocks(fr),
        "blocks_en": _blocks(en),
        "subject_en": "",
        "sms_fr": "",
        "sms_en": "",
    }
