"""kpis.rules: target status, signal direction, capability, reasons. Pure Python."""

import datetime as dt
from decimal import Decimal

import pytest

from kpis import rules as R
from kpis import words as W

# --- target status ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rule", "low", "high", "expected"),
    [
        (None, R.AT_LEAST, 95, None, R.NO_DATA),
        (10, R.NONE, None, None, R.NO_TARGET),
        (96, R.AT_LEAST, 95, None, R.ON_TARGET),
        (95, R.AT_LEAST, 95, None, R.ON_TARGET),  # exactly on the target meets it
        (94.9, R.AT_LEAST, 95, None, R.OFF_TARGET),
        (30, R.AT_MOST, None, 30, R.ON_TARGET),
        (29, R.AT_MOST, None, 30, R.ON_TARGET),
        (52, R.AT_MOST, None, 30, R.OFF_TARGET),
        (2, R.BETWEEN, 2, 4, R.ON_TARGET),
        (4, R.BETWEEN, 2, 4, R.ON_TARGET),
        (3, R.BETWEEN, 2, 4, R.ON_TARGET),
        (1.99, R.BETWEEN, 2, 4, R.OFF_TARGET),
        (4.01, R.BETWEEN, 2, 4, R.OFF_TARGET),
        (Decimal("95.0"), R.AT_LEAST, Decimal("95"), None, R.ON_TARGET),
    ],
)
def test_target_status(value, rule, low, high, expected):
    assert R.target_status(value, rule, low, high) == expected


def test_bounds_from_stored_form():
    assert R.bounds(R.AT_LEAST, 95, None) == (95, None)
    assert R.bounds(R.AT_MOST, 30, None) == (None, 30)
    assert R.bounds(R.BETWEEN, 2, 4) == (2, 4)
    assert R.bounds(R.NONE, None, None) == (None, None)


# --- favourable / unfavourable ----------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "side", "chart", "low", "high", "center", "expected"),
    [
        (R.AT_LEAST, "above", "x", 95, None, 96, True),
        (R.AT_LEAST, "below", "x", 95, None, 96, False),
        (R.AT_MOST, "below", "x", None, 30, 40, True),
        (R.AT_MOST, "above", "x", None, 30, 40, False),
        (R.AT_MOST, "above", "mr", None, 30, 40, False),  # more variation is never good
        (R.AT_LEAST, "above", "mr", 95, None, 96, False),
        (R.BETWEEN, "above", "x", 2, 4, 1, True),  # centre below the band, moving up
        (R.BETWEEN, "below", "x", 2, 4, 1, False),
        (R.BETWEEN, "below", "x", 2, 4, 5, True),  # centre above the band, moving down
        (R.BETWEEN, "above", "x", 2, 4, 5, False),
        (R.BETWEEN, "above", "x", 2, 4, 3, False),  # in the band: any shift is a departure
        (R.BETWEEN, "below", "x", 2, 4, 3, False),
    ],
)
def test_signal_direction(rule, side, chart, low, high, center, expected):
    assert (
        R.signal_is_favourable(chart=chart, side=side, rule=rule, low=low, high=high, center=center)
        is expected
    )


def test_moving_range_jump_is_judged_by_its_direction():
    kw = {"chart": "mr", "side": "above", "rule": R.AT_MOST, "high": 30, "center": 40}
    assert R.signal_is_favourable(**kw, jump="below") is True  # a sudden drop: good
    assert R.signal_is_favourable(**kw, jump="above") is False
    assert R.signal_is_favourable(**kw) is False


def test_signal_direction_without_target_depends_on_intent():
    assert R.signal_is_favourable(chart="x", side="above", rule=R.NONE, intent=R.SUSTAIN) is False
    assert R.signal_is_favourable(chart="x", side="below", rule=R.NONE, intent=R.SUSTAIN) is False
    assert R.signal_is_favourable(chart="x", side="above", rule=R.NONE, intent=R.IMPROVE) is None


# --- capability -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lnpl", "unpl", "rule", "low", "high", "expected"),
    [
        (96, 99, R.AT_LEAST, 95, None, R.CONSISTENTLY_MET),
        (95, 99, R.AT_LEAST, 95, None, R.CONSISTENTLY_MET),  # lower limit on the target
        (90, 99, R.AT_LEAST, 95, None, R.HIT_AND_MISS),
        (80, 94, R.AT_LEAST, 95, None, R.CONSISTENTLY_MISSED),
        (80, 95, R.AT_LEAST, 95, None, R.HIT_AND_MISS),  # the best values just meet it
        (10, 25, R.AT_MOST, None, 30, R.CONSISTENTLY_MET),
        (10, 30, R.AT_MOST, None, 30, R.CONSISTENTLY_MET),
        (20, 45, R.AT_MOST, None, 30, R.HIT_AND_MISS),
        (41, 63, R.AT_MOST, None, 30, R.CONSISTENTLY_MISSED),
        (2.5, 3.5, R.BETWEEN, 2, 4, R.CONSISTENTLY_MET),
        (1, 3, R.BETWEEN, 2, 4, R.HIT_AND_MISS),
        (1, 5, R.BETWEEN, 2, 4, R.HIT_AND_MISS),
        (0, 1.5, R.BETWEEN, 2, 4, R.CONSISTENTLY_MISSED),
        (4.5, 6, R.BETWEEN, 2, 4, R.CONSISTENTLY_MISSED),
        (None, None, R.AT_MOST, None, 30, None),
        (1, 2, R.NONE, None, None, None),
    ],
)
def test_capability(lnpl, unpl, rule, low, high, expected):
    assert R.capability(lnpl, unpl, rule, low, high) == expected


# --- streaks ----------------------------------------------------------------------------


def test_streaks():
    s = [R.ON_TARGET, R.OFF_TARGET, R.ON_TARGET, R.OFF_TARGET, R.OFF_TARGET]
    assert R.off_target_streak(s) == 2
    assert R.on_target_streak(s) == 0
    assert R.on_target_streak([R.OFF_TARGET, R.ON_TARGET, R.ON_TARGET, R.ON_TARGET]) == 3
    assert R.off_target_streak([]) == 0


# --- text -------------------------------------------------------------------------------


def test_format_value():
    assert R.format_value(52, "min") == "52 min"
    assert R.format_value(97.456, "%", 1) == "97.5%"
    assert R.format_value(Decimal("1200"), "EUR") == "1,200 EUR"
    assert R.format_value(None, "min") == "—"
    assert R.format_value(-0.001, "", 1) == "0.0"


def test_describe_target():
    assert R.describe_target(R.AT_MOST, None, 30, "min") == "at most 30 min"
    assert R.describe_target(R.AT_LEAST, 95, None, "%") == "at least 95%"
    assert R.describe_target(R.BETWEEN, 2, 4, "days") == "between 2 and 4 days"
    assert R.describe_target(R.NONE) == "no target"


def test_reason_off_target_matches_issue_wording():
    assert (
        W.off_target(3, 52, R.AT_MOST, None, 30, "min")
        == "Off target for 3 periods: 52 min against at most 30 min"
    )
    assert W.off_target(1, 90, R.AT_LEAST, 95, None, "%").startswith("Off target for 1 period:")


def test_signal_words():
    """The words of signals live in kpis.words (rules.reason_signal folded into it)."""
    since = dt.date(2026, 8, 3)
    assert W.signal(rule=2, chart="x", side="below", frequency="weekly", length=8,
                    since=since) == "8 weeks in a row below the usual level, since 3 Aug 2026"
    assert W.signal(rule=1, chart="x", side="above", frequency="weekly", since=since,
                    value=71, unit="min") == "One week above the usual range: 71 min (week of 3 Aug 2026)"
    assert W.signal(rule=1, chart="mr", side="above", frequency="monthly", since=since) == (
        "A sudden jump from one month to the next (3 Aug 2026)")
    assert W.signal(rule=3, chart="x", side="below", frequency="quarterly", since=since) == (
        "3 of 4 quarters near the bottom of the usual range, since 3 Aug 2026")
    assert not hasattr(R, "reason_signal") and not hasattr(R, "reason_capability")


def test_capability_words():
    assert (
        W.capability(41, 63, R.AT_MOST, None, 30, "min")
        == "Usual range 41–63 min: it will consistently miss at most 30 min"
    )


def test_join_reasons():
    assert R.join_reasons(["a", "", "b"]) == "a; b"
