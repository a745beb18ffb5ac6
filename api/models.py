"""What the API stores of its own: the first answer to each Idempotency-Key."""

from __future__ import annotations

from django.db import models

from accounts.models import ApiToken


class IdempotentRequest(models.Model):
    """A POST sent with an Idempotency-Key: a retry with the same key (and the same
    request) gets this answer again, and nothing is written twice. Per token, so two
    scripts cannot collide or read each other's answers."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body")
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"],
                                               name="idempotency_key_once_per_token")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
