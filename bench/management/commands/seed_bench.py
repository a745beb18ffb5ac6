"""Seed the benchmark organisation "bench" (deterministic, bulk inserts).

    HEADWAY_BENCH=1 python manage.py seed_bench --scale large   # 50 teams, 500 people,
        # 1,000 objectives, 4,000 KRs x 12 check-ins, 2,000 initiatives,
        # 10,000 weekly KPIs x 104 points (1.04 M)
    HEADWAY_BENCH=1 python manage.py seed_bench --scale small   # a tenth of it
    HEADWAY_BENCH=1 python manage.py seed_bench --scale large --reset

The command exists only when the bench app is installed (HEADWAY_BENCH=1; bench/run.py
sets it). Every random figure comes from one seeded RNG (``--seed``); dates are relative
to today. A second run with the same scale does nothing; a different scale needs
``--reset``. The KPI health rows are computed at the end by the real engine
(``kpis.health``), never invented here. Log in as ``bench@bench.test`` / ``headway-bench``
(owner).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import Organization
from bench.seeder import Seeder
from bench.seeding import (
    BENCH_EMAIL,
    BENCH_PASSWORD,
    BENCH_SLUG,
    SCALES,
    analyse_tables,
    delete_bench,
)


class Command(BaseCommand):
    help = "Seed the benchmark organisation 'bench' (see bench/README.md)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--reset", action="store_true",
                            help="Delete the bench organisation (and its users) first.")
        parser.add_argument("--no-health", action="store_true",
                            help="Do not run the KPI health evaluation at the end.")

    def handle(self, *args, scale: str, seed: int, reset: bool, no_health: bool, **options):
        size = SCALES[scale]
        name = f"Bench Corp ({scale})"
        existing = Organization.objects.filter(slug=BENCH_SLUG).first()
        if existing and reset:
            t = time.monotonic()
            delete_bench()
            self.stdout.write(f"Deleted the bench organisation in {time.monotonic() - t:.1f}s.")
            existing = None
        if existing:
            if existing.name != name:
                raise CommandError(f"The bench organisation is seeded as “{existing.name}”; "
                                   f"use --reset to seed the {scale} scale.")
            self.stdout.write(f"{existing.name} is already seeded (use --reset to reseed).")
            return
        t0 = time.monotonic()
        seeder = Seeder(size, name=name, seed=seed, log=self.stdout.write)
        with transaction.atomic():
            org = seeder.run()
        if connection.vendor == "postgresql":
            t = time.monotonic()
            analyse_tables()
            self.stdout.write(f"  vacuum analyse: {time.monotonic() - t:.1f}s")
        if not no_health:
            t = time.monotonic()
            from kpis import health

            outcome = health.evaluate_all(organization_id=org.pk, force=True)
            self.stdout.write(f"  KPI health (kpis.health.evaluate_all): "
                              f"{outcome.evaluated} KPIs in {time.monotonic() - t:.1f}s")
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {name} in {time.monotonic() - t0:.1f}s. "
            f"Log in as {BENCH_EMAIL} / {BENCH_PASSWORD}."))
