"""Celery tasks of activity's outgoing half: thin wrappers that take ids and call
activity.dispatch. Beat runs ``sweep_outbox`` every minute (config/settings.py)."""

from __future__ import annotations

from celery import shared_task

from activity import dispatch


@shared_task(name="activity.tasks.dispatch_event", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def dispatch_event(event_id: str) -> int:
    """Fan one outbox event out into its deliveries and queue them. Returns how many."""
    return len(dispatch.dispatch(event_id))


@shared_task(name="activity.tasks.deliver", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def deliver(delivery_id: int) -> str:
    """One try of one delivery (a no-op when it is sent, not due, or another worker holds it)."""
    return dispatch.deliver(delivery_id)


@shared_task(name="activity.tasks.sweep_outbox", ignore_result=True)
def sweep_outbox() -> dict:
    """Dispatch events the on-commit dispatch missed (broker down, worker killed) and queue
    deliveries that are due: retries, and sends whose worker died mid-delivery."""
    return dispatch.sweep()
