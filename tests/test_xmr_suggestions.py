"""Issue 20: limits that lock by themselves (kpis.limits.to_lock, kpis.health) and the
"rule-1 cluster after a known change" suggestion (kpis.limits.suggest), pure and on the
KPI page (one click to accept, the note as the reason)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kpis import health
from kpis import limits as L
from kpis.models import DataPoint, HealthEvent, LimitPeriod
from tests.conftest import url
from tests.factories import KpiFactory

BASE = [20, 21, 19, 20, 22, 18, 20, 21, 19, 20, 21, 19]  # centre 20, usual range ~15–25


def _weeks(n, last=None):
    last = last or (timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday() + 7))
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


def _analysis(values, starts=(), baseline=12, **div):
    periods = _weeks(len(values), last=dt.date(2026, 6, 29))
    divisions = L.Divisions(starts=tuple(periods[i] for i in starts), **div)
    return periods, divisions, L.analysis_for(periods, values, baseline_size=baseline,
                                              divisions=divisions)


# --- locking by themselves ---------------------------------------------------------------------


def test_a_period_locks_once_its_baseline_is_complete():
    values = BASE + [30, 31, 29, 30, 31, 30]
    periods, divisions, a = _analysis(values, starts=[12], baseline=6)
    ((start, centre, mr),) = L.to_lock(a, periods, divisions)
    assert start == periods[12] and centre == pytest.approx(sum(values[12:]) / 6)
    assert mr == pytest.approx(sum(abs(x - y) for x, y in zip(values[13:], values[12:-1],
                                                              strict=True)) / 5)
    # not yet complete, already locked, unlocked by a person, no baseline size: nothing
    periods, divisions, a = _analysis(values[:-1], starts=[12], baseline=6)
    assert L.to_lock(a, periods, divisions) == []
    p = _weeks(len(values), last=dt.date(2026, 6, 29))
    for div in ({"locked": ((p[12], 30.0, 1.0),)}, {"manual": frozenset([p[12]])}):
        periods, divisions, a = _analysis(values, starts=[12], baseline=6, **div)
        assert L.to_lock(a, periods, divisions) == []
    periods, divisions, a = _analysis(values, starts=[12], baseline=None)
    assert L.to_lock(a, periods, divisions) == []
    # a KPI without limit periods: nothing to do (the sweep's common case)
    periods, divisions, a = _analysis(values)
    assert L.to_lock(a, periods, divisions) == []


def test_the_sweep_locks_each_period_once(org):
    kpi = KpiFactory(organization=org, baseline_size=6)
    weeks = _weeks(16)
    DataPoint.objects.bulk_create([DataPoint(kpi=kpi, period_start=w, value=v)
                                   for w, v in zip(weeks, BASE[:10] + [30, 31, 29, 30, 31, 30],
                                                   strict=True)])
    early = LimitPeriod.objects.create(kpi=kpi, start=weeks[10], reason="new tool")
    late = LimitPeriod.objects.create(kpi=kpi, start=weeks[13], reason="too soon")
    health.evaluate_kpi(kpi)
    early.refresh_from_db()
    late.refresh_from_db()
    assert not early.is_locked  # 3 points: its baseline is not complete
    assert not late.is_locked
    late.delete()
    health.evaluate_kpi(kpi)
    health.evaluate_kpi(kpi)
    early.refresh_from_db()
    assert early.is_locked and early.locked_center == pytest.approx(30.1666, abs=1e-3)
    assert HealthEvent.objects.filter(kpi=kpi, kind="limits_locked").count() == 1


# --- the rule-1 cluster after a known change ---------------------------------------------------


def test_rule_one_points_after_a_note_suggest_a_period_there():
    # Three points above the usual range after the note (no run of 8: values fall back in
    # between), none before it.
    values = BASE + [20, 27, 21, 28, 20, 29, 21]
    periods, divisions, a = _analysis(values)
    assert L.suggest(a, periods) is None  # without the note: no run of eight, no suggestion
    sg = L.suggest(a, periods, notes={13: "  new ticketing tool  ", 3: "a note before"})
    assert (sg.kind, sg.start, sg.side, sg.length, sg.note) == (
        "cluster", periods[13], "above", 3, "new ticketing tool")
    assert sg.level == pytest.approx(sum(values[13:]) / len(values[13:]))
    # two points are not a cluster; a note declined is not suggested again
    assert L.suggest(a, periods, notes={15: "x"}) is None
    assert L.suggest(a, periods, notes={13: "x"}, declined=[periods[13]]) is None
    # a point of the same side before the note: the note did not start it
    values = BASE[:11] + [27, 20, 21, 27, 21, 28, 20, 29]
    periods, divisions, a = _analysis(values)
    assert L.suggest(a, periods, notes={13: "x"}) is None


def test_the_page_offers_the_cluster_with_the_note_as_reason(org, leader, as_user):
    kpi = KpiFactory(organization=org, decimals=0, baseline_size=12, target_value=30)
    values = BASE + [20, 27, 21, 28, 20, 29, 21]
    weeks = _weeks(len(values))
    DataPoint.objects.bulk_create([
        DataPoint(kpi=kpi, period_start=w, value=v, note="new routing rules" if i == 13 else "")
        for i, (w, v) in enumerate(zip(weeks, values, strict=True))])
    health.evaluate_kpi(kpi)
    c = as_user(leader)
    html = c.get(url("kpis:detail", pk=kpi.pk)).content.decode()
    day = f"{weeks[13].day} {weeks[13]:%b %Y}"
    assert f"The process seems to have changed on {day}." in html
    assert "From the point noted “new routing rules” on, 3 values fell above the usual range" in html
    assert 'name="reason" required maxlength="1000" placeholder="e.g. new ticketing tool" ' \
           'value="new routing rules"' in html
    # one click: the form as the page fills it
    r = c.post(url("kpis:period_add", pk=kpi.pk), {
        "start": weeks[13].isoformat(), "suggested": "1", "reason": "new routing rules"})
    assert r.status_code == 302
    assert LimitPeriod.objects.get(kpi=kpi).start == weeks[13]
    assert 'id="suggested-period"' not in c.get(url("kpis:detail", pk=kpi.pk)).content.decode()
