"""``emit``: how a service records an event (DESIGN.md, "Events and notifications").

Call it INSIDE the writer's transaction: the outbox row commits or rolls back with the change,
and nothing else happens in the write (no network, no waiting on a broker). After commit the
dispatch task (``activity.tasks.dispatch_event``) is queued with
``config.celery.enqueue_on_commit`` — in-process without REDIS_URL, like the other tasks; a
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


def _queue_dispatch(event: OutboxEvent) -> None:
    from config.celery import app, enqueue_on_commit

    task = app.tasks.get(DISPATCH_TASK)
    if task is None:  # a web process: the apps' task modules are imported on first need
        app.loader.import_default_modules()
        task = app.tasks.get(DISPATCH_TASK)
    if task is None:  # activity's tasks not loaded (a script without the apps): the sweep sends it
        logger.warning("%s is not registered: event %s waits for the sweep", DISPATCH_TASK,
                       event.id)
        return
    enqueue_on_commit(task, str(event.id))
