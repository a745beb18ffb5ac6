"""Re-encrypt every stored data-source secret with the first key of HEADWAY_SECRETS_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from core import secrets
from sources.models import DataSource

FIELDS = ["url_encrypted", "secret_encrypted", "hmac_secret_encrypted", "webhook_token_encrypted"]


class Command(BaseCommand):
    help = "Re-encrypt stored secrets with the first key of HEADWAY_SECRETS_KEYS (key rotation)."

    @transaction.atomic
    def handle(self, *args, **options):
        count = 0
        for source in DataSource.objects.select_for_update().only("pk", *FIELDS):
            for name in FIELDS:
                setattr(source, name, secrets.rotate(getattr(source, name)))
            source.save(update_fields=FIELDS)
            count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} data source(s).")
