"""The Celery app, and the one helper every service uses to queue work after commit."""

from __future__ import annotations

import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("headway")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue `task` once the current transaction commits.

    If the broker is down, the write that triggered it still succeeds: the failure is
    logged and the scheduled sweep (beat) catches up later.
    """
    from django.db import transaction

    def send() -> None:
        try:
            task.apply_async(args=args, kwargs=kwargs, retry=False,
                             queue=app.conf.task_default_queue)
        except Exception:  # broker unreachable: never fail the user's write
            logger.warning("Could not queue %s%s; the scheduled run will catch up",
                           task.name, args, exc_info=True)

    transaction.on_commit(send)
