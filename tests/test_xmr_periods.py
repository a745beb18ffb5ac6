"""Limit periods, excluded points, locked limits and the median moving range in kpis.xmr.

Each period's figures must equal a separate analysis of that period's values; the limits
are cross-checked against an independent SPC library (``shewhart`` from PyPI).
"""

import random

import pytest

from kpis.xmr import (
    AVERAGE,
    MEDIAN,
    MEDIAN_NPL_FACTOR,
    MEDIAN_URL_FACTOR,
    analyse,
    analyse_segments,
    segment_of,
)


def _series(rng, n, centre=50.0, spread=3.0):
    return [round(rng.gauss(centre, spread), 2) for _ in range(n)]


def test_one_period_is_the_plain_analysis():
    values = [5045, 4350, 4350, 3975, 4290, 4430, 4485, 4285, 3980, 3925, 3645, 3760, 3300,
              3685, 3463, 5200]
    a, b = analyse(values), analyse_segments(values)
    assert (a.center, a.average_moving_range, a.upper_limit, a.lower_limit,
            a.upper_range_limit) == (b.center, b.average_moving_range, b.upper_limit,
                                     b.lower_limit, b.upper_range_limit)
    assert a.signals == b.signals
    # Wheeler's published figures still come out.
    assert round(b.center, 2) == 4135.50 and round(b.upper_limit, 2) == 5082.28


@pytest.mark.parametrize("seed", range(40))
def test_each_period_equals_a_separate_analysis_of_its_values(seed):
    rng = random.Random(seed)
    values, starts = [], []
    for _ in range(rng.randint(1, 4)):
        starts.append(len(values))
        values += _series(rng, rng.randint(3, 35), centre=rng.uniform(10, 90),
                          spread=rng.uniform(0.5, 5))
    size = rng.choice([None, 6, 12, 20])
    whole = analyse_segments(values, starts, baseline_size=size)
    assert [s.start for s in whole.segments] == starts
    for k, seg in enumerate(whole.segments):
        end = starts[k + 1] if k + 1 < len(starts) else len(values)
        alone = analyse(values[seg.start:end], baseline_size=size)
        assert seg.center == pytest.approx(alone.center, rel=1e-12) if alone.has_limits \
            else seg.center is None
        assert seg.upper_limit == alone.upper_limit or seg.upper_limit == pytest.approx(
            alone.upper_limit, rel=1e-12)
        assert seg.upper_range_limit == alone.upper_range_limit or \
            seg.upper_range_limit == pytest.approx(alone.upper_range_limit, rel=1e-12)
        mine = [(s.rule, s.chart, s.index - seg.start, s.side,
                 tuple(i - seg.start for i in s.indices))
                for s in whole.signals if seg.start <= s.index < end]
        theirs = [(s.rule, s.chart, s.index, s.side, s.indices) for s in alone.signals]
        assert mine == theirs
    # The Analysis's own limits are the newest period's.
    assert whole.center == whole.segments[-1].center


def test_a_run_does_not_cross_a_period_boundary():
    values = [10, 11, 10, 11, 10, 11, 10, 11] + [20, 21, 20, 21, 20, 21]
    one = analyse_segments(values)
    assert any(s.rule == 2 for s in one.signals)  # the new level is a run above
    two = analyse_segments(values, [0, 8])
    assert not [s for s in two.signals if s.rule == 2]
    assert segment_of(two, 9).start == 8 and segment_of(two, 3).start == 0


def test_excluded_points_leave_the_baseline_but_are_still_judged():
    values = [10, 11, 10, 12, 11, 10, 90, 11, 10, 12, 11, 10]
    plain = analyse_segments(values)
    out = analyse_segments(values, excluded=[6])
    kept = [v for i, v in enumerate(values) if i != 6]
    assert out.center == pytest.approx(sum(kept) / len(kept))
    # The moving ranges touching the excluded point are left out as well.
    mrs = [abs(values[i] - values[i - 1]) for i in range(1, 12) if i not in (6, 7)]
    assert out.average_moving_range == pytest.approx(sum(mrs) / len(mrs))
    assert out.upper_limit < plain.upper_limit
    assert any(s.rule == 1 and s.index == 6 for s in out.signals)


def test_excluded_points_do_not_count_towards_the_baseline_size():
    values = list(range(30))
    a = analyse_segments(values, baseline_size=10, excluded=[2, 3])
    seg = a.segments[0]
    assert seg.baseline_count == 10 and seg.baseline_end == 12 and seg.baseline_complete


def test_fixed_limits_are_used_as_given():
    values = [10, 11, 10, 12, 11, 10, 11, 10, 12, 11]
    a = analyse_segments(values, fixed={0: (20.0, 1.0)})
    assert a.center == 20.0 and a.upper_limit == pytest.approx(22.66)
    assert a.segments[0].fixed
    assert any(s.rule == 1 and s.side == "below" for s in a.signals)


def test_a_period_with_fewer_than_six_values_has_no_limits():
    a = analyse_segments([1, 2, 3, 4, 5, 6, 7, 8, 50, 51, 52], [0, 8])
    assert a.segments[0].has_limits and not a.segments[1].has_limits
    assert a.center is None


def test_median_moving_range_limits():
    values = [10, 12, 11, 13, 10, 40, 11, 12, 10, 13]
    a = analyse_segments(values, method=MEDIAN)
    mrs = sorted(abs(values[i] - values[i - 1]) for i in range(1, 10))
    median = mrs[4]
    centre = sum(values) / 10
    assert a.average_moving_range == median
    assert a.upper_limit == pytest.approx(centre + 3.145 * median)
    assert a.lower_limit == pytest.approx(centre - 3.145 * median)
    assert a.upper_range_limit == pytest.approx(3.865 * median)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError):
        analyse_segments([1, 2, 3, 4, 5, 6], method="mode")


# --- An independent implementation ---------------------------------------------------------


@pytest.mark.parametrize("seed", range(200))
def test_limits_agree_with_the_shewhart_package(seed):
    shewhart = pytest.importorskip("shewhart")
    rng = random.Random(1000 + seed)
    values = _series(rng, rng.randint(6, 60), centre=rng.uniform(-50, 500),
                     spread=rng.uniform(0.1, 40))
    if rng.random() < 0.2:  # occasional spikes
        values[rng.randrange(len(values))] += rng.uniform(20, 200)
    for method, theirs_name in ((AVERAGE, "average_mr"), (MEDIAN, "median_mr")):
        ours = analyse_segments(values, baseline_size=None, method=method)
        stats = shewhart.imr(values, method=theirs_name, rules=None).stats
        # shewhart uses the exact constants (d2 = 2/sqrt(pi)); ours are Wheeler's
        # 3-decimal table values, so the limits agree to about one part in a thousand of
        # the spread.
        tol = 2e-3 * max(1e-9, ours.upper_limit - ours.center)
        assert ours.center == pytest.approx(stats["i_center"], abs=1e-9 * max(1, abs(ours.center)))
        assert ours.upper_limit == pytest.approx(float(stats["i_ucl"]), abs=tol)
        assert ours.lower_limit == pytest.approx(float(stats["i_lcl"]), abs=tol)
        if method == AVERAGE:
            assert ours.average_moving_range == pytest.approx(stats["mr_center"], rel=1e-9)
            assert ours.upper_range_limit == pytest.approx(stats["mr_ucl"], rel=2e-3)
        else:
            # shewhart's sigma from the median mR is median / 0.954 (d4); the median mR
            # it implies gives our upper range limit at 3.865 × median.
            implied = float(stats["sigma_within"]) * 0.954
            assert ours.average_moving_range == pytest.approx(implied, rel=2e-3)
            assert ours.upper_range_limit == pytest.approx(MEDIAN_URL_FACTOR * implied,
                                                           rel=2e-3)
            assert ours.upper_limit - ours.center == pytest.approx(
                MEDIAN_NPL_FACTOR * ours.average_moving_range)
