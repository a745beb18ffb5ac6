"""The health engine, its tasks and the services that feed it."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from core.versioning import StaleVersion
from kpis import health, services
from kpis.models import DataPoint, DataPointRevision, EvaluationLock, HealthEvent, KpiHealth
from kpis.periods import period_start
from tests.factories import KpiFactory

pytestmark = pytest.mark.django_db


def weeks_back(n):
    last = period_start(timezone.localdate(), "weekly") - dt.timedelta(weeks=1)
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


def add_points(kpi, values):
    DataPoint.objects.bulk_create(
        [DataPoint(kpi=kpi, period_start=p, value=v) for p, v in zip(weeks_back(len(values)), values, strict=True)]
    )


def snapshot_rows():
    return sorted(
        KpiHealth.objects.values_list(
            "kpi_id", "status", "is_stale", "latest_value", "center", "upper_limit", "capability",
            "candidate", "candidate_reason", "has_unfavourable_signal",
        )
    )


@pytest.fixture
def kpis(org):
    reply = KpiFactory(organization=org, name="Reply", target_rule="at_most", target_value=30,
                       decimals=0)
    add_points(reply, [25, 27, 26, 28, 52, 55])  # off target twice → candidate
    nps = KpiFactory(organization=org, name="NPS", target_rule="at_least", target_value=70,
                     unit="pts")
    add_points(nps, [74, 73, 75, 74, 73, 74, 75, 74])  # healthy
    empty = KpiFactory(organization=org, name="Empty")
    return reply, nps, empty


# --- Evaluation ---------------------------------------------------------------------------


def test_evaluate_all_writes_health_and_events(kpis):
    reply, nps, empty = kpis
    outcome = health.evaluate_all()
    assert outcome.evaluated == 3
    reply_h = KpiHealth.objects.get(kpi=reply)
    assert reply_h.status == KpiHealth.Status.OFF_TARGET
    assert reply_h.candidate == KpiHealth.Candidate.CANDIDATE
    assert reply_h.candidate_reason.startswith("Off target for 2 periods: 55 min against at most 30")
    assert reply_h.center is not None and reply_h.points_count == 6
    nps_h = KpiHealth.objects.get(kpi=nps)
    assert nps_h.status == KpiHealth.Status.ON_TARGET
    assert nps_h.candidate == KpiHealth.Candidate.NONE
    assert KpiHealth.objects.get(kpi=empty).status == KpiHealth.Status.NO_DATA
    kinds = sorted(HealthEvent.objects.filter(kpi=reply).values_list("kind", flat=True))
    assert kinds == ["loop", "status"]


def test_running_twice_gives_same_rows_and_no_new_events(kpis):
    health.evaluate_all()
    rows, events = snapshot_rows(), HealthEvent.objects.count()
    outcome = health.evaluate_all()
    assert outcome.events == 0
    assert snapshot_rows() == rows
    assert HealthEvent.objects.count() == events


def test_one_event_per_real_change(kpis, django_capture_on_commit_callbacks):
    reply, nps, _ = kpis
    health.evaluate_all()
    before = HealthEvent.objects.filter(kpi=nps).count()
    with django_capture_on_commit_callbacks(execute=True):
        services.kpi_record_value(kpi=nps, period=weeks_back(1)[0], value=60)
    health.evaluate_all()
    health.evaluate_all()
    new = HealthEvent.objects.filter(kpi=nps).order_by("id")[before:]
    assert [(e.kind, e.old, e.new) for e in new] == [
        ("status", "on_target", "off_target"),
        ("loop", "none", "candidate"),  # 60 is also below the lower limit
    ]


def test_interrupted_run_loses_nothing_and_duplicates_nothing(kpis, monkeypatch):
    # Reference: a clean run on a copy of the same state.
    health.evaluate_all(chunk_size=1)
    reference_rows = snapshot_rows()
    reference_events = sorted(HealthEvent.objects.values_list("kpi_id", "kind", "old", "new"))
    KpiHealth.objects.all().delete()
    HealthEvent.objects.all().delete()

    real = health._evaluate_chunk
    calls = {"n": 0}

    # The worker dies inside the second chunk's transaction, after its writes.
    def dying_inside(ids, today, started):
        calls["n"] += 1
        if calls["n"] == 2:
            from django.db import transaction

            with transaction.atomic():
                real(ids, today, started)
                raise SystemExit("worker lost")
        return real(ids, today, started)

    monkeypatch.setattr(health, "_evaluate_chunk", dying_inside)
    with pytest.raises(SystemExit):
        health.evaluate_all(chunk_size=1)
    assert KpiHealth.objects.count() == 1  # only the first chunk was committed
    monkeypatch.setattr(health, "_evaluate_chunk", real)
    # The lock was released on the way out (a SIGKILL would leave it to expire).
    health.evaluate_all(chunk_size=1)
    assert snapshot_rows() == reference_rows
    assert sorted(HealthEvent.objects.values_list("kpi_id", "kind", "old", "new")) == reference_events


def test_one_sweep_at_a_time(kpis):
    from kpis import sweep

    assert sweep._claim("someone-else", resume_only=False, now=timezone.now())
    assert health.evaluate_all() is None
    assert not KpiHealth.objects.exists()
    # An expired claim (a worker killed without releasing) does not block forever.
    EvaluationLock.objects.filter(name=sweep.LOCK_NAME).update(
        locked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert health.evaluate_all().evaluated == 3
    lock = EvaluationLock.objects.get(name=sweep.LOCK_NAME)
    assert lock.locked_until is None and lock.last_count == 3


def test_a_second_sweep_only_moves_evaluated_at(kpis):
    first = health.evaluate_all()
    assert first.changed == 3
    before = dict(KpiHealth.objects.values_list("kpi_id", "evaluated_at"))
    second = health.evaluate_all()
    assert second.evaluated == 3 and second.changed == 0 and second.events == 0
    after = dict(KpiHealth.objects.values_list("kpi_id", "evaluated_at"))
    assert all(after[k] > before[k] for k in before)


def test_chunks_read_points_in_one_query_each(kpis, django_assert_num_queries):
    ids = [k.pk for k in kpis]
    # savepoint, kpis (for update), health rows, points, limit periods and exclusions (one
    # UNION ALL), linked key results, upsert, events, outbox events (one INSERT for the chunk,
    # issue 18), the organisation's status counts (one aggregate, one upsert: the statuses
    # changed, kpis.status_counts), release savepoint
    with django_assert_num_queries(12):
        health._evaluate_chunk(ids, timezone.localdate(), timezone.now())


def test_stale_kpi(org):
    kpi = KpiFactory(organization=org, frequency="monthly")
    DataPoint.objects.create(kpi=kpi, period_start=dt.date(2020, 1, 1), value=3)
    health.evaluate_kpi(kpi)
    assert KpiHealth.objects.get(kpi=kpi).is_stale
    assert HealthEvent.objects.filter(kpi=kpi, kind="stale", new="stale").exists()


def test_evaluate_kpis_command(kpis):
    out = StringIO()
    call_command("evaluate_kpis", stdout=out)
    assert "Evaluated 3 KPIs" in out.getvalue()
    assert KpiHealth.objects.count() == 3
    out = StringIO()
    call_command("evaluate_kpis", "--org", "acme", stdout=out)
    assert "Evaluated 3 KPIs" in out.getvalue()


def test_tasks_run_eagerly(kpis):
    from kpis import tasks

    assert tasks.evaluate_all.delay().get() == 3  # run in process: the KPIs it evaluated
    assert KpiHealth.objects.count() == 3
    assert tasks.evaluate_kpi.acks_late and tasks.evaluate_kpi.reject_on_worker_lost
    assert tasks.evaluate_all.acks_late and tasks.evaluate_all.reject_on_worker_lost


# --- Recording values ---------------------------------------------------------------------


def _queued(callbacks) -> list:
    """The after-commit callbacks that queue a task (others emit events)."""
    # A callback is a function (enqueue_on_commit's) or a callable object (core.events'
    # outbox batch): the latter is named by its class.
    return [c for c in callbacks
            if "enqueue_on_commit" in getattr(c, "__qualname__", type(c).__qualname__)]


def test_record_value_normalises_period_and_evaluates(org, admin_user,
                                                      django_capture_on_commit_callbacks):
    kpi = KpiFactory(organization=org, frequency="monthly")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        out = services.kpi_record_value(kpi=kpi, period="2026-03-17", value="12.5",
                                        author=admin_user, today=dt.date(2026, 4, 2))
    assert len(_queued(callbacks)) == 1  # the evaluation is queued after commit
    assert out.created and out.point.period_start == dt.date(2026, 3, 1)
    assert out.point.value == 12.5
    h = KpiHealth.objects.get(kpi=kpi)
    assert h.latest_value == 12.5
    kpi.refresh_from_db()
    assert not health.is_pending(kpi, h)


def test_replacing_a_value_keeps_the_old_one_in_history(org, admin_user, member):
    kpi = KpiFactory(organization=org)
    monday = weeks_back(1)[0]
    services.kpi_record_value(kpi=kpi, period=monday, value=20, author=admin_user)
    out = services.kpi_record_value(kpi=kpi, period=monday + dt.timedelta(days=2), value=24,
                                    note="recount", author=member)
    assert not out.created and out.replaced == 20
    assert DataPoint.objects.filter(kpi=kpi).count() == 1
    rev = DataPointRevision.objects.get(point__kpi=kpi)
    assert (rev.old_value, rev.new_value, rev.changed_by) == (20, 24, member)


@pytest.mark.parametrize(
    ("value", "period", "field"),
    [
        ("abc", "2026-03-02", "value"),
        ("nan", "2026-03-02", "value"),
        ("inf", "2026-03-02", "value"),
        ("-Infinity", "2026-03-02", "value"),
        ("1e300", "2026-03-02", "value"),
        ("", "2026-03-02", "value"),
        ("5", "not a date", "period"),
        ("5", "2026-02-30", "period"),
        ("5", "0026-03-02", "period"),
        ("5", "2026-06-01", "period"),  # more than one period in the future
    ],
)
def test_bad_values_are_refused_and_nothing_is_lost(org, value, period, field):
    kpi = KpiFactory(organization=org, frequency="weekly")
    services.kpi_record_value(kpi=kpi, period="2026-03-02", value=7, today=dt.date(2026, 3, 20))
    with pytest.raises(ValidationError) as exc:
        services.kpi_record_value(kpi=kpi, period=period, value=value, today=dt.date(2026, 3, 20))
    assert field in exc.value.message_dict
    assert list(DataPoint.objects.filter(kpi=kpi).values_list("value", flat=True)) == [7]
    assert not DataPointRevision.objects.exists()


def test_next_period_is_allowed(org):
    kpi = KpiFactory(organization=org, frequency="monthly")
    out = services.kpi_record_value(kpi=kpi, period="2026-04-01", value=1, today=dt.date(2026, 3, 20))
    assert out.created


def test_recording_succeeds_when_the_broker_is_down(org, monkeypatch,
                                                    django_capture_on_commit_callbacks):
    from kpis import tasks

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.evaluate_kpi, "apply_async", down)
    kpi = KpiFactory(organization=org)
    health.evaluate_kpi(kpi)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        out = services.kpi_record_value(kpi=kpi, period=weeks_back(1)[0], value=50)
    assert len(_queued(callbacks)) == 1  # it ran, and the broker error was swallowed
    assert out.point.pk and DataPoint.objects.filter(kpi=kpi).count() == 1
    kpi.refresh_from_db()
    h = KpiHealth.objects.get(kpi=kpi)
    assert h.latest_value is None  # not evaluated yet…
    assert health.is_pending(kpi, h)  # …and the page says so
    health.evaluate_all()  # the scheduled sweep catches up
    h.refresh_from_db()
    assert h.latest_value == 50 and not health.is_pending(kpi, h)


# --- Targets, rebase, dismiss ---------------------------------------------------------------


def test_change_target_keeps_history_and_needs_a_reason(org, admin_user):
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30)
    with pytest.raises(ValidationError) as exc:
        services.kpi_change_target(kpi=kpi, actor=admin_user, version=kpi.version,
                                   target_rule="at_most", target_value=25, reason="")
    assert "reason" in exc.value.message_dict
    services.kpi_change_target(kpi=kpi, actor=admin_user, version=kpi.version,
                               target_rule="between", target_value=10, target_upper=25,
                               reason="New SLA")
    kpi.refresh_from_db()
    assert (kpi.target_rule, kpi.target_value, kpi.target_upper) == ("between", 10, 25)
    change = kpi.target_changes.get()
    assert (change.old_rule, change.old_value, change.new_rule, change.reason) == (
        "at_most", 30, "between", "New SLA")
    assert change.changed_by == admin_user
    assert HealthEvent.objects.filter(kpi=kpi, kind="target").exists()


def test_between_with_low_above_high_is_refused(org, admin_user):
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30)
    with pytest.raises(ValidationError) as exc:
        services.kpi_change_target(kpi=kpi, actor=admin_user, version=kpi.version,
                                   target_rule="between", target_value=25, target_upper=10,
                                   reason="oops")
    assert "target_upper" in exc.value.message_dict
    kpi.refresh_from_db()
    assert (kpi.target_rule, kpi.target_value) == ("at_most", 30)
    assert not kpi.target_changes.exists()


def test_stale_version_is_refused(org, admin_user):
    kpi = KpiFactory(organization=org)
    services.kpi_change_target(kpi=kpi, actor=admin_user, version=kpi.version,
                               target_rule="at_most", target_value=20, reason="r1")
    with pytest.raises(StaleVersion):
        services.kpi_change_target(kpi=kpi, actor=admin_user, version=1, target_rule="at_most",
                                   target_value=10, reason="r2")


def test_rebase_moves_the_limits(org, admin_user, django_capture_on_commit_callbacks):
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30)
    add_points(kpi, [50, 52, 51, 53, 50, 52, 20, 21, 20, 22, 21, 20])
    health.evaluate_kpi(kpi)
    before = KpiHealth.objects.get(kpi=kpi).center
    with django_capture_on_commit_callbacks(execute=True):
        services.kpi_rebase(kpi=kpi, actor=admin_user, version=kpi.version,
                            rebase_date=weeks_back(6)[0], note="new tool")
    after = KpiHealth.objects.get(kpi=kpi).center
    assert before > 30 and after == pytest.approx(124 / 6)
    assert HealthEvent.objects.filter(kpi=kpi, kind="rebase").exists()


def test_dismiss_needs_a_note_and_lasts_until_worse(org, leader,
                                                   django_capture_on_commit_callbacks):
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30)
    add_points(kpi, [25, 27, 26, 28, 52, 55])
    health.evaluate_kpi(kpi)
    with pytest.raises(ValidationError):
        services.candidate_dismiss(kpi=kpi, actor=leader, note=" ")
    services.candidate_dismiss(kpi=kpi, actor=leader, note="Seasonal peak")
    with django_capture_on_commit_callbacks(execute=True):
        services.kpi_record_value(kpi=kpi, period=period_start(timezone.localdate(), "weekly"),
                                  value=56)
    h = KpiHealth.objects.get(kpi=kpi)
    assert h.candidate == KpiHealth.Candidate.DISMISSED  # still only off target
    assert h.dismissed_note == "Seasonal peak"
