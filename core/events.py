"""``emit``: how a service records an event (DESIGN.md, "Events and notifications").

Call it INSIDE the writer's transaction: the outbox row commits or rolls back with the change,
and nothing else happens in the write (no network, no waiting on a broker). After commit ONE
dispatch task (``activity.tasks.dispatch_events``, the ids of every event the transaction
emitted, at most ``BATCH_MAX`` per message) is queued with config.celery's sender — a 36-row
"check in all" is one broker message, not 36 — in-process without REDIS_URL, like the other
tasks; a broker that is down only delays it: ``activity.tasks.sweep_outbox`` (every minute,
beat) dispatches whatever is still undispatched. (``activity.tasks.dispatch_event``, one id,
stays for messages queued before the batch task existed.)

Kinds sent to outgoing webhooks are ``PUBLIC_KINDS``; any other kind (``comment.created``,
``comment.mentioned``, ``webhook.disabled``, …) is internal: delivered to in-process consumers
(``activity.registry.consumer``) and chat connections that chose it, never to webhooks.
"""

from __future__ import annotations

import logging

from core.models import OutboxEvent

logger = logging.getLogger(__name__)

DISPATCH_TASK = "activity.tasks.dispatch_events"  # a list of event ids
BATCH_MAX = 200  # ids per message (a health sweep's chunk may emit more)

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
    _queue_dispatch([event.id])
    return event


def emit_many(events: list[tuple[int, str, dict]]) -> list[OutboxEvent]:
    """``emit`` for many events in one INSERT (the health sweep writes a chunk's at once)."""
    rows = OutboxEvent.objects.bulk_create(
        [OutboxEvent(organization_id=org_id, kind=kind, data=data or {})
         for org_id, kind, data in events])
    if rows:
        _queue_dispatch([event.id for event in rows])
    return rows


def _chunks(ids: list) -> list[tuple]:
    ids = [str(i) for i in ids]
    return [(ids[i:i + BATCH_MAX],) for i in range(0, len(ids), BATCH_MAX)]


class _Batch:
    """The events one transaction emitted, dispatched by one task after its commit."""

    def __init__(self, ids: list) -> None:
        self.ids = list(ids)
        self.sent = False

    def __call__(self) -> None:  # the on_commit callback
        self.sent = True  # (tests' captured callbacks stay in run_on_commit after running)
        _send_now(DISPATCH_TASK, _chunks(self.ids))


def _queue_dispatch(ids: list) -> None:
    """Add ``ids`` to the current transaction's batch (one on_commit callback per
    transaction, kept on the connection, i.e. per thread). The batch is joined only while its
    callback is still registered on this connection: a rolled-back savepoint that dropped it,
    a new transaction, or a callback already running all start a new batch, so an event never
    joins a batch that will not be sent. (An event of a savepoint rolled back after it joined
    is simply not found by the dispatcher.) Outside a transaction: sent now."""
    from django.db import connection, transaction

    if not connection.in_atomic_block:
        send_after_commit(DISPATCH_TASK, _chunks(ids))
        return
    batch = getattr(connection, "_headway_outbox_batch", None)
    if batch is not None and not batch.sent and any(func is batch for _sids, func, _robust
                                 in connection.run_on_commit):
        batch.ids.extend(ids)
        return
    batch = _Batch(ids)
    connection._headway_outbox_batch = batch
    transaction.on_commit(batch)


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

    transaction.on_commit(lambda: _send_now(task_name, arg_lists))


def _send_now(task_name: str, arg_lists: list[tuple]) -> None:
    from config.celery import _send

    task = _task(task_name)
    if task is None:  # activity's tasks not loaded (a script without the apps): the sweep sends it
        logger.warning("%s is not registered: the sweep will send it", task_name)
        return
    _send({(task, _hashable(args), ()): {} for args in arg_lists})


def _hashable(args: tuple) -> tuple:
    return tuple(tuple(a) if isinstance(a, list) else a for a in args)
