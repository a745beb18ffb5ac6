"""The scheduled health sweep, one run at a time, resumable after a kill.

A run claims the one ``EvaluationLock`` row with a short lease (``LEASE``) and renews it in
the transaction of every chunk, together with the ``cursor``: the last KPI id whose chunk is
committed. A run killed half-way (SIGKILL of the worker, a lost machine) leaves the cursor
at its last committed chunk; the interrupted chunk is rolled back by the database. Once the
lease has expired, the next run — the redelivered task, a retry, or the minutely
``evaluate_pending`` — takes the claim over and *resumes* after the cursor with the same
``run_started``: every KPI of the sweep is evaluated once.

Each attempt has its own owner id, so a task redelivered while the first attempt still
runs (a visibility timeout shorter than a sweep) finds the lease held and stops.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import EvaluationLock, Kpi

logger = logging.getLogger(__name__)

LOCK_NAME = "evaluate_all"
LEASE = dt.timedelta(seconds=30)  # renewed by every chunk; a chunk takes far less


class LeaseLost(Exception):
    """Another run took the claim over (this one was too slow): stop, roll the chunk back."""


def _claim(owner: str, *, resume_only: bool, now: dt.datetime) -> EvaluationLock | None:
    with transaction.atomic():
        EvaluationLock.objects.get_or_create(name=LOCK_NAME)
        lock = EvaluationLock.objects.select_for_update().get(name=LOCK_NAME)
        if lock.locked_until is not None and lock.locked_until >= now and lock.owner != owner:
            return None  # a live run holds it
        if lock.run_started is None:
            if resume_only:
                return None
            lock.run_started, lock.cursor, lock.run_count = now, 0, 0
        else:
            logger.warning("evaluate_all: resuming the run of %s after KPI %s",
                           lock.run_started.isoformat(), lock.cursor)
        lock.owner, lock.locked_until = owner, now + LEASE
        lock.save()
        return lock


def unfinished() -> EvaluationLock | None:
    """The lock row of a run that started and has not finished (live or dead)."""
    return EvaluationLock.objects.filter(name=LOCK_NAME, run_started__isnull=False).first()


def run(*, resume_only: bool = False, today: dt.date | None = None, chunk_size: int,
        owner: str | None = None):
    """Run (or resume) the sweep; None when another live run holds it, or when
    ``resume_only`` and nothing is unfinished. Returns this attempt's ChunkOutcome."""
    owner = owner or uuid.uuid4().hex
    lock = _claim(owner, resume_only=resume_only, now=timezone.now())
    if lock is None:
        return None
    today = today or timezone.localdate()
    cursor = lock.cursor
    try:
        total = _chunks(owner, cursor, today, chunk_size)
    except BaseException:
        # An error (not a kill): give the lease up at once, keeping the cursor, so the
        # next run resumes now rather than when the lease would have expired.
        EvaluationLock.objects.filter(name=LOCK_NAME, owner=owner).update(locked_until=None)
        raise
    lock.refresh_from_db()
    EvaluationLock.objects.filter(name=LOCK_NAME, owner=owner).update(
        owner="", locked_until=None, run_started=None, cursor=0, finished_at=timezone.now(),
        last_count=lock.run_count)
    return total


def _chunks(owner: str, cursor: int, today: dt.date, chunk_size: int):
    from .health import ChunkOutcome, _evaluate_chunk

    total = ChunkOutcome()
    qs = Kpi.objects.filter(active=True).order_by("pk")
    while True:
        ids = list(qs.filter(pk__gt=cursor).values_list("pk", flat=True)[:chunk_size])
        if not ids:
            break
        with transaction.atomic():
            # Renewing first locks the lock row until this chunk commits: a successor's
            # claim waits for it, then sees the renewed lease.
            if not EvaluationLock.objects.filter(name=LOCK_NAME, owner=owner).update(
                    cursor=ids[-1], locked_until=timezone.now() + LEASE):
                raise LeaseLost(owner)
            part = _evaluate_chunk(ids, today, timezone.now())
            EvaluationLock.objects.filter(name=LOCK_NAME, owner=owner).update(
                run_count=F("run_count") + part.evaluated)
        total.add(part)
        cursor = ids[-1]
    return total
