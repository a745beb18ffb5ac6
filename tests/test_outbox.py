"""The event outbox (core.models.OutboxEvent, core.events.emit) and its dispatcher
(activity.dispatch): the row commits or rolls back with the write, each consumer runs once per
event, a failing consumer is retried with backoff, the sweep catches what was missed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from activity import dispatch, registry
from activity.models import Delivery
from core.events import emit
from core.models import OutboxEvent
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

seen: list[str] = []
failures = {"left": 0}


@registry.consumer("test.kind")
def _record(event):
    if failures["left"]:
        failures["left"] -= 1
        raise RuntimeError("consumer down")
    seen.append(str(event.id))


@pytest.fixture(autouse=True)
def _reset():
    seen.clear()
    failures["left"] = 0


def test_emit_rolls_back_with_the_write():
    org = OrganizationFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(org.id, "test.kind", {"x": 1})
        raise RuntimeError("the write failed")
    assert not OutboxEvent.objects.exists()


def test_emit_dispatches_after_commit_once(django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = emit(org.id, "test.kind", {"x": 1})
        assert seen == []  # nothing runs inside the write
    assert seen == [str(event.id)]
    event.refresh_from_db()
    assert event.dispatched_at is not None
    delivery = Delivery.objects.get(event=event)
    assert delivery.destination == "handler:tests.test_outbox._record"
    assert delivery.status == Delivery.SENT and delivery.attempts == 1
    # Dispatching again (a redelivered task, the sweep) adds nothing and runs nothing.
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.dispatch(event.id)
        dispatch.deliver(delivery.id)
    assert seen == [str(event.id)]
    assert Delivery.objects.filter(event=event).count() == 1


def test_a_failing_consumer_is_retried_with_backoff(django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    failures["left"] = 2
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(org.id, "test.kind", {})
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == Delivery.PENDING and delivery.attempts == 1
    assert "consumer down" in delivery.last_error
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 25 < wait <= 30
    # Not due yet: the sweep leaves it; a direct try is refused.
    assert dispatch.deliver(delivery.id) == "not due"
    later = timezone.now() + dt.timedelta(seconds=31)
    with django_capture_on_commit_callbacks(execute=True):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        dispatch.sweep(now=later)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.status == Delivery.PENDING
    assert 110 < (delivery.next_attempt_at - timezone.now()).total_seconds() <= 120
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.sweep()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.SENT and delivery.attempts == 3
    assert seen == [str(event.id)]
    assert [t.ok for t in delivery.tries.order_by("number")] == [False, False, True]


def test_the_retry_schedule_is_six_tries_over_about_an_hour():
    delays = dispatch.RETRY_DELAYS
    assert dispatch.max_tries() == len(delays) + 1 >= 6
    assert 55 * 60 <= sum(delays) <= 75 * 60


def test_the_sweep_dispatches_what_the_commit_missed(django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    # Written without its on-commit dispatch (the broker was down at commit).
    event = OutboxEvent.objects.create(organization_id=org.id, kind="test.kind", data={},
                                       created_at=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        counts = dispatch.sweep()
    assert counts["dispatched"] == 1
    assert seen == [str(event.id)]


def test_a_delivery_whose_worker_died_is_resumed_after_its_lease(
        django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    event = OutboxEvent.objects.create(organization_id=org.id, kind="test.kind", data={},
                                       dispatched_at=timezone.now())
    delivery = Delivery.objects.create(event=event, organization_id=org.id,
                                       destination="handler:tests.test_outbox._record")
    # A worker claimed it and died before recording the outcome.
    claimed, attempt, state = dispatch._claim(delivery.id, timezone.now())
    assert state == "claimed"
    assert dispatch.deliver(delivery.id) == "held by another worker"
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.sweep()["resumed"] == 0
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.sweep()["resumed"] == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.SENT and delivery.attempts == 2
    tries = list(delivery.tries.order_by("number"))
    assert "worker stopped" in tries[0].error and tries[1].ok
    assert seen == [str(event.id)]


def test_internal_kinds_reach_consumers_only(django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(org.id, "comment.mentioned", {"comment_id": 1})
    assert not Delivery.objects.filter(event=event, destination__startswith="webhook:").exists()
