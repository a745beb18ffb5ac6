"""Celery tasks for KPI health: thin, take ids, re-fetch."""

from __future__ import annotations

from celery import shared_task

from . import health, sweep


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def evaluate_kpi(kpi_id: int) -> int:
    """Re-evaluate one KPI after a change (queued with enqueue_on_commit)."""
    return health.evaluate_kpis([int(kpi_id)]).evaluated


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def evaluate_kpi_list(kpi_ids: list[int]) -> int:
    """Re-evaluate the KPIs one data-source run changed (kpis.recording): one task per run.
    Killed midway, the chunks already committed are not redone (evaluate_pending takes
    what is left)."""
    return health.evaluate_kpis([int(i) for i in kpi_ids]).evaluated


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             max_retries=10)
def evaluate_all(self, resume_only: bool = False) -> int | None:
    """The scheduled sweep (beat, every 15 minutes); resumes a killed run (kpis.sweep).

    Redelivered after its worker was killed, it finds the dead attempt's lease still
    running: it retries once the lease has expired, to resume (never to start a second
    full sweep), instead of leaving the remainder to the next beat tick.
    """
    outcome = health.evaluate_all(resume_only=resume_only)
    if outcome is None and (lock := sweep.unfinished()) is not None and lock.locked_until:
        from django.utils import timezone

        wait = max(1, int((lock.locked_until - timezone.now()).total_seconds()) + 1)
        raise self.retry(countdown=wait, kwargs={"resume_only": True})
    return None if outcome is None else outcome.evaluated


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def evaluate_pending() -> int:
    """Every minute (beat): what a down broker kept from being queued is evaluated once it
    is back, and a killed sweep is resumed. One query when there is nothing to do."""
    done = health.evaluate_kpis(health.pending_ids()).evaluated
    resumed = health.evaluate_all(resume_only=True)
    return done + (resumed.evaluated if resumed else 0)
