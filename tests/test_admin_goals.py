"""Goals admin: the app's checks through goals.services (cycle dates, unique names, one
active goal), closed cycles read-only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEntry, Role
from goals.models import Cycle, StrategicPillar, UltimateGoal
from tests.factories import (
    CycleFactory,
    MembershipFactory,
    PillarFactory,
    UltimateGoalFactory,
    UserFactory,
)


@pytest.fixture
def staff_client(org):
    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, organization=org, role=Role.ADMIN)
    client = Client()
    client.force_login(user)
    return client


def errors(response) -> str:
    return str(response.context["adminform"].form.errors)


def test_cycle_dates_must_lie_inside_the_parent(staff_client, org):
    year = CycleFactory(organization=org, name="2027", kind="year",
                        start=dt.date(2027, 1, 1), end=dt.date(2027, 12, 31))
    data = {"organization": org.pk, "name": "2028 Q1", "kind": "quarter",
            "start": "2028-01-01", "end": "2028-03-31", "parent": year.pk}
    response = staff_client.post(reverse("admin:goals_cycle_add"), data)
    assert response.status_code == 200 and "must lie inside 2027" in errors(response)
    data.update(name="2027 Q1", start="2027-01-01", end="2027-03-31")
    assert staff_client.post(reverse("admin:goals_cycle_add"), data).status_code == 302
    cycle = Cycle.objects.get(name="2027 Q1")
    assert cycle.parent == year
    assert AuditEntry.objects.filter(object_type="goals.cycle", action="created").exists()
    response = staff_client.post(reverse("admin:goals_cycle_add"), {
        **data, "name": "2027 q1"})
    assert response.status_code == 200 and "already has this name" in errors(response)


def test_closed_cycle_is_read_only(staff_client, org):
    cycle = CycleFactory(organization=org, state=Cycle.State.CLOSED)
    page = staff_client.get(reverse("admin:goals_cycle_change", args=[cycle.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    response = staff_client.post(reverse("admin:goals_cycle_change", args=[cycle.pk]),
                                 {"name": "Renamed", "kind": "quarter",
                                  "start": cycle.start.isoformat(),
                                  "end": cycle.end.isoformat()})
    assert response.status_code == 403
    assert Cycle.objects.get(pk=cycle.pk).name == cycle.name


def test_one_active_goal_and_unique_pillar_names(staff_client, org):
    goal = UltimateGoalFactory(organization=org)
    response = staff_client.post(reverse("admin:goals_ultimategoal_add"),
                                 {"organization": org.pk, "title": "Another"})
    assert response.status_code == 200 and "already has its ultimate goal" in errors(response)
    assert UltimateGoal.objects.filter(organization=org).count() == 1
    PillarFactory(organization=org, name="Customers", goal=goal)
    response = staff_client.post(reverse("admin:goals_strategicpillar_add"),
                                 {"organization": org.pk, "name": "customers", "order": 2})
    assert response.status_code == 200 and "already has this name" in errors(response)
    response = staff_client.post(reverse("admin:goals_strategicpillar_add"),
                                 {"organization": org.pk, "name": "People", "order": 2})
    assert response.status_code == 302
    assert StrategicPillar.objects.get(name="People").goal == goal  # the active goal's
