"""Reads for a team's page: its objectives in the current cycle, its KPIs (those needing
attention first), its check-in completion over the last weeks."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Organization, Team
from dashboards.kpi_rows import LIGHT, OFF_TARGET_FIRST, KpiRow, kpi_rows
from goals.selectors import current_cycle
from okrs import progress as P
from okrs.checkins.selectors import completion_by_week
from okrs.selectors import cycle_objectives_qs, stored_rows

TEAM_KPIS = 24
COMPLETION_WEEKS = 8


@dataclass
class TeamPage:
    team: Team
    cycle: object | None
    objectives: list  # okrs.selectors.ObjectiveRow
    expected: int | None  # the cycle's expected progress, in percent
    kpis: list[KpiRow]
    more_kpis: bool  # more than TEAM_KPIS: the rest are on the operations page
    weeks: list  # okrs.checkins.selectors.Completion, oldest first

    @property
    def has_due(self) -> bool:
        return any(w.total for w in self.weeks)

    @property
    def completion(self) -> list[dict]:
        """The weeks as the page's table reads them (none when nothing was due)."""
        if not self.has_due:
            return []
        return [{"week": w.week_start, "done": w.done, "expected": w.total, "pct": w.pct}
                for w in self.weeks]

    @property
    def completion_label(self) -> str:
        """The completion chart's text alternative."""
        due = [w for w in self.weeks if w.total]
        if not due:
            return ngettext("%(team)s: no key results to check in on in the last week.",
                            "%(team)s: no key results to check in on in the last %(n)s weeks.",
                            COMPLETION_WEEKS) % {"team": self.team.name, "n": COMPLETION_WEEKS}
        parts = [_("week of %(date)s: %(done)s of %(total)s") % {
            "date": date_format(w.week_start, "MONTH_DAY_FORMAT"), "done": w.done,
            "total": w.total} for w in due]
        # "; " joins a list of items (not a sentence built from fragments).
        return _("Check-in completion of %(team)s, %(weeks)s") % {
            "team": self.team.name, "weeks": "; ".join(parts)}


def team_page(org: Organization, team: Team) -> TeamPage:
    """Eight queries: the cycle (1), the team's objectives with their stored figures (1),
    the KPIs (2), completion (3, one more the first time an ended week is read)."""
    cycle = current_cycle(org)  # 1 query
    objectives, expected = [], None
    if cycle:
        now = timezone.now()
        expected = round(P.expected_progress(
            cycle.start, cycle.end, timezone.localtime(now, org.tz).date()) * 100)
        objectives = stored_rows(org, cycle_objectives_qs(org, cycle).filter(team=team),
                                 now=now, with_krs=False)  # 1 query: this team's only
    # The team's KPIs, the ones needing attention first; a long list continues on the
    # operations view (one extra row fetched tells whether there are more).
    rows = kpi_rows(org, team=team, limit=TEAM_KPIS + 1,
                    order_by=(OFF_TARGET_FIRST, "-health__is_stale",
                              "-health__has_unfavourable_signal", "name", "id"),
                    defer=LIGHT)  # 2
    weeks = completion_by_week(team, COMPLETION_WEEKS)  # 3 queries
    return TeamPage(team=team, cycle=cycle, objectives=objectives, expected=expected,
                    kpis=rows[:TEAM_KPIS], more_kpis=len(rows) > TEAM_KPIS, weeks=weeks)
