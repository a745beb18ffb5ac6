"""The health engine: evaluates KPIs from their points and writes KpiHealth + HealthEvents.

The computation is in ``kpis.evaluation`` (pure); this module loads a chunk of KPIs with
three queries (KPIs with their health rows, their points, the key results that target
them), evaluates them, and writes all health rows with one upsert and all events with one
insert, inside one transaction per chunk. Running it twice changes nothing and records no
event the second time; a chunk interrupted half-way is rolled back and redone.

``kpis`` never imports ``okrs``: which KPIs are being improved, and whether that
improvement reached its target, it asks through ``kpis.improvement`` (okrs answers).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.events import emit_many

from . import evaluation as E
from . import improvement, limit_store, loop, status_counts
from .batch import id_array, id_set
from .models import STATUS_LABELS, HealthEvent, Kpi, KpiHealth

logger = logging.getLogger(__name__)

CHUNK_SIZE = int(os.environ.get("HEADWAY_KPI_CHUNK_SIZE", "500") or 500)

HEALTH_FIELDS = [
    "status", "is_stale", "latest_value", "latest_period", "points_count", "center",
    "lower_limit", "upper_limit", "upper_range_limit", "signals", "has_unfavourable_signal",
    "capability", "candidate", "candidate_reason", "reason_keys", "dismissed_keys",
    "evaluated_at",
]

# What the evaluation reads of a KPI (the sweep loads nothing else).
SPEC_FIELDS = ["id", "organization_id", "team_id", "name", "unit", "decimals", "frequency", "intent",
               "target_rule", "target_value", "target_upper", "baseline_size", "rebase_date",
               "limit_method"]


def spec_for(kpi: Kpi, divisions=None) -> E.KpiSpec:
    return E.KpiSpec(
        frequency=kpi.frequency,
        intent=kpi.intent,
        target_rule=kpi.target_rule,
        target_value=kpi.target_value,
        target_upper=kpi.target_upper,
        baseline_size=kpi.baseline_size,
        rebase_date=kpi.rebase_date,
        limit_method=kpi.limit_method,
        divisions=divisions or E.L.NONE,
        unit=kpi.unit,
        decimals=kpi.decimals,
    )


def points_by_kpi(kpi_ids: Iterable[int]) -> dict[int, list[tuple[dt.date, float]]]:
    """Every point of these KPIs, oldest first, in one query: (period, value) pairs."""
    return {k: list(zip(p, v, strict=True)) for k, (p, v) in series_by_kpi(kpi_ids).items()}


def series_by_kpi(kpi_ids: Iterable[int]) -> dict[int, tuple[list[dt.date], list[float]]]:
    """Every point of these KPIs, oldest first, in one query: per KPI its periods and its
    values (what ``kpis.evaluation.evaluate_series`` takes).

    On PostgreSQL each KPI's points come as two arrays in one row (``array_agg``), read
    with a plain cursor: a sweep reads every point of every active KPI, and building a
    Python row per point would dominate it; elsewhere through the ORM.
    """
    from django.db import connection

    from .models import DataPoint

    ids = list(kpi_ids)
    if connection.vendor == "postgresql":
        table = DataPoint._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT kpi_id, array_agg(period_start ORDER BY period_start), "  # noqa: S608
                f"array_agg(value ORDER BY period_start) FROM {table} "  # (no user input)
                "WHERE kpi_id = ANY(%s::bigint[]) GROUP BY kpi_id",
                [id_array(ids)],
            )
            return {kpi_id: (periods, values) for kpi_id, periods, values in cursor.fetchall()}
    out: dict[int, tuple[list[dt.date], list[float]]] = {}
    rows = (
        DataPoint.objects.filter(kpi_id__in=ids)
        .order_by("kpi_id", "period_start")
        .values_list("kpi_id", "period_start", "value")
    )
    for kpi_id, period, value in rows:
        if kpi_id not in out:
            out[kpi_id] = ([], [])
        out[kpi_id][0].append(period)
        out[kpi_id][1].append(value)
    return out


@dataclass
class ChunkOutcome:
    evaluated: int = 0
    changed: int = 0
    events: int = 0
    back_to_sustain: int = 0

    def add(self, part: ChunkOutcome) -> None:
        self.evaluated += part.evaluated
        self.changed += part.changed
        self.events += part.events
        self.back_to_sustain += part.back_to_sustain


def _status_message(kpi: Kpi, result: E.Result) -> str:
    from . import rules as R

    if result.latest_value is None:
        return "No data yet."
    low, high = R.bounds(kpi.target_rule, kpi.target_value, kpi.target_upper)
    value = R.format_value(result.latest_value, kpi.unit, kpi.decimals)
    return f"{value} against {R.describe_target(kpi.target_rule, low, high, kpi.unit, kpi.decimals)}"


_NO_POINTS: tuple[list, list] = ([], [])

# The fields compared to decide whether a health row really changed (evaluated_at aside).
COMPARED = [f for f in HEALTH_FIELDS if f != "evaluated_at"]


@dataclass
class _Old:
    """An existing health row, read as plain values (no model instances)."""

    values: tuple

    def __getattr__(self, name):
        return self.values[COMPARED.index(name)]


def _evaluate_chunk(kpi_ids: Sequence[int], today: dt.date, started: dt.datetime, *,
                    actor=None, why: str = "") -> ChunkOutcome:
    """Evaluate one chunk in one transaction: 6 reads/writes whatever its size.

    Only rows that really changed are rewritten (one upsert); the others only get their
    ``evaluated_at`` moved (one UPDATE). Events are inserted in one statement.
    """
    outcome = ChunkOutcome()
    with transaction.atomic():
        # Lock the KPIs of this chunk (PostgreSQL) so two evaluations of the same KPI
        # cannot both see the old state and both record the same event.
        kpis = list(
            Kpi.objects.select_for_update(of=("self",))
            .filter(pk__in=id_set(kpi_ids))
            .only(*SPEC_FIELDS)
            .order_by("pk")
        )
        if not kpis:
            return outcome
        ids = [k.pk for k in kpis]
        healths = {
            row[0]: _Old(row[1:])
            for row in KpiHealth.objects.filter(kpi_id__in=id_set(ids)).values_list("kpi_id", *COMPARED)
        }
        series = series_by_kpi(ids)
        divisions = limit_store.divisions_by_kpi(ids)  # limit periods, exclusions: one query
        improved = improvement.improving(kpis)  # {kpi id: its improvement reached the target}

        changed: list[KpiHealth] = []
        unchanged: list[int] = []
        events: list[HealthEvent] = []
        intents: dict[str, list[int]] = defaultdict(list)
        outbox: list[tuple[int, str, dict]] = []
        locks: dict[Kpi, list] = {}
        recount: set[int] = set()  # organisations whose status counts changed
        for kpi in kpis:
            old = healths.get(kpi.pk)
            old_candidate = old.candidate if old else loop.SUSTAIN
            periods, values = series.get(kpi.pk, _NO_POINTS)
            result = E.evaluate_series(spec_for(kpi, divisions.get(kpi.pk)), periods, values,
                                       today=today)
            # The loop state: one rule (kpis.loop.next_state), whatever the evaluation says.
            state = loop.next_state(
                current=old_candidate, reason_keys=result.reason_keys,
                dismissed_keys=old.dismissed_keys if old else (), tracked=kpi.pk in improved,
                reached=improved.get(kpi.pk, False), ready_for_sustain=E.ready_for_sustain(result))
            if result.to_lock:
                locks[kpi] = result.to_lock
            if old is None or (old.status, old.is_stale, old.candidate) != (
                    result.status, result.is_stale, state):
                recount.add(kpi.organization_id)
            dismissed_keys = (old.dismissed_keys if old else []) if state == loop.DISMISSED else []
            new = (
                result.status, result.is_stale, result.latest_value, result.latest_period,
                result.points_count, result.center, result.lower_limit, result.upper_limit,
                result.upper_range_limit, result.signals, result.has_unfavourable_signal,
                result.capability, state, result.candidate_reason,
                result.reason_keys, dismissed_keys,
            )
            if old is not None and old.values == new:
                unchanged.append(kpi.pk)
            else:
                changed.append(KpiHealth(kpi=kpi, evaluated_at=started, **dict(zip(COMPARED, new, strict=True))))

            old_status = old.status if old else KpiHealth.Status.NO_DATA
            old_stale = old.is_stale if old else False
            if result.status != old_status or (result.has_unfavourable_signal and not (old and old.has_unfavourable_signal)):  # the outbox (activity: webhooks, Slack, Teams)
                outbox.append((kpi.organization_id, "kpi.health_changed", {"kpi_id": kpi.pk, "kpi_name": kpi.name, "team_id": kpi.team_id, "status": result.status, "previous_status": old_status, "unfavourable_signal": bool(result.has_unfavourable_signal), "latest_value": result.latest_value, "latest_period": result.latest_period, "message": _status_message(kpi, result)}))
            if state == loop.CANDIDATE and old_candidate != loop.CANDIDATE:
                outbox.append((kpi.organization_id, "kpi.candidate_flagged", {"kpi_id": kpi.pk, "kpi_name": kpi.name, "team_id": kpi.team_id, "reason": result.candidate_reason, "reason_keys": list(result.reason_keys or [])}))
            if result.status != old_status:
                events.append(HealthEvent(
                    kpi=kpi, kind="status", old=old_status, new=result.status,
                    message=f"{STATUS_LABELS[old_status]} → {STATUS_LABELS[result.status]}: "
                            f"{_status_message(kpi, result)}",
                ))
            if result.is_stale != old_stale:
                events.append(HealthEvent(
                    kpi=kpi, kind="stale", old="stale" if old_stale else "fresh",
                    new="stale" if result.is_stale else "fresh",
                    message=("No value for the last period: the data is stale."
                             if result.is_stale else "Fresh data again."),
                ))
            if state != old_candidate:
                loop.check(old_candidate, state)
                events.append(HealthEvent(
                    kpi=kpi, kind="loop", old=old_candidate, new=state, actor=actor,
                    message=loop.event_message(old_candidate, state,
                                               reason=result.candidate_reason, why=why)))
            if kpi.intent != loop.intent_for(state):
                intents[loop.intent_for(state)].append(kpi.pk)

        if locks:  # limits that lock by themselves now: audited, an event each
            events += limit_store.auto_lock(locks)
        if changed:
            KpiHealth.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=["kpi"],
                update_fields=HEALTH_FIELDS,
            )
        if unchanged:
            KpiHealth.objects.filter(kpi_id__in=id_set(unchanged)).update(evaluated_at=started)
        if events:
            HealthEvent.objects.bulk_create(events)
        if outbox:
            emit_many(outbox)
        for intent, intent_ids in intents.items():  # the mirror of the loop state
            Kpi.objects.filter(pk__in=intent_ids).update(intent=intent, updated_at=timezone.now())
        status_counts.recount(recount)  # the organisations' stored counts, from the rows above
        outcome.evaluated = len(kpis)
        outcome.changed = len(changed)
        outcome.events = len(events)
        outcome.back_to_sustain = sum(1 for e in events if e.kind == "loop"
                                      and e.old == loop.IN_IMPROVEMENT and e.new == loop.SUSTAIN)
    return outcome


def evaluate_kpis(kpi_ids: Iterable[int], *, today: dt.date | None = None,
                  chunk_size: int = CHUNK_SIZE, actor=None, why: str = "") -> ChunkOutcome:
    """Evaluate the given KPIs now (in chunks, one transaction each). ``actor`` and ``why``
    go into the loop events (kpis.loop.improvement_changed: who did what in okrs)."""
    ids = sorted(set(kpi_ids))
    started = timezone.now()
    today = today or timezone.localdate()
    total = ChunkOutcome()
    for i in range(0, len(ids), chunk_size):
        total.add(_evaluate_chunk(ids[i : i + chunk_size], today, started, actor=actor, why=why))
    return total


def evaluate_kpi(kpi: Kpi | int, *, today: dt.date | None = None) -> ChunkOutcome:
    return evaluate_kpis([kpi.pk if isinstance(kpi, Kpi) else kpi], today=today)


# --- The scheduled sweep: one at a time, resumable (kpis.sweep) -----------------------------


def evaluate_all(*, today: dt.date | None = None, chunk_size: int = CHUNK_SIZE,
                 organization_id: int | None = None, force: bool = False,
                 resume_only: bool = False) -> ChunkOutcome | None:
    """Evaluate every active KPI, chunk by chunk (one transaction each, primary-key order).

    The scheduled run goes through kpis.sweep: one at a time (None when another live run
    holds the claim), and a run killed half-way is resumed after its last committed chunk
    by the next one, so each KPI is evaluated once. ``force`` (or one organisation: the
    management command, the demo) runs now, without the claim.
    """
    if not force and organization_id is None:
        from . import sweep

        return sweep.run(resume_only=resume_only, today=today, chunk_size=chunk_size)
    total = ChunkOutcome()
    today = today or timezone.localdate()
    qs = Kpi.objects.filter(active=True)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    last_pk = 0
    while ids := list(qs.filter(pk__gt=last_pk).order_by("pk")
                      .values_list("pk", flat=True)[:chunk_size]):
        total.add(_evaluate_chunk(ids, today, timezone.now()))
        last_pk = ids[-1]
    return total


def pending_ids(limit: int = 5000) -> list[int]:
    """KPIs whose health does not reflect their latest change (see is_pending): their
    evaluation was never queued (broker down) or never ran. One indexed query."""
    from django.db.models import F

    return list(
        Kpi.objects.filter(active=True, data_changed_at__isnull=False)
        .filter(Q(health__isnull=True) | Q(health__evaluated_at__isnull=True)
                | Q(health__evaluated_at__lt=F("data_changed_at")))
        .order_by("pk").values_list("pk", flat=True)[:limit]
    )


def is_pending(kpi: Kpi, health: KpiHealth | None) -> bool:
    """The health does not reflect the latest change yet (the evaluation is queued)."""
    if kpi.data_changed_at is None:
        return False
    return health is None or health.evaluated_at is None or health.evaluated_at < kpi.data_changed_at
