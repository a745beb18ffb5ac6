"""kpis.xmr against published worked examples and hand-made series for every rule.

Pure Python: runs without Django (``pytest -p no:django tests/test_xmr.py``).
"""

import math
from decimal import Decimal

import pytest

from kpis.xmr import ABOVE, BELOW, analyse


def r2(x):
    return round(x + 0.0, 2)


def x_signals(a, rule=None):
    return [s for s in a.signals if s.chart == "x" and (rule is None or s.rule == rule)]


# --- Published worked examples ---------------------------------------------------------


def test_wheeler_data_set_for_verifying_software():
    # Donald J. Wheeler, "Making Sense of Data" (SPC Press), p. 382: "Data Set to Use When
    # Verifying Software" (the same 16 values appear in "Understanding SPC", 3rd ed.,
    # p. 386). Published: average 4135.50, average mR 355.93, limits 3188.72 and 5082.28,
    # upper range limit 1163.19. Values and figures as reproduced in the test suite of
    # mattmccormick/statprocon (tests/test_xmr.py, test_verifying_software).
    values = [5045, 4350, 4350, 3975, 4290, 4430, 4485, 4285, 3980, 3925, 3645, 3760, 3300,
              3685, 3463, 5200]
    a = analyse(values)
    assert a.moving_ranges == [None, 695, 0, 375, 315, 140, 55, 200, 305, 55, 280, 115, 460,
                               385, 222, 1737]
    assert r2(a.center) == 4135.50
    assert r2(a.average_moving_range) == 355.93
    assert r2(a.lower_limit) == 3188.72
    assert r2(a.upper_limit) == 5082.28
    assert r2(a.upper_range_limit) == 1163.19
    # The last value (5200) lies above the upper limit and its moving range (1737) above
    # the upper range limit.
    rule1 = {(s.chart, s.index, s.side) for s in a.signals if s.rule == 1}
    assert rule1 == {("x", 15, ABOVE), ("mr", 15, ABOVE)}


def test_wheeler_accounts_receivable_limits_from_year_one():
    # Wheeler, "Making Sense of Data", Table 9.2: accounts receivable as % of sales, years
    # one and two; limits computed from year one (12 months) give an upper limit of 60.7.
    # The book's chart shows months 12, 13 and 14 above the upper limit, months 20 and 23
    # below the lower one, and the moving range of month 20 above its limit (values as
    # reproduced in mattmccormick/statprocon tests/test_xmr.py).
    values = ["55.6", "54.7", "54.9", "54.8", "56.9", "55.7", "53.8", "54.8", "53.4", "57.0",
              "59.4", "63.2", "60.9", "60.7", "58.6", "57.3", "56.9", "58.1", "58.3", "50.9",
              "53.3", "52.5", "50.8", "52.9"]
    a = analyse([Decimal(v) for v in values], baseline_size=12)
    assert round(a.upper_limit, 1) == 60.7
    assert a.baseline_end == 12
    beyond = sorted((s.index + 1, s.side) for s in x_signals(a, rule=1))
    assert beyond == [(12, ABOVE), (13, ABOVE), (14, ABOVE), (20, BELOW), (23, BELOW)]
    assert [s.index + 1 for s in a.signals if s.chart == "mr"] == [20]


def test_wheeler_smokers_run_of_eight_below():
    # Wheeler, "Making Sense of Data", Table 8.1: percentage of high-school seniors who
    # smoke daily. The chart shows a run of eight below the central line ending with the
    # last value (points 7 to 14).
    values = [21.3, 20.2, 20.9, 21.0, 18.8, 19.6, 18.7, 18.6, 18.1, 18.9, 19.2, 18.2, 17.3, 19.0]
    a = analyse(values)
    (run,) = x_signals(a, rule=2)
    assert run.side == BELOW
    assert [i + 1 for i in run.indices] == list(range(7, 15))
    assert run.index == 13


def test_wheeler_peak_flow_rates():
    # Wheeler, "Making Sense of Data", p. 130, Figure 9.9: AM premedication peak flow rates
    # for days 1 to 18. Published: average 183.1, average moving range 52.4 (one decimal
    # as printed; the book's limits 322.5 / 43.7 were computed from those rounded figures).
    values = [120, 140, 100, 150, 260, 150, 100, 120, 300, 300, 275, 300, 140, 170, 150, 150,
              190, 180]
    a = analyse(values)
    assert round(a.center, 1) == 183.1
    assert round(a.average_moving_range, 1) == 52.4
    assert a.moving_ranges[:5] == [None, 20, 40, 50, 110]


def test_montgomery_primer_paint_viscosity():
    # D. C. Montgomery, "Introduction to Statistical Quality Control": viscosity of aircraft
    # primer paint, 15 batches (data as given in the IMSL JMSL chart guide, XmR example,
    # "Montgomery 251"). Published: centre 33.52, MR-bar 0.48, UCL 34.80, LCL 32.24, MR
    # chart UCL 1.57.
    values = [33.75, 33.05, 34.00, 33.81, 33.46, 34.02, 33.68, 33.27, 33.49, 33.20, 33.62,
              33.00, 33.54, 33.12, 33.84]
    a = analyse(values, baseline_size=None)
    assert r2(a.center) == 33.52
    assert r2(a.average_moving_range) == 0.48
    assert r2(a.upper_limit) == 34.80
    assert r2(a.lower_limit) == 32.24
    assert r2(a.upper_range_limit) == 1.57
    assert a.signals == []


def test_sas_tire_steel_belt_diameters():
    # SAS/QC User's Guide, MACONTROL Example 9.4 (SHEWHART IRCHART, 30 tyres): published
    # _MEAN_ 24.0083, _R_ 0.056897, _LCLI_ 23.8571, _UCLI_ 24.1596, _UCLR_ 0.18585.
    values = [24.05, 23.99, 23.95, 23.93, 23.97, 24.02, 24.06, 24.10, 23.98, 24.03, 23.91,
              24.06, 24.06, 23.96, 23.98, 24.06, 24.01, 24.00, 23.93, 23.92, 24.09, 24.11,
              24.05, 23.98, 23.98, 24.06, 24.02, 24.06, 23.97, 23.96]
    a = analyse(values, baseline_size=None)
    assert r2(a.center) == r2(24.0083)
    assert r2(a.average_moving_range) == r2(0.056897)
    assert r2(a.lower_limit) == r2(23.8571)
    assert r2(a.upper_limit) == r2(24.1596)
    assert r2(a.upper_range_limit) == r2(0.18585)


# --- Shape of the result and the baseline ----------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_fewer_than_six_values_has_no_limits_and_no_signals(n):
    values = [10, 50, 10, 90, 10][:n]
    a = analyse(values)
    assert a.center is None
    assert a.average_moving_range is None
    assert a.upper_limit is None and a.lower_limit is None and a.upper_range_limit is None
    assert a.signals == []
    assert len(a.moving_ranges) == n
    assert not a.has_limits
    if n:
        assert a.moving_ranges[0] is None


def test_six_values_give_limits():
    a = analyse([10, 12, 11, 13, 12, 14])
    assert a.center == pytest.approx(12.0)
    assert a.average_moving_range == pytest.approx((2 + 1 + 2 + 1 + 2) / 5)
    assert a.upper_limit == pytest.approx(12 + 2.66 * 1.6)
    assert a.lower_limit == pytest.approx(12 - 2.66 * 1.6)
    assert a.upper_range_limit == pytest.approx(3.268 * 1.6)
    assert a.upper_halfway == pytest.approx(12 + 1.33 * 1.6)
    assert a.lower_halfway == pytest.approx(12 - 1.33 * 1.6)


def test_moving_ranges_same_length_first_none():
    a = analyse([3, 7, 4, 4, 9, 1, 2])
    assert a.moving_ranges == [None, 4, 3, 0, 5, 8, 1]


def test_baseline_defaults_to_first_twenty():
    values = [10, 11] * 10 + [100] * 5
    a = analyse(values)
    assert a.baseline_end == 20
    assert a.center == pytest.approx(10.5)
    assert a.average_moving_range == pytest.approx(1.0)
    # All five 100s are beyond the limits computed from the first twenty.
    assert [s.index for s in x_signals(a, rule=1)] == [20, 21, 22, 23, 24]


def test_baseline_none_means_all_values():
    values = [10, 11] * 10 + [100] * 5
    a = analyse(values, baseline_size=None)
    assert a.baseline_end == 25
    assert a.center == pytest.approx((10.5 * 20 + 500) / 25)


def test_baseline_size_smaller_than_series():
    values = [1, 2, 1, 2, 1, 2, 50, 60]
    a = analyse(values, baseline_size=6)
    assert a.center == pytest.approx(1.5)
    assert a.average_moving_range == pytest.approx(1.0)


def test_rebase_starts_the_baseline_at_the_given_index():
    old = [50, 52, 51, 53, 50, 52, 51, 53]
    new = [20, 21, 20, 22, 21, 20, 21, 22]
    a = analyse(old + new, baseline_start=8)
    assert a.baseline_start == 8
    assert a.center == pytest.approx(sum(new) / len(new))
    # The moving range that straddles the change (|20 - 53|) is not in the baseline.
    assert a.average_moving_range == pytest.approx(sum(abs(new[i] - new[i - 1]) for i in range(1, 8)) / 7)
    assert a.moving_ranges[8] == 33
    # Points before the rebase are not judged against the new limits.
    assert all(i >= 8 for s in a.signals for i in s.indices)
    assert a.signals == []


def test_rebase_with_fewer_than_six_new_values_has_no_limits():
    a = analyse([50, 52, 51, 53, 50, 52, 20, 21, 20], baseline_start=6)
    assert a.center is None
    assert a.signals == []


def test_bad_values_are_refused():
    with pytest.raises(ValueError):
        analyse([1, 2, 3, float("nan"), 5, 6])
    with pytest.raises(ValueError):
        analyse([1, 2, 3, math.inf, 5, 6])


def test_accepts_decimals():
    a = analyse([Decimal("1.5"), Decimal("2.5"), Decimal("1.5"), Decimal("2.5"), Decimal("1.5"),
                 Decimal("2.5")])
    assert a.center == pytest.approx(2.0)


# --- Rule 1 -----------------------------------------------------------------------------

# A flat baseline with mR-bar = 1: 10, 11, 10, 11, ... Centre 10.5, limits 10.5 ± 2.66.
BASE = [10, 11] * 10  # 20 values, centre 10.5, mR-bar 1.0


def test_rule1_point_above_upper_limit():
    a = analyse(BASE + [13.5])
    (s,) = x_signals(a, rule=1)
    assert (s.index, s.side, s.chart, s.indices) == (20, ABOVE, "x", (20,))


def test_rule1_point_below_lower_limit():
    a = analyse(BASE + [7.5])
    (s,) = x_signals(a, rule=1)
    assert (s.index, s.side) == (20, BELOW)


def test_rule1_point_exactly_on_limit_is_inside():
    # Centre 10.5, mR-bar 1: limits 13.16 and 7.84; a value equal to the limit is inside.
    a = analyse(BASE + [13.16])
    assert x_signals(a, rule=1) == []
    a = analyse(BASE + [7.84])
    assert x_signals(a, rule=1) == []
    # A hair beyond is outside.
    assert [s.side for s in x_signals(analyse(BASE + [13.17]), rule=1)] == [ABOVE]
    assert [s.side for s in x_signals(analyse(BASE + [7.83]), rule=1)] == [BELOW]


def test_rule1_moving_range_above_upper_range_limit():
    # Baseline [9, 12] * 10: limits 2.52 / 18.48, URL 9.804. 17 then 4 stay inside the
    # limits, but the jump of 13 between them is above the upper range limit.
    a = analyse(_run_series([17, 4]))
    mr = [s for s in a.signals if s.chart == "mr"]
    assert [(s.rule, s.index, s.side, s.indices) for s in mr] == [(1, 21, ABOVE, (20, 21))]
    assert x_signals(a, rule=1) == []


def test_rule1_moving_range_exactly_on_upper_range_limit_is_inside():
    a = analyse(_run_series([17, 17 - 3.268 * 3]))
    assert [s for s in a.signals if s.chart == "mr"] == []


# --- Rule 2 -----------------------------------------------------------------------------


def _run_series(side_values):
    # Baseline of twenty alternating 9 / 12 points (centre 10.5, mR-bar 3, limits 2.52 and
    # 18.48), then the given values.
    return [9, 12] * 10 + side_values


def test_rule2_eight_below_with_indices_and_completing_point():
    a = analyse(_run_series([10] * 8))
    (s,) = x_signals(a, rule=2)
    assert s.side == BELOW
    assert s.indices == tuple(range(20, 28))
    assert s.index == 27


def test_rule2_eight_above_exactly():
    a = analyse(_run_series([11] * 8))
    (s,) = x_signals(a, rule=2)
    assert s.side == ABOVE
    # The last baseline value (12) is above too: the run starts there.
    assert s.indices == tuple(range(19, 28))
    assert s.index == 26


def test_rule2_seven_is_not_a_run():
    a = analyse(_run_series([10] * 7 + [12]))
    # 7 below then one above (joining nothing else above): no run of 8.
    assert x_signals(a, rule=2) == []


def test_rule2_point_exactly_on_centre_breaks_the_run():
    a = analyse(_run_series([10] * 4 + [10.5] + [10] * 4))
    assert x_signals(a, rule=2) == []
    # Without the point on the centre line, the same series has a run.
    a = analyse(_run_series([10] * 4 + [10.4] + [10] * 4))
    assert len(x_signals(a, rule=2)) == 1


def test_rule2_run_longer_than_eight_is_one_signal_with_every_point():
    a = analyse(_run_series([10] * 12 + [11]))
    (s,) = x_signals(a, rule=2)
    assert s.indices == tuple(range(20, 32))
    assert s.index == 27


# --- Rule 3 -----------------------------------------------------------------------------
# Baseline [9, 12] * 10: centre 10.5, mR-bar 3, limits 2.52 / 18.48, halfway lines 6.51 and
# 14.49.


def test_rule3_three_of_four_above_halfway():
    a = analyse(_run_series([15, 10, 15, 15]))
    (s,) = x_signals(a, rule=3)
    assert s.side == ABOVE
    assert s.indices == (20, 22, 23)
    assert s.index == 23


def test_rule3_three_of_four_below_halfway():
    a = analyse(_run_series([6, 6, 11, 6]))
    (s,) = x_signals(a, rule=3)
    assert s.side == BELOW
    assert s.indices == (20, 21, 23)
    assert s.index == 23


def test_rule3_two_of_four_is_nothing():
    a = analyse(_run_series([15, 10, 15, 10, 10]))
    assert x_signals(a, rule=3) == []


def test_rule3_point_exactly_on_halfway_line_is_not_beyond():
    on = (10.5 + 10.5 + 2.66 * 3) / 2  # 14.49
    a = analyse(_run_series([15, 15, on, 10]))
    assert x_signals(a, rule=3) == []


def test_rule3_sides_do_not_mix():
    a = analyse(_run_series([15, 6, 15, 6]))
    assert x_signals(a, rule=3) == []


def test_point_exactly_on_limit_counts_as_beyond_halfway_but_not_beyond_limit():
    upper = 10.5 + 2.66 * 3
    a = analyse(_run_series([upper, upper, upper, 10]))
    assert x_signals(a, rule=1) == []
    assert len(x_signals(a, rule=3)) == 1


def test_stable_series_has_no_signals():
    a = analyse([10, 12, 11, 13, 9, 11, 12, 10, 11, 13, 9, 12, 11, 10, 12, 11, 9, 13, 11, 10])
    assert a.signals == []


def test_rules_at_for_chart_colouring():
    a = analyse(BASE + [13.5])
    assert a.rules_at(20) == {1}
    assert a.rules_at(0) == set()
