"""Figures kept on write: each key result's and objective's progress, each objective's
status summary and pillars, and each pillar's running sum and count per cycle
(goals.PillarFigure), updated in the transaction of the write that moves them.

Why: every page that shows a cycle's progress used to recompute the whole cycle after any
write in the organisation, in every web process; the cost grew with the organisation. A
write now refreshes only the objective it touched and walks up its parents (and, when its
pillars change, down its aligned objectives): O(depth), whatever the organisation's size.

`okrs.progress` stays the one definition of the arithmetic: the figures are its results
for the objective's own cycle, exactly what `okrs.selectors.compute_cycle` (the full
recompute, used by `rebuild` and the property test) gives. What moves with the clock
(expected progress, "check-in overdue") is derived at read time from stored dates:
`objective_status` turns the stored summary into the status at any moment.

Concurrency: `refresh` locks the objective row before it reads the children's figures, and
walks bottom-up, so two check-ins under one parent serialise on it (the second reads the
first's committed figures: nothing lost) and locks along a chain are always taken in the
same order (no deadlock between writers of one tree). Pillar figures change by a delta
(`UPDATE ... SET progress_sum = progress_sum + d`) in pillar-id order, after the objectives.

Which children and pillars count (the rule of the objective's own cycle view): an
objective's children are its alive aligned objectives of the same cycle or of a cycle
inside it (a year's quarters), drafts only under drafts and live ones only under live
ones; its `pillar_ids` are the pillars on itself and its alive ancestors within that cycle
family; it counts for a pillar's figure in its own cycle when it is not a draft, through
its own pillar and those of its non-draft ancestors of the same cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from goals.models import Cycle, PillarFigure
from okrs import progress as P
from okrs.models import KeyResult, Objective

FIGURE_FIELDS = ["progress", "rollup", "pillar_ids", "figure_cycle", "figure_pillars", "kr_count",
                 "status_summary"]


# ------------------------------------------------------------------ status


def status_summary(krs: Iterable[KeyResult]) -> dict:
    """What an objective's status is derived from at any moment: the number of accomplished
    KRs; per other status ('' for never checked in) the count and the newest reference
    (last check-in, else creation); and the oldest reference among those KRs."""
    accomplished = 0
    by: dict[str, list] = {}
    oldest: dt.datetime | None = None
    for kr in krs:
        if kr.status == P.ACCOMPLISHED:
            accomplished += 1
            continue
        ref = kr.last_checkin_at or kr.created_at
        entry = by.setdefault(kr.status or "", [0, ref])
        entry[0] += 1
        entry[1] = max(entry[1], ref)
        oldest = ref if oldest is None else min(oldest, ref)
    return {"accomplished": accomplished,
            "by": {s: [n, ref.isoformat()] for s, (n, ref) in sorted(by.items())},
            "oldest": oldest.isoformat() if oldest else None}


def objective_status(summary: dict, now: dt.datetime, *, closed: bool) -> str | None:
    """The weakest status the objective's KRs show at `now` (okrs.progress.effective_status
    of each, then worst_status), from the stored summary: a status is shown while its
    newest KR is not overdue; "overdue" while the oldest one is."""
    present = [P.ACCOMPLISHED] if summary.get("accomplished") else []
    for status, (_n, ref) in (summary.get("by") or {}).items():
        if status and (closed or not P.is_checkin_overdue(dt.datetime.fromisoformat(ref), now)):
            present.append(status)
    oldest = summary.get("oldest")
    if not closed and oldest and P.is_checkin_overdue(dt.datetime.fromisoformat(oldest), now):
        present.append(P.OVERDUE)
    return P.worst_status(present)


# ------------------------------------------------------------------ one objective


def is_closed(objective: Objective) -> bool:
    return objective.cycle.is_closed or objective.state == Objective.State.CLOSED


def _is_draft(values) -> bool:
    return values["state"] == Objective.State.DRAFT


def _chains(objective: Objective, *, family: set[int] | None = None,
            parent_of=None) -> tuple[list[int], list[int]]:
    """(pillar_ids, figure_pillars): the pillars along the parent chain (one query per
    level: O(depth)); see the module's rule. `family` (the cycle and its sub-cycles) and
    `parent_of(id)` (an alive parent's values, or None) are given by `refresh_many`, which
    has read them already."""
    if family is None:
        family = {objective.cycle_id}
        family.update(Cycle.objects.filter(parent_id=objective.cycle_id)
                      .values_list("id", flat=True))
    if parent_of is None:
        def parent_of(pk):
            return (Objective.objects.alive().filter(pk=pk)
                    .values("pillar_id", "parent_id", "cycle_id", "state").first())
    shown = {objective.pillar_id} if objective.pillar_id else set()
    counted = set(shown)
    live_chain = objective.state != Objective.State.DRAFT
    seen = {objective.id}
    parent_id = objective.parent_id
    while parent_id is not None and parent_id not in seen:
        seen.add(parent_id)
        parent = parent_of(parent_id)
        if parent is None or parent["cycle_id"] not in family:
            break
        if parent["pillar_id"]:
            shown.add(parent["pillar_id"])
        live_chain = live_chain and not _is_draft(parent) \
            and parent["cycle_id"] == objective.cycle_id
        if live_chain and parent["pillar_id"]:
            counted.add(parent["pillar_id"])
        parent_id = parent["parent_id"]
    if objective.state == Objective.State.DRAFT:
        counted = set()
    return sorted(shown), sorted(counted)


def _children_rollups(objective: Objective) -> list[float]:
    qs = (Objective.objects.alive().filter(parent_id=objective.id)
          .filter(Q(cycle_id=objective.cycle_id) | Q(cycle__parent_id=objective.cycle_id)))
    if objective.state == Objective.State.DRAFT:
        qs = qs.filter(state=Objective.State.DRAFT)
    else:
        qs = qs.exclude(state=Objective.State.DRAFT)
    return list(qs.order_by("id").values_list("rollup", flat=True))


def _compute(objective: Objective, krs: list[KeyResult], *, children: list[float] | None = None,
             chains: tuple[list[int], list[int]] | None = None) -> dict:
    """The objective's figures from its KRs and its children's stored figures (`children`
    and `chains`: already read, by `refresh_many`)."""
    from okrs.selectors import kr_input  # selectors reads the figures this module writes

    closed = is_closed(objective)
    inputs = [kr_input(k, frozen=closed) for k in krs]
    if objective.progress_from not in (P.FROM_CHILDREN, P.FROM_BOTH):
        children = []
    elif children is None:
        children = _children_rollups(objective)
    rollup = P.objective_progress(inputs, children, objective.progress_from)
    progress = rollup
    if objective.cycle.is_closed and objective.score is not None:
        progress = P.clamp(objective.score)
    shown, counted = chains if chains is not None else _chains(objective)
    return {"progress": progress, "rollup": rollup, "pillar_ids": shown,
            "figure_cycle_id": None if objective.state == Objective.State.DRAFT
            else objective.cycle_id,
            "figure_pillars": counted if objective.state != Objective.State.DRAFT else [],
            "kr_count": len(krs), "status_summary": status_summary(krs),
            "kr_progress": {k.id: P.kr_progress(i) for k, i in zip(krs, inputs, strict=True)}}


def _apply_pillar_delta(organization_id: int, old: tuple, new: tuple) -> None:
    """Move an objective's contribution from (cycle, pillars, progress) `old` to `new`."""
    _apply_deltas(organization_id, _add_delta({}, old, new))


def _add_delta(deltas: dict, old: tuple, new: tuple) -> dict:
    """Add the move of one objective's contribution from `old` to `new` to `deltas`
    ((pillar, cycle) -> [sum, count]); `refresh_many` adds many before one write."""
    for sign, (cycle_id, pillars, value) in ((-1, old), (1, new)):
        if cycle_id is None:
            continue
        for pid in pillars:
            d = deltas.setdefault((pid, cycle_id), [0.0, 0])
            d[0] += sign * value
            d[1] += sign
    return deltas


def _apply_deltas(organization_id: int, deltas: dict) -> None:
    deltas = {k: d for k, d in deltas.items() if d[0] != 0 or d[1] != 0}
    if not deltas:
        return
    PillarFigure.objects.bulk_create(
        [PillarFigure(organization_id=organization_id, pillar_id=pid, cycle_id=cid)
         for pid, cid in sorted(deltas)], ignore_conflicts=True)
    for (pid, cid), (dsum, dcount) in sorted(deltas.items()):
        PillarFigure.objects.filter(pillar_id=pid, cycle_id=cid).update(
            progress_sum=F("progress_sum") + dsum, objective_count=F("objective_count") + dcount)


def _contribution(row) -> tuple:
    return (row.figure_cycle_id, list(row.figure_pillars or []), row.progress)


def _refresh_one(objective_id: int) -> tuple[Objective | None, bool, bool]:
    """Recompute one objective under its row lock. Returns (objective, whether its rollup
    changed, whether its pillars changed)."""
    objective = (Objective.objects.select_for_update(of=("self",)).select_related("cycle")
                 .filter(pk=objective_id).first())
    if objective is None:
        return None, False, False
    if objective.deleted_at is not None:
        _apply_pillar_delta(objective.organization_id, _contribution(objective),
                            (None, [], 0.0))
        Objective.objects.filter(pk=objective.pk).update(figure_cycle=None, figure_pillars=[])
        return objective, True, True
    krs = list(KeyResult.objects.alive().filter(objective_id=objective.id)
               .order_by("order", "id"))
    new = _compute(objective, krs)
    changed_krs = []
    for kr in krs:
        value = new["kr_progress"][kr.id]
        if kr.progress != value:
            kr.progress = value
            changed_krs.append(kr)
    if changed_krs:
        KeyResult.objects.bulk_update(changed_krs, ["progress"])
    old = _contribution(objective)
    _apply_pillar_delta(objective.organization_id, old,
                        (new["figure_cycle_id"], new["figure_pillars"], new["progress"]))
    rollup_changed = objective.rollup != new["rollup"]
    pillars_changed = (objective.pillar_ids != new["pillar_ids"]
                       or list(objective.figure_pillars or []) != new["figure_pillars"]
                       or objective.figure_cycle_id != new["figure_cycle_id"])
    fields = {k: new[k] for k in ("progress", "rollup", "pillar_ids", "figure_cycle_id",
                                  "figure_pillars", "kr_count", "status_summary")}
    if any(getattr(objective, k) != v for k, v in fields.items()):
        Objective.objects.filter(pk=objective.pk).update(**fields)
        for k, v in fields.items():
            setattr(objective, k, v)
    return objective, rollup_changed, pillars_changed


def refresh(objective_ids: Iterable[int | None]) -> None:
    """Bring these objectives' figures, their parents' (as far up as anything changes),
    their aligned objectives' pillars and the pillar figures up to date, in the caller's
    transaction. Call it after every write that changes what the figures are made of."""
    todo = sorted({i for i in objective_ids if i is not None})
    if not todo:
        return
    with transaction.atomic():
        for oid in todo:
            _walk(oid)


def _walk(oid: int) -> None:
    current: int | None = oid
    force = True  # the written objective's parent is always refreshed (its children moved)
    seen_up: set[int] = set()
    seen_down: set[int] = set()
    while current is not None and current not in seen_up:
        seen_up.add(current)
        objective, rollup_changed, pillars_changed = _refresh_one(current)
        if objective is None:
            return
        if pillars_changed and current not in seen_down:
            seen_down.add(current)
            _descend(objective.id, seen_down)
        if not (rollup_changed or force):
            return
        force = False
        current = objective.parent_id


def _descend(oid: int, seen_down: set[int]) -> None:
    """An objective's pillars (or state) changed: so did its aligned objectives'."""
    for child in (Objective.objects.filter(parent_id=oid).order_by("id")
                  .values_list("id", flat=True)):
        if child in seen_down:
            continue
        seen_down.add(child)
        _, _, pillars_changed = _refresh_one(child)
        if pillars_changed:
            _descend(child, seen_down)


# ------------------------------------------------------------------ many at once (issue 19)


def _ancestry(objective_ids: set[int]) -> dict[int, int | None]:
    """id -> parent_id for these objectives and all their ancestors, in one statement (a
    recursive CTE; UNION stops at a loop in the parent links)."""
    from django.db import connection

    table = connection.ops.quote_name(Objective._meta.db_table)
    marks = ", ".join(["%s"] * len(objective_ids))
    with connection.cursor() as cursor:
        sql = (f"WITH RECURSIVE chain(id, parent_id) AS ("  # noqa: S608 (the model's table; ids bound)
               f" SELECT id, parent_id FROM {table} WHERE id IN ({marks})"
               f" UNION SELECT o.id, o.parent_id FROM {table} o JOIN chain c ON o.id = c.parent_id)"
               f" SELECT id, parent_id FROM chain")
        cursor.execute(sql, sorted(objective_ids))
        return dict(cursor.fetchall())


def _depths(parents: dict[int, int | None]) -> dict[int, int]:
    """Distance from the root of each objective in `parents` (a loop counts as a root)."""
    depth: dict[int, int] = {}
    for start in parents:
        path, current = [], start
        while current in parents and current not in depth and current not in path:
            path.append(current)
            current = parents[current]
        base = depth.get(current, -1) if current in depth else -1
        for pk in reversed(path):
            base += 1
            depth[pk] = base
    return depth


def bulk_set(model, objs: list, fields: list[str]) -> None:
    """`bulk_update(objs, fields)` in one statement without its CASE per field and row
    (whose building was most of a 36-row check-in's Python time): on PostgreSQL, one
    ``UPDATE ... FROM unnest(arrays)``; one object: a plain UPDATE; elsewhere bulk_update."""
    import json

    from django.db import connection
    from django.db.models import JSONField

    if not objs or not fields:
        return
    meta = model._meta
    columns = [meta.get_field(f) for f in fields]
    if len(objs) == 1:
        model.objects.filter(pk=objs[0].pk).update(
            **{c.name: getattr(objs[0], c.attname) for c in columns})
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields)
        return
    qn = connection.ops.quote_name
    arrays, casts, sets = [[o.pk for o in objs]], [f"%s::{meta.pk.db_type(connection)}[]"], []
    for i, col in enumerate(columns, 1):
        if isinstance(col, JSONField):
            arrays.append([json.dumps(getattr(o, col.attname), cls=col.encoder) for o in objs])
            casts.append("%s::text[]")
            sets.append(f"{qn(col.column)} = v.c{i}::jsonb")
        else:
            arrays.append([col.get_db_prep_save(getattr(o, col.attname), connection)
                           for o in objs])
            casts.append(f"%s::{col.db_type(connection)}[]")
            sets.append(f"{qn(col.column)} = v.c{i}")
    names = ", ".join(["id"] + [f"c{i}" for i in range(1, len(columns) + 1)])
    sql = (f"UPDATE {qn(meta.db_table)} AS t SET {', '.join(sets)} "  # noqa: S608 (model's columns; values bound)
           f"FROM unnest({', '.join(casts)}) AS v({names}) WHERE t.{qn(meta.pk.column)} = v.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)


def refresh_many(objective_ids: Iterable[int | None]) -> None:
    """`refresh` for a batch of writes ("check in all", issue 19): the same figures, in a
    number of queries that does not grow with the objectives or their depth (about eight,
    plus one UPDATE per pillar and cycle whose sum moves).

    It reads the objectives' ancestry (one recursive query), locks them all, deepest first
    then by id (one statement: a global order that agrees with `refresh`'s bottom-up walk,
    so the two never wait on each other in a cycle), reads their key results, their
    children's rollups and their cycles' sub-cycles once, then recomputes each bottom-up
    through `_compute` (okrs.progress's arithmetic) and writes what changed in bulk. Every
    ancestor is recomputed (`refresh` stops where a rollup does not move: same figures).
    An objective whose pillars change still walks down through `_descend`."""
    from django.db.models import Case, IntegerField, Value, When

    todo = {i for i in objective_ids if i is not None}
    if not todo:
        return
    # No savepoint of its own (two round trips): a failure here fails the caller's write.
    with transaction.atomic(savepoint=False):
        parents = _ancestry(todo)
        if not parents:
            return
        depth = _depths(parents)
        rows = list(Objective.objects.select_for_update(of=("self",)).select_related("cycle")
                    .filter(pk__in=list(parents))
                    .annotate(_depth=Case(*[When(pk=pk, then=Value(d))
                                            for pk, d in depth.items()],
                                          default=Value(0), output_field=IntegerField()))
                    .order_by("-_depth", "id"))
        by_id = {o.id: o for o in rows}
        # A parent link changed between the ancestry read and the lock: the old walk
        # finishes those chains afterwards.
        strays = {o.parent_id for o in rows if o.parent_id is not None
                  and o.parent_id not in by_id}
        live_ids = [o.id for o in rows if o.deleted_at is None]
        krs: dict[int, list[KeyResult]] = {pk: [] for pk in live_ids}
        for kr in (KeyResult.objects.alive().filter(objective_id__in=live_ids)
                   .order_by("objective_id", "order", "id")):
            krs[kr.objective_id].append(kr)
        children: dict[int, list[dict]] = {}
        rolled = [o.id for o in rows if o.deleted_at is None
                  and o.progress_from in (P.FROM_CHILDREN, P.FROM_BOTH)]
        for child in (Objective.objects.alive().filter(parent_id__in=rolled)
                      .values("id", "parent_id", "cycle_id", "cycle__parent_id", "state",
                              "rollup").order_by("id") if rolled else ()):
            children.setdefault(child["parent_id"], []).append(child)
        families: dict[int, set[int]] = {o.cycle_id: {o.cycle_id} for o in rows}
        for parent_id, cid in (Cycle.objects.filter(parent_id__in=list(families))
                               .values_list("parent_id", "id")):
            families[parent_id].add(cid)

        def parent_of(pk):
            o = by_id.get(pk)
            if o is None:  # not locked (a stray): read it as `_chains` does
                return (Objective.objects.alive().filter(pk=pk)
                        .values("pillar_id", "parent_id", "cycle_id", "state").first())
            if o.deleted_at is not None:
                return None
            return {"pillar_id": o.pillar_id, "parent_id": o.parent_id,
                    "cycle_id": o.cycle_id, "state": o.state}

        changed_krs: list[KeyResult] = []
        changed_objectives: list[Objective] = []
        changed_fields: set[str] = set()  # only these go into the bulk UPDATE's CASEs
        deltas: dict[int, dict] = {}
        moved_pillars: list[int] = []
        for o in rows:  # deepest first: children before their parents
            org_deltas = deltas.setdefault(o.organization_id, {})
            if o.deleted_at is not None:  # as `_refresh_one`
                _add_delta(org_deltas, _contribution(o), (None, [], 0.0))
                if o.figure_cycle_id is not None or o.figure_pillars:
                    o.figure_cycle_id, o.figure_pillars = None, []
                    changed_fields.update(("figure_cycle", "figure_pillars"))
                    changed_objectives.append(o)
                moved_pillars.append(o.id)
                continue
            kids = [by_id[c["id"]].rollup if c["id"] in by_id else c["rollup"]
                    for c in children.get(o.id, [])
                    if (c["cycle_id"] == o.cycle_id or c["cycle__parent_id"] == o.cycle_id)
                    and (c["state"] == Objective.State.DRAFT)
                    == (o.state == Objective.State.DRAFT)]
            new = _compute(o, krs[o.id], children=kids,
                           chains=_chains(o, family=families[o.cycle_id], parent_of=parent_of))
            for kr in krs[o.id]:
                value = new["kr_progress"][kr.id]
                if kr.progress != value:
                    kr.progress = value
                    changed_krs.append(kr)
            _add_delta(org_deltas, _contribution(o),
                       (new["figure_cycle_id"], new["figure_pillars"], new["progress"]))
            if (o.pillar_ids != new["pillar_ids"]
                    or list(o.figure_pillars or []) != new["figure_pillars"]
                    or o.figure_cycle_id != new["figure_cycle_id"]):
                moved_pillars.append(o.id)
            fields = {k: new[k] for k in ("progress", "rollup", "pillar_ids", "figure_cycle_id",
                                          "figure_pillars", "kr_count", "status_summary")}
            moved = [k for k, v in fields.items() if getattr(o, k) != v]
            if moved:
                for k in moved:
                    setattr(o, k, fields[k])
                changed_fields.update("figure_cycle" if k == "figure_cycle_id" else k
                                      for k in moved)
                changed_objectives.append(o)
        bulk_set(KeyResult, changed_krs, ["progress"])
        bulk_set(Objective, changed_objectives, [f for f in FIGURE_FIELDS if f in changed_fields])
        for organization_id, org_deltas in sorted(deltas.items()):
            _apply_deltas(organization_id, org_deltas)
        seen_down: set[int] = set()
        for pk in moved_pillars:
            if pk not in seen_down:
                seen_down.add(pk)
                _descend(pk, seen_down)
        if strays:
            refresh(strays)


def forget(objective: Objective) -> None:
    """Take an objective that is about to be deleted out of its pillar figures."""
    row = Objective.objects.select_for_update(of=("self",)).filter(pk=objective.pk).first()
    if row is not None:
        _apply_pillar_delta(row.organization_id, _contribution(row), (None, [], 0.0))
        Objective.objects.filter(pk=row.pk).update(figure_cycle=None, figure_pillars=[])


# ------------------------------------------------------------------ rebuild


def rebuild(organization, *, now: dt.datetime | None = None,
            cycle_ids: Iterable[int] | None = None) -> int:
    """Recompute every stored figure of an organisation (or of these cycles) from scratch
    (okrs.selectors.compute_cycle per cycle). Returns the number of objectives written."""
    from okrs.selectors import compute_cycle

    now = now or timezone.now()
    written = 0
    cycles = Cycle.objects.filter(organization=organization).order_by("id")
    if cycle_ids is not None:
        cycles = cycles.filter(pk__in=list(cycle_ids))
    with transaction.atomic():
        cycles = list(cycles.select_for_update())
        Objective.objects.filter(organization=organization, cycle__in=cycles).update(
            figure_cycle=None, figure_pillars=[])
        PillarFigure.objects.filter(organization=organization, cycle__in=cycles).delete()
        figures: list[PillarFigure] = []
        for cycle in cycles:
            cp = compute_cycle(organization=organization, cycle=cycle, now=now)
            objectives, krs = [], []
            for row in cp.rows:
                o = row.objective
                o.progress, o.rollup = row.progress, row.rollup
                o.pillar_ids = sorted(row.pillar_ids)
                draft = o.state == Objective.State.DRAFT
                o.figure_cycle_id = None if draft else o.cycle_id
                o.figure_pillars = [] if draft else sorted(cp.counted_pillars(o.id))
                o.kr_count = len(row.krs)
                o.status_summary = status_summary(k.kr for k in row.krs)
                objectives.append(o)
                for k in row.krs:
                    k.kr.progress = k.progress
                    krs.append(k.kr)
            Objective.objects.bulk_update(objectives, FIGURE_FIELDS, batch_size=500)
            KeyResult.objects.bulk_update(krs, ["progress"], batch_size=1000)
            sums: dict[int, list[float]] = {}
            for o in objectives:
                for pid in o.figure_pillars:
                    entry = sums.setdefault(pid, [0.0, 0])
                    entry[0] += o.progress
                    entry[1] += 1
            figures += [PillarFigure(organization=organization, pillar_id=pid, cycle=cycle,
                                     progress_sum=s, objective_count=n)
                        for pid, (s, n) in sorted(sums.items())]
            written += len(objectives)
        PillarFigure.objects.bulk_create(figures, batch_size=1000)
    return written


def refresh_cycles(organization, cycles: Iterable[Cycle]) -> None:
    """A change that touches every objective of these cycles (a close, a state change):
    recompute them and their quarters whole, then the parents outside that hold them."""
    ids = {c.pk for c in cycles}
    ids.update(Cycle.objects.filter(parent_id__in=ids).values_list("id", flat=True))
    rebuild(organization, cycle_ids=ids)
    outside = (Objective.objects.alive().filter(cycle_id__in=ids, parent__isnull=False)
               .exclude(parent__cycle_id__in=ids).values_list("parent_id", flat=True))
    refresh(set(outside))
