"""Load the demo organisation "Acme" (idempotent: a second run changes nothing).

Each app seeds its own part; this command (in the top app, which may import all) runs
them in order inside one transaction.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from accounts.models import Organization
from activity import demo as activity_demo
from goals import demo as goals_demo
from initiatives import demo as initiatives_demo
from kpis import demo as kpis_demo
from okrs import demo as okrs_demo
from sources import demo as sources_demo

# Each module has seed(ctx: accounts.demo.DemoContext) -> None. Order matters.
PARTS = [goals_demo, kpis_demo, sources_demo, okrs_demo, initiatives_demo, activity_demo]


class Command(BaseCommand):
    help = "Create the demo organisation Acme with people, strategy, OKRs, check-ins and KPIs."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true",
                            help="Delete the demo organisation first and load it again.")

    def handle(self, *args, reset: bool = False, **options):
        existing = Organization.objects.filter(slug=accounts_demo.DEMO_SLUG).first()
        if existing and reset:
            self._delete(existing)
            existing = None
        if existing:
            self.stdout.write("The demo organisation is already loaded (use --reset to reload).")
        else:
            with transaction.atomic():
                org = Organization.objects.create(name="Acme", slug=accounts_demo.DEMO_SLUG,
                                                  time_zone="Europe/London")
                ctx = accounts_demo.seed(org)
                for part in PARTS:
                    part.seed(ctx)
            self.stdout.write(self.style.SUCCESS("Loaded the demo organisation Acme."))
        self.stdout.write(f"\nDemo logins (password: {accounts_demo.DEMO_PASSWORD})")
        for email, role in accounts_demo.logins():
            self.stdout.write(f"  {email:<22} {role}")
        self.stdout.write("\nOpen http://127.0.0.1:8000/ and log in.\n")

    @transaction.atomic
    def _delete(self, org: Organization) -> None:
        from okrs.models import Objective

        # Objectives protect their cycles; remove them first.
        Objective.objects.filter(organization=org).update(parent=None)
        Objective.objects.filter(organization=org).delete()
        org.delete()
