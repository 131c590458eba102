"""Exporting a segment's members: the customers export's rows and cell neutralisation, gated."""

from __future__ import annotations

from typing import IO

from django.db import transaction

from cordee.customers.exports import iter_customer_rows, write_csv, write_jsonl
from cordee.privacy.access import Actor
from cordee.privacy.audit import audit_log
from cordee.segments.compiler import segment_queryset
from cordee.segments.models import Segment
from cordee.segments.services import segment_snapshot


def segment_export(
    *, segment: Segment, actor: Actor, stream: IO[str], fmt: str, ip: str | None = None
) -> int:
    """Write the members ``actor`` may see; keep a snapshot of who was exported and audit it."""
    rows = iter_customer_rows(segment_queryset(segment, actor), actor=actor)
    count = (
        write_csv(rows, stream, with_sources=False) if fmt == "csv" else write_jsonl(rows, stream)
    )
    segment_snapshot(segment, f"export {fmt}", actor=actor)
    with transaction.atomic():
        audit_log(actor=actor, action="segment.export", obj=segment, ip=ip, format=fmt, count=count)
    return count
