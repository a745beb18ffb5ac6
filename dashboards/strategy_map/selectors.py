"""Reads for the strategy map, and the goal and pillar figures it shares with the leader
dashboard.

The first level is the goal and its pillars (plus one group for objectives that support
no pillar); each subtree loads when opened (htmx). Every level reads only its own rows,
with the figures okrs.figures stored on write (issue 16): the first level the pillars'
stored sums and one count per pillar; a pillar its top-most supporting objectives; an
objective its key results and its aligned objectives. Nothing grows with the rest of the
organisation. The CSV (the whole tree) reads the whole cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Organization
from goals.models import PillarFigure, StrategicPillar
from goals.selectors import active_goal, pillars_for
from initiatives.models import Initiative
from kpis.models import KpiHealth
from okrs import progress as P
from okrs.models import Objective
from okrs.selectors import cycle_objectives_qs, cycle_progress, status_label, stored_rows


@dataclass
class PillarLine:
    pillar: object
    progress: float
    objectives: int

    @property
    def pct(self) -> int:
        return round(self.progress * 100)


def pillar_lines(org: Organization, cycle) -> list[PillarLine]:
    """The active pillars with their stored figure in the cycle (two queries: the pillars,
    their figures; one without pillars or a cycle)."""
    pillars = pillars_for(org)
    if not pillars:
        return []
    found = ({f.pillar_id: f for f in PillarFigure.objects.filter(cycle=cycle)}
             if cycle else {})
    return [PillarLine(p, found[p.pk].progress if p.pk in found else 0.0,
                       found[p.pk].objective_count if p.pk in found else 0)
            for p in pillars]


def strategy_progress(org: Organization, cycle):
    """(goal, [PillarLine], goal progress) from the stored figures: 3 queries."""
    goal = active_goal(org)  # query
    lines = pillar_lines(org, cycle)  # 2 queries
    goal_value = P.goal_progress(line.progress for line in lines) if (goal and lines) else None
    return goal, lines, goal_value


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


def _family(cycle, cycles) -> set[int]:
    """The cycle and the cycles inside it (a year's quarters): whose objectives it shows."""
    return {cycle.pk} | {c.pk for c in cycles if c.parent_id == cycle.pk}


def _shown_parent(o: Objective, family: set[int]) -> Objective | None:
    """The objective's parent as the map shows it: alive and in the cycle's family."""
    parent = o.parent
    if parent is None or parent.deleted_at is not None or parent.cycle_id not in family:
        return None
    return parent


def _by_team_then_order(row) -> tuple:
    return (row.objective.team_id is not None, row.objective.order, row.objective.id)


def _objective_nodes(org, rows, family, links) -> list[MapNode]:
    """Map nodes of these rows; what each opens to (its key results and aligned objectives)
    is counted in one query."""
    ids = [r.objective.pk for r in rows]
    children = dict(Objective.objects.alive()
                    .filter(organization=org, parent_id__in=ids, cycle_id__in=family)
                    .values_list("parent_id").annotate(n=Count("id")).order_by()) if ids else {}
    nodes = []
    for row in rows:
        o = row.objective
        owner = o.owner.display_name if o.owner else ""
        where = o.team.name if o.team else _("Company")
        nodes.append(MapNode(
            kind="objective", pk=o.pk, title=o.title, progress=row.progress,
            expected=row.expected, status=row.status, status_label=row.status_label, row=row,
            meta=" · ".join(x for x in (where, owner) if x),
            url=links.obj("okrs:objective", o.pk),
            count=o.kr_count + children.get(o.pk, 0), draft=o.state == "draft"))
    return nodes


def _family_qs(org, cycle, family):
    return cycle_objectives_qs(org, cycle).filter(cycle_id__in=family)


def _unaligned_q(family) -> Q:
    """No pillar, and no parent the map shows (a parent's pillars would be theirs)."""
    return Q(pillar_ids=[]) & (Q(parent__isnull=True) | Q(parent__deleted_at__isnull=False)
                               | ~Q(parent__cycle_id__in=family))


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


def strategy_map(org: Organization, cycle, cycles, links, *, now=None,
                 whole: bool = False) -> StrategyMap:
    """The first level: goal, pillars and their stored figures, what each pillar opens to
    and the unaligned group (5 queries). With `whole` (the CSV) also the whole cycle."""
    goal, lines, goal_value = strategy_progress(org, cycle)
    nodes, unaligned = [], None
    now = now or timezone.now()
    expected = (P.expected_progress(cycle.start, cycle.end,
                                    timezone.localtime(now, org.tz).date()) if cycle else None)
    direct: dict[int, int] = {}
    loose = 0
    if cycle:
        family = _family(cycle, cycles)
        qs = Objective.objects.alive().filter(organization=org, cycle_id__in=family)
        direct = dict(qs.filter(pillar__isnull=False).values_list("pillar_id")
                      .annotate(n=Count("id")).order_by())  # 1 query
        loose = qs.filter(_unaligned_q(family)).count()  # 1 query
    for line in lines:
        nodes.append(MapNode(kind="pillar", pk=line.pillar.pk, title=line.pillar.name,
                             progress=line.progress if cycle else None, expected=expected,
                             meta=ngettext("%(n)s objective", "%(n)s objectives",
                                          line.objectives) % {"n": line.objectives},
                             count=direct.get(line.pillar.pk, 0)))
    if loose:
        unaligned = MapNode(kind="unaligned", pk=0, title=_("Not linked to a pillar"),
                            count=loose, meta=ngettext("%(n)s objective", "%(n)s objectives",
                                                       loose) % {"n": loose})
    cp = cycle_progress(organization=org, cycle=cycle, now=now) if (whole and cycle) else None
    return StrategyMap(goal=goal, goal_progress=goal_value, cycle=cycle, cycles=cycles,
                       cycle_progress=cp, pillars=nodes, unaligned=unaligned)


def map_subtree(org: Organization, cycle, cycles, kind: str, pk: int, links, *, now=None
                ) -> tuple[list[MapNode], list[MapNode], str] | None:
    """(key result nodes, objective nodes, the node's title) under one node, or None when
    the node is not in this organisation's cycle. Only the node's own rows are read: a
    pillar 3 queries, the unaligned group 2, an objective 4 (itself, its key results, its
    aligned objectives and what they open to) and 2 more for its initiatives and its KPIs'
    health."""
    if cycle is None:
        return None
    now = now or timezone.now()
    family = _family(cycle, cycles)
    if kind == "pillar":
        name = (StrategicPillar.objects.filter(organization=org, pk=pk)
                .values_list("name", flat=True).first())
        if name is None:
            return None
        # The top-most supporters: their own pillar, under no parent that supports it.
        found = [o for o in _family_qs(org, cycle, family).filter(pillar_id=pk)
                 if (p := _shown_parent(o, family)) is None or pk not in (p.pillar_ids or ())]
        rows = sorted(stored_rows(org, found, now=now, with_krs=False), key=_by_team_then_order)
        return [], _objective_nodes(org, rows, family, links), name
    if kind == "unaligned":
        rows = sorted(stored_rows(org, _family_qs(org, cycle, family).filter(_unaligned_q(family)),
                                  now=now, with_krs=False), key=_by_team_then_order)
        return [], _objective_nodes(org, rows, family, links), _("Not linked to a pillar")
    if kind != "objective":
        return None
    own = stored_rows(org, _family_qs(org, cycle, family).filter(pk=pk), now=now)
    if not own:
        return None
    row = own[0]
    child_rows = stored_rows(org, _family_qs(org, cycle, family).filter(parent_id=pk),
                             now=now, with_krs=False)
    children = _objective_nodes(org, child_rows, family, links)
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
