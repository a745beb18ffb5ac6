"""The KPI loop as one state machine (kpis.loop): every transition, and every surface shows
the same state for the same KPI (issue 14, defects 5, 6 and 7)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import ApiToken
from kpis import health, loop, services
from kpis.evaluation import current_level, next_state
from kpis.models import HealthEvent, Kpi, KpiHealth
from kpis.periods import period_start
from okrs import services as okr_services
from okrs.models import KeyResult, Objective
from okrs.promotion import kpi_promote
from tests.conftest import client_for, url
from tests.factories import CycleFactory, KpiFactory, TeamFactory

pytestmark = pytest.mark.django_db

S, C, D, I = loop.SUSTAIN, loop.CANDIDATE, loop.DISMISSED, loop.IN_IMPROVEMENT  # noqa: E741 (the four states, short in the tables)


def weeks_back(n):
    last = period_start(timezone.localdate(), "weekly") - dt.timedelta(weeks=1)
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


@pytest.fixture
def kpi(org, admin_user):
    team = TeamFactory(organization=org, name="Support")
    return KpiFactory(organization=org, name="Reply time", unit="min", decimals=0, team=team,
                      owner=admin_user, frequency="weekly", target_rule="at_most",
                      target_value=30)


def record(kpi, periods, values):
    services.kpi_record_values(
        rows=[services.Row(kpi=kpi, period_start=p, value=v)
              for p, v in zip(periods, values, strict=True)], source="manual", author=None)
    health.evaluate_kpi(kpi)


def state(kpi):
    kpi.refresh_from_db()
    h = KpiHealth.objects.get(kpi=kpi)
    # The mirror never disagrees with the state (defect 5).
    assert kpi.intent == ("improve" if h.candidate == I else "sustain")
    return h.candidate


def steps(kpi):
    return list(HealthEvent.objects.filter(kpi=kpi, kind="loop").order_by("id")
                .values_list("old", "new"))


@pytest.fixture
def candidate(org, kpi):
    CycleFactory(organization=org)
    periods = weeks_back(16)
    record(kpi, periods[:10], [24, 26, 25, 27, 25, 24, 26, 25, 27, 26])
    assert state(kpi) == S
    record(kpi, periods[10:12], [52, 55])
    assert state(kpi) == C
    kpi.test_periods = periods
    return kpi


# --- The rule, pure ----------------------------------------------------------------------


@pytest.mark.parametrize("current, keys, dismissed, tracked, reached, ready, expected", [
    (S, [], [], False, False, False, S),
    (S, ["off_target"], [], False, False, False, C),
    (C, [], [], False, False, False, S),
    (C, ["off_target"], [], True, False, False, I),  # a KR linked by hand
    (D, ["off_target"], ["off_target"], False, False, False, D),
    (D, ["off_target", "missed"], ["off_target"], False, False, False, C),  # worse
    (D, [], ["off_target"], False, False, False, S),
    (I, ["off_target"], [], True, False, False, I),
    (I, [], [], True, True, False, I),  # reached, but not on target long enough
    (I, [], [], True, True, True, S),  # reached and on target: back to sustain
    (I, ["off_target"], [], False, False, False, C),  # objective gone: back to the queue
    (I, [], [], False, False, False, S),
    (S, [], [], True, True, False, S),  # back in sustain with a reached KR still live
])
def test_next_state(current, keys, dismissed, tracked, reached, ready, expected):
    assert next_state(current=current, reason_keys=keys, dismissed_keys=dismissed,
                      tracked=tracked, reached=reached, ready_for_sustain=ready) == expected
    if expected != current:
        loop.check(current, expected)  # every move the rule makes is an allowed one


def test_forbidden_transitions_are_refused(kpi):
    with pytest.raises(ValidationError):
        loop.check(I, D)
    with pytest.raises(ValidationError):
        loop.check(S, D)
    with pytest.raises(ValidationError):
        loop.transition(kpi=kpi, to=D)  # sustain → dismissed
    assert not HealthEvent.objects.filter(kind="loop").exists()


def test_current_level_after_a_sustained_shift():
    base = [35, 36, 34, 35, 36, 34, 35, 35]
    shifted = [45, 50, 54, 48, 47, 52, 49, 51, 53, 46]
    # a run of 10 above the old centre line: the level of the current process
    assert current_level(base + shifted, center=35.0) == pytest.approx(sum(shifted) / 10)
    # fewer than 8 on one side: the latest value
    assert current_level(base + [45, 50, 54], center=35.0) == 54
    assert current_level([], center=None) is None
    assert current_level([40], center=None) == 40


# --- Every transition, through the services --------------------------------------------


def test_candidate_promoted_reached_back_to_sustain(candidate, leader):
    kpi = candidate
    periods = kpi.test_periods
    _, kr = kpi_promote(kpi=kpi, actor=leader)
    assert state(kpi) == I
    assert kr.start_value == 55  # the current level (no shift of 8 yet): defect 7
    record(kpi, periods[12:14], [24, 25])
    assert state(kpi) == I
    record(kpi, periods[14:16], [23, 24])
    assert state(kpi) == S  # reached and on target for three periods
    assert steps(kpi) == [(S, C), (C, I), (I, S)]
    health.evaluate_all()
    assert state(kpi) == S and len(steps(kpi)) == 3  # stable: nothing more


def test_dismissed_then_promoted(candidate, leader):
    services.candidate_dismiss(kpi=candidate, actor=leader, note="Seasonal")
    assert state(candidate) == D
    health.evaluate_kpi(candidate)
    assert state(candidate) == D  # no new reason
    kpi_promote(kpi=candidate, actor=leader)
    assert state(candidate) == I
    assert steps(candidate)[-2:] == [(C, D), (D, I)]


def _promoted(kpi, leader):
    objective, kr = kpi_promote(kpi=kpi, actor=leader)
    assert state(kpi) == I
    return objective, kr


def test_objective_deleted_sends_it_back_to_the_queue(candidate, leader):
    objective, _ = _promoted(candidate, leader)
    okr_services.objective_delete(objective=objective, actor=leader)
    assert state(candidate) == C  # still off target: a candidate again (defect 6)
    last = HealthEvent.objects.filter(kpi=candidate, kind="loop").order_by("-id").first()
    assert (last.old, last.new) == (I, C) and "was deleted" in last.message
    assert last.actor == leader


def test_objective_closed_by_its_state_sends_it_back(candidate, leader):
    objective, _ = _promoted(candidate, leader)
    objective.refresh_from_db()
    okr_services.objective_update(objective=objective, actor=leader, version=objective.version,
                                  data={"state": Objective.State.CLOSED})
    assert state(candidate) == C


def test_cancelled_at_cycle_close_sends_it_back(candidate, leader):
    objective, _ = _promoted(candidate, leader)  # a draft: cancelled at the close
    cycle = objective.cycle
    cycle.refresh_from_db()
    okr_services.cycle_close(cycle=cycle, actor=leader, version=cycle.version)
    objective.refresh_from_db()
    assert objective.closing_status == Objective.ClosingStatus.CANCELLED
    assert state(candidate) == C
    assert "closed (cancelled)" in HealthEvent.objects.filter(
        kpi=candidate, kind="loop").order_by("-id").first().message


def test_carried_over_stays_in_improvement(candidate, leader, org):
    objective, _ = _promoted(candidate, leader)
    objective.refresh_from_db()
    okr_services.objective_update(objective=objective, actor=leader, version=objective.version,
                                  data={"state": Objective.State.ACTIVE})
    cycle = objective.cycle
    cycle.refresh_from_db()
    okr_services.cycle_close(cycle=cycle, actor=leader, version=cycle.version,
                             decisions={objective.pk: {"closing_status": "missed"}})
    assert state(candidate) == C  # closed unfinished
    nxt = CycleFactory(organization=org, name="Next")
    copies = okr_services.objectives_carry_over(source=cycle, target=nxt, actor=leader)
    assert len(copies) == 1
    assert state(candidate) == I  # the carried-over KR tracks it again
    assert "carried over" in HealthEvent.objects.filter(
        kpi=candidate, kind="loop").order_by("-id").first().message


def test_key_result_unlinked_or_deleted(candidate, leader):
    _, kr = _promoted(candidate, leader)
    kr.refresh_from_db()
    okr_services.key_result_update(key_result=kr, actor=leader, version=kr.version,
                                   data={"kpi": None})
    assert state(candidate) == C
    kr.refresh_from_db()
    okr_services.key_result_update(key_result=kr, actor=leader, version=kr.version,
                                   data={"kpi": candidate})
    assert state(candidate) == I  # linked by hand: in improvement
    okr_services.key_result_delete(key_result=KeyResult.objects.get(pk=kr.pk), actor=leader)
    assert state(candidate) == C


def test_migration_rule_state_wins_over_a_stale_intent(kpi):
    """What the data migration derives: in improvement with intent sustain (the contradiction
    of defect 5) is sustain; the sweep then keeps the mirror."""
    KpiHealth.objects.create(kpi=kpi, candidate=I)
    Kpi.objects.filter(pk=kpi.pk).update(intent="improve")
    health.evaluate_kpi(kpi)  # nothing tracks it: back to sustain (no data, no reason)
    assert state(kpi) == S


# --- The same word on every surface ------------------------------------------------------


def _api_get(org, user, path):
    from django.test import Client

    raw, prefix, hashed = ApiToken.new_token()
    ApiToken.objects.create(organization=org, user=user, name="t", prefix=prefix,
                            token_hash=hashed)
    return Client().get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.mark.parametrize("promote", [False, True])
def test_every_surface_shows_the_same_state(candidate, leader, admin_user, org, promote):
    kpi = candidate
    if promote:
        _promoted(kpi, leader)
    h = KpiHealth.objects.get(kpi=kpi)
    word = loop.label(h.candidate)
    assert word == ("In improvement" if promote else "Improvement candidate")
    other = "Improvement candidate" if promote else "In improvement"
    chip = f'data-loop-state="{h.candidate}">{word}</span>'
    client = client_for(admin_user)
    detail = client.get(url("kpis:detail", pk=kpi.pk)).content.decode()
    assert detail.count(chip) == 1  # the header
    assert f'<h2 id="cand-h">{word}</h2>' in detail  # the panel
    assert "intent:" not in detail and other not in detail.split('id="chart-h"')[0]
    board = client.get(url("kpis:list")).content.decode()
    assert chip in board
    home = client.get(url("dashboards:home")).content.decode()
    assert (kpi.name in home.split('id="cand-h"')[1].split("</section>")[0]) is (not promote)
    exported = client.get(url("dashboards:operations_csv")).content.decode()
    lines = [line for line in exported.splitlines() if "Reply time" in line]
    if promote:
        assert lines == []  # in improvement: on the strategic review, not in operations
        review = client.get(url("dashboards:review")).content.decode()
        assert "Bring Reply time back on target" in review
        assert chip in review  # the loop chip beside the KPI on the review
    else:
        assert len(lines) == 1 and word in lines[0] and "Sustain" not in lines[0]
    body = _api_get(org, admin_user, f"/kpis/{kpi.pk}").json()
    assert body["health"]["candidate"] == h.candidate
    assert body["intent"] == ("improve" if promote else "sustain")
    assert (body["loop_state"], body["loop_label"]) == (h.candidate, word)
