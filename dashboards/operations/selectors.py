"""Reads for operations: the sustain KPIs, filtered by team and status, one page at a
time."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from accounts.models import Organization, Team
from dashboards.kpi_rows import (
    LIGHT,
    STATUS_FILTERS,
    KpiRow,
    group_by_team,
    kpi_rows,
    kpi_status_counts,
)
from kpis.models import Kpi

OPERATIONS_PAGE_SIZE = 60
OPERATIONS_ORDER = ("team__name", "name", "id")


@dataclass
class OperationsPage:
    teams: list[Team]
    team: Team | None
    team_value: str  # "", "none" or a team slug
    status: str
    counts: list
    total: int  # sustain KPIs matching the filters
    rows: list[KpiRow]
    page: int
    pages: int

    @property
    def groups(self):
        return group_by_team(self.rows)

    @property
    def filtered(self) -> bool:
        return bool(self.team_value or self.status)


def operations_filter(org: Organization, teams: list[Team], team_value: str, status: str
                      ) -> tuple[Q, Team | None, str, str]:
    """(the team condition, the team, the team value and the status kept): an unknown
    team or status is dropped."""
    where = Q()
    team = None
    if team_value == "none":
        where &= Q(team__isnull=True)
    else:
        team = next((t for t in teams if t.slug == team_value), None)
        team_value = team.slug if team else ""
        if team:
            where &= Q(team=team)
    status = status if status in STATUS_FILTERS else ""
    return where, team, team_value, status


def operations_page(org: Organization, *, team_value: str = "", status: str = "",
                    page: int = 1, per_page: int = OPERATIONS_PAGE_SIZE) -> OperationsPage:
    """The sustain KPIs, filtered and one page of them, in six queries: teams, counts,
    total, the page's ids, its KPIs, their points."""
    teams = list(Team.objects.filter(organization=org).order_by("name"))  # 1
    where, team, team_value, status = operations_filter(org, teams, team_value, status)
    counts = kpi_status_counts(org, intent=Kpi.Intent.SUSTAIN, where=where)  # 1
    if status:
        where &= STATUS_FILTERS[status]
    sustain = Kpi.objects.filter(organization=org, active=True,
                                 intent=Kpi.Intent.SUSTAIN).filter(where)
    total = sustain.count()  # 1
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = []
    if total:
        # The page's ids first, sorting only the narrow (id, team name, name) rows, not
        # every sustain KPI with its health, owner and team columns to keep one page.
        start = (page - 1) * per_page
        ids = list(sustain.order_by(*OPERATIONS_ORDER)
                   .values_list("pk", flat=True)[start:start + per_page])  # 1
        rows = kpi_rows(org, ids=ids, order_by=OPERATIONS_ORDER, defer=LIGHT)  # 2
    return OperationsPage(teams=teams, team=team, team_value=team_value, status=status,
                          counts=counts, total=total, rows=rows, page=page, pages=pages)


def operations_csv_rows(org: Organization, *, team_value: str = "", status: str = ""
                        ) -> list[KpiRow]:
    """Every sustain KPI matching the filters (no paging, no points)."""
    teams = list(Team.objects.filter(organization=org))
    where, _team, _value, status = operations_filter(org, teams, team_value, status)
    if status:
        where &= STATUS_FILTERS[status]
    return kpi_rows(org, intent=Kpi.Intent.SUSTAIN, where=where, spark_points=0)
