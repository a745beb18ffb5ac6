"""The Celery app, and the one helper every service uses to queue work after commit."""

from __future__ import annotations

import logging
import os
import threading
import time

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("headway")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

# After a failed publish the broker is taken as down for this long: the writes in between
# queue nothing (their KPIs stay "pending", and kpis.tasks.evaluate_pending, every minute,
# evaluates them once the broker is back) instead of each waiting for a connect timeout.
BROKER_DOWN_FOR = 20.0
_state = threading.local()
_down_until = 0.0


def broker_down() -> bool:
    return time.monotonic() < _down_until


def mark_broker(up: bool) -> None:
    global _down_until
    _down_until = 0.0 if up else time.monotonic() + BROKER_DOWN_FOR


def _send(batch: dict) -> None:
    """Send what the committed transaction queued: each distinct (task, args) once; on the
    first failure stop (the broker is down: the rest would wait for it too). In-process
    (eager) tasks have no broker: a failure is logged and the others still run."""
    eager = app.conf.task_always_eager
    if not eager and broker_down():
        logger.warning("Broker down: %d task(s) not queued; the minutely catch-up will run them",
                       len(batch))
        return
    for (task, args, _names), kwargs in batch.items():
        try:
            task.apply_async(args=args, kwargs=kwargs, retry=False,
                             queue=app.conf.task_default_queue)
        except Exception:  # broker unreachable: never fail (or slow) the user's write
            logger.warning("Could not queue %s%s; the scheduled run will catch up",
                           task.name, args, exc_info=True)
            if not eager:
                mark_broker(up=False)
                return
    if not eager:
        mark_broker(up=True)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue `task` once the current transaction commits.

    Within one transaction the same task with the same arguments is queued once, and all
    of them are sent by one callback after commit. If the broker is down, the write that
    triggered it still succeeds without waiting on it: the failure is logged, further
    sends are skipped for BROKER_DOWN_FOR seconds, and the catch-up task evaluates what is
    pending (kpis.tasks.evaluate_pending) once the broker is back.
    """
    from django.db import DEFAULT_DB_ALIAS, connections, transaction

    connection = connections[DEFAULT_DB_ALIAS]
    key = (task, args, tuple(sorted(kwargs)))
    if not connection.in_atomic_block:
        transaction.on_commit(lambda: _send({key: kwargs}))  # runs now
        return
    # One batch per transaction: found through its callback, which is still registered
    # while the transaction is open (a rolled-back one dropped it, and its batch with it).
    current = getattr(_state, "batch", None)
    if (current is None or current[0].get("sent")
            or not any(entry[1] is current[1] for entry in connection.run_on_commit)):
        batch: dict = {}

        def send() -> None:
            tasks = dict(batch)
            batch["sent"] = True  # a later transaction starts a batch of its own
            _send(tasks)

        current = _state.batch = (batch, send)
        transaction.on_commit(send)
    current[0].setdefault(key, kwargs)
