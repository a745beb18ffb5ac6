"""Stored figures (okrs.figures): random sequences of writes through the services keep
every stored figure equal to the full recompute with okrs.progress
(okrs.selectors.compute_cycle) after each write; rebuild_figures repairs damaged figures."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from accounts.models import Role
from goals.models import Cycle, PillarFigure, StrategicPillar
from kpis.services import kpi_record_value
from okrs import figures
from okrs import services as S
from okrs.checkins.services import CheckInRefused, checkin_create
from okrs.models import KeyResult, Objective
from okrs.selectors import compute_cycle, cycle_progress
from tests.factories import (
    CycleFactory,
    KpiFactory,
    MembershipFactory,
    OrganizationFactory,
    PillarFactory,
    UserFactory,
)

STATUSES = ["on_track", "needs_attention", "off_track", "accomplished"]


def _world():
    org = OrganizationFactory()
    user = UserFactory()
    MembershipFactory(organization=org, user=user, role=Role.OWNER)
    today = timezone.localdate()
    year = CycleFactory(organization=org, name=f"Y{org.pk}", kind=Cycle.Kind.YEAR,
                        start=today - dt.timedelta(days=100), end=today + dt.timedelta(days=265))
    quarter = CycleFactory(organization=org, name=f"Q{org.pk}", parent=year,
                           start=today - dt.timedelta(days=40), end=today + dt.timedelta(days=50))
    pillars = [PillarFactory(organization=org, name=f"P{i}") for i in range(3)]
    kpi = KpiFactory(organization=org)
    return {"org": org, "user": user, "cycles": [year, quarter], "pillars": pillars, "kpi": kpi}


def assert_figures_match(org, now=None):
    """Every stored figure equals the full recompute, for every cycle of the organisation."""
    now = now or timezone.now()
    for cycle in Cycle.objects.filter(organization=org):
        want = compute_cycle(organization=org, cycle=cycle, now=now)
        got = cycle_progress(organization=org, cycle=cycle, now=now)
        assert [r.objective.id for r in got.rows] == [r.objective.id for r in want.rows]
        for w, g in zip(want.rows, got.rows, strict=True):
            o = w.objective.id
            assert g.progress == pytest.approx(w.progress, abs=1e-9), ("progress", o)
            assert g.rollup == pytest.approx(w.rollup, abs=1e-9), ("rollup", o)
            assert g.status == w.status, ("status", o)
            assert g.pillar_ids == w.pillar_ids, ("pillars", o)
            assert [(k.kr.id, round(k.progress, 9), k.status) for k in g.krs] == \
                [(k.kr.id, round(k.progress, 9), k.status) for k in w.krs], ("krs", o)
        ids = list(StrategicPillar.objects.filter(organization=org).values_list("id", flat=True))
        want_p, got_p = want.pillar_progress(ids), got.pillar_progress(ids)
        for pid in ids:
            assert got_p[pid] == pytest.approx(want_p[pid], abs=1e-9), ("pillar", pid, cycle)
        assert got.pillar_counts(ids) == want.pillar_counts(ids)


# One write: (operation, choice of target, a few numbers). The operation picks its rows
# among those that exist, so every sequence is valid whatever came before.
WRITE = st.tuples(
    st.sampled_from(["objective", "objective", "kr", "kr", "checkin", "checkin", "checkin",
                     "move", "pillar", "state", "progress_from", "weight", "delete_kr",
                     "delete_objective", "kpi_point", "close"]),
    st.integers(0, 50), st.integers(0, 50), st.integers(-20, 120), st.integers(0, 9))


def _apply(w, write):  # noqa: C901 — one branch per kind of write
    op, a, b, n, k = write
    org, user = w["org"], w["user"]
    open_cycles = [c for c in Cycle.objects.filter(organization=org).order_by("id")
                   if not c.is_closed]
    objectives = list(Objective.objects.alive().filter(organization=org, cycle__in=open_cycles)
                      .select_related("cycle").order_by("id"))
    krs = list(KeyResult.objects.filter(organization=org, objective__in=objectives)
               .select_related("objective__cycle").order_by("id"))
    pillar = [None, *w["pillars"]][k % 4]
    if op == "objective" and open_cycles:
        cycle = open_cycles[a % len(open_cycles)]
        # A quarter's objectives align to the year's or the quarter's; the year's to the year's.
        parents = [o for o in objectives if o.cycle_id == cycle.pk
                   or o.cycle_id == cycle.parent_id]
        parent = parents[b % len(parents)] if parents and n % 3 else None
        S.objective_create(organization=org, actor=user, data={
            "title": f"O{n}", "cycle": cycle, "pillar": pillar, "parent": parent,
            "state": ["active", "draft"][k % 4 == 3 and 1 or 0],
            "progress_from": ["krs", "children", "both"][a % 3]},
            key_results=[{"title": "K", "start_value": 0, "target_value": 100,
                          "current_value": n}] if k % 2 else [])
    elif op == "kr" and objectives:
        kind = ["metric", "milestone", "guardrail"][k % 3]
        data = {"title": f"K{n}", "kind": kind, "start_value": 0, "target_value": 50,
                "current_value": n, "weight": b % 4, "done": bool(n % 2)}
        if kind == "guardrail":
            data["guard"] = ["at_least", "at_most"][n % 2]
        if k == 9:
            data["kpi"] = w["kpi"]
        S.key_result_create(objective=objectives[a % len(objectives)], actor=user, data=data)
    elif op == "checkin" and krs:
        kr = krs[a % len(krs)]
        status = STATUSES[k % 4]
        done = kr.kind == "milestone" and status == "accomplished" or bool(n % 2)
        checkin_create(key_result=kr, author=user, status=status, value=float(n), done=done,
                       now=timezone.now() - dt.timedelta(days=b % 12))
    elif op == "move" and objectives:
        o = objectives[a % len(objectives)]
        parents = [p for p in objectives if p.pk != o.pk and p.cycle_id in
                   (o.cycle_id, o.cycle.parent_id)]
        parent = parents[b % len(parents)] if parents and n % 4 else None
        S.objective_update(objective=o, actor=user, version=o.version,
                           data={"parent": parent})  # a loop is refused
    elif op in ("pillar", "state", "progress_from") and objectives:
        o = objectives[a % len(objectives)]
        value = {"pillar": pillar, "state": ["active", "draft", "active"][b % 3],
                 "progress_from": ["krs", "children", "both"][b % 3]}[op]
        S.objective_update(objective=o, actor=user, version=o.version, data={op: value})
    elif op == "weight" and krs:
        kr = krs[a % len(krs)]
        S.key_result_update(key_result=kr, actor=user, version=kr.version,
                            data={"weight": float(b % 5), "target_value": 50 + n})
    elif op == "delete_kr" and krs:
        S.key_result_delete(key_result=krs[a % len(krs)], actor=user)
    elif op == "delete_objective" and objectives:
        S.objective_delete(objective=objectives[a % len(objectives)], actor=user)
    elif op == "kpi_point":
        kpi_record_value(kpi=w["kpi"], period=timezone.localdate() - dt.timedelta(weeks=b % 5),
                         value=float(n), author=user)
    elif op == "close" and a % 5 == 0 and open_cycles:
        cycle = open_cycles[-1]  # the quarter first, then the year
        cycle.refresh_from_db()
        S.cycle_close(cycle=cycle, actor=user, version=cycle.version)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, derandomize=True, print_blob=True,
          phases=(Phase.explicit, Phase.reuse, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(WRITE, min_size=1, max_size=14))
def test_random_writes_keep_the_stored_figures_equal_to_a_full_recompute(writes):
    w = _world()
    for write in writes:
        # A refused write (a loop, a delete with history, a draft's check-in) changes
        # nothing: the figures must still match.
        with contextlib.suppress(ValidationError, CheckInRefused):
            _apply(w, write)
        assert_figures_match(w["org"])


@pytest.mark.django_db
def test_sibling_check_ins_reach_the_parent_and_the_pillar():
    w = _world()
    org, user, year = w["org"], w["user"], w["cycles"][0]
    pillar = w["pillars"][0]
    parent = S.objective_create(organization=org, actor=user, data={
        "title": "Parent", "cycle": year, "pillar": pillar, "progress_from": "children"})
    kids = [S.objective_create(organization=org, actor=user, data={
        "title": f"Kid {i}", "cycle": year, "parent": parent},
        key_results=[{"title": "K", "start_value": 0, "target_value": 100}])
        for i in range(2)]
    for kid, value in zip(kids, (50, 100), strict=True):
        checkin_create(key_result=kid.key_results.get(), author=user, status="on_track",
                       value=value)
    parent.refresh_from_db()
    assert parent.progress == pytest.approx(0.75)
    figure = PillarFigure.objects.get(pillar=pillar, cycle=year)
    assert (figure.objective_count, figure.progress) == (3, pytest.approx((0.75 + 0.5 + 1) / 3))
    assert_figures_match(org)


@pytest.mark.django_db
def test_a_check_in_costs_the_depth_not_the_organisation():
    """The roll-up of one check-in issues the same number of queries whatever the number
    of other objectives in the cycle."""
    from tests.conftest import count_queries

    counts = []
    for extra in (2, 40):
        w = _world()
        org, user, year = w["org"], w["user"], w["cycles"][0]
        root = S.objective_create(organization=org, actor=user, data={
            "title": "Root", "cycle": year, "pillar": w["pillars"][0], "progress_from": "both"})
        leaf = S.objective_create(organization=org, actor=user, data={
            "title": "Leaf", "cycle": year, "parent": root},
            key_results=[{"title": "K", "start_value": 0, "target_value": 10}])
        for i in range(extra):
            S.objective_create(organization=org, actor=user, data={
                "title": f"Other {i}", "cycle": year, "pillar": w["pillars"][1]},
                key_results=[{"title": "K", "start_value": 0, "target_value": 10}])
        kr = leaf.key_results.get()
        with count_queries() as queries:
            figures.refresh([leaf.pk])
        counts.append(len(queries.sql))
        checkin_create(key_result=kr, author=user, status="on_track", value=5)
        assert_figures_match(org)
    assert counts[0] == counts[1], counts


@pytest.mark.django_db
def test_rebuild_figures_repairs_damaged_figures(capsys):
    w = _world()
    org, user, year = w["org"], w["user"], w["cycles"][0]
    o = S.objective_create(organization=org, actor=user, data={
        "title": "O", "cycle": year, "pillar": w["pillars"][0]},
        key_results=[{"title": "K", "start_value": 0, "target_value": 10, "current_value": 4}])
    Objective.objects.filter(pk=o.pk).update(progress=0.99, pillar_ids=[], status_summary={})
    KeyResult.objects.filter(objective=o).update(progress=0.5)
    PillarFigure.objects.filter(organization=org).update(progress_sum=7, objective_count=9)
    call_command("rebuild_figures", "--org", org.slug)
    assert f"{org.slug}: 1 objectives" in capsys.readouterr().out
    assert_figures_match(org)
    o.refresh_from_db()
    assert o.progress == pytest.approx(0.4)
