"""``emit``: how a service records an event (DESIGN.md, "Events and notifications").

Call it INSIDE the writer's transaction: the outbox row commits or rolls back with the change,
and nothing else happens in the write (no network, no waiting on a broker). After commit the
dispatch task (``activity.tasks.dispatch_event``) is queued (``send_after_commit``, with
config.celery's sender) — in-process without REDIS_URL, like the other tasks; a
broker that is down only delays it: ``activity.tasks.sweep_outbox`` (every minute, beat)
dispatches whatever is still undispatched.

Kinds sent to outgoing webhooks are ``PUBLIC_KINDS``; any other kind (``comment.created``,
``comment.mentioned``, ``webhook.disabled``, …) is internal: delivered to in-process consumers
(``activity.registry.consumer``) and chat connections that chose it, never to webhooks.
"""

from __future__ import annotations

import logging

from core.models import OutboxEvent

logger = logging.getLogger(__name__)

DISPATCH_TASK = "activity.tasks.dispatch_event"

# The events an outgoing webhook can subscribe to (documented in the OpenAPI `webhooks`).
PUBLIC_KINDS: dict[str, str] = {
    "checkin.created": "A check-in was recorded on a key result.",
    "kpi.point_recorded": "A data point was recorded on a KPI.",
    "kpi.health_changed": "A KPI's health changed (on target, off target, signal).",
    "kpi.candidate_flagged": "A KPI was flagged as an improvement candidate.",
    "objective.created": "An objective was created.",
    "objective.updated": "An objective was changed.",
    "objective.closed": "An objective was closed.",
    "cycle.closed": "A cycle (quarter or year) was closed.",
}


def emit(organization_id: int, kind: str, data: dict) -> OutboxEvent:
    """Write one event to the outbox and dispatch it once the transaction commits."""
    event = OutboxEvent.objects.create(organization_id=organization_id, kind=kind,
                                       data=data or {})
    _queue_dispatch(event)
    return event


def emit_many(events: list[tuple[int, str, dict]]) -> list[OutboxEvent]:
    """``emit`` for many events in one INSERT (the health sweep writes a chunk's at once)."""
    rows = OutboxEvent.objects.bulk_create(
        [OutboxEvent(organization_id=org_id, kind=kind, data=data or {})
         for org_id, kind, data in events])
    if rows:
        send_after_commit(DISPATCH_TASK, [(str(event.id),) for event in rows])
    return rows


def _queue_dispatch(event: OutboxEvent) -> None:
    send_after_commit(DISPATCH_TASK, [(str(event.id),)])


def _task(name: str):
    from config.celery import app

    task = app.tasks.get(name)
    if task is None:  # a web process: the apps' task modules are imported on first need
        app.loader.import_default_modules()
        task = app.tasks.get(name)
    return task


def send_after_commit(task_name: str, arg_lists: list[tuple]) -> None:
    """Queue ``task_name`` once per argument tuple after the current transaction commits (now
    when there is none), with config.celery's sender: a broker that is down is logged and
    skipped, never waited on (the sweep catches up). Its own callback, not
    ``enqueue_on_commit``'s per-transaction batch, so an outbox event never joins a batch
    that another, still open, transaction owns."""
    from django.db import transaction

    from config.celery import _send

    task = _task(task_name)
    if task is None:  # activity's tasks not loaded (a script without the apps): the sweep sends it
        logger.warning("%s is not registered: the sweep will send it", task_name)
        return
    batch = {(task, tuple(args), ()): {} for args in arg_lists}
    transaction.on_commit(lambda: _send(batch))
