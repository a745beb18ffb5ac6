"""Reads for check-ins: the rows of a check-in page, completion per team and week, history.

Every function here runs a fixed number of queries whatever the number of key results
(pinned by tests at two sizes). `team_completion` and `completion_by_week` are meant to be
reused by the dashboards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Organization, Team
from core import formatting
from goals.models import Cycle
from kpis.models import DataPoint
from okrs import progress as P
from okrs.access import get_key_result_for_member
from okrs.checkins.services import refusal_reason, week_start_for
from okrs.checkins.suggest import Suggestion, disagreement, suggest_for_kr
from okrs.models import STATUS_LABELS, CheckIn, KeyResult, Objective, WeekCompletion
from okrs.selectors import kr_input


def get_key_result_for_checkin(request: HttpRequest, pk, *, light: bool = False) -> KeyResult:
    """okrs.access.get_key_result_for_member, annotated as a check-in row needs it
    (`row_for` then builds the row without a second query). `light`: only the KPI's latest
    value and period, for a POST that sets the last check-in's fields itself once saved
    (`fill_last_checkin` reads them when it is refused): seven correlated subqueries less
    to build and run."""
    annotations = _row_annotations(week_start_for(request.org))
    if light:
        annotations = {k: annotations[k] for k in ("kpi_value", "kpi_period")}
    return get_key_result_for_member(request, pk, related=("objective__team", "kpi__health"),
                                     **annotations)


def fill_last_checkin(org: Organization, kr: KeyResult) -> None:
    """What `_row_annotations` gives about the last live check-in, for a key result read
    `light` (one query)."""
    last = (CheckIn.objects.filter(key_result_id=kr.pk, replaced_at__isnull=True)
            .select_related("author").order_by("-created_at", "-id").first())
    author = last.author if last else None
    kr.last_id = last.pk if last else None
    kr.last_confidence = last.confidence if last else None
    kr.last_comment = last.comment if last else ""
    kr.last_author_id = last.author_id if last else None
    kr.last_author_name = author.name if author else ""
    kr.last_author_email = author.email if author else ""
    kr.last_week = last.week_start if last else None
    kr.checked_this_week = CheckIn.objects.filter(
        key_result_id=kr.pk, week_start=week_start_for(org), replaced_at__isnull=True).exists() \
        if last else False


def get_key_results_for_checkin(request: HttpRequest, pks) -> dict[int, KeyResult]:
    """Several KRs of request.org (live, of a live objective) annotated as rows, by id, in
    one query: the rows a "check in all" POST names. Unknown or foreign ids are absent."""
    qs = (KeyResult.objects.alive()
          .filter(organization=request.org, objective__deleted_at__isnull=True,
                  pk__in=list(pks))
          .select_related("objective", "objective__cycle", "objective__team", "owner", "kpi",
                          "kpi__health")
          .annotate(**_row_annotations(week_start_for(request.org))))
    return {kr.pk: kr for kr in qs}


# --------------------------------------------------------------------------
# Rows of a check-in page


@dataclass
class CheckinRow:
    kr: KeyResult
    value: float | None            # what the KR shows: the KPI's latest value when linked
    kpi_period: dt.date | None
    progress: float
    expected: float
    pace: str                      # ahead / on_pace / behind
    status: str | None             # effective status (may be "overdue")
    checked_this_week: bool
    refusal: str | None            # why no check-in is possible (closed cycle...)
    can_check_in: bool = False
    form: object = None            # the view attaches a RowForm (okrs/checkin_forms.py)
    saved: bool = False            # just checked in (highlight)
    history_url: str = ""          # the KR's check-in history and the form's action: the
    post_url: str = ""             # view sets them (checkin_views._attach_urls)
    extra: dict = field(default_factory=dict)
    # The last live check-in (issue 19): its id (the stale-page guard), confidence, comment,
    # author and date; the suggested status and, when the person's status contradicts the
    # pace, the hint in words.
    last_id: int = 0
    last_confidence: int | None = None
    last_comment: str = ""
    last_author: str = ""
    last_at: dt.datetime | None = None
    last_mine: bool = False        # the viewer's own, this week: it may be edited or undone
    stale: bool = False            # refused: someone checked in since the page was loaded
    edit_url: str = ""
    undo_url: str = ""
    suggestion: Suggestion | None = None
    hint: str = ""

    @property
    def objective(self) -> Objective:
        return self.kr.objective

    @property
    def progress_pct(self) -> int:
        return round(self.progress * 100)

    @property
    def expected_pct(self) -> int:
        return round(self.expected * 100)

    @property
    def value_display(self) -> str:
        return format_value(self.value, self.kr.unit)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, "") if self.status else ""

    @property
    def target_display(self) -> str:
        kr = self.kr
        if kr.kind == KeyResult.Kind.MILESTONE:
            return ""
        target = format_value(kr.target_value, kr.unit)
        if kr.kind == KeyResult.Kind.GUARDRAIL:
            op = kr.guard or P.guardrail_operator(kr.start_value, kr.target_value)
            return f"stay {'≤' if op == P.AT_MOST else '≥'} {target}"
        return f"{format_value(kr.start_value, kr.unit)} → {target}"


def format_value(value: float | None, unit: str = "") -> str:
    """A key result's value as check-in pages show it (see core.formatting)."""
    return formatting.format_value(value, unit, None, grouping=formatting.NARROW_NBSP,
                                   percent_gap=" ")


def _latest_point(field_name: str):
    return Subquery(DataPoint.objects.filter(kpi_id=OuterRef("kpi_id"))
                    .order_by("-period_start").values(field_name)[:1])


def _last_checkin(field_name: str):
    return Subquery(CheckIn.objects.filter(key_result_id=OuterRef("pk"), replaced_at__isnull=True)
                    .order_by("-created_at", "-id").values(field_name)[:1])


def _row_annotations(week_start: dt.date) -> dict:
    """What a row needs beyond the KR: checked in this week, the KPI's latest value and
    period, the last live check-in's id, confidence, comment, author and week (subqueries
    of the one query)."""
    return {
        "checked_this_week": Exists(CheckIn.objects.filter(
            key_result=OuterRef("pk"), week_start=week_start, replaced_at__isnull=True)),
        "kpi_value": _latest_point("value"),
        "kpi_period": _latest_point("period_start"),
        "last_id": _last_checkin("id"),
        "last_confidence": _last_checkin("confidence"),
        "last_comment": _last_checkin("comment"),
        "last_author_id": _last_checkin("author_id"),
        "last_author_name": _last_checkin("author__name"),
        "last_author_email": _last_checkin("author__email"),
        "last_week": _last_checkin("week_start"),
    }


PAGE_ORDER = ("objective__cycle__start", "objective__order", "objective_id", "order", "id")


def _page_krs(org: Organization, today: dt.date) -> QuerySet:
    """Live KRs of active objectives in the open cycles that contain `today`."""
    return (KeyResult.objects.alive()
            .filter(organization=org, objective__deleted_at__isnull=True,
                    objective__state=Objective.State.ACTIVE,
                    objective__cycle__state=Cycle.State.OPEN,
                    objective__cycle__start__lte=today, objective__cycle__end__gte=today))


def checkin_queryset(org: Organization, *, today: dt.date, week_start: dt.date) -> QuerySet:
    """Live KRs of active objectives in the open cycles that contain `today`, annotated with
    what a row needs (one query)."""
    return (
        _page_krs(org, today)
        .select_related("objective", "objective__cycle", "objective__team", "owner", "kpi",
                        "kpi__health")
        .annotate(**_row_annotations(week_start))
        .order_by(*PAGE_ORDER)
    )


def page_key_result_ids(org: Organization, *, team: Team | None = None, user=None,
                        now: dt.datetime | None = None) -> list[int]:
    """The ids of the rows of a team's page (or of `user`'s "My check-ins"), in the page's
    order: one light query (no annotations), for a POST that already holds the rows."""
    _now, today, _week = _context(org, now)
    qs = _page_krs(org, today)
    qs = qs.filter(objective__team=team) if team is not None else qs.filter(owner=user)
    return list(qs.order_by(*PAGE_ORDER).values_list("pk", flat=True))


def _author_name(kr: KeyResult) -> str:
    name = getattr(kr, "last_author_name", None)
    email = getattr(kr, "last_author_email", None) or ""
    return name or email.split("@")[0]


def build_row(kr: KeyResult, *, today: dt.date, now: dt.datetime,
              user_id: int | None = None, tz=None) -> CheckinRow:
    cycle = kr.objective.cycle
    if kr.kpi_id is not None:
        value = kr.kpi_value if kr.kpi_value is not None else kr.current_value
        kpi_period = kr.kpi_period
    elif kr.kind == KeyResult.Kind.MILESTONE:
        value, kpi_period = (1.0 if kr.done else 0.0), None
    else:
        value, kpi_period = kr.current_value, None
    prog = P.kr_progress(kr_input(kr, current=value))
    expected = P.expected_progress(cycle.start, cycle.end, today)
    status = P.effective_status(kr.status, kr.last_checkin_at, now, since=kr.created_at,
                                closed=cycle.is_closed)
    pace = P.pace(prog, expected)
    author = _author_name(kr)
    week = today - dt.timedelta(days=today.weekday())
    row = CheckinRow(
        kr=kr, value=value, kpi_period=kpi_period, progress=prog, expected=expected,
        pace=pace, status=status,
        checked_this_week=bool(getattr(kr, "checked_this_week", False)),
        refusal=refusal_reason(kr),
        last_id=getattr(kr, "last_id", None) or 0,
        last_confidence=getattr(kr, "last_confidence", None),
        last_comment=getattr(kr, "last_comment", None) or "",
        last_author=author, last_at=kr.last_checkin_at,
        last_mine=bool(user_id and getattr(kr, "last_author_id", None) == user_id
                       and getattr(kr, "last_week", None) == week),
        suggestion=suggest_for_kr(kr, progress=prog, expected=expected))
    if kr.status and kr.last_checkin_at:
        on = kr.last_checkin_at.astimezone(tz or kr.organization.tz).date()
        row.hint = disagreement(kr.status, pace, label=STATUS_LABELS.get(kr.status, ""),
                                author=author or None, on=on)
    return row


def _context(org: Organization, now: dt.datetime | None):
    now = now or timezone.now()
    today = now.astimezone(org.tz).date()
    return now, today, week_start_for(org, now)


def team_checkin_rows(org: Organization, team: Team, *, now: dt.datetime | None = None,
                      user_id: int | None = None) -> list[CheckinRow]:
    """Every KR of the team's active objectives in the current cycle(s). One query."""
    now, today, week = _context(org, now)
    qs = checkin_queryset(org, today=today, week_start=week).filter(objective__team=team)
    return [build_row(kr, today=today, now=now, user_id=user_id, tz=org.tz) for kr in qs]


def my_checkin_rows(org: Organization, user, *, now: dt.datetime | None = None
                    ) -> list[CheckinRow]:
    """The KRs `user` owns across teams (current cycle, active objectives). One query."""
    now, today, week = _context(org, now)
    qs = checkin_queryset(org, today=today, week_start=week).filter(owner=user)
    return [build_row(kr, today=today, now=now, user_id=user.pk, tz=org.tz) for kr in qs]


def row_for(org: Organization, kr: KeyResult, *, now: dt.datetime | None = None,
            user_id: int | None = None) -> CheckinRow:
    """The row of one KR read by `get_key_result_for_checkin` (whatever its cycle): no query.
    Used for the KR's page and to re-render a row after a POST (checkin_create updates the
    KR it is given in place, so the row shows the new value without reading it again)."""
    now, today, _ = _context(org, now)
    return build_row(kr, today=today, now=now, user_id=user_id, tz=org.tz)


# --------------------------------------------------------------------------
# Completion per team and week


@dataclass(frozen=True)
class Completion:
    week_start: dt.date
    total: int
    done: int

    @property
    def share(self) -> float | None:
        return self.done / self.total if self.total else None

    @property
    def pct(self) -> int | None:
        return round(self.share * 100) if self.total else None


@dataclass(frozen=True)
class TeamCompletion(Completion):
    team: Team | None = None


def _counted_krs(org: Organization, week_start: dt.date) -> QuerySet:
    """KRs that count for a week: live, of a live non-draft team objective whose cycle
    overlaps the week."""
    week_end = week_start + dt.timedelta(days=6)
    return KeyResult.objects.alive().filter(
        organization=org, objective__deleted_at__isnull=True,
        objective__team__isnull=False,
        objective__state__in=[Objective.State.ACTIVE, Objective.State.CLOSED],
        objective__cycle__start__lte=week_end, objective__cycle__end__gte=week_start)


def team_completion(org: Organization, week_start: dt.date | None = None
                    ) -> list[TeamCompletion]:
    """Per team of `org`: how many of its KRs were checked in during the week starting
    `week_start` (default: this week in the org's time zone). Two queries: the teams and
    one aggregate. Teams without KRs that week have total 0 (share None)."""
    if week_start is None:
        week_start = week_start_for(org)
    counts = {
        row["objective__team_id"]: row
        for row in _counted_krs(org, week_start).values("objective__team_id").annotate(
            total=Count("id", distinct=True),
            done=Count("id", distinct=True, filter=Q(checkins__week_start=week_start)))
    }
    out = []
    for team in Team.objects.filter(organization=org).order_by("name"):
        row = counts.get(team.id, {"total": 0, "done": 0})
        out.append(TeamCompletion(week_start=week_start, total=row["total"], done=row["done"],
                                  team=team))
    return out


def _week_bounds(org: Organization, week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The week's first and last instant (Monday 00:00 to the next Monday 00:00, in the
    organisation's time zone)."""
    start = dt.datetime.combine(week_start, dt.time.min, tzinfo=org.tz)
    return start, start + dt.timedelta(weeks=1)


def _live_at(created_at, deleted_at, moment: dt.datetime) -> bool:
    return created_at < moment and (deleted_at is None or deleted_at >= moment)


def _computed_weeks(team: Team, starts: list[dt.date]) -> list[Completion]:
    """The team's completion in these weeks from the rows as they are now (two queries).

    A week counts the key results that were due that week (issue 14, defect 9): those of
    the team's non-draft objectives whose cycle overlaps the week and that existed at the
    week's end (created before it, not deleted before it, nor their objective), plus any
    checked in that week (an undone check-in is not one)."""
    org = team.organization
    first, last = min(starts), max(starts)
    first_start, _ = _week_bounds(org, first)
    _, last_end = _week_bounds(org, last)
    krs = list(
        KeyResult.objects.filter(
            organization=org, objective__team=team,
            objective__state__in=[Objective.State.ACTIVE, Objective.State.CLOSED],
            objective__cycle__start__lte=last + dt.timedelta(days=6),
            objective__cycle__end__gte=first, created_at__lt=last_end,
            objective__created_at__lt=last_end)
        .filter(Q(deleted_at__isnull=True) | Q(deleted_at__gte=first_start))
        .filter(Q(objective__deleted_at__isnull=True)
                | Q(objective__deleted_at__gte=first_start))
        .values_list("id", "objective__cycle__start", "objective__cycle__end", "created_at",
                     "deleted_at", "objective__created_at", "objective__deleted_at"))
    checked = set(
        CheckIn.objects.filter(key_result_id__in=[k[0] for k in krs], week_start__gte=first,
                               week_start__lte=last, undone=False)
        .order_by().values_list("key_result_id", "week_start").distinct()) if krs else set()
    out = []
    for ws in starts:
        week_end = ws + dt.timedelta(days=6)
        _, end = _week_bounds(org, ws)
        ids = [kid for kid, c_start, c_end, created, deleted, o_created, o_deleted in krs
               if c_start <= week_end and c_end >= ws
               and ((kid, ws) in checked
                    or (_live_at(created, deleted, end) and _live_at(o_created, o_deleted, end)))]
        out.append(Completion(week_start=ws, total=len(ids),
                              done=sum(1 for kid in ids if (kid, ws) in checked)))
    return out


def completion_by_week(team: Team, weeks: int = 8, *, until: dt.date | None = None
                       ) -> list[Completion]:
    """The team's completion for the `weeks` weeks ending with the week of `until`
    (default: this week), oldest first.

    A week that has ended is read from its stored row (okrs.models.WeekCompletion), so it
    never changes afterwards; one not stored yet is computed (_computed_weeks) and stored
    now. Three queries (the stored weeks, the key results, their check-ins); one more the
    first time a past week is read."""
    org = team.organization
    this_week = week_start_for(org)
    last = this_week if until is None else until - dt.timedelta(days=until.weekday())
    starts = [last - dt.timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    if not starts:
        return []
    past = [ws for ws in starts if ws < this_week]
    stored = {row.week_start: Completion(week_start=row.week_start, total=row.total,
                                         done=row.done)
              for row in WeekCompletion.objects.filter(team=team, week_start__in=past)
              } if past else {}
    todo = [ws for ws in starts if ws not in stored]
    computed = {c.week_start: c for c in _computed_weeks(team, todo)} if todo else {}
    new = [WeekCompletion(organization_id=team.organization_id, team=team,
                          week_start=c.week_start, total=c.total, done=c.done)
           for c in computed.values() if c.week_start < this_week]
    if new:
        WeekCompletion.objects.bulk_create(new, ignore_conflicts=True)
    return [stored.get(ws) or computed[ws] for ws in starts]


FROZEN_WEEKS = 8  # the longest history a page shows (the team page, the check-in page)


def freeze_past_weeks(team_ids) -> None:
    """Store the ended weeks of these teams that are not stored yet, before a write that
    would change what they are computed from (a key result's or objective's delete)."""
    for team in Team.objects.filter(pk__in=[t for t in set(team_ids) if t]):
        completion_by_week(team, FROZEN_WEEKS,
                           until=week_start_for(team.organization) - dt.timedelta(weeks=1))


# --------------------------------------------------------------------------
# History


def kr_checkins(kr: KeyResult) -> list[CheckIn]:
    """Every check-in of a KR, oldest first, with its author (one query)."""
    return list(CheckIn.objects.filter(organization_id=kr.organization_id, key_result=kr)
                .select_related("author").order_by("created_at", "id"))


@dataclass(frozen=True)
class ClosedCycle:
    """The cycle the dashboard shows, when it was closed before its end (issue 14): its key
    results take no more check-ins, so the page says so and where to go next."""

    cycle: Cycle
    closed_on: dt.date | None
    next_cycle: Cycle | None


def closed_current_cycle(org: Organization, *, now: dt.datetime | None = None
                         ) -> ClosedCycle | None:
    """None unless the cycle pages show by default (goals' one rule) is closed. The next
    cycle: the open one of the same kind starting soonest after today, else any open one
    starting after today, else an open one containing today (the year). One query."""
    from goals.selectors import cycles_for, open_cycle_on, pick_current_cycle

    now, today, _week = _context(org, now)
    cycles = cycles_for(org)
    current = pick_current_cycle(cycles, today)
    if current is None or not current.is_closed:
        return None
    later = sorted((c for c in cycles if c.state == Cycle.State.OPEN and c.start > today),
                   key=lambda c: (c.kind != current.kind, c.start))
    closed_on = current.closed_at.astimezone(org.tz).date() if current.closed_at else None
    return ClosedCycle(cycle=current, closed_on=closed_on,
                       next_cycle=later[0] if later else open_cycle_on(cycles, today))
