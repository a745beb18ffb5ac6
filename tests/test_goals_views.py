"""Admin pages for the goal, pillars and cycles: access, validation, versions."""

from __future__ import annotations

import datetime as dt

import pytest

from goals.models import Cycle, StrategicPillar, UltimateGoal
from tests.conftest import url
from tests.factories import CycleFactory, PillarFactory, UltimateGoalFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["goals:goal_edit", "goals:pillars", "goals:cycles",
                                  "goals:cycle_create"])
def test_admin_pages_roles(name, as_user, admin_user, leader, outsider, org):
    assert as_user(admin_user).get(url(name, org)).status_code == 200
    assert as_user(leader).get(url(name, org)).status_code == 403
    assert as_user(outsider).get(url(name, org)).status_code == 404


def test_object_pages_roles_and_foreign_ids(as_user, admin_user, leader, outsider, org):
    pillar = PillarFactory(organization=org)
    cycle = CycleFactory(organization=org)
    other = outsider.memberships.get().organization
    foreign_pillar = PillarFactory(organization=other)
    foreign_cycle = CycleFactory(organization=other)
    for name, own, foreign in (("goals:pillar_edit", pillar, foreign_pillar),
                               ("goals:cycle_edit", cycle, foreign_cycle)):
        assert as_user(admin_user).get(url(name, org, pk=own.pk)).status_code == 200
        assert as_user(admin_user).get(url(name, org, pk=foreign.pk)).status_code == 404
        assert as_user(leader).get(url(name, org, pk=own.pk)).status_code == 403
        assert as_user(outsider).get(url(name, org, pk=own.pk)).status_code == 404


def test_write_and_edit_goal_with_version(as_user, admin_user, org):
    client = as_user(admin_user)
    response = client.post(url("goals:goal_edit", org),
                           {"title": "Be loved", "mission": "M", "vision": "V"})
    assert response.status_code == 302
    goal = UltimateGoal.objects.get(organization=org)
    response = client.post(url("goals:goal_edit", org),
                           {"title": "Be adored", "mission": "M", "vision": "V",
                            "version": goal.version})
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.title == "Be adored" and goal.version == 2
    response = client.post(url("goals:goal_edit", org),
                           {"title": "Stale", "mission": "", "vision": "", "version": 1})
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    goal.refresh_from_db()
    assert goal.title == "Be adored"


def test_pillars_create_and_duplicate_name(as_user, admin_user, org):
    UltimateGoalFactory(organization=org)
    client = as_user(admin_user)
    assert client.post(url("goals:pillars", org), {"name": "Growth", "description": ""}
                       ).status_code == 302
    pillar = StrategicPillar.objects.get(organization=org)
    assert pillar.goal is not None and pillar.order == 0
    response = client.post(url("goals:pillars", org), {"name": "growth"})
    assert response.status_code == 200
    assert "already has this name" in response.content.decode()


def test_pillar_edit_and_archive(as_user, admin_user, org):
    pillar = PillarFactory(organization=org, name="Old")
    response = as_user(admin_user).post(url("goals:pillar_edit", org, pk=pillar.pk), {
        "name": "New", "description": "", "order": 3, "archived": "on",
        "version": pillar.version})
    assert response.status_code == 302
    pillar.refresh_from_db()
    assert (pillar.name, pillar.order, pillar.archived, pillar.version) == ("New", 3, True, 2)


def test_cycle_create_validates_dates_and_parent(as_user, admin_user, org, outsider):
    client = as_user(admin_user)
    year = CycleFactory(organization=org, name="2026", kind="year",
                        start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    bad = client.post(url("goals:cycle_create", org), {
        "name": "Q1", "kind": "quarter", "start": "2026-03-31", "end": "2026-01-01"})
    assert bad.status_code == 200 and "after the start" in bad.content.decode()
    outside = client.post(url("goals:cycle_create", org), {
        "name": "Q1", "kind": "quarter", "start": "2027-01-01", "end": "2027-03-31",
        "parent": year.pk})
    assert outside.status_code == 200 and "inside 2026" in outside.content.decode()
    foreign_year = CycleFactory(organization=outsider.memberships.get().organization,
                                kind="year")
    foreign = client.post(url("goals:cycle_create", org), {
        "name": "Q1", "kind": "quarter", "start": "2026-01-01", "end": "2026-03-31",
        "parent": foreign_year.pk})
    assert foreign.status_code == 200 and "Select a valid choice" in foreign.content.decode()
    ok = client.post(url("goals:cycle_create", org), {
        "name": "2026 Q1", "kind": "quarter", "start": "2026-01-01", "end": "2026-03-31",
        "parent": year.pk})
    assert ok.status_code == 302
    assert Cycle.objects.get(name="2026 Q1").parent == year
    dup = client.post(url("goals:cycle_create", org), {
        "name": "2026 q1", "kind": "quarter", "start": "2026-01-01", "end": "2026-03-31"})
    assert dup.status_code == 200 and "already has this name" in dup.content.decode()


def test_cycle_edit_stale_and_closed(as_user, admin_user, org):
    cycle = CycleFactory(organization=org, name="Q", start=dt.date(2026, 1, 1),
                         end=dt.date(2026, 3, 31))
    client = as_user(admin_user)
    data = {"name": "Q one", "kind": "quarter", "start": "2026-01-01", "end": "2026-03-31",
            "version": cycle.version}
    Cycle.objects.filter(pk=cycle.pk).update(version=cycle.version + 1)
    assert client.post(url("goals:cycle_edit", org, pk=cycle.pk), data).status_code == 409
    Cycle.objects.filter(pk=cycle.pk).update(state="closed")
    response = client.post(url("goals:cycle_edit", org, pk=cycle.pk),
                           {**data, "version": cycle.version + 1})
    assert response.status_code == 302
    assert Cycle.objects.get(pk=cycle.pk).name == "Q"


def test_goal_page_links_admin_tools_only_for_admins(as_user, admin_user, leader, org):
    UltimateGoalFactory(organization=org)
    assert url("goals:goal_edit", org) in as_user(admin_user).get(url("okrs:goal", org)
                                                                  ).content.decode()
    assert url("goals:goal_edit", org) not in as_user(leader).get(url("okrs:goal", org)
                                                                  ).content.decode()
