"""Unit tests for okrs.progress (pure Python, no database)."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from okrs import progress as p
from okrs.progress import KR, ObjectiveNode

# ---------------------------------------------------------------- metric KR


@pytest.mark.parametrize(
    "start,target,current,expected",
    [
        (0, 100, 0, 0.0),
        (0, 100, 50, 0.5),
        (0, 100, 100, 1.0),
        (10, 20, 15, 0.5),
        # decreasing KR: start 52, target 30
        (52, 30, 52, 0.0),
        (52, 30, 41, 0.5),
        (52, 30, 30, 1.0),
        (52, 30, 20, 1.0),  # past target (decreasing) clamps
        (52, 30, 60, 0.0),  # wrong way clamps
        # past target (increasing) clamps
        (0, 100, 150, 1.0),
        # below start clamps
        (10, 20, 5, 0.0),
        # negative values
        (-10, 10, 0, 0.5),
        (-20, -10, -15, 0.5),
        (-10, -30, -20, 0.5),
        (0, -10, -5, 0.5),
        (-10, 10, -50, 0.0),
    ],
)
def test_metric_progress(start, target, current, expected):
    assert p.metric_progress(start, target, current) == pytest.approx(expected)


def test_metric_target_equal_to_start_is_defined():
    # nothing to travel: held at target -> 1, anything else -> 0; never divides by zero
    assert p.metric_progress(5, 5, 5) == 1.0
    assert p.metric_progress(5, 5, 6) == 0.0
    assert p.metric_progress(5, 5, 4) == 0.0
    assert p.metric_progress(0, 0, 0) == 1.0
    assert p.metric_progress(Decimal("2.50"), Decimal("2.5"), Decimal("2.500")) == 1.0
    assert p.metric_progress(5, 5, None) == 0.0


def test_metric_none_current_is_zero():
    assert p.metric_progress(0, 100, None) == 0.0
    assert p.metric_progress(52, 30, None) == 0.0


def test_metric_none_target_and_start():
    assert p.metric_progress(0, None, 10) == 0.0
    # missing start counts as 0
    assert p.metric_progress(None, 10, 5) == pytest.approx(0.5)


def test_metric_decimal_inputs():
    assert p.metric_progress(Decimal("0"), Decimal("3"), Decimal("1")) == pytest.approx(1 / 3)


def test_metric_non_finite_inputs_do_not_crash():
    assert p.metric_progress(0, 10, float("nan")) == 0.0
    assert p.metric_progress(0, float("inf"), 5) == 0.0
    assert p.metric_progress(0, 10, "abc") == 0.0


def test_kr_direction():
    assert p.kr_direction(0, 10) == "increase"
    assert p.kr_direction(52, 30) == "decrease"
    assert p.kr_direction(5, 5) == "hold"
    assert p.kr_direction(5, None) == "hold"


def test_clamp_nan():
    assert p.clamp(float("nan")) == 0.0
    assert p.clamp(2.0) == 1.0
    assert p.clamp(-1.0) == 0.0


# ------------------------------------------------------------- milestone KR


@pytest.mark.parametrize(
    "current,expected",
    [(None, 0.0), (0, 0.0), (1, 1.0), (True, 1.0), (False, 0.0), (0.5, 0.0), (Decimal("1"), 1.0)],
)
def test_milestone_progress(current, expected):
    assert p.milestone_progress(current) == expected
    assert p.kr_progress(KR(kind=p.MILESTONE, start=0, target=1, current=current)) == expected


# ------------------------------------------------------------- guardrail KR


def test_guardrail_at_least():
    assert p.guardrail_progress(90, 95, p.AT_LEAST) == 1.0
    assert p.guardrail_progress(90, 90, p.AT_LEAST) == 1.0  # exactly on X holds
    assert p.guardrail_progress(90, 89.9, p.AT_LEAST) == 0.0


def test_guardrail_at_most():
    assert p.guardrail_progress(5, 3, p.AT_MOST) == 1.0
    assert p.guardrail_progress(5, 5, p.AT_MOST) == 1.0
    assert p.guardrail_progress(5, 6, p.AT_MOST) == 0.0


def test_guardrail_negative_threshold():
    assert p.guardrail_progress(-5, -3, p.AT_LEAST) == 1.0
    assert p.guardrail_progress(-5, -7, p.AT_LEAST) == 0.0
    assert p.guardrail_progress(-5, -7, p.AT_MOST) == 1.0


def test_guardrail_without_value_is_not_held():
    assert p.guardrail_progress(5, None, p.AT_MOST) == 0.0
    assert p.guardrail_progress(None, 5, p.AT_MOST) == 0.0


def test_guardrail_operator_derived_from_start_and_target():
    assert p.guardrail_operator(95, 90) == p.AT_LEAST  # keep above 90
    assert p.guardrail_operator(2, 5) == p.AT_MOST  # keep below 5
    assert p.guardrail_operator(5, 5) == p.AT_LEAST
    assert p.kr_progress(KR(kind=p.GUARDRAIL, start=95, target=90, current=91)) == 1.0
    assert p.kr_progress(KR(kind=p.GUARDRAIL, start=95, target=90, current=89)) == 0.0
    assert p.kr_progress(KR(kind=p.GUARDRAIL, start=2, target=5, current=6)) == 0.0
    # explicit operator wins over derivation
    assert (
        p.kr_progress(KR(kind=p.GUARDRAIL, start=2, target=5, current=6, guardrail_op=p.AT_LEAST))
        == 1.0
    )


def test_kr_progress_metric_default():
    assert p.kr_progress(KR(start=52, target=30, current=41)) == pytest.approx(0.5)


# ---------------------------------------------------------------- means


def test_weighted_mean():
    assert p.weighted_mean([]) is None
    assert p.weighted_mean([(1.0, 1), (0.0, 3)]) == pytest.approx(0.25)
    # zero weights everywhere: plain mean, no division by zero
    assert p.weighted_mean([(1.0, 0), (0.0, 0)]) == pytest.approx(0.5)
    # negative / missing weights count as 0
    assert p.weighted_mean([(1.0, -5), (0.5, 1)]) == pytest.approx(0.5)
    assert p.weighted_mean([(1.0, None), (0.5, 1)]) == pytest.approx(0.5)
    assert p.weighted_mean([(1.0, Decimal("2")), (0.0, Decimal("2"))]) == pytest.approx(0.5)


def test_mean_ignores_none():
    assert p.mean([]) is None
    assert p.mean([None]) is None
    assert p.mean([1.0, None, 0.0]) == 0.5


# ------------------------------------------------------------- objectives


def _krs():
    return [
        KR(start=0, target=100, current=100, weight=1),  # 1.0
        KR(start=0, target=100, current=0, weight=3),  # 0.0
    ]


def test_objective_progress_weighted():
    assert p.objective_progress(_krs()) == pytest.approx(0.25)


def test_objective_progress_zero_weights_all_krs():
    krs = [KR(start=0, target=10, current=10, weight=0), KR(start=0, target=10, current=0, weight=0)]
    assert p.objective_progress(krs) == pytest.approx(0.5)


def test_objective_progress_no_krs_is_zero():
    assert p.objective_progress([]) == 0.0
    assert p.objective_progress([], [], p.FROM_BOTH) == 0.0
    assert p.objective_progress([], [], p.FROM_CHILDREN) == 0.0


def test_objective_progress_from_children():
    assert p.objective_progress(_krs(), [1.0, 0.5], p.FROM_CHILDREN) == pytest.approx(0.75)
    # no children: falls back to the KRs
    assert p.objective_progress(_krs(), [], p.FROM_CHILDREN) == pytest.approx(0.25)


def test_objective_progress_from_both():
    # KR part 0.25, children part 0.75 -> half each
    assert p.objective_progress(_krs(), [1.0, 0.5], p.FROM_BOTH) == pytest.approx(0.5)
    # one part empty: the other alone
    assert p.objective_progress([], [1.0, 0.5], p.FROM_BOTH) == pytest.approx(0.75)
    assert p.objective_progress(_krs(), [], p.FROM_BOTH) == pytest.approx(0.25)


def test_objective_progress_from_krs_ignores_children():
    assert p.objective_progress(_krs(), [1.0], p.FROM_KRS) == pytest.approx(0.25)


def test_objective_with_only_none_currents():
    krs = [KR(start=0, target=10, current=None), KR(kind=p.MILESTONE, current=None)]
    assert p.objective_progress(krs) == 0.0


# ------------------------------------------------------------------- tree


def _tree():
    return [
        ObjectiveNode(id=1, pillar_id="A", progress_from=p.FROM_CHILDREN),
        ObjectiveNode(id=2, parent_id=1, krs=[KR(start=0, target=10, current=10)]),  # 1.0
        ObjectiveNode(
            id=3, parent_id=1, progress_from=p.FROM_BOTH, krs=[KR(start=0, target=10, current=0)]
        ),  # KR 0.0, child 4 -> 0.5 => 0.25
        ObjectiveNode(id=4, parent_id=3, pillar_id="B", krs=[KR(start=0, target=10, current=5)]),
        ObjectiveNode(id=5, pillar_id="B", krs=[KR(start=0, target=10, current=2)]),  # 0.2
    ]


def test_tree_progress():
    result = p.tree_progress(_tree())
    assert result[4] == pytest.approx(0.5)
    assert result[3] == pytest.approx(0.25)
    assert result[2] == pytest.approx(1.0)
    assert result[1] == pytest.approx((1.0 + 0.25) / 2)
    assert result[5] == pytest.approx(0.2)


def test_tree_progress_ignores_missing_parent_and_self_parent():
    nodes = [
        ObjectiveNode(id=1, parent_id=99, krs=[KR(start=0, target=10, current=3)]),
        ObjectiveNode(id=2, parent_id=2, progress_from=p.FROM_CHILDREN,
                      krs=[KR(start=0, target=10, current=4)]),
    ]
    result = p.tree_progress(nodes)
    assert result == {1: pytest.approx(0.3), 2: pytest.approx(0.4)}


def test_tree_progress_survives_a_parent_loop():
    nodes = [
        ObjectiveNode(id=1, parent_id=2, progress_from=p.FROM_CHILDREN,
                      krs=[KR(start=0, target=10, current=2)]),
        ObjectiveNode(id=2, parent_id=1, progress_from=p.FROM_CHILDREN,
                      krs=[KR(start=0, target=10, current=8)]),
    ]
    result = p.tree_progress(nodes)
    assert set(result) == {1, 2}
    assert all(0.0 <= v <= 1.0 for v in result.values())


def test_tree_progress_deep_chain_does_not_recurse_too_deep():
    nodes = [ObjectiveNode(id=0, krs=[KR(start=0, target=1, current=1)])]
    for i in range(1, 3000):
        nodes.append(ObjectiveNode(id=i, parent_id=i - 1, progress_from=p.FROM_CHILDREN))
    # leaf is the last one; give it a KR
    nodes[-1] = ObjectiveNode(id=2999, parent_id=2998, krs=[KR(start=0, target=1, current=1)])
    result = p.tree_progress(nodes)
    assert result[0] == pytest.approx(1.0)


# --------------------------------------------------------- pillars / goal


def test_supported_pillars_through_parent_chain():
    by_id = {n.id: n for n in _tree()}
    assert p.supported_pillars(1, by_id) == {"A"}
    assert p.supported_pillars(2, by_id) == {"A"}
    assert p.supported_pillars(4, by_id) == {"A", "B"}
    assert p.supported_pillars(5, by_id) == {"B"}


def test_pillar_progress_and_goal():
    nodes = _tree()
    tp = p.tree_progress(nodes)
    pillars = p.pillar_progress(["A", "B", "C"], nodes, tp)
    # A: objectives 1,2,3,4 ; B: objectives 4,5 ; C: none
    assert pillars["A"] == pytest.approx((tp[1] + tp[2] + tp[3] + tp[4]) / 4)
    assert pillars["B"] == pytest.approx((0.5 + 0.2) / 2)
    assert pillars["C"] == 0.0
    assert p.goal_progress(pillars.values()) == pytest.approx(
        (pillars["A"] + pillars["B"] + 0.0) / 3
    )
    # computes tree progress itself when not given
    assert p.pillar_progress(["B"], nodes) == {"B": pytest.approx(0.35)}
    assert p.pillar_objective_counts(["A", "B", "C"], nodes) == {"A": 4, "B": 2, "C": 0}


def test_goal_progress_without_pillars():
    assert p.goal_progress([]) == 0.0


# ------------------------------------------------------ expected progress


def test_expected_progress():
    start, end = date(2026, 1, 1), date(2026, 1, 11)
    assert p.expected_progress(start, end, date(2025, 12, 31)) == 0.0
    assert p.expected_progress(start, end, start) == 0.0
    assert p.expected_progress(start, end, date(2026, 1, 6)) == pytest.approx(0.5)
    assert p.expected_progress(start, end, end) == 1.0
    assert p.expected_progress(start, end, date(2026, 3, 1)) == 1.0
    assert p.expected_progress(start, end, datetime(2026, 1, 6, 23, 59)) == pytest.approx(0.5)


def test_expected_progress_one_day_and_inverted_cycle():
    d = date(2026, 1, 1)
    assert p.expected_progress(d, d, d) == 1.0
    assert p.expected_progress(d, d, d - timedelta(days=1)) == 0.0
    assert p.expected_progress(d, d - timedelta(days=5), d) == 1.0


def test_pace():
    assert p.pace(0.5, 0.5) == "on_pace"
    assert p.pace(0.8, 0.5) == "ahead"
    assert p.pace(0.2, 0.5) == "behind"


# ----------------------------------------------------------------- status

NOW = datetime(2026, 3, 1, 12, 0)


def test_checkin_overdue_after_seven_days():
    assert not p.is_checkin_overdue(NOW - timedelta(days=6), NOW)
    assert not p.is_checkin_overdue(NOW - timedelta(days=7), NOW)  # exactly 7: not yet
    assert p.is_checkin_overdue(NOW - timedelta(days=7, seconds=1), NOW)
    assert p.is_checkin_overdue(None, NOW)  # never checked in, no reference
    assert not p.is_checkin_overdue(None, NOW, since=NOW - timedelta(days=2))
    assert p.is_checkin_overdue(None, NOW, since=NOW - timedelta(days=8))


def test_effective_status():
    recent = NOW - timedelta(days=1)
    old = NOW - timedelta(days=10)
    assert p.effective_status(p.ON_TRACK, recent, NOW) == p.ON_TRACK
    assert p.effective_status(p.ON_TRACK, old, NOW) == p.OVERDUE
    assert p.effective_status(p.ACCOMPLISHED, old, NOW) == p.ACCOMPLISHED
    assert p.effective_status(p.OFF_TRACK, old, NOW, closed=True) == p.OFF_TRACK
    assert p.effective_status(None, None, NOW, since=recent) is None
    assert p.effective_status(None, None, NOW, since=old) == p.OVERDUE
    assert p.effective_status("", recent, NOW) is None


def test_worst_status_ordering():
    assert p.worst_status([]) is None
    assert p.worst_status([None, "bogus"]) is None
    assert p.worst_status([p.ACCOMPLISHED, p.ON_TRACK]) == p.ON_TRACK
    assert p.worst_status([p.ON_TRACK, p.NEEDS_ATTENTION]) == p.NEEDS_ATTENTION
    assert p.worst_status([p.NEEDS_ATTENTION, p.OVERDUE]) == p.OVERDUE
    assert p.worst_status([p.OVERDUE, p.OFF_TRACK, None]) == p.OFF_TRACK
    assert p.worst_status([p.ACCOMPLISHED]) == p.ACCOMPLISHED


def test_status_rank_sorts_worst_first():
    statuses = [p.ACCOMPLISHED, None, p.ON_TRACK, p.OFF_TRACK, p.OVERDUE, p.NEEDS_ATTENTION]
    assert sorted(statuses, key=p.status_rank) == [
        p.OFF_TRACK, p.OVERDUE, p.NEEDS_ATTENTION, p.ON_TRACK, p.ACCOMPLISHED, None,
    ]


# ---------------------------------------------------------------- scoring


def test_kr_and_objective_score():
    krs = [
        KR(start=0, target=3, current=1, weight=1),  # 0.333
        KR(start=52, target=30, current=20, weight=1),  # 1.0 (past target)
    ]
    assert p.kr_score(krs[0]) == 0.33
    assert p.kr_score(krs[1]) == 1.0
    assert p.objective_score(krs) == pytest.approx(0.67)
    assert p.objective_score([]) == 0.0
    zero = [KR(start=0, target=10, current=10, weight=0), KR(start=0, target=10, current=0, weight=0)]
    assert p.objective_score(zero) == 0.5


def test_success_threshold_aspirational_vs_committed():
    assert p.is_success(0.7, p.ASPIRATIONAL)
    assert p.is_success(Decimal("0.70"), p.ASPIRATIONAL)
    assert not p.is_success(0.69, p.ASPIRATIONAL)
    assert not p.is_success(0.7, p.COMMITTED)
    assert p.is_success(1.0, p.COMMITTED)
    assert not p.is_success(None, p.COMMITTED)


def test_suggested_closing_status():
    assert p.suggested_closing_status(0.7, p.ASPIRATIONAL) == p.ACHIEVED
    assert p.suggested_closing_status(0.7, p.COMMITTED) == p.PARTIALLY
    assert p.suggested_closing_status(1.0, p.COMMITTED) == p.ACHIEVED
    assert p.suggested_closing_status(0.0, p.ASPIRATIONAL) == p.MISSED
    assert p.suggested_closing_status(None, p.COMMITTED) == p.MISSED
