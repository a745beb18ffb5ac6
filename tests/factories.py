"""factory-boy factories for every model. Tenancy-aware: children share their parent's org."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from accounts.models import Membership, Organization, Role, Team, User
from goals.models import Cycle, StrategicPillar, UltimateGoal
from initiatives.models import Initiative
from kpis.models import DataPoint, Kpi
from okrs.models import CheckIn, KeyResult, Objective

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.MEMBER


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class UltimateGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UltimateGoal

    organization = factory.SubFactory(OrganizationFactory)
    title = "Be the tool every team trusts"
    mission = "Help organisations change what matters and keep the rest healthy."
    vision = "Every team knows where it is going and how it is doing."


class PillarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategicPillar

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Pillar {n}")
    order = factory.Sequence(lambda n: n)


def _quarter_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    q = (today.month - 1) // 3
    start = dt.date(today.year, 3 * q + 1, 1)
    end_month = 3 * q + 3
    next_start = dt.date(today.year + (end_month // 12), end_month % 12 + 1, 1)
    return start, next_start - dt.timedelta(days=1)


class CycleFactory(factory.django.DjangoModelFactory):
    """The current quarter by default."""

    class Meta:
        model = Cycle

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Cycle {n}")
    kind = Cycle.Kind.QUARTER
    start = factory.LazyFunction(lambda: _quarter_bounds(timezone.localdate())[0])
    end = factory.LazyFunction(lambda: _quarter_bounds(timezone.localdate())[1])


class KpiFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Kpi

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"KPI {n}")
    unit = "min"
    frequency = Kpi.Frequency.WEEKLY
    target_rule = Kpi.TargetRule.AT_MOST
    target_value = 30.0


class DataPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataPoint

    kpi = factory.SubFactory(KpiFactory)
    period_start = factory.Sequence(lambda n: dt.date(2026, 1, 5) + dt.timedelta(weeks=n))
    value = 25.0


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    organization = factory.SubFactory(OrganizationFactory)
    cycle = factory.SubFactory(CycleFactory, organization=factory.SelfAttribute("..organization"))
    title = factory.Sequence(lambda n: f"Objective {n}")
    state = Objective.State.ACTIVE


class KeyResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyResult

    objective = factory.SubFactory(ObjectiveFactory)
    organization = factory.SelfAttribute("objective.organization")
    title = factory.Sequence(lambda n: f"Key result {n}")
    kind = KeyResult.Kind.METRIC
    start_value = 0.0
    target_value = 100.0
    current_value = 0.0


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    key_result = factory.SubFactory(KeyResultFactory)
    organization = factory.SelfAttribute("key_result.organization")
    value = 10.0
    status = "on_track"
    week_start = factory.LazyFunction(
        lambda: timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday()))


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Initiative

    key_result = factory.SubFactory(KeyResultFactory)
    organization = factory.SelfAttribute("key_result.organization")
    title = factory.Sequence(lambda n: f"Initiative {n}")
