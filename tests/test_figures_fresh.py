"""Pages read the figures stored on write (okrs.figures), and nothing is kept between
requests (issue 16 removed the per-process figure store, core.generations): every kind of
write that changes what they show is seen on the next read — including the writes made
with QuerySet.update() or bulk_update(), which send no model signals."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from goals import services as goal_services
from kpis import services as kpi_services
from okrs import selectors as S
from okrs import services
from okrs.checkins import services as checkins
from okrs.models import Objective
from tests.conftest import count_queries
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    KpiFactory,
    ObjectiveFactory,
    PillarFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(org):
    today = timezone.localdate()
    return CycleFactory(organization=org, start=today - dt.timedelta(days=30),
                        end=today + dt.timedelta(days=60))


@pytest.fixture
def objective(org, cycle, leader):
    o = ObjectiveFactory(organization=org, cycle=cycle, owner=leader, title="Grow")
    KeyResultFactory(objective=o, start_value=0, target_value=100, current_value=20)
    return o


def progress(org, cycle, objective) -> float:
    return S.cycle_progress(organization=org, cycle=cycle).by_id[objective.pk].progress


def test_every_read_reads_the_stored_figures_and_keeps_nothing(org, cycle, objective):
    with count_queries() as first_read:
        first = S.cycle_progress(organization=org, cycle=cycle)
    with count_queries() as second_read:
        second = S.cycle_progress(organization=org, cycle=cycle)
    assert second is not first
    assert first_read == second_read == 2  # objectives, key results


def test_the_okr_list_page_sees_a_check_in_at_once(org, cycle, objective, leader, as_user):
    client = as_user(leader)
    path = reverse("okrs:list", kwargs={"org_slug": org.slug})
    assert "20 %" in client.get(path).content.decode()
    kr = objective.key_results.get()
    checkins.checkin_create(key_result=kr, author=leader, status="on_track", value=70)
    assert "70 %" in client.get(path).content.decode()


def test_a_check_in_changes_progress_and_status(org, cycle, objective, leader):
    assert progress(org, cycle, objective) == pytest.approx(0.2)
    kr = objective.key_results.get()
    checkins.checkin_create(key_result=kr, author=leader, status="off_track", value=45)
    row = S.cycle_progress(organization=org, cycle=cycle).by_id[objective.pk]
    assert row.progress == pytest.approx(0.45)
    assert row.status == "off_track"


def test_service_updates_are_seen(org, cycle, objective, leader):
    """objective_update and key_result_update write with QuerySet.update()."""
    S.cycle_progress(organization=org, cycle=cycle)
    services.objective_update(objective=objective, actor=leader, version=objective.version,
                              data={"title": "Grow faster"})
    kr = objective.key_results.get()
    services.key_result_update(key_result=kr, actor=leader, version=kr.version,
                               data={"title": kr.title, "kind": "metric", "start_value": 0,
                                     "target_value": 40, "current_value": 20, "weight": 1})
    row = S.cycle_progress(organization=org, cycle=cycle).by_id[objective.pk]
    assert row.objective.title == "Grow faster"
    assert row.progress == pytest.approx(0.5)


def test_a_kpi_point_moves_its_linked_key_result(org, cycle, objective, leader):
    """The linked KR follows its KPI through one UPDATE (okrs.promotion)."""
    kpi = KpiFactory(organization=org, target_rule="at_least", target_value=100)
    o = ObjectiveFactory(organization=org, cycle=cycle)
    KeyResultFactory(objective=o, kpi=kpi, start_value=0, target_value=100, current_value=0)
    assert progress(org, cycle, o) == 0
    kpi_services.kpi_record_value(kpi=kpi, period=timezone.localdate(), value=60,
                                  author=leader)
    assert progress(org, cycle, o) == pytest.approx(0.6)


def test_closing_the_cycle_is_seen(org, cycle, objective, leader):
    S.cycle_progress(organization=org, cycle=cycle)
    services.cycle_close(cycle=cycle, actor=leader, version=cycle.version)
    cycle.refresh_from_db()
    row = S.cycle_progress(organization=org, cycle=cycle).by_id[objective.pk]
    assert row.objective.state == Objective.State.CLOSED
    assert row.objective.score == pytest.approx(0.2)


def test_names_shown_beside_the_figures_are_fresh(org, cycle, objective, leader):
    """Owners, teams and pillars are shown from the stored rows: renaming them counts."""
    team = TeamFactory(organization=org, name="Sales")
    pillar = PillarFactory(organization=org, name="Customers")
    Objective.objects.filter(pk=objective.pk).update(team=team, pillar=pillar)
    S.cycle_progress(organization=org, cycle=cycle)
    leader.name = "Leonie Leader"
    leader.save()
    team.name = "Sales & Success"
    team.save()
    goal_services.pillar_update(pillar=pillar, actor=leader, version=pillar.version,
                                data={"name": "Happy customers"})
    o = S.cycle_progress(organization=org, cycle=cycle).by_id[objective.pk].objective
    assert (o.owner.name, o.team.name, o.pillar.name) == (
        "Leonie Leader", "Sales & Success", "Happy customers")


def test_results_follow_the_clock(org, cycle, objective, leader):
    """Statuses turn overdue and the expected progress moves with the clock."""
    kr = objective.key_results.get()
    checkins.checkin_create(key_result=kr, author=leader, status="on_track", value=30)
    row = S.cycle_progress(organization=org, cycle=cycle).by_id[objective.pk]
    assert row.status == "on_track"
    with time_machine.travel(timezone.now() + dt.timedelta(days=8), tick=False):
        later = S.cycle_progress(organization=org, cycle=cycle).by_id[objective.pk]
    assert later.status == "overdue"
    assert later.expected > row.expected


def test_with_the_shared_cache_down_writes_and_pages_still_work(org, cycle, objective,
                                                               leader, as_user):
    with mock.patch("django.core.cache.cache.get", side_effect=ConnectionError("down")):
        checkins.checkin_create(key_result=objective.key_results.get(), author=leader,
                                status="on_track", value=90)
        assert progress(org, cycle, objective) == pytest.approx(0.9)
        response = as_user(leader).get(reverse("okrs:list", kwargs={"org_slug": org.slug}))
        assert response.status_code == 200


def _home(client, org):
    return client.get(reverse("dashboards:home", kwargs={"org_slug": org.slug})).content.decode()


def test_the_dashboard_keeps_nothing_between_requests(org, cycle, objective, leader, as_user):
    """Issue 16: the dashboard reads the stored figures on every request (no per-process
    copy to go stale): a second request costs no more than the first (which may store a
    missing count row, kpis.status_counts)."""
    client = as_user(leader)
    with count_queries() as first:
        _home(client, org)
    with count_queries() as second:
        _home(client, org)
    assert second <= first


def test_the_dashboard_sees_kpi_values_health_and_dismissals(org, cycle, objective, leader,
                                                             as_user):
    """Values (sparklines), health changes from the engine (counts, attention list,
    candidates) and a dismissal all show on the next request."""
    from kpis import health

    client = as_user(leader)
    kpi = KpiFactory(organization=org, name="Reply time", target_rule="at_most",
                     target_value=30)
    assert "Reply time" not in _home(client, org)
    for week in range(12):
        kpi_services.kpi_record_value(
            kpi=kpi, period=timezone.localdate() - dt.timedelta(weeks=12 - week),
            value=50 + week, author=leader)
    health.evaluate_kpis([kpi.pk])
    page = _home(client, org)
    assert "Reply time" in page  # off target: in the attention list
    kpi.health.refresh_from_db()
    assert kpi.health.candidate == "candidate"
    dismiss = reverse("kpis:dismiss", kwargs={"org_slug": org.slug, "pk": kpi.pk})
    assert dismiss in page  # offered as an improvement candidate
    kpi_services.candidate_dismiss(kpi=kpi, actor=leader, note="Seasonal")
    assert dismiss not in _home(client, org)


def test_the_dashboard_feed_shows_a_check_in_at_once(org, cycle, objective, leader, as_user):
    client = as_user(leader)
    before = _home(client, org)
    checkins.checkin_create(key_result=objective.key_results.get(), author=leader,
                            status="on_track", value=55, comment="Halfway there")
    after = _home(client, org)
    assert "Halfway there" not in before
    assert objective.key_results.get().title in after
    assert after != before
