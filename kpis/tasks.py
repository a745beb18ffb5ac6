"""Celery tasks for KPI health: thin, take ids, re-fetch."""

from __future__ import annotations

from celery import shared_task

from . import health


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def evaluate_kpi(kpi_id: int) -> int:
    """Re-evaluate one KPI after a change (queued with enqueue_on_commit)."""
    return health.evaluate_kpis([int(kpi_id)]).evaluated


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def evaluate_all() -> int | None:
    """The scheduled sweep (beat, every 15 minutes). One run at a time (database claim)."""
    outcome = health.evaluate_all()
    return None if outcome is None else outcome.evaluated
