"""One dispatch message per transaction (core.events, activity.tasks.dispatch_events): a
36-row "check in all" or a 36-event emit_many queues ONE task, not 36 — the events still
commit with the write, are sent after the commit only, and a broker that is down loses
nothing (the sweep dispatches them). The one-id ``dispatch_event`` still works for messages
queued before the batch task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from activity import dispatch, tasks
from core import events as core_events
from core.events import emit, emit_many
from core.models import OutboxEvent
from okrs.checkins.services import RowInput, checkin_many
from tests.factories import (
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Every message queued, per task name: [(task name, args)]; the task still runs."""
    log: list[tuple[str, tuple]] = []
    for task in (tasks.dispatch_events, tasks.dispatch_event):
        original = task.apply_async

        def spy(args=None, kwargs=None, _original=original, _name=task.name, **options):
            log.append((_name, tuple(args or ())))
            return _original(args=args, kwargs=kwargs, **options)

        monkeypatch.setattr(task, "apply_async", spy)
    return log


def _events(org, n, kind="test.batch"):
    return [(org.id, kind, {"n": i}) for i in range(n)]


def test_emit_many_of_36_queues_one_task_after_commit(sent, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        rows = emit_many(_events(org, 36))
        assert sent == []  # nothing is queued inside the write
    assert len(sent) == 1
    name, (ids,) = sent[0]
    assert name == "activity.tasks.dispatch_events"
    assert sorted(ids) == sorted(str(r.id) for r in rows)
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0


def test_all_emits_of_one_transaction_share_one_task(sent, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for i in range(5):
            emit(org.id, "test.batch", {"i": i})
        emit_many(_events(org, 10))
        with transaction.atomic():  # a savepoint that is kept
            emit_many(_events(org, 3))
    assert [len(args[0]) for _name, args in sent] == [18]
    # A second transaction in the same test starts its own message.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        emit(org.id, "test.batch", {})
    assert [len(args[0]) for _name, args in sent] == [18, 1]


def test_large_batches_are_split(sent, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        emit_many(_events(org, 2 * core_events.BATCH_MAX + 50))
    assert [len(args[0]) for _name, args in sent] == [core_events.BATCH_MAX,
                                                      core_events.BATCH_MAX, 50]


def test_a_rolled_back_savepoint_loses_no_other_event(sent, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        try:
            with transaction.atomic():  # the batch starts here, then is rolled back
                emit(org.id, "test.batch", {"gone": 1})
                raise RuntimeError
        except RuntimeError:
            pass
        kept = emit(org.id, "test.batch", {"kept": 1})
        try:
            with transaction.atomic():  # joins the batch, rolled back: simply not found
                emit(org.id, "test.batch", {"gone": 2})
                raise RuntimeError
        except RuntimeError:
            pass
    assert len(sent) == 1 and str(kept.id) in sent[0][1][0]
    assert list(OutboxEvent.objects.values_list("id", flat=True)) == [kept.id]
    kept.refresh_from_db()
    assert kept.dispatched_at is not None


def test_nothing_on_rollback(sent, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        emit_many(_events(org, 4))
        raise RuntimeError
    assert sent == [] and not OutboxEvent.objects.exists()


def test_broker_down_loses_nothing(monkeypatch, django_capture_on_commit_callbacks):
    """The one message cannot be queued: the write succeeds, the events wait, the sweep
    dispatches every one of them."""
    org = OrganizationFactory()

    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(tasks.dispatch_events, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        emit_many(_events(org, 36))
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 36
    later = timezone.now() + dt.timedelta(seconds=dispatch.SWEEP_GRACE_SECONDS + 1)
    assert dispatch.sweep(now=later)["dispatched"] == 36
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0


def test_one_failing_event_does_not_stop_the_batch(monkeypatch):
    org = OrganizationFactory()
    rows = emit_many(_events(org, 3))
    real = dispatch.dispatch

    def flaky(event_id):
        if str(event_id) == str(rows[1].id):
            raise RuntimeError("boom")
        return real(event_id)

    monkeypatch.setattr(dispatch, "dispatch", flaky)
    tasks.dispatch_events([str(r.id) for r in rows])
    assert [OutboxEvent.objects.get(pk=r.pk).dispatched_at is not None for r in rows] == [
        True, False, True]  # the middle one is left for the sweep


def test_old_single_event_messages_still_dispatch():
    org = OrganizationFactory()
    event = emit(org.id, "test.batch", {})
    tasks.dispatch_event(str(event.id))
    event.refresh_from_db()
    assert event.dispatched_at is not None


def test_check_in_all_of_36_rows_queues_one_dispatch(sent, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    user = UserFactory()
    MembershipFactory(organization=org, user=user)
    objective = ObjectiveFactory(organization=org)
    krs = [KeyResultFactory(objective=objective, owner=user, current_value=10)
           for _ in range(36)]
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = checkin_many(
            [RowInput(key_result=kr, status="on_track", value=20 + i, seen=0)
             for i, kr in enumerate(krs)], user)
    assert all(o.saved for o in outcomes)
    assert [(name, len(args[0])) for name, args in sent] == [
        ("activity.tasks.dispatch_events", 36)]
    assert OutboxEvent.objects.filter(kind="checkin.created",
                                      dispatched_at__isnull=False).count() == 36
