"""Limit periods, locked limits, excluded points and the method on the KPI page: each
change is audited, an event in the KPI's history, re-evaluated through the worker; a
foreign or closed KPI is 404, a role below leader 403; bad input a message, not a 500."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from config import celery as celery_config
from kpis import health
from kpis.models import DataPoint, HealthEvent, KpiHealth, LimitPeriod
from kpis.xmr import analyse
from tests.conftest import url
from tests.factories import KpiFactory

OLD = [35, 36, 34, 35, 37, 33, 35, 36, 34, 35, 36, 34]
NEW = [49, 50, 48, 51, 49, 50, 48, 49, 51, 50]  # a sustained shift, still going


def _weeks(n):
    last = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday() + 7)
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


@pytest.fixture
def shifted(org):
    kpi = KpiFactory(organization=org, name="Reply time", decimals=0, target_value=30,
                     baseline_size=len(OLD))
    weeks = _weeks(len(OLD) + len(NEW))
    DataPoint.objects.bulk_create([DataPoint(kpi=kpi, period_start=p, value=v, note=(
        "new tool live" if i == len(OLD) else "")) for i, (p, v) in enumerate(
            zip(weeks, OLD + NEW, strict=True))])
    health.evaluate_kpi(kpi)
    kpi.weeks = weeks
    return kpi


def _post(client, name, kpi, data, capture):
    # Each request is its own transaction in real life; inside the test's one transaction
    # enqueue_on_commit would fold a second request's evaluation into the first's batch.
    celery_config._state.batch = None
    with capture(execute=True):
        return client.post(url(f"kpis:{name}", pk=kpi.pk), data)


def test_the_page_suggests_a_period_and_a_leader_confirms_it(
        shifted, leader, as_user, django_capture_on_commit_callbacks):
    c = as_user(leader)
    start = shifted.weeks[len(OLD)]
    html = c.get(url("kpis:detail", pk=shifted.pk)).content.decode()
    assert 'id="suggested-period"' in html
    assert f"{len(NEW)} weekly values in a row above the usual level since {start:%-d %b %Y}" in html
    before = KpiHealth.objects.get(kpi=shifted)
    assert before.center == pytest.approx(sum(OLD) / len(OLD))  # one baseline over both
    r = _post(c, "period_add", shifted, {"start": start.isoformat(), "reason": "New tool",
                                         "suggested": "1"}, django_capture_on_commit_callbacks)
    assert r.status_code == 302
    after = KpiHealth.objects.get(kpi=shifted)  # re-evaluated on commit
    alone = analyse(NEW, baseline_size=len(OLD))
    assert after.center == pytest.approx(alone.center)
    assert after.upper_limit == pytest.approx(alone.upper_limit)
    event = HealthEvent.objects.get(kpi=shifted, kind="limit_period")
    assert event.actor == leader and "Suggested limit period confirmed" in event.message
    assert AuditEntry.objects.filter(action="limit_period_added", note="New tool").exists()
    html = c.get(url("kpis:detail", pk=shifted.pk)).content.decode()
    assert 'id="suggested-period"' not in html
    assert f"From {start.day} {start:%b %Y}</strong> — New tool" in html


def test_declining_keeps_the_suggestion_away(shifted, leader, as_user,
                                             django_capture_on_commit_callbacks):
    c = as_user(leader)
    start = shifted.weeks[len(OLD)].isoformat()
    r = _post(c, "period_decline", shifted, {"start": start, "reason": "A campaign, not a change"},
              django_capture_on_commit_callbacks)
    assert r.status_code == 302
    assert LimitPeriod.objects.get(kpi=shifted).status == LimitPeriod.Status.DECLINED
    assert HealthEvent.objects.filter(kpi=shifted, kind="limit_period", new="declined").exists()
    assert 'id="suggested-period"' not in c.get(url("kpis:detail", pk=shifted.pk)).content.decode()
    # Declined twice: a message on the page, nothing changes.
    r = _post(c, "period_decline", shifted, {"start": start, "reason": "again"},
              django_capture_on_commit_callbacks)
    assert r.status_code == 400 and "already decided" in r.content.decode()


def test_a_reason_is_required_and_nothing_is_stored_without(shifted, leader, as_user,
                                                            django_capture_on_commit_callbacks):
    r = _post(as_user(leader), "period_add", shifted,
              {"start": shifted.weeks[12].isoformat(), "reason": "  "},
              django_capture_on_commit_callbacks)
    assert r.status_code == 400
    assert "Say why" in r.content.decode()
    assert not LimitPeriod.objects.exists()
    for bad in ("not a date", "2026-02-30", ""):
        r = _post(as_user(leader), "period_add", shifted, {"start": bad, "reason": "x"},
                  django_capture_on_commit_callbacks)
        assert r.status_code == 400, bad
    r = _post(as_user(leader), "period_remove", shifted, {"period": "abc", "reason": "x"},
              django_capture_on_commit_callbacks)
    assert r.status_code == 400


def test_roles_closed_and_foreign(shifted, member, as_user, outsider, leader,
                                  django_capture_on_commit_callbacks):
    data = {"start": shifted.weeks[12].isoformat(), "reason": "x"}
    assert as_user(member).post(url("kpis:period_add", pk=shifted.pk), data).status_code == 403
    assert as_user(outsider).post(url("kpis:period_add", pk=shifted.pk), data).status_code == 404
    shifted.active = False
    shifted.save(update_fields=["active"])
    assert as_user(leader).post(url("kpis:period_add", pk=shifted.pk), data).status_code == 404
    assert not LimitPeriod.objects.exists()


def test_exclude_and_include_a_point(shifted, leader, as_user, django_capture_on_commit_callbacks):
    c = as_user(leader)
    spike = shifted.weeks[3]
    r = _post(c, "point_exclude", shifted, {"period": spike.isoformat(), "reason": "Outage"},
              django_capture_on_commit_callbacks)
    assert r.status_code == 302
    # The baseline is the first 12 values that are not excluded: one more from the shift.
    kept = [v for i, v in enumerate(OLD) if i != 3] + NEW[:1]
    assert KpiHealth.objects.get(kpi=shifted).center == pytest.approx(sum(kept) / len(kept))
    html = c.get(url("kpis:detail", pk=shifted.pk)).content.decode()
    assert 'id="excluded-points"' in html and "Outage" in html
    assert '"circle-open"' in html  # drawn hollow
    excluded = shifted.excluded_points.get()
    r = _post(c, "point_include", shifted, {"excluded": str(excluded.pk)},
              django_capture_on_commit_callbacks)
    assert r.status_code == 302 and not shifted.excluded_points.exists()
    assert KpiHealth.objects.get(kpi=shifted).center == pytest.approx(sum(OLD) / len(OLD))
    assert HealthEvent.objects.filter(kpi=shifted, kind="excluded").count() == 2
    # A period with no value cannot be excluded.
    r = _post(c, "point_exclude", shifted, {"period": "2001-01-01", "reason": "x"},
              django_capture_on_commit_callbacks)
    assert r.status_code == 400


def test_limits_lock_by_themselves_then_unlock_and_relock(
        org, leader, as_user, django_capture_on_commit_callbacks):
    from kpis.limit_store import AUTO_LOCK_NOTE

    kpi = KpiFactory(organization=org, decimals=0, baseline_size=6)
    weeks = _weeks(10)
    DataPoint.objects.bulk_create([DataPoint(kpi=kpi, period_start=p, value=v) for p, v in
                                   zip(weeks, [10, 11, 10, 12, 11, 10, 11, 10, 12, 11],
                                       strict=True)])
    c = as_user(leader)
    _post(c, "period_add", kpi, {"start": weeks[2].isoformat(), "reason": "r"},
          django_capture_on_commit_callbacks)
    # The period's baseline (6 of its 8 points) is complete: the evaluation locked it,
    # audited without a person, an event in the KPI's history.
    period = LimitPeriod.objects.get(kpi=kpi)
    assert period.is_locked and period.auto_lock
    assert period.locked_center == pytest.approx(sum([10, 12, 11, 10, 11, 10]) / 6)
    entry = AuditEntry.objects.get(action="limits_locked", object_id=str(period.pk))
    assert entry.actor is None and entry.note == AUTO_LOCK_NOTE
    assert HealthEvent.objects.filter(kpi=kpi, kind="limits_locked",
                                      message__contains="locked by themselves").count() == 1
    html = c.get(url("kpis:detail", pk=kpi.pk)).content.decode()
    assert "limits locked" in html and "Unlock…" in html
    # Locked again by the button once unlocked: refused while locked.
    r = _post(c, "period_lock", kpi, {"period": str(period.pk)}, django_capture_on_commit_callbacks)
    assert r.status_code == 400 and "already locked" in r.content.decode()
    # A corrected value inside the baseline does not move locked limits.
    from kpis import services

    celery_config._state.batch = None
    with django_capture_on_commit_callbacks(execute=True):
        services.kpi_record_value(kpi=kpi, period=weeks[3], value=40, author=leader)
    assert DataPoint.objects.get(kpi=kpi, period_start=weeks[3]).value == 40
    assert KpiHealth.objects.get(kpi=kpi).center == pytest.approx(period.locked_center)
    r = _post(c, "period_unlock", kpi, {"period": str(period.pk), "reason": ""},
              django_capture_on_commit_callbacks)
    assert r.status_code == 400  # a reason is required
    r = _post(c, "period_unlock", kpi, {"period": str(period.pk), "reason": "Corrected data"},
              django_capture_on_commit_callbacks)
    assert r.status_code == 302
    new_centre = sum([10, 40, 11, 10, 11, 10]) / 6
    assert KpiHealth.objects.get(kpi=kpi).center == pytest.approx(new_centre)
    # A person unlocked it: later evaluations leave it unlocked...
    health.evaluate_kpi(kpi)
    period.refresh_from_db()
    assert not period.is_locked and not period.auto_lock
    # ...until the button locks it again, at the recalculated figures.
    r = _post(c, "period_lock", kpi, {"period": str(period.pk)}, django_capture_on_commit_callbacks)
    assert r.status_code == 302
    period.refresh_from_db()
    assert period.locked_center == pytest.approx(new_centre)
    assert list(HealthEvent.objects.filter(kpi=kpi, kind="limits_locked").order_by("id")
                .values_list("new", flat=True)) == ["locked", "unlocked", "locked"]


def test_median_method(shifted, leader, as_user, django_capture_on_commit_callbacks):
    r = _post(as_user(leader), "limit_method", shifted, {"method": "median", "reason": "Spiky"},
              django_capture_on_commit_callbacks)
    assert r.status_code == 302
    shifted.refresh_from_db()
    assert shifted.limit_method == "median"
    mrs = sorted(abs(OLD[i] - OLD[i - 1]) for i in range(1, len(OLD)))
    median = mrs[len(mrs) // 2]
    h = KpiHealth.objects.get(kpi=shifted)
    assert h.upper_range_limit == pytest.approx(3.865 * median)
    r = _post(as_user(leader), "limit_method", shifted, {"method": "mode", "reason": "x"},
              django_capture_on_commit_callbacks)
    assert r.status_code == 400


def test_chart_csv(shifted, viewer, leader, as_user, django_capture_on_commit_callbacks):
    _post(as_user(leader), "period_add", shifted, {"start": shifted.weeks[len(OLD)].isoformat(),
                                                   "reason": "New tool"},
          django_capture_on_commit_callbacks)
    r = as_user(viewer).get(url("kpis:chart_csv", pk=shifted.pk))
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert rows[0][:5] == ["period", "value", "moving_range", "limit_period_start", "centre_line"]
    first, shift = rows[1], rows[1 + len(OLD)]
    assert float(first[4]) == pytest.approx(sum(OLD) / len(OLD))
    assert float(shift[4]) == pytest.approx(sum(NEW) / len(NEW))
    assert shift[3] == shifted.weeks[len(OLD)].isoformat() and shift[-1] == "new tool live"


def test_legend_page(viewer, as_user, org):
    html = as_user(viewer).get(url("kpis:legend")).content.decode()
    assert "Common cause only" in html and "Consistently meets" in html
    assert "natural process limits" in html


def test_verdicts_in_words_on_the_board_and_the_page(shifted, viewer, as_user):
    from kpis import words

    h = KpiHealth.objects.get(kpi=shifted)
    # The shift is against "at most 30": special cause, concerning; the usual range of the
    # first 12 weeks (about 31–39) straddles 30... or lies above it.
    assert words.variation(h) == words.CONCERNING
    assert words.assurance(h) in (words.HIT_AND_MISS, words.FAILS)
    for page in (url("kpis:list"), url("kpis:detail", pk=shifted.pk)):
        html = as_user(viewer).get(page).content.decode()
        assert 'data-variation="concerning"' in html and "Special cause — concerning" in html
        assert "data-assurance=" in html


def test_signal_words():
    from kpis import words

    assert words.signal(rule=2, chart="x", side="above", frequency="weekly", length=8,
                        since=dt.date(2026, 6, 15)) == \
        "8 weeks in a row above the usual level, since 15 Jun 2026"
    assert words.signal(rule=1, chart="x", side="above", frequency="weekly", value=54,
                        unit="min", since=dt.date(2026, 11, 9)) == \
        "One week above the usual range: 54 min (week of 9 Nov 2026)"
    assert words.signal(rule=3, chart="x", side="below", frequency="monthly",
                        since=dt.date(2026, 3, 1)).startswith("3 of 4 months near the bottom")
