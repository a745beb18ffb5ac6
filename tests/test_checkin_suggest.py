"""The suggested status (okrs/checkins/suggest.py) at its edges, and the disagreement hint."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okrs import progress as P
from okrs.checkins.suggest import (
    ATTENTION_GAP,
    TOLERANCE,
    disagreement,
    disagrees,
    suggest,
)

ON, ATT, OFF, ACC = P.ON_TRACK, P.NEEDS_ATTENTION, P.OFF_TRACK, P.ACCOMPLISHED


@pytest.mark.parametrize(("progress", "expected", "status"), [
    (0.0, 0.0, ON),                         # the first day: nothing expected yet
    (0.57, 0.67, ON),                       # exactly at the tolerance (10 points behind)
    (0.5699, 0.67, ATT),                    # just past it
    (0.42, 0.67, ATT),                      # exactly 25 points behind
    (0.4199, 0.67, OFF),                    # just past it
    (0.34, 0.67, OFF),                      # "On track at 34 % when 67 % is expected"
    (0.80, 0.55, ON),                       # ahead of pace
    (0.9999, 1.0, ON),
    (1.0, 0.3, ACC),                        # the target reached
    (1.7, 0.3, ACC),                        # past it (clamped)
    (-0.5, 0.2, ATT),                       # below the start: clamped to 0, 20 points behind
    (0.0, 1.0, OFF),                        # the end of the cycle, nothing done
])
def test_metric_edges(progress, expected, status):
    assert suggest(kind=P.METRIC, progress=progress, expected=expected).status == status


@pytest.mark.parametrize(("done", "expected", "status"), [
    (True, 0.0, ACC),
    (False, 0.0, ON),
    (False, 0.7499, ON),
    (False, 0.75, ATT),
    (False, 0.9999, ATT),
    (False, 1.0, OFF),
])
def test_milestone_edges(done, expected, status):
    assert suggest(kind=P.MILESTONE, progress=1.0 if done else 0.0, expected=expected,
                   done=done).status == status


@pytest.mark.parametrize(("held", "status"), [(True, ON), (False, OFF)])
def test_guardrail_holds_or_not(held, status):
    for expected in (0.0, 0.5, 1.0):
        assert suggest(kind=P.GUARDRAIL, progress=1.0 if held else 0.0,
                       expected=expected).status == status


def test_kpi_signals_lower_on_track_only():
    ahead = {"kind": P.METRIC, "progress": 0.8, "expected": 0.5}
    assert suggest(**ahead).status == ON
    off = suggest(**ahead, kpi_off_target=True)
    assert off.status == ATT and "the KPI is off target" in off.reason
    assert suggest(**ahead, kpi_unfavourable=True).status == ATT
    # never raises, never lowers further
    assert suggest(kind=P.METRIC, progress=0.1, expected=0.9, kpi_off_target=True).status == OFF
    assert suggest(kind=P.METRIC, progress=1.0, expected=0.9, kpi_off_target=True).status == ACC


def test_reasons_are_words():
    assert suggest(kind=P.METRIC, progress=0.34, expected=0.67).reason == \
        "33 points behind the expected 67 %"
    assert suggest(kind=P.METRIC, progress=0.8, expected=0.5).reason == \
        "ahead of the expected 50 %"


_RANK = {ON: 0, ATT: 1, OFF: 2}


@given(progress=st.floats(0, 0.999, allow_nan=False), expected=st.floats(0, 1, allow_nan=False),
       more=st.floats(0, 0.5, allow_nan=False))
def test_more_progress_never_suggests_worse(progress, expected, more):
    """Monotone: at the same moment, more progress never gives a worse status."""
    a = suggest(kind=P.METRIC, progress=progress, expected=expected).status
    b = suggest(kind=P.METRIC, progress=min(progress + more, 0.999), expected=expected).status
    assert _RANK[b] <= _RANK[a]


@given(progress=st.floats(-10, 10, allow_nan=False), expected=st.floats(-1, 2, allow_nan=False))
def test_suggestion_agrees_with_pace_at_the_tolerance(progress, expected):
    """The suggestion and okrs.progress.pace use the same 10-point tolerance: a metric on
    pace or ahead is never suggested worse than on track (below its target)."""
    s = suggest(kind=P.METRIC, progress=progress, expected=expected)
    p = P.clamp(progress, 0, 1)
    e = P.clamp(expected, 0, 1)
    if p >= 1:
        assert s.status == ACC
    elif round(e - p, 9) <= TOLERANCE:
        assert s.status == ON
    elif round(e - p, 9) <= ATTENTION_GAP:
        assert s.status == ATT
    else:
        assert s.status == OFF
    if s.status != ATT and abs(round(e - p, 9) - TOLERANCE) > 1e-6:
        assert not disagrees(s.status, P.pace(p, e))


@pytest.mark.parametrize(("status", "pace", "hint"), [
    (OFF, "ahead", True), (OFF, "on_pace", True), (OFF, "behind", False),
    (ON, "behind", True), (ON, "on_pace", False), (ON, "ahead", False),
    (ATT, "ahead", True), (ATT, "on_pace", False), (ATT, "behind", False),
    (ACC, "behind", True), (None, "behind", False), ("", "ahead", False),
])
def test_disagrees_table(status, pace, hint):
    assert disagrees(status, pace) is hint


def test_disagreement_in_words():
    text = disagreement(OFF, "ahead", label="Off track", author="Mark", on=dt.date(2026, 11, 23))
    assert text == "set Off track by Mark on 23 Nov — pace says ahead"
    assert disagreement(ON, "on_pace", label="On track", author="Mark", on=None) == ""
    assert disagreement(ON, "behind", label="On track", author=None, on=None) == \
        "set On track — pace says behind"
