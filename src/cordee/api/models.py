from __future__ import annotations

from django.db import models

from cordee.partners.models import APIKey


class IdempotentRequest(models.Model):
    """A POST made with an ``Idempotency-Key``: its body's hash and the response it got (24 h).

    The stored response may hold a customer's data: rows expire after a day and are purged
    (cordee.api.idempotency), and erasure must reach this table too.
    """

    api_key = models.ForeignKey(APIKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id}:{self.key}"
