"""Recompute every stored figure (okrs.figures) from scratch: after a migration that adds
figures, after restoring a backup, or whenever they are in doubt."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from okrs import figures


class Command(BaseCommand):
    help = "Recompute the stored progress figures of every organisation (or of one)."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="an organisation's slug (default: all)")

    def handle(self, *args, **options):
        organizations = Organization.objects.order_by("id")
        if options["org"]:
            organizations = organizations.filter(slug=options["org"])
            if not organizations.exists():
                raise CommandError(f"No organisation with the slug {options['org']!r}.")
        for org in organizations:
            started = time.perf_counter()
            count = figures.rebuild(org)
            self.stdout.write(f"{org.slug}: {count} objectives in "
                              f"{time.perf_counter() - started:.2f} s")
