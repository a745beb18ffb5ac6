"""cycle_progress: progress from KRs / children / both, drafts, statuses, pillars, sub-cycles."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from goals.selectors import pick_current_cycle
from okrs import selectors
from tests.factories import CycleFactory, KeyResultFactory, ObjectiveFactory, PillarFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(org):
    return CycleFactory(organization=org, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 11))


NOW = timezone.make_aware(dt.datetime(2026, 1, 6, 12))


def test_cycle_progress_kinds_and_expected(org, cycle):
    o = ObjectiveFactory(organization=org, cycle=cycle)
    KeyResultFactory(objective=o, start_value=52, target_value=30, current_value=41)  # .5
    KeyResultFactory(objective=o, kind="milestone", done=True, start_value=0, target_value=1)
    KeyResultFactory(objective=o, kind="guardrail", guard="at_most", start_value=2,
                     target_value=5, current_value=6)  # 0: not held
    KeyResultFactory(objective=o, start_value=5, target_value=5, current_value=5,
                     weight=0)  # target == start, weight 0
    cp = selectors.cycle_progress(organization=org, cycle=cycle, now=NOW)
    row = cp.by_id[o.pk]
    assert [round(k.progress, 2) for k in row.krs] == [0.5, 1.0, 0.0, 1.0]
    assert row.progress == pytest.approx(0.5)  # (0.5 + 1 + 0) / 3, weight 0 ignored
    assert cp.expected == pytest.approx(0.5)
    assert row.pace == "on_pace"


def test_progress_from_children_and_both(org, cycle):
    parent = ObjectiveFactory(organization=org, cycle=cycle, progress_from="children")
    KeyResultFactory(objective=parent, current_value=0)
    both = ObjectiveFactory(organization=org, cycle=cycle, progress_from="both", parent=parent)
    KeyResultFactory(objective=both, current_value=100)  # KR part 1.0
    leaf = ObjectiveFactory(organization=org, cycle=cycle, parent=both)
    KeyResultFactory(objective=leaf, current_value=50)  # 0.5
    draft = ObjectiveFactory(organization=org, cycle=cycle, parent=parent, state="draft")
    KeyResultFactory(objective=draft, current_value=0)
    cp = selectors.cycle_progress(organization=org, cycle=cycle, now=NOW)
    assert cp.by_id[leaf.pk].progress == pytest.approx(0.5)
    assert cp.by_id[both.pk].progress == pytest.approx(0.75)
    assert cp.by_id[parent.pk].progress == pytest.approx(0.75)  # the draft does not count
    assert cp.by_id[draft.pk].progress == 0.0


def test_status_is_the_weakest_and_overdue_after_seven_days(org, cycle):
    o = ObjectiveFactory(organization=org, cycle=cycle)
    KeyResultFactory(objective=o, status="on_track", last_checkin_at=NOW - dt.timedelta(days=1))
    KeyResultFactory(objective=o, status="needs_attention",
                     last_checkin_at=NOW - dt.timedelta(days=2))
    cp = selectors.cycle_progress(organization=org, cycle=cycle, now=NOW)
    assert cp.by_id[o.pk].status == "needs_attention"
    KeyResultFactory(objective=o, status="on_track", last_checkin_at=NOW - dt.timedelta(days=8))
    cp = selectors.cycle_progress(organization=org, cycle=cycle, now=NOW)
    assert cp.by_id[o.pk].status == "overdue"


def test_pillar_progress_through_parent_chain(org, cycle):
    pillar = PillarFactory(organization=org)
    other = PillarFactory(organization=org)
    top = ObjectiveFactory(organization=org, cycle=cycle, pillar=pillar)
    KeyResultFactory(objective=top, current_value=100)
    below = ObjectiveFactory(organization=org, cycle=cycle, parent=top)
    KeyResultFactory(objective=below, current_value=0)
    cp = selectors.cycle_progress(organization=org, cycle=cycle, now=NOW)
    values = cp.pillar_progress([pillar.pk, other.pk])
    assert values == {pillar.pk: pytest.approx(0.5), other.pk: 0.0}
    assert cp.pillar_counts([pillar.pk, other.pk]) == {pillar.pk: 2, other.pk: 0}


def test_year_objective_rolls_up_from_quarter_children(org):
    year = CycleFactory(organization=org, kind="year", start=dt.date(2026, 1, 1),
                        end=dt.date(2026, 12, 31))
    q1 = CycleFactory(organization=org, parent=year, start=dt.date(2026, 1, 1),
                      end=dt.date(2026, 3, 31))
    annual = ObjectiveFactory(organization=org, cycle=year, progress_from="children")
    quarter = ObjectiveFactory(organization=org, cycle=q1, parent=annual)
    KeyResultFactory(objective=quarter, current_value=40)
    cp = selectors.cycle_progress(organization=org, cycle=year, now=NOW)
    assert [r.objective.pk for r in cp.rows] == [annual.pk]  # only the year's own
    assert cp.by_id[annual.pk].progress == pytest.approx(0.4)


def test_other_organisations_objectives_never_leak(org, cycle, outsider):
    other_org = outsider.memberships.get().organization
    foreign = ObjectiveFactory(organization=other_org, cycle=cycle)  # mis-wired on purpose
    cp = selectors.cycle_progress(organization=org, cycle=cycle, now=NOW)
    assert foreign.pk not in cp.by_id


def test_pick_current_cycle_prefers_the_quarter():
    from goals.models import Cycle

    year = Cycle(pk=1, name="2026", kind="year", start=dt.date(2026, 1, 1),
                 end=dt.date(2026, 12, 31), state="open")
    q = Cycle(pk=2, name="Q1", kind="quarter", start=dt.date(2026, 1, 1),
              end=dt.date(2026, 3, 31), state="open")
    closed = Cycle(pk=3, name="Q4", kind="quarter", start=dt.date(2025, 10, 1),
                   end=dt.date(2025, 12, 31), state="closed")
    assert pick_current_cycle([year, q, closed], dt.date(2026, 2, 1)) == q
    assert pick_current_cycle([year, q, closed], dt.date(2026, 6, 1)) == year
    assert pick_current_cycle([closed], dt.date(2026, 6, 1)) == closed
    assert pick_current_cycle([], dt.date(2026, 6, 1)) is None
