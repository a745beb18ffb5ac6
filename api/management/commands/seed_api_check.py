"""Seed a small organisation for the API contract run (.ci/schemathesis) and print a
read-write token of its owner: one team, a cycle with an objective and two key results,
a KPI with twelve weekly points. Idempotent per slug: --reset drops the organisation first.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, Membership, Organization, Role, Team
from goals.models import Cycle
from kpis.models import DataPoint, Kpi
from kpis.periods import period_start
from okrs.models import KeyResult, Objective

SLUG = "api-check"


class Command(BaseCommand):
    help = "Seed the API contract run's organisation and print a read-write owner token."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true")

    @transaction.atomic
    def handle(self, *args, reset=False, **opts):
        if reset:
            org = Organization.objects.filter(slug=SLUG).first()
            if org is not None:
                Objective.objects.filter(organization=org).delete()
                Cycle.objects.filter(organization=org).delete()
                org.delete()
        org, _ = Organization.objects.get_or_create(slug=SLUG, defaults={"name": "API check"})
        user, _ = get_user_model().objects.get_or_create(
            email="api-check@example.com", defaults={"name": "API Check"})
        Membership.objects.get_or_create(user=user, organization=org,
                                         defaults={"role": Role.OWNER})
        team, _ = Team.objects.get_or_create(organization=org, slug="delivery",
                                             defaults={"name": "Delivery"})
        team.members.add(user)
        today = timezone.localdate()
        q = (today.month - 1) // 3
        start = dt.date(today.year, 3 * q + 1, 1)
        end = (dt.date(today.year + (q == 3), (3 * q + 3) % 12 + 1, 1) - dt.timedelta(days=1))
        cycle, _ = Cycle.objects.get_or_create(
            organization=org, name=f"Q{q + 1} {today.year}",
            defaults={"kind": Cycle.Kind.QUARTER, "start": start, "end": end})
        kpi, created = Kpi.objects.get_or_create(organization=org, name="Lead time",
                                                 defaults={"unit": "d", "team": team, "frequency": Kpi.Frequency.WEEKLY,
                                                           "owner": user})
        if created:
            last = period_start(today, kpi.frequency)
            DataPoint.objects.bulk_create([
                DataPoint(kpi=kpi, period_start=last - dt.timedelta(weeks=i), value=5 + i % 3)
                for i in range(1, 13)])
        objective, created = Objective.objects.get_or_create(
            organization=org, cycle=cycle, title="Ship faster",
            defaults={"team": team, "owner": user})
        if created:
            KeyResult.objects.create(organization=org, objective=objective,
                                     title="Deploys a week", start_value=2, target_value=10,
                                     current_value=2, owner=user)
            KeyResult.objects.create(organization=org, objective=objective,
                                     title="Lead time", start_value=8, target_value=3,
                                     current_value=7, kpi=kpi)
        raw, prefix, hashed = ApiToken.new_token()
        ApiToken.objects.create(organization=org, user=user, name="contract run", prefix=prefix,
                                token_hash=hashed, scope=ApiToken.Scope.READ_WRITE)
        self.stdout.write(raw)
