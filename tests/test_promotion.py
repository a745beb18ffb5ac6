"""The whole loop: a KPI drifts → candidate → promote → draft OKR → recovers → sustain."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kpis import health, services
from kpis.models import HealthEvent, Kpi, KpiHealth
from kpis.periods import period_start
from okrs.models import KeyResult, Objective
from okrs.promotion import kpi_promote
from tests.factories import CycleFactory, KpiFactory, TeamFactory

pytestmark = pytest.mark.django_db


def weeks_back(n):
    last = period_start(timezone.localdate(), "weekly") - dt.timedelta(weeks=1)
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


@pytest.fixture
def drifting(org, admin_user):
    team = TeamFactory(organization=org, name="Support")
    kpi = KpiFactory(organization=org, name="Reply time", unit="min", decimals=0, team=team,
                     owner=admin_user, frequency="weekly", target_rule="at_most",
                     target_value=30)
    return kpi


def record(kpi, periods, values, capture):
    with capture(execute=True):
        services.kpi_record_values(
            rows=[services.Row(kpi=kpi, period_start=p, value=v) for p, v in zip(periods, values, strict=True)],
            source="manual", author=None,
        )


def test_the_promotion_loop(org, leader, drifting, django_capture_on_commit_callbacks):
    kpi = drifting
    cycle = CycleFactory(organization=org)
    periods = weeks_back(16)
    # 1. Ten weeks on target, then it drifts off target for two weeks.
    record(kpi, periods[:10], [24, 26, 25, 27, 25, 24, 26, 25, 27, 26],
           django_capture_on_commit_callbacks)
    assert KpiHealth.objects.get(kpi=kpi).candidate == KpiHealth.Candidate.NONE
    record(kpi, periods[10:12], [52, 55], django_capture_on_commit_callbacks)
    h = KpiHealth.objects.get(kpi=kpi)
    assert h.status == KpiHealth.Status.OFF_TARGET
    assert h.candidate == KpiHealth.Candidate.CANDIDATE
    assert "Off target for 2 periods: 55 min against at most 30 min" in h.candidate_reason

    # 2. A leader promotes it: a draft objective in the current cycle, aligned to the team,
    #    with a key result linked to the KPI from the current level to the target.
    with django_capture_on_commit_callbacks(execute=True):
        objective, kr = kpi_promote(kpi=kpi, actor=leader)
    assert objective.state == Objective.State.DRAFT
    assert objective.cycle == cycle and objective.team == kpi.team
    assert kr.kpi == kpi and kr.objective == objective
    # The current level: no sustained shift (8 points on one side) yet, so the latest value
    # (kpis.evaluation.current_level), not the centre line of the baseline before the drift.
    assert kr.start_value == 55
    assert kr.target_value == 30
    kpi.refresh_from_db()
    assert kpi.intent == Kpi.Intent.IMPROVE
    h.refresh_from_db()
    assert h.candidate == KpiHealth.Candidate.IN_IMPROVEMENT
    with pytest.raises(ValidationError):  # not twice
        kpi_promote(kpi=kpi, actor=leader)

    # 3. New on-target points: the KR follows the KPI and reaches its target; after three
    #    on-target periods with no unfavourable signal the KPI returns to sustain.
    record(kpi, periods[12:14], [24, 25], django_capture_on_commit_callbacks)
    kr.refresh_from_db()
    assert kr.current_value == 25  # the linked KR follows the KPI's data
    kpi.refresh_from_db()
    assert kpi.intent == Kpi.Intent.IMPROVE  # only two periods on target so far
    record(kpi, periods[14:16], [23, 24], django_capture_on_commit_callbacks)
    kr.refresh_from_db()
    assert kr.current_value == 24
    kpi.refresh_from_db()
    assert kpi.intent == Kpi.Intent.SUSTAIN
    assert KpiHealth.objects.get(kpi=kpi).candidate == KpiHealth.Candidate.NONE  # one state

    steps = list(HealthEvent.objects.filter(kpi=kpi, kind="loop").order_by("id")
                 .values_list("old", "new"))
    assert steps == [("none", "candidate"), ("candidate", "in_improvement"),
                     ("in_improvement", "none")]
    # Running the sweep again changes nothing more.
    n = HealthEvent.objects.count()
    health.evaluate_all()
    assert HealthEvent.objects.count() == n


def test_promote_needs_a_candidate_a_target_and_an_open_cycle(org, leader, drifting):
    kpi = drifting
    with pytest.raises(ValidationError):
        kpi_promote(kpi=kpi, actor=leader)  # no health, not a candidate
    KpiHealth.objects.create(kpi=kpi, candidate="candidate", latest_value=50, center=48)
    with pytest.raises(ValidationError, match="no open cycle"):
        kpi_promote(kpi=kpi, actor=leader)
    CycleFactory(organization=org)
    Kpi.objects.filter(pk=kpi.pk).update(target_rule="none", target_value=None)
    kpi.refresh_from_db()
    with pytest.raises(ValidationError, match="no target"):
        kpi_promote(kpi=kpi, actor=leader)
    assert not Objective.objects.exists() and not KeyResult.objects.exists()


def test_between_target_aims_at_the_nearest_edge(org, leader):
    CycleFactory(organization=org)
    kpi = KpiFactory(organization=org, target_rule="between", target_value=2, target_upper=4)
    KpiHealth.objects.create(kpi=kpi, candidate="candidate", latest_value=7, center=6.5)
    _, kr = kpi_promote(kpi=kpi, actor=leader)
    assert (kr.start_value, kr.target_value) == (7, 4)  # no points stored: the latest value


def test_kr_reached_direction():
    from okrs.improvement import kr_reached

    kr = {"kind": "metric", "start_value": 52, "target_value": 30, "current_value": 30,
          "done": False, "guard": ""}
    assert kr_reached(kr)
    assert not kr_reached({**kr, "current_value": 31})
    assert kr_reached({**kr, "start_value": 10, "current_value": 31})  # upwards
    flat = {**kr, "start_value": 30, "current_value": 24}
    assert kr_reached(flat, Kpi(target_rule="at_most", target_value=30))
    assert not kr_reached(flat, Kpi(target_rule="at_least", target_value=30))
    assert kr_reached({**kr, "kind": "milestone", "done": True})
