"""kpis.periods and kpis.evaluation: the pure core of the health engine (no Django)."""

import datetime as dt

import pytest

from kpis import periods as P
from kpis import rules as R
from kpis.evaluation import (
    CANDIDATE,
    DISMISSED,
    IN_IMPROVEMENT,
    NOT_CANDIDATE,
    KpiSpec,
    evaluate,
    ready_for_sustain,
)

D = dt.date


# --- periods ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "freq", "start"),
    [
        (D(2026, 8, 6), P.WEEKLY, D(2026, 8, 3)),
        (D(2026, 8, 3), P.WEEKLY, D(2026, 8, 3)),
        (D(2026, 8, 31), P.MONTHLY, D(2026, 8, 1)),
        (D(2026, 8, 31), P.QUARTERLY, D(2026, 7, 1)),
        (D(2026, 12, 31), P.QUARTERLY, D(2026, 10, 1)),
        (D(2026, 1, 1), P.QUARTERLY, D(2026, 1, 1)),
    ],
)
def test_period_start(day, freq, start):
    assert P.period_start(day, freq) == start


def test_add_periods_crosses_years():
    assert P.add_periods(D(2026, 11, 1), P.MONTHLY, 2) == D(2027, 1, 1)
    assert P.add_periods(D(2026, 10, 1), P.QUARTERLY, 1) == D(2027, 1, 1)
    assert P.add_periods(D(2026, 12, 28), P.WEEKLY, 1) == D(2027, 1, 4)
    assert P.add_periods(D(2026, 3, 1), P.MONTHLY, -3) == D(2025, 12, 1)


def test_staleness_monthly():
    # Newest value for October: November's is due once November has ended (Dec 1) and
    # overdue half a month later.
    assert not P.is_stale(D(2026, 10, 1), D(2026, 11, 20), P.MONTHLY)
    assert not P.is_stale(D(2026, 10, 1), D(2026, 12, 10), P.MONTHLY)
    assert P.is_stale(D(2026, 10, 1), D(2026, 12, 20), P.MONTHLY)
    assert not P.is_stale(None, D(2026, 12, 20), P.MONTHLY)


def test_staleness_weekly():
    monday = D(2026, 8, 3)
    assert not P.is_stale(monday, D(2026, 8, 19), P.WEEKLY)
    assert P.is_stale(monday, D(2026, 8, 21), P.WEEKLY)


def test_latest_allowed_is_next_period():
    assert P.latest_allowed(D(2026, 8, 20), P.MONTHLY) == D(2026, 9, 1)
    assert P.latest_allowed(D(2026, 8, 20), P.WEEKLY) == D(2026, 8, 24)


def test_labels():
    assert P.label(D(2026, 8, 3), P.WEEKLY) == "week of 3 Aug 2026"
    assert P.label(D(2026, 8, 1), P.MONTHLY) == "Aug 2026"
    assert P.label(D(2026, 7, 1), P.QUARTERLY) == "2026 Q3"


# --- evaluate ---------------------------------------------------------------------------


START = D(2026, 3, 2)


def weekly(values, start=START):
    return [(start + dt.timedelta(weeks=i), v) for i, v in enumerate(values)]


REPLY = KpiSpec(frequency=P.WEEKLY, target_rule=R.AT_MOST, target_value=30, unit="min", decimals=0)
TODAY = D(2026, 9, 1)


def test_no_data():
    r = evaluate(REPLY, [], today=TODAY)
    assert r.status == R.NO_DATA
    assert r.candidate == NOT_CANDIDATE
    assert r.center is None and r.points_count == 0 and not r.is_stale


def test_no_target():
    spec = KpiSpec(frequency=P.WEEKLY)
    r = evaluate(spec, weekly([1, 2, 3]), today=D(2026, 3, 20))
    assert r.status == R.NO_TARGET
    assert r.capability == ""


def test_off_target_two_periods_in_a_row_is_candidate_with_reason():
    pts = weekly([25, 28, 27, 52, 55])
    r = evaluate(REPLY, pts, today=D(2026, 4, 3))
    assert r.status == R.OFF_TARGET
    assert r.candidate == CANDIDATE
    assert "Off target for 2 periods: 55 min against at most 30 min" in r.candidate_reason
    assert "off_target" in r.reason_keys


def test_off_target_once_is_not_a_candidate():
    r = evaluate(REPLY, weekly([25, 28, 27, 26, 52]), today=D(2026, 4, 3))
    assert r.status == R.OFF_TARGET
    assert r.candidate == NOT_CANDIDATE


def test_capability_missed_is_candidate_even_when_latest_is_on_target():
    # A process around 50 min with one lucky week at 29 (the limits still sit above 30).
    values = [50, 52, 49, 51, 50, 53, 48, 50, 52, 51, 29]
    spec = KpiSpec(frequency=P.WEEKLY, target_rule=R.AT_MOST, target_value=30, unit="min",
                   decimals=0, baseline_size=10)
    r = evaluate(spec, weekly(values), today=D(2026, 5, 20))
    assert r.status == R.ON_TARGET
    assert r.capability == R.CONSISTENTLY_MISSED
    assert r.candidate == CANDIDATE
    assert "consistently miss at most 30 min" in r.candidate_reason


def test_unfavourable_run_is_candidate_favourable_is_not():
    base = [40, 44] * 10
    spec = KpiSpec(frequency=P.WEEKLY, target_rule=R.AT_LEAST, target_value=30, unit="%",
                   decimals=0)
    # Below the centre for 8 weeks (still above target 30): unfavourable for "at least".
    r = evaluate(spec, weekly(base + [41] * 8), today=D(2026, 9, 1))
    assert r.status == R.ON_TARGET
    assert r.has_unfavourable_signal
    assert r.candidate == CANDIDATE
    assert "8 weeks in a row below the usual level, since" in r.candidate_reason
    # The same run above the centre is good news.
    r = evaluate(spec, weekly(base + [43] * 8), today=D(2026, 9, 1))
    assert not r.has_unfavourable_signal
    assert r.candidate == NOT_CANDIDATE
    assert any(s["rule"] == 2 and s["favourable"] is True for s in r.signals)


def test_old_signal_is_not_current():
    base = [40, 44] * 10
    spec = KpiSpec(frequency=P.WEEKLY, target_rule=R.AT_LEAST, target_value=30)
    values = base[:10] + [20] + base[10:]  # one point below the lower limit, long ago
    r = evaluate(spec, weekly(values), today=D(2026, 8, 1))
    # Only current signals are part of the health (the chart shows the old one).
    assert [s for s in r.signals if s["chart"] == "x" and s["rule"] == 1] == []
    assert not r.has_unfavourable_signal


def test_in_improvement_is_never_a_candidate():
    r = evaluate(REPLY, weekly([52, 55, 60]), today=D(2026, 3, 20), in_improvement=True)
    assert r.candidate == IN_IMPROVEMENT
    assert r.candidate_reason  # the reason is still shown


def test_dismissed_stays_dismissed_until_it_worsens():
    first = evaluate(REPLY, weekly([25, 28, 52, 55]), today=D(2026, 3, 25))
    assert first.candidate == CANDIDATE
    again = evaluate(
        REPLY, weekly([25, 28, 52, 55, 57]), today=D(2026, 4, 1),
        previous_candidate=DISMISSED, dismissed_keys=first.reason_keys,
    )
    assert again.candidate == DISMISSED
    # A new kind of reason (limits now say it will always miss) makes it a candidate again.
    values = [25, 28, 52, 55, 57, 60, 58, 61, 59, 62, 60]
    worse = evaluate(
        REPLY, weekly(values), today=D(2026, 5, 15),
        previous_candidate=DISMISSED, dismissed_keys=first.reason_keys,
    )
    assert set(worse.reason_keys) - set(first.reason_keys)
    assert worse.candidate == CANDIDATE


def test_dismissal_ends_when_the_kpi_recovers():
    r = evaluate(
        REPLY, weekly([25, 28, 52, 55, 20, 21]), today=D(2026, 4, 10),
        previous_candidate=DISMISSED, dismissed_keys=["off_target"],
    )
    assert r.candidate == NOT_CANDIDATE


def test_rebase_date_moves_the_baseline():
    old = [50, 52, 51, 53, 50, 52, 51, 53]
    new = [20, 21, 20, 22, 21, 20, 21, 22]
    pts = weekly(old + new)
    spec = KpiSpec(frequency=P.WEEKLY, target_rule=R.AT_MOST, target_value=30,
                   rebase_date=pts[8][0])
    r = evaluate(spec, pts, today=pts[-1][0])
    assert r.center == pytest.approx(sum(new) / 8)
    assert r.capability == R.CONSISTENTLY_MET


def test_ready_for_sustain():
    r = evaluate(REPLY, weekly([52, 55, 28, 27, 26]), today=D(2026, 4, 3))
    assert r.on_target_streak == 3
    assert ready_for_sustain(r)
    r = evaluate(REPLY, weekly([52, 55, 28, 27]), today=D(2026, 4, 3))
    assert not ready_for_sustain(r)


def test_stale_flag():
    r = evaluate(REPLY, weekly([20, 21]), today=D(2026, 6, 1))
    assert r.is_stale
