"""The leader dashboard's lists, read in few rows for large organisations: the attention
list's order (off target first, then with an unfavourable signal, then by name), check-in
completion per team (the figures of okrs.checkins.selectors.team_completion), the newest
check-ins of the feed; the shared cycle progress is read, never modified."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dashboards import kpi_rows
from dashboards.home import feed as feeds
from dashboards.home import selectors as home
from dashboards.links import Links
from kpis.models import Kpi, KpiHealth
from okrs.checkins.selectors import team_completion
from okrs.checkins.services import week_start_for
from okrs.models import CheckIn, KeyResult, Objective
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    KpiFactory,
    ObjectiveFactory,
    TeamFactory,
)

OFF, ON, NO_TARGET = (KpiHealth.Status.OFF_TARGET, KpiHealth.Status.ON_TARGET,
                      KpiHealth.Status.NO_TARGET)


def _kpi(org, name, status=None, *, signal=False, stale=False, active=True):
    kpi = KpiFactory(organization=org, name=name, active=active)
    if status is not None:
        KpiHealth.objects.create(kpi=kpi, status=status, has_unfavourable_signal=signal,
                                 is_stale=stale, evaluated_at=timezone.now())
    return kpi


def _attention_org(org):
    # Names chosen so that no simpler order (by name alone, off target then name, ...)
    # gives the expected one.
    _kpi(org, "A on target, signal", ON, signal=True)
    _kpi(org, "B off target", OFF)
    _kpi(org, "C off target, signal", OFF, signal=True)
    _kpi(org, "D stale", ON, stale=True)
    _kpi(org, "E off target, stale", OFF, stale=True)
    _kpi(org, "F no target, signal, stale", NO_TARGET, signal=True, stale=True)
    _kpi(org, "G on target", ON)
    _kpi(org, "H inactive, off target", OFF, signal=True, active=False)
    _kpi(org, "I no health yet")
    _kpi(org, "J off target, signal", OFF, signal=True)


EXPECTED_ATTENTION = [
    "C off target, signal", "J off target, signal",  # off target with a signal
    "B off target", "E off target, stale",  # off target
    "A on target, signal", "F no target, signal, stale",  # not off target, signal
    "D stale",  # only stale
]


def test_attention_order_is_off_target_then_signal_then_name(org):
    _attention_org(org)
    rows = home.attention_rows(org, limit=20)
    assert [r.kpi.name for r in rows] == EXPECTED_ATTENTION
    # The same order as sorting every KPI needing attention in one query (the way it
    # was read before the four groups).
    single = kpi_rows.kpi_rows(org, where=kpi_rows.ATTENTION, limit=20,
                        order_by=(kpi_rows.OFF_TARGET_FIRST, "-health__has_unfavourable_signal",
                                  "name"))
    assert [r.kpi.name for r in single] == EXPECTED_ATTENTION


def test_attention_limit_cuts_across_the_groups(org):
    _attention_org(org)
    for limit in range(1, 9):
        assert [r.kpi.name for r in home.attention_rows(org, limit=limit)] \
            == EXPECTED_ATTENTION[:limit]


def test_attention_rows_carry_health_team_owner_and_points(org, owner,
                                                           django_assert_num_queries):
    from tests.factories import DataPointFactory

    team = TeamFactory(organization=org)
    kpi = _kpi(org, "Reply time", OFF, signal=True)
    Kpi.objects.filter(pk=kpi.pk).update(team=team, owner=owner)
    for w in range(3):
        DataPointFactory(kpi=kpi, value=40 + w,
                         period_start=dt.date(2026, 1, 5) + dt.timedelta(weeks=w))
    # the ids of the four groups (1), the KPIs with health/team/owner (1), points (1)
    with django_assert_num_queries(3):
        (row,) = home.attention_rows(org)
        assert (row.kpi.team.name, row.kpi.owner.pk, row.health.status) \
            == (team.name, owner.pk, OFF)
        assert row.values == [40, 41, 42] and row.has_signal


def test_attention_is_empty_without_kpis_needing_it(org):
    _kpi(org, "Fine", ON)
    assert home.attention_rows(org) == []


# --- Check-in completion per team ------------------------------------------------------


def test_team_completion_lines_agree_with_okrs_team_completion(org, owner):
    cycle = CycleFactory(organization=org)
    week = week_start_for(org)
    teams = [TeamFactory(organization=org, name=f"Team {c}") for c in "ABCDE"]
    a, b, c, d, _e = teams  # e has no key results
    for team, n_krs, n_done in ((a, 3, 1), (b, 2, 2), (c, 4, 0), (d, 1, 1)):
        obj = ObjectiveFactory(organization=org, cycle=cycle, team=team)
        for i in range(n_krs):
            kr = KeyResultFactory(objective=obj)
            if i < n_done:
                CheckInFactory(key_result=kr, author=owner, week_start=week)
                CheckInFactory(key_result=kr, author=owner, week_start=week)  # twice
            else:  # checked in an earlier week only
                CheckInFactory(key_result=kr, author=owner,
                               week_start=week - dt.timedelta(weeks=1))
    # What does not count: a draft objective's KR, a deleted KR, a company objective's KR.
    draft = ObjectiveFactory(organization=org, cycle=cycle, team=a,
                             state=Objective.State.DRAFT)
    CheckInFactory(key_result=KeyResultFactory(objective=draft), week_start=week)
    gone = KeyResultFactory(objective=ObjectiveFactory(organization=org, cycle=cycle, team=b))
    gone.deleted_at = timezone.now()
    gone.save()
    company = ObjectiveFactory(organization=org, cycle=cycle)
    CheckInFactory(key_result=KeyResultFactory(objective=company), week_start=week)

    lines = home.team_completion_lines(org, week)
    expected = sorted((x for x in team_completion(org, week) if x.total),
                      key=lambda x: (x.done / x.total, x.team.name))
    assert [(li.team.pk, li.done, li.total) for li in lines] \
        == [(x.team.pk, x.done, x.total) for x in expected]
    assert [(li.team.name, li.done, li.total) for li in lines] == [
        ("Team C", 0, 4), ("Team A", 1, 3), ("Team B", 2, 2), ("Team D", 1, 1)]


# --- Feed: the newest check-ins ----------------------------------------------------------


def test_feed_shows_the_newest_check_ins(org, owner):
    kr = KeyResultFactory(objective=ObjectiveFactory(organization=org), title="Reply faster")
    now = timezone.now()
    for i in range(12):
        ci = CheckInFactory(key_result=kr, author=owner, value=i)
        CheckIn.objects.filter(pk=ci.pk).update(created_at=now - dt.timedelta(hours=12 - i))
    feed = feeds.recent_changes(org, Links(org.slug))
    values = [f.text.rsplit(": ", 1)[1] for f in feed if f.kind == "checkin"]
    assert len(values) == feeds.FEED_EACH
    assert values == [str(v) for v in range(11, 11 - feeds.FEED_EACH, -1)], values


# --- Shared cycle progress: read, never modified; pillar figures once per result ---------


def test_dashboard_pages_render_a_kpi_linked_key_result(org, owner, as_user):
    """(Until issue 16 removed the per-process store, this also checked that the pages left
    its shared rows unmodified; nothing is shared between requests now.)"""
    from tests.conftest import build_org, url

    data = build_org(org, owner, 2)
    KeyResult.objects.filter(pk=data["krs"][0].pk).update(kpi=data["kpis"][0])
    client = as_user(owner)
    for page in (url("dashboards:home"), url("dashboards:team", team=data["teams"][0].slug), url("dashboards:review"),
                 url("dashboards:strategy_map")):
        assert client.get(page).status_code == 200
    html = client.get(url("dashboards:review")).content.decode()
    assert data["krs"][0].title in html  # the improvement objective's KRs, labelled
