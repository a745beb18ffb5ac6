"""Derived KPIs: a KPI whose values are a formula of other KPIs of its organisation
(``[Resolved first time] / [Tickets] * 100``), computed per period, never entered.

- ``clean_formula`` turns the typed formula into the stored one (``kpis.formula``) and
  refuses an unknown KPI, the KPI itself, another frequency and a cycle of definitions.
- ``formula_set`` stores it with its ``KpiInput`` rows (kpi_create / kpi_update call it).
- ``recompute`` is called by ``services._data_changed`` in the writing transaction: for
  every derived KPI that reads a changed KPI (directly or through another derived KPI, in
  the order of their definitions) it computes each period that has a value of every input,
  replaces a changed value (the old one kept as a revision, as a correction is), and
  removes the value of a period where an input is missing or the formula cannot be
  computed (a division by zero): that period is empty, never 0.
- ``gaps`` tells the KPI's page which periods are empty and why.

One query when no derived KPI reads the changed KPIs (the common case).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from . import formula as F
from .models import DataPoint, DataPointRevision, Kpi, KpiInput

# Values are rounded so that float noise (0.1 + 0.2) does not make a revision.
DIGITS = 10


def _error(message: str) -> ValidationError:
    return ValidationError({"formula": message})


def _edges(organization_id: int) -> dict[int, set[int]]:
    """derived id → input ids, for the organisation (one query)."""
    out: dict[int, set[int]] = defaultdict(set)
    for derived_id, input_id in KpiInput.objects.filter(
            derived__organization_id=organization_id).values_list("derived_id", "input_id"):
        out[derived_id].add(input_id)
    return out


def _path(edges: dict[int, set[int]], start: int, goal: int) -> list[int] | None:
    """A chain of "uses" from start to goal, or None."""
    stack, came = [start], {start: None}
    while stack:
        node = stack.pop()
        if node == goal:
            chain = [node]
            while came[chain[-1]] is not None:
                chain.append(came[chain[-1]])
            return chain[::-1]
        for nxt in edges.get(node, ()):
            if nxt not in came:
                came[nxt] = node
                stack.append(nxt)
    return None


def clean_formula(*, organization, text: str, frequency: str,
                  kpi: Kpi | None = None) -> tuple[str, list[int]]:
    """(stored formula, input ids) for the typed text; ("", []) for none."""
    text = (text or "").strip()
    if not text:
        return "", []
    try:
        parsed = F.parse_named(text)
    except F.FormulaError as exc:
        raise _error(str(exc)) from None
    rows = Kpi.objects.filter(organization=organization).values_list("id", "name", "frequency")
    by_name = {name.casefold(): (pk, name, freq) for pk, name, freq in rows}
    missing = [ref for ref in parsed.refs if ref not in by_name]
    if missing:
        raise _error(f"No KPI is named “{missing[0]}” in this organisation (check the name "
                     "between the brackets).")
    ids = [by_name[ref][0] for ref in parsed.refs]
    names = {pk: name for pk, name, _ in by_name.values()}
    if kpi is not None and kpi.pk in ids:
        raise _error("A KPI cannot be computed from itself.")
    for ref in parsed.refs:
        pk, name, freq = by_name[ref]
        if freq != frequency:
            raise _error(f"“{name}” is {freq}: a {frequency} KPI can only use {frequency} KPIs.")
    if kpi is not None and kpi.pk:
        edges = _edges(organization.pk)
        for pk in ids:
            chain = _path(edges, pk, kpi.pk)
            if chain:
                words = " uses ".join(f"“{names[c]}”" for c in chain)
                raise _error(f"That would go round in a circle: {words}.")
    return F.to_stored(text, {ref: by_name[ref][0] for ref in parsed.refs}), ids


def named(kpi: Kpi, names: dict[int, str] | None = None) -> str:
    """The KPI's formula with its inputs' names ("" when it is not derived)."""
    if not kpi.formula:
        return ""
    if names is None:
        names = dict(Kpi.objects.filter(organization_id=kpi.organization_id, pk__in=[
            int(r) for r in F.parse_stored(kpi.formula).refs]).values_list("id", "name"))
    return F.to_named(kpi.formula, names)


def formula_set(*, kpi: Kpi, stored: str, input_ids: Iterable[int]) -> None:
    """Keep the KPI's input rows in step with its (already saved) formula and recompute
    its values. Called inside the writing transaction."""
    wanted = set(input_ids)
    current = set(KpiInput.objects.filter(derived=kpi).values_list("input_id", flat=True))
    if current - wanted:
        KpiInput.objects.filter(derived=kpi, input_id__in=current - wanted).delete()
    KpiInput.objects.bulk_create([KpiInput(derived=kpi, input_id=pk)
                                  for pk in sorted(wanted - current)])
    _recompute_order([kpi.pk, *_dependents([kpi.pk])])


def _dependents(kpi_ids: Iterable[int]) -> list[int]:
    """Every derived KPI that reads these KPIs, directly or not (one query per level)."""
    seen: set[int] = set()
    frontier = set(kpi_ids)
    while frontier:
        found = set(KpiInput.objects.filter(input_id__in=frontier)
                    .values_list("derived_id", flat=True)) - seen
        seen |= found
        frontier = found
    return sorted(seen)


def recompute(kpi_ids: Iterable[int]) -> list[int]:
    """Recompute the derived KPIs that read these KPIs; the ids whose values changed."""
    dependents = _dependents(kpi_ids)
    return _recompute_order(dependents) if dependents else []


def _recompute_order(ids: list[int]) -> list[int]:
    """Recompute these derived KPIs, each after the derived KPIs it reads."""
    if not ids:
        return []
    kpis = {k.pk: k for k in Kpi.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    edges: dict[int, set[int]] = defaultdict(set)
    for derived_id, input_id in KpiInput.objects.filter(derived_id__in=ids).values_list(
            "derived_id", "input_id"):
        edges[derived_id].add(input_id)
    order, done = [], set()

    def visit(pk: int, trail: frozenset) -> None:
        if pk in done or pk in trail:
            return
        for dep in sorted(edges.get(pk, ())):
            if dep in kpis:
                visit(dep, trail | {pk})
        done.add(pk)
        order.append(pk)

    for pk in sorted(kpis):
        visit(pk, frozenset())
    return [pk for pk in order if kpis[pk].formula and _recompute_one(kpis[pk], edges[pk])]


def compute(kpi: Kpi, input_ids: Iterable[int]) -> dict[dt.date, float | None]:
    """Each period with a value of at least one input → the formula's value (None when an
    input is missing or the formula cannot be computed)."""
    parsed = F.parse_stored(kpi.formula)
    values: dict[dt.date, dict[str, float]] = defaultdict(dict)
    for kpi_id, start, value in DataPoint.objects.filter(kpi_id__in=list(input_ids)).values_list(
            "kpi_id", "period_start", "value"):
        values[start][str(kpi_id)] = value
    out = {}
    for start, row in values.items():
        result = parsed.evaluate(row)
        out[start] = None if result is None else round(result, DIGITS)
    return out


def _recompute_one(kpi: Kpi, input_ids: set[int]) -> bool:
    computed = compute(kpi, input_ids)
    existing = {p.period_start: p for p in DataPoint.objects.filter(kpi=kpi)}
    new, changed, revisions, gone = [], [], [], []
    for start, value in computed.items():
        point = existing.get(start)
        if value is None:
            if point is not None:
                gone.append(point.pk)
        elif point is None:
            new.append(DataPoint(kpi=kpi, period_start=start, value=value,
                                 source=DataPoint.Source.FORMULA))
        elif point.value != value:
            revisions.append(DataPointRevision(
                point=point, old_value=point.value, new_value=value, old_note=point.note,
                old_source=point.source, old_source_ref=point.source_ref,
                new_source=DataPoint.Source.FORMULA))
            point.value, point.source, point.author = value, DataPoint.Source.FORMULA, None
            changed.append(point)
    gone += [p.pk for start, p in existing.items() if start not in computed]
    if new:
        DataPoint.objects.bulk_create(new)
    if changed:
        DataPoint.objects.bulk_update(changed, ["value", "source", "author"])
        DataPointRevision.objects.bulk_create(revisions)
    if gone:
        DataPoint.objects.filter(pk__in=gone).delete()
    return bool(new or changed or gone)


@dataclass(frozen=True)
class Gap:
    period_start: dt.date
    missing: tuple[str, ...]  # names of the inputs with no value for it ("" → not computable)


def gaps(kpi: Kpi, *, limit: int = 12) -> tuple[str, list[Gap]]:
    """(the formula with names, the newest empty periods and why) for a derived KPI's page:
    the periods where some input has a value but the formula gave none. Three queries."""
    if not kpi.formula:
        return "", []
    ids = [int(r) for r in F.parse_stored(kpi.formula).refs]
    names = dict(Kpi.objects.filter(pk__in=ids).values_list("id", "name"))
    present: dict[dt.date, set[int]] = defaultdict(set)
    for kpi_id, start in DataPoint.objects.filter(kpi_id__in=ids).values_list(
            "kpi_id", "period_start"):
        present[start].add(kpi_id)
    have = set(DataPoint.objects.filter(kpi=kpi).values_list("period_start", flat=True))
    out = []
    for start in sorted(set(present) - have, reverse=True)[:limit]:
        out.append(Gap(start, tuple(names.get(i, "?") for i in ids if i not in present[start])))
    return F.to_named(kpi.formula, names), out
