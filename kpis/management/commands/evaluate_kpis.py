"""Evaluate KPI health from the shell: what the scheduled task does."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from kpis import health


class Command(BaseCommand):
    help = "Evaluate the health of every active KPI (or one organisation's), in chunks."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Only this organisation (slug).")
        parser.add_argument("--chunk-size", type=int, default=health.CHUNK_SIZE)
        parser.add_argument("--force", action="store_true",
                            help="Run even if another sweep holds the lock.")

    def handle(self, *args, org=None, chunk_size=health.CHUNK_SIZE, force=False, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        org_id = None
        if org:
            found = Organization.objects.filter(slug=org).first()
            if found is None:
                raise CommandError(f"No organisation with slug {org!r}.")
            org_id = found.pk
        t0 = time.perf_counter()
        outcome = health.evaluate_all(chunk_size=chunk_size, organization_id=org_id, force=force)
        if outcome is None:
            self.stdout.write("Another evaluation is running; nothing done (use --force).")
            return
        elapsed = time.perf_counter() - t0
        self.stdout.write(self.style.SUCCESS(
            f"Evaluated {outcome.evaluated} KPIs in {elapsed:.2f}s "
            f"({outcome.events} events, {outcome.back_to_sustain} back to sustain)."
        ))
