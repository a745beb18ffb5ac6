"""Reads for the strategy map, and the goal and pillar progress it shares with the leader
dashboard.

The first level is the goal and its pillars (plus one group for objectives that support
no pillar); each subtree loads when opened. Progress comes from one
okrs.selectors.cycle_progress per request (two queries), whatever the size of the tree:
objective, pillar and goal progress are okrs.progress roll-ups computed there (the
objective page uses the same).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from accounts.models import Organization
from goals.models import StrategicPillar
from goals.selectors import active_goal, pillars_for
from initiatives.models import Initiative
from kpis.models import KpiHealth
from okrs import progress as P
from okrs.selectors import cycle_progress, status_label


@dataclass
class PillarLine:
    pillar: object
    progress: float
    objectives: int

    @property
    def pct(self) -> int:
        return round(self.progress * 100)


# Pillar progress and counts of a CycleProgress, remembered while that object lives:
# okrs.selectors.cycle_progress shares one result between requests until the
# organisation's OKR data changes, and rolling hundreds of objectives up to their pillars
# on every dashboard and strategy map request would redo the same sums.
# {id(cp): (weak ref, ids, figures)}
_PILLAR_MEMO: dict[int, tuple] = {}
_PILLAR_MEMO_SIZE = 16


def _pillar_figures(cp, ids: list[int]) -> tuple[dict[int, float], dict[int, int]]:
    hit = _PILLAR_MEMO.get(id(cp))
    if hit is not None and hit[0]() is cp and hit[1] == ids:
        return hit[2]
    figures = (cp.pillar_progress(ids), cp.pillar_counts(ids))
    if len(_PILLAR_MEMO) >= _PILLAR_MEMO_SIZE:
        for key in [k for k, v in list(_PILLAR_MEMO.items()) if v[0]() is None] \
                or list(_PILLAR_MEMO)[:1]:
            _PILLAR_MEMO.pop(key, None)
    _PILLAR_MEMO[id(cp)] = (weakref.ref(cp), list(ids), figures)
    return figures


def strategy_progress(org: Organization, cycle, *, now=None):
    """(CycleProgress or None, goal, [PillarLine], goal progress): 4 queries with a cycle."""
    goal = active_goal(org)  # query
    pillars = pillars_for(org)  # query
    cp = cycle_progress(organization=org, cycle=cycle, now=now) if cycle else None  # 2
    lines: list[PillarLine] = []
    if pillars:
        ids = [p.pk for p in pillars]
        values, counts = _pillar_figures(cp, ids) if cp else (dict.fromkeys(ids, 0.0),
                                                               dict.fromkeys(ids, 0))
        lines = [PillarLine(p, values.get(p.pk, 0.0), counts.get(p.pk, 0)) for p in pillars]
    goal_value = P.goal_progress(line.progress for line in lines) if (goal and lines) else None
    return cp, goal, lines, goal_value


@dataclass
class MapNode:
    kind: str  # pillar, objective, unaligned, kr
    pk: int
    title: str
    progress: float | None = None
    expected: float | None = None
    status: str | None = None
    status_label: str = ""
    meta: str = ""
    url: str = ""
    count: int = 0  # children to expand
    draft: bool = False
    row: object = None  # ObjectiveRow / KRRow
    kpi: object = None
    kpi_health: object = None
    initiatives: list = field(default_factory=list)

    @property
    def pct(self) -> int | None:
        return None if self.progress is None else round(self.progress * 100)

    @property
    def expected_pct(self) -> int | None:
        return None if self.expected is None else round(self.expected * 100)

    @property
    def pace(self) -> str:
        if self.progress is None or self.expected is None:
            return ""
        return P.pace(self.progress, self.expected)

    @property
    def dom_id(self) -> str:
        return f"node-{self.kind}-{self.pk}"


def _children_index(cp) -> dict[int | None, list]:
    index: dict[int | None, list] = {}
    for row in cp.by_id.values():
        parent = row.objective.parent_id if row.objective.parent_id in cp.by_id else None
        index.setdefault(parent, []).append(row)
    for rows in index.values():
        rows.sort(key=lambda r: (r.objective.order, r.objective.id))
    return index


def _objective_node(row, index, links) -> MapNode:
    o = row.objective
    owner = o.owner.display_name if o.owner else ""
    where = o.team.name if o.team else "Company"
    return MapNode(
        kind="objective", pk=o.pk, title=o.title, progress=row.progress, expected=row.expected,
        status=row.status, status_label=row.status_label, row=row,
        meta=" · ".join(x for x in (where, owner) if x),
        url=links.obj("okrs:objective", o.pk),
        count=len(row.krs) + len(index.get(o.pk, [])),
        draft=o.state == "draft")


def pillar_roots(cp, pillar_id: int) -> list:
    """Objectives shown directly under a pillar: they support it, and their parent (if
    any, in this cycle) does not — so each objective appears once, under its top-most
    supporter."""
    out = []
    for row in cp.by_id.values():
        if pillar_id not in row.pillar_ids:
            continue
        parent = cp.by_id.get(row.objective.parent_id)
        if parent is None or pillar_id not in parent.pillar_ids:
            out.append(row)
    out.sort(key=lambda r: (r.objective.team_id is not None, r.objective.order, r.objective.id))
    return out


def unaligned_roots(cp) -> list:
    return sorted((r for r in cp.by_id.values() if not r.pillar_ids
                   and cp.by_id.get(r.objective.parent_id) is None),
                  key=lambda r: (r.objective.team_id is not None, r.objective.order,
                                 r.objective.id))


@dataclass
class StrategyMap:
    goal: object | None
    goal_progress: float | None
    cycle: object | None
    cycles: list
    cycle_progress: object | None
    pillars: list[MapNode]
    unaligned: MapNode | None

    @property
    def goal_pct(self) -> int | None:
        return None if self.goal_progress is None else round(self.goal_progress * 100)


def strategy_map(org: Organization, cycle, cycles, links, *, now=None) -> StrategyMap:
    """The first level: 4 queries (goal, pillars, objectives, KRs)."""
    cp, goal, lines, goal_value = strategy_progress(org, cycle, now=now)
    nodes, unaligned = [], None
    expected = cp.expected if cp else None
    for line in lines:
        roots = pillar_roots(cp, line.pillar.pk) if cp else []
        nodes.append(MapNode(kind="pillar", pk=line.pillar.pk, title=line.pillar.name,
                             progress=line.progress if cp else None, expected=expected,
                             meta=f"{line.objectives} objective{'s' if line.objectives != 1 else ''}",
                             count=len(roots)))
    if cp:
        loose = unaligned_roots(cp)
        if loose:
            unaligned = MapNode(kind="unaligned", pk=0, title="Not linked to a pillar",
                                count=len(loose), meta=f"{len(loose)} objective"
                                + ("s" if len(loose) != 1 else ""))
    return StrategyMap(goal=goal, goal_progress=goal_value, cycle=cycle, cycles=cycles,
                       cycle_progress=cp, pillars=nodes, unaligned=unaligned)


def map_subtree(org: Organization, cycle, kind: str, pk: int, links, *, now=None
                ) -> tuple[list[MapNode], list[MapNode], str] | None:
    """(key result nodes, objective nodes, the node's title) under one node, or None when
    the node is not in this organisation's cycle. Objectives: 2 queries; an objective adds
    its initiatives and its KPIs' health (2 more)."""
    if cycle is None:
        return None
    cp = cycle_progress(organization=org, cycle=cycle, now=now)
    index = _children_index(cp)
    if kind == "pillar":
        name = (StrategicPillar.objects.filter(organization=org, pk=pk)
                .values_list("name", flat=True).first())
        if name is None:
            return None
        return [], [_objective_node(r, index, links) for r in pillar_roots(cp, pk)], name
    if kind == "unaligned":
        return ([], [_objective_node(r, index, links) for r in unaligned_roots(cp)],
                "Not linked to a pillar")
    if kind != "objective" or pk not in cp.by_id:
        return None
    row = cp.by_id[pk]
    children = [_objective_node(r, index, links) for r in index.get(pk, [])]
    krs = [MapNode(kind="kr", pk=k.kr.pk, title=k.kr.title, progress=k.progress,
                   expected=row.expected, status=k.status,
                   status_label=status_label(k.status), row=k, kpi=k.kr.kpi,
                   meta=k.kr.owner.display_name if k.kr.owner else "")
           for k in row.krs]
    kr_ids = [n.pk for n in krs]
    if kr_ids:
        by_kr: dict[int, list] = {}
        for ini in (Initiative.objects.filter(organization=org, key_result_id__in=kr_ids)
                    .select_related("owner").order_by("order", "id")):
            by_kr.setdefault(ini.key_result_id, []).append(ini)
        kpi_ids = [n.kpi.pk for n in krs if n.kpi is not None]
        health = {h.kpi_id: h for h in KpiHealth.objects.filter(kpi_id__in=kpi_ids)} \
            if kpi_ids else {}
        for n in krs:
            n.initiatives = by_kr.get(n.pk, [])
            if n.kpi is not None:
                n.kpi_health = health.get(n.kpi.pk)
                n.url = links.obj("kpis:detail", n.kpi.pk)
    return krs, children, row.objective.title
