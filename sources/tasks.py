"""Celery tasks for data sources: thin, take ids, re-fetch."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_source(source_id: int, trigger: str = "schedule") -> int | None:
    run = services.source_run(source_id=int(source_id), trigger=str(trigger))
    return None if run is None else run.pk


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_due_sources() -> int:
    """Beat, every minute: run every source whose time has come (each claims itself, so
    a beat firing twice or a slow run never runs a source twice at once)."""
    ids = services.due_source_ids()
    for source_id in ids:
        services.source_run(source_id=source_id, trigger="schedule")
    return len(ids)
