"""Reads for OKRs: a whole cycle's progress in a fixed number of queries.

`cycle_progress` loads the cycle's objectives (one query) and their key results (one
query) with the figures okrs.figures stored on write, and derives only what moves with
the clock (expected progress, overdue statuses). `compute_cycle` is the full recompute
with `okrs.progress` (what okrs.figures.rebuild writes and the property test compares
the stored figures with). Nothing here issues a query per objective.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field

from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Organization, Team, User
from goals import selectors as goal_selectors
from goals.models import Cycle, PillarFigure
from okrs import figures
from okrs import progress as P
from okrs.models import STATUS_LABELS, CheckIn, KeyResult, Objective, status_label


@dataclass
class KRRow:
    kr: KeyResult
    progress: float
    status: str | None

    @property
    def pct(self) -> int:
        return round(self.progress * 100)

    @property
    def direction(self) -> str:
        return P.kr_direction(self.kr.start_value, self.kr.target_value)


@dataclass
class ObjectiveRow:
    objective: Objective
    progress: float
    status: str | None
    expected: float
    krs: list[KRRow] = field(default_factory=list)
    pillar_ids: set[int] = field(default_factory=set)
    rollup: float = 0.0  # what the parent's "children" part reads (progress is shown)

    @property
    def pct(self) -> int:
        return round(self.progress * 100)

    @property
    def expected_pct(self) -> int:
        return round(self.expected * 100)

    @property
    def pace(self) -> str:
        return P.pace(self.progress, self.expected)

    @property
    def status_label(self) -> str:
        return status_label(self.status)


STATUS_FILTER_CHOICES = [(k, v) for k, v in STATUS_LABELS.items() if k]


@dataclass
class CycleProgress:
    cycle: Cycle
    today: dt.date
    expected: float
    rows: list[ObjectiveRow]  # the cycle's own objectives, in display order
    by_id: dict[int, ObjectiveRow]  # also objectives of sub-cycles (quarters of a year)
    stored: bool = False  # read from the stored figures (else computed: compute_cycle)
    _figures: dict[int, PillarFigure] | None = None
    _node_map: dict | None = None

    @property
    def expected_pct(self) -> int:
        return round(self.expected * 100)

    def _pillar_figures(self) -> dict[int, PillarFigure]:
        if self._figures is None:  # one query of a row per pillar
            self._figures = goal_selectors.pillar_figures(self.cycle)
        return self._figures

    def pillar_progress(self, pillar_ids) -> dict[int, float]:
        if self.stored:
            found = self._pillar_figures()
            return {pid: found[pid].progress if pid in found else 0.0 for pid in pillar_ids}
        return P.pillar_progress(pillar_ids, self._nodes(), self._progress())

    def pillar_counts(self, pillar_ids) -> dict[int, int]:
        if self.stored:
            found = self._pillar_figures()
            return {pid: found[pid].objective_count if pid in found else 0
                    for pid in pillar_ids}
        return P.pillar_objective_counts(pillar_ids, self._nodes())

    def counted_pillars(self, objective_id: int) -> set[int]:
        """The pillars whose figure in this cycle an objective counts for (computed; the
        nodes are built once per CycleProgress: okrs.figures.rebuild asks for each
        objective of the cycle)."""
        if self._node_map is None:
            self._node_map = {n.id: n for n in self._nodes()}
        nodes = self._node_map
        return P.supported_pillars(objective_id, nodes) if objective_id in nodes else set()

    def _nodes(self) -> list[P.ObjectiveNode]:
        # Roll-ups count the cycle's own objectives that are not drafts.
        return [
            P.ObjectiveNode(id=r.objective.id, parent_id=r.objective.parent_id,
                            pillar_id=r.objective.pillar_id)
            for r in self.rows if r.objective.state != Objective.State.DRAFT
        ]

    def _progress(self) -> dict[int, float]:
        return {oid: row.progress for oid, row in self.by_id.items()}


_OWN_VALUE = object()


def kr_input(kr: KeyResult, *, frozen: bool = False, current=_OWN_VALUE) -> P.KR:
    """The plain input of okrs.progress for a KeyResult row: at ``current`` when given
    (a check-in row shows the linked KPI's latest value), else at the KR's own value."""
    if frozen and kr.final_score is not None:
        # A closed cycle shows the frozen score: a metric whose value equals its score.
        return P.KR(kind=P.METRIC, start=0, target=1, current=kr.final_score, weight=kr.weight)
    if current is _OWN_VALUE:
        current = kr.current_value
    if kr.kind == KeyResult.Kind.MILESTONE:
        current = 1 if kr.done else 0
    return P.KR(kind=kr.kind, start=kr.start_value, target=kr.target_value, current=current,
                weight=kr.weight, guardrail_op=kr.guard or None)


def kr_row(kr: KeyResult, *, now: dt.datetime, closed: bool) -> KRRow:
    value = P.kr_progress(kr_input(kr, frozen=closed))
    status = P.effective_status(kr.status or None, kr.last_checkin_at, now,
                                since=kr.created_at, closed=closed)
    return KRRow(kr=kr, progress=value, status=status)


def cycle_objectives_qs(organization: Organization, cycle: Cycle):
    """Alive objectives of a cycle and of the cycles inside it (quarters of a year)."""
    return (
        Objective.objects.alive()
        .filter(organization=organization)
        .filter(Q(cycle=cycle) | Q(cycle__parent=cycle))
        .select_related("owner", "team", "pillar", "parent", "cycle")
        .order_by("order", "id")
    )


def _krs_of_cycle(organization: Organization, cycle: Cycle):
    return (
        KeyResult.objects.alive()
        .filter(organization=organization)
        .filter(Q(objective__cycle=cycle) | Q(objective__cycle__parent=cycle))
        .filter(objective__deleted_at__isnull=True)
        .select_related("owner", "kpi")
        .order_by("order", "id")
    )


def cycle_progress(*, organization: Organization, cycle: Cycle,
                   now: dt.datetime | None = None) -> CycleProgress:
    """Progress, status and expected progress of every objective of a cycle, from the
    figures stored on write (two queries; pillar figures: one more when asked). Only what
    moves with the clock is derived here; nothing is kept between requests. Pages that
    show a part of a cycle read that part with `stored_rows` instead."""
    return _stored_cycle(organization=organization, cycle=cycle, now=now or timezone.now())


def _stored_cycle(*, organization: Organization, cycle: Cycle,
                  now: dt.datetime) -> CycleProgress:
    today = timezone.localtime(now, organization.tz).date()
    objectives = list(cycle_objectives_qs(organization, cycle))
    krs_by_obj: dict[int, list] = {o.id: [] for o in objectives}
    if objectives:
        for kr in _krs_of_cycle(organization, cycle):
            krs_by_obj.setdefault(kr.objective_id, []).append(kr)
    rows: dict[int, ObjectiveRow] = {}
    for o in objectives:
        closed = figures.is_closed(o)
        kr_rows = [KRRow(kr=k, progress=k.progress,
                         status=P.effective_status(k.status or None, k.last_checkin_at, now,
                                                   since=k.created_at, closed=closed))
                   for k in krs_by_obj.get(o.id, [])]
        rows[o.id] = ObjectiveRow(
            objective=o, progress=o.progress, rollup=o.rollup,
            status=figures.objective_status(o.status_summary or {}, now, closed=closed),
            expected=P.expected_progress(o.cycle.start, o.cycle.end, today), krs=kr_rows,
            pillar_ids=set(o.pillar_ids or ()))
    own = [rows[o.id] for o in objectives if o.cycle_id == cycle.id]
    return CycleProgress(cycle=cycle, today=today,
                         expected=P.expected_progress(cycle.start, cycle.end, today),
                         rows=own, by_id=rows, stored=True)


def stored_rows(organization: Organization, objectives, *, now: dt.datetime | None = None,
                with_krs: bool = True) -> list[ObjectiveRow]:
    """Rows of these objectives (a queryset, read once, or a list) with the figures stored on
    write; with `with_krs` their key results too (one more query, for these objectives
    only). Only what moves with the clock is derived here. Pages that show a part of a
    cycle (a team, a subtree of the strategy map, one page of the OKR list) read just that
    part with it, whatever the size of the organisation."""
    now = now or timezone.now()
    today = timezone.localtime(now, organization.tz).date()
    objectives = list(objectives)
    krs_by_obj: dict[int, list] = {o.id: [] for o in objectives}
    if with_krs and objectives:
        for kr in (KeyResult.objects.alive()
                   .filter(organization=organization, objective_id__in=list(krs_by_obj))
                   .select_related("owner", "kpi").order_by("order", "id")):
            krs_by_obj[kr.objective_id].append(kr)
    rows = []
    for o in objectives:
        closed = figures.is_closed(o)
        kr_rows = [KRRow(kr=k, progress=k.progress,
                         status=P.effective_status(k.status or None, k.last_checkin_at, now,
                                                   since=k.created_at, closed=closed))
                   for k in krs_by_obj.get(o.id, [])]
        rows.append(ObjectiveRow(
            objective=o, progress=o.progress, rollup=o.rollup,
            status=figures.objective_status(o.status_summary or {}, now, closed=closed),
            expected=P.expected_progress(o.cycle.start, o.cycle.end, today), krs=kr_rows,
            pillar_ids=set(o.pillar_ids or ())))
    return rows


TOP_PER_PILLAR = 6


@dataclass
class CycleExpected:
    """What a page that reads no objective row shows of the cycle's clock: its expected
    progress today (what CycleProgress.expected_pct gives)."""

    cycle: Cycle
    expected: float
    today: dt.date | None = None

    @property
    def expected_pct(self) -> int:
        return round(self.expected * 100)


def cycle_expected(organization: Organization, cycle: Cycle,
                   now: dt.datetime | None = None) -> CycleExpected:
    today = timezone.localtime(now or timezone.now(), organization.tz).date()
    return CycleExpected(cycle, P.expected_progress(cycle.start, cycle.end, today), today)


def pillar_tops(organization: Organization, cycle: Cycle, pillar_ids,
                limit: int = TOP_PER_PILLAR) -> dict[int, list[ObjectiveRow]]:
    """The first `limit` objectives (in display order) of the cycle that each pillar's card
    on the goal page lists: alive, not drafts, carrying the pillar themselves (one window
    query, whatever the cycle's size). Their stored `pillar_ids` always hold their own
    pillar, so this is the cycle view's "supports the pillar and is top-level or carries
    it" rule. Rows carry the stored progress only (no key results, no status)."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    ids = list(pillar_ids)
    out: dict[int, list[ObjectiveRow]] = {pid: [] for pid in ids}
    if not ids:
        return out
    qs = (Objective.objects.alive()
          .filter(organization=organization, cycle=cycle, pillar_id__in=ids)
          .exclude(state=Objective.State.DRAFT)
          .annotate(rank=Window(RowNumber(), partition_by=[F("pillar_id")],
                                order_by=[F("order").asc(), F("id").asc()]))
          .filter(rank__lte=limit)
          .only("id", "title", "progress", "pillar_id", "order")
          .order_by("pillar_id", "rank"))
    for o in qs:
        out[o.pillar_id].append(ObjectiveRow(objective=o, progress=o.progress, status=None,
                                             expected=0.0))
    return out


def compute_cycle(*, organization: Organization, cycle: Cycle,
                  now: dt.datetime) -> CycleProgress:
    """The full recompute with okrs.progress (two queries: objectives, then key results):
    what the stored figures must equal (okrs.figures.rebuild, the property test)."""
    today = timezone.localtime(now, organization.tz).date()
    objectives = list(cycle_objectives_qs(organization, cycle))
    ids = [o.id for o in objectives]
    krs_by_obj: dict[int, list] = {i: [] for i in ids}
    if ids:
        for kr in _krs_of_cycle(organization, cycle):
            krs_by_obj.setdefault(kr.objective_id, []).append(kr)

    rows: dict[int, ObjectiveRow] = {}
    nodes = []
    for o in objectives:
        closed = o.cycle.is_closed or o.state == Objective.State.CLOSED
        kr_rows = [kr_row(k, now=now, closed=closed) for k in krs_by_obj.get(o.id, [])]
        expected = P.expected_progress(o.cycle.start, o.cycle.end, today)
        rows[o.id] = ObjectiveRow(objective=o, progress=0.0, expected=expected, krs=kr_rows,
                                  status=P.worst_status(r.status for r in kr_rows))
        nodes.append(P.ObjectiveNode(
            id=o.id, parent_id=o.parent_id, pillar_id=o.pillar_id,
            progress_from=o.progress_from,
            krs=[kr_input(k, frozen=closed) for k in krs_by_obj.get(o.id, [])]))
    # Drafts do not feed their parent's progress.
    live = [n for n in nodes if rows[n.id].objective.state != Objective.State.DRAFT]
    drafts = [n for n in nodes if rows[n.id].objective.state == Objective.State.DRAFT]
    values = P.tree_progress(live)
    values.update(P.tree_progress(drafts))
    by_node = {n.id: n for n in nodes}
    for oid, row in rows.items():
        o = row.objective
        if o.cycle.is_closed and o.score is not None:
            row.progress = P.clamp(o.score)
        else:
            row.progress = values.get(oid, 0.0)
        row.rollup = values.get(oid, 0.0)
        row.pillar_ids = P.supported_pillars(oid, by_node)
    own = [rows[o.id] for o in objectives if o.cycle_id == cycle.id]
    return CycleProgress(cycle=cycle, today=today,
                         expected=P.expected_progress(cycle.start, cycle.end, today),
                         rows=own, by_id=rows)


# ---------------------------------------------------------------- OKR list


@dataclass
class TeamGroup:
    key: str
    name: str
    team: Team | None
    rows: list[ObjectiveRow]
    summary: tuple[int, float] | None = None  # (count, mean progress) without the rows

    @property
    def count(self) -> int:
        return self.summary[0] if self.summary else len(self.rows)

    @property
    def progress(self) -> float:
        if self.summary:
            return self.summary[1]
        return P.mean(r.progress for r in self.rows) or 0.0

    @property
    def pct(self) -> int:
        return round(self.progress * 100)


def group_by_team(rows: list[ObjectiveRow]) -> list[TeamGroup]:
    """Company-level objectives first, then each team by name."""
    groups: OrderedDict[str, TeamGroup] = OrderedDict()
    groups["company"] = TeamGroup("company", gettext("Company"), None, [])
    for row in sorted(rows, key=lambda r: (r.objective.team.name.lower()
                                           if r.objective.team else "", r.objective.order,
                                           r.objective.id)):
        team = row.objective.team
        key = f"team-{team.id}" if team else "company"
        if key not in groups:
            groups[key] = TeamGroup(key, team.name, team, [])
        groups[key].rows.append(row)
    return [g for g in groups.values() if g.rows]


def filter_rows(rows: list[ObjectiveRow], *, team: str = "", owner: str = "", pillar: str = "",
                status: str = "", state: str = "") -> list[ObjectiveRow]:
    out = rows
    if team == "company":
        out = [r for r in out if r.objective.team_id is None]
    elif team.isdigit():
        out = [r for r in out if r.objective.team_id == int(team)]
    if owner.isdigit():
        out = [r for r in out if r.objective.owner_id == int(owner)
               or any(k.kr.owner_id == int(owner) for k in r.krs)]
    if pillar.isdigit():
        out = [r for r in out if int(pillar) in r.pillar_ids]
    if status == "none":
        out = [r for r in out if r.status is None]
    elif status:
        out = [r for r in out if r.status == status]
    if state:
        out = [r for r in out if r.objective.state == state]
    return out


def list_summaries(organization: Organization, cycle: Cycle, teams: list[Team]
                   ) -> list[TeamGroup]:
    """The OKR list's team groups with their count and mean stored progress, without their
    rows (one aggregate query; company level first, then the teams by name)."""
    by_id = {t.pk: t for t in teams}
    groups = []
    for team_id, n, avg in (Objective.objects.alive()
                            .filter(organization=organization, cycle=cycle)
                            .values_list("team_id").annotate(n=Count("id"), avg=Avg("progress"))
                            .order_by()):
        team = by_id.get(team_id)
        if team_id is not None and team is None:
            continue
        groups.append(TeamGroup(f"team-{team_id}" if team else "company",
                                team.name if team else gettext("Company"), team, [],
                                summary=(n, P.clamp(avg or 0.0))))
    groups.sort(key=lambda g: (g.team is not None, g.name.lower()))
    return groups


def list_rows(organization: Organization, cycle: Cycle, *, team: str = "", owner: str = "",
              pillar: str = "", status: str = "", state: str = "",
              now: dt.datetime | None = None, offset: int = 0,
              limit: int | None = None) -> list[ObjectiveRow]:
    """The cycle's objectives the OKR list shows for these filters, with their key results
    and stored figures (two queries). Team, owner and state are filtered in the database,
    so a team opened on a long list reads that team's rows only; pillar and status (which
    moves with the clock) are filtered on the rows read."""
    qs = (Objective.objects.alive().filter(organization=organization, cycle=cycle)
          .select_related("owner", "team", "pillar", "parent", "cycle").order_by("order", "id"))
    if team == "company":
        qs = qs.filter(team__isnull=True)
    elif team.isdigit():
        qs = qs.filter(team_id=int(team))
    if owner == "none":  # the owner field names nobody in this organisation
        return []
    if owner.isdigit():
        qs = qs.filter(Q(owner_id=int(owner)) | Exists(
            KeyResult.objects.alive().filter(objective=OuterRef("pk"), owner_id=int(owner))))
    if state:
        qs = qs.filter(state=state)
    if limit is not None:  # one page of a team group (no pillar or status filter: SQL order)
        qs = qs[offset:offset + limit]
    return filter_rows(stored_rows(organization, qs, now=now), pillar=pillar, status=status)


OWNER_SUGGESTIONS = 20


def people_matching(organization: Organization, text: str,
                    limit: int = OWNER_SUGGESTIONS) -> list[Person]:
    """Members whose name or e-mail contains `text`, for the owner autocomplete (one query
    of at most `limit` rows)."""
    text = text.strip()
    qs = User.objects.filter(memberships__organization=organization)
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(email__icontains=text))
    return [Person(*row) for row in qs.order_by("name", "email")
            .values_list("id", "name", "email")[:limit]]


def owner_filter(organization: Organization, value: str) -> tuple[str, str]:
    """(the owner id to filter by, the text the owner field shows) for the owner field's
    value: an id (older links), or the e-mail address or exact name picked from the
    suggestions. ("none", text) when it names nobody here. One query when given."""
    value = value.strip()
    if not value:
        return "", ""
    qs = User.objects.filter(memberships__organization=organization)
    if value.isascii() and value.isdigit():
        found = qs.filter(pk=int(value)).values_list("id", "email").first()
    else:
        found = (qs.filter(Q(email__iexact=value) | Q(name__iexact=value))
                 .order_by("id").values_list("id", "email").first())
    if found is None:
        return "none", value
    return str(found[0]), found[1]


@dataclass(frozen=True, slots=True)
class Person:
    """A member as a filter choice (a large organisation lists 500: no model instances)."""
    pk: int
    name: str
    email: str

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]


def org_people(organization: Organization) -> list[Person]:
    """Members of the organisation, for the owner filter (one query)."""
    return [Person(*row) for row in User.objects.filter(memberships__organization=organization)
            .order_by("name", "email").values_list("id", "name", "email")]


def org_teams(organization: Organization) -> list[Team]:
    return list(Team.objects.filter(organization=organization).order_by("name"))


# ------------------------------------------------------------ objective detail


@dataclass
class ObjectiveDetail:
    row: ObjectiveRow
    cycle: None  # no longer read: the page shows the objective's own figures
    ancestors: list[dict]  # root first: {"id", "title", "cycle_id"}
    children: list[ObjectiveRow | Objective]
    initiatives_by_kr: dict[int, list]
    objective_initiatives: list
    checkins_by_kr: dict[int, list[CheckIn]]
    has_history: bool


def ancestors_of(organization: Organization, objective: Objective) -> list[dict]:
    """The parent chain, root first (one query, loop-safe)."""
    if objective.parent_id is None:
        return []
    table = {
        o["id"]: o for o in Objective.objects.alive().filter(organization=organization)
        .values("id", "parent_id", "title", "cycle_id")
    }
    chain = []
    seen = {objective.id}
    current = objective.parent_id
    while current is not None and current in table and current not in seen:
        seen.add(current)
        chain.append(table[current])
        current = table[current]["parent_id"]
    return list(reversed(chain))


def descendant_ids(organization: Organization, objective_id: int) -> set[int]:
    """Ids of every objective aligned below this one, at any depth (one query)."""
    children: dict[int, list[int]] = {}
    for oid, parent in (Objective.objects.filter(organization=organization,
                                                 parent__isnull=False)
                        .values_list("id", "parent_id")):
        children.setdefault(parent, []).append(oid)
    out: set[int] = set()
    stack = [objective_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in out and child != objective_id:
                out.add(child)
                stack.append(child)
    return out


CHECKINS_PER_KR = 5


def objective_detail(*, organization: Organization, objective: Objective,
                     now: dt.datetime | None = None) -> ObjectiveDetail:
    """Everything the objective page shows, in a fixed number of queries."""
    # okrs never imports initiatives (it sits to the right): read the reverse relation.
    Initiative = objective.initiatives.model  # noqa: N806

    # Its own stored figures and key results (2 queries), its aligned objectives' (1): never
    # the rest of the cycle (issue 16).
    now = now or timezone.now()
    cycle = objective.cycle
    own = stored_rows(organization, cycle_objectives_qs(organization, cycle)
                      .filter(pk=objective.pk), now=now)
    row = own[0] if own else ObjectiveRow(objective=objective, progress=0.0, status=None,
                                          expected=P.expected_progress(
                                              cycle.start, cycle.end,
                                              timezone.localtime(now, organization.tz).date()))
    ancestors = ancestors_of(organization, objective)  # 1 query (0 without a parent)
    children_qs = (Objective.objects.alive().filter(organization=organization,
                                                    parent=objective)
                   .select_related("owner", "team", "pillar", "parent", "cycle")
                   .order_by("order", "id"))
    children = [r if (r.objective.cycle_id == cycle.pk or r.objective.cycle.parent_id == cycle.pk)
                else r.objective
                for r in stored_rows(organization, children_qs, now=now, with_krs=False)]
    kr_ids = [k.kr.id for k in row.krs]
    initiatives_by_kr: dict[int, list] = {i: [] for i in kr_ids}
    objective_initiatives = []
    for ini in (Initiative.objects.filter(organization=organization)
                .filter(Q(key_result_id__in=kr_ids) | Q(objective=objective))
                .select_related("owner").order_by("order", "id")):  # 1 query
        if ini.key_result_id in initiatives_by_kr:
            initiatives_by_kr[ini.key_result_id].append(ini)
        else:
            objective_initiatives.append(ini)
    checkins_by_kr: dict[int, list[CheckIn]] = {i: [] for i in kr_ids}
    if kr_ids:
        for ci in (CheckIn.objects.filter(organization=organization, key_result_id__in=kr_ids)
                   .select_related("author").order_by("-created_at", "-id")[:200]):  # 1 query
            bucket = checkins_by_kr.setdefault(ci.key_result_id, [])
            if len(bucket) < CHECKINS_PER_KR:
                bucket.append(ci)
    has_history = any(checkins_by_kr.values())
    return ObjectiveDetail(row=row, cycle=None, ancestors=ancestors, children=children,
                           initiatives_by_kr=initiatives_by_kr,
                           objective_initiatives=objective_initiatives,
                           checkins_by_kr=checkins_by_kr, has_history=has_history)
