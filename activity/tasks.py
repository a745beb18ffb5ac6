"""Celery tasks of activity's outgoing half: thin wrappers that take ids and call
activity.dispatch. Beat runs ``sweep_outbox`` every minute (config/settings.py)."""

from __future__ import annotations

from celery import shared_task

from activity import dispatch


@shared_task(name="activity.tasks.dispatch_event", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def dispatch_event(event_id: str) -> int:
    """Fan one outbox event out into its deliveries and queue them. Returns how many. (Kept
    for messages queued before ``dispatch_events``; core.events now queues that one.)"""
    return len(dispatch.dispatch(event_id))


@shared_task(name="activity.tasks.dispatch_events", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def dispatch_events(event_ids: list[str]) -> int:
    """``dispatch_event`` for the events one transaction emitted (core.events queues one such
    message per transaction). Each event in its own transaction; one that fails is logged and
    left undispatched for the sweep, the others still go. A redelivered message (worker
    killed) dispatches nothing twice: ``dispatch`` is idempotent. Returns how many deliveries."""
    import logging

    queued = 0
    for event_id in event_ids:
        try:
            queued += len(dispatch.dispatch(event_id))
        except Exception:
            logging.getLogger(__name__).exception("Dispatch of event %s failed", event_id)
    return queued


@shared_task(name="activity.tasks.deliver", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def deliver(delivery_id: int) -> str:
    """One try of one delivery (a no-op when it is sent, not due, or another worker holds it)."""
    return dispatch.deliver(delivery_id)


@shared_task(name="activity.tasks.post_chat_digests", ignore_result=True)
def post_chat_digests() -> int:
    """Beat, every 15 minutes: the weekly digest, and each team's weekly check-in summary, for
    the Slack/Teams connections that chose them, once per organisation (team) and week at the
    organisation's digest hour. Returns how many events were written."""
    import logging

    from activity import chat
    from activity.models import ChatConnection

    posted = 0
    for org_id in sorted(set(ChatConnection.objects.filter(enabled=True)
                             .values_list("organization_id", flat=True))):
        try:
            posted += chat.chat_digest_emit(organization_id=org_id)
        except Exception:  # one organisation's trouble must not stop the others
            logging.getLogger(__name__).exception("Chat digest failed for organisation %s",
                                                  org_id)
        try:  # the teams' weekly check-in summaries, at the same moment
            posted += chat.chat_summaries_emit(organization_id=org_id)
        except Exception:
            logging.getLogger(__name__).exception(
                "Check-in summaries failed for organisation %s", org_id)
    return posted


@shared_task(name="activity.tasks.sweep_outbox", ignore_result=True)
def sweep_outbox() -> dict:
    """Dispatch events the on-commit dispatch missed (broker down, worker killed) and queue
    deliveries that are due: retries, and sends whose worker died mid-delivery."""
    return dispatch.sweep()


@shared_task(name="activity.tasks.prune_outbox", ignore_result=True)
def prune_outbox() -> dict:
    """Beat, daily: delete delivered outbox events and old delivery-log rows after the
    retention period, keeping the last N deliveries of each subscription (activity.prune)."""
    from activity import prune

    return prune.prune()
