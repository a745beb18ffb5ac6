"""The weekly leader digest: what it says (``build``), how it reads (``render``: HTML and
plain text) and its sending (``digests_send``: once per leader and week, at the organisation's
chosen weekday and hour, local time).

Everything comes from the selectors of goals, okrs and kpis (activity may not import
dashboards): goal and pillar progress and objectives behind pace from the stored figures
(okrs.selectors.cycle_progress), KPI signals and candidates from the KPI health rows, check-in
completion by team from okrs.checkins.selectors.team_completion. Only this organisation's
rows are read: the digest is built once per organisation and sent to each of its leaders.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts.locale import language_for
from accounts.models import Membership, Organization, Role
from activity import mail
from activity.models import DigestLog, DigestSchedule
from activity.preferences import Kind, choices_of_many
from goals.selectors import active_goal, current_cycle, pillars_for
from kpis.models import HealthEvent, Kpi, KpiHealth
from okrs import progress as P
from okrs.checkins.selectors import team_completion
from okrs.checkins.services import week_start_for
from okrs.selectors import cycle_progress

logger = logging.getLogger(__name__)
LEADER_ROLES = [Role.LEADER, Role.ADMIN, Role.OWNER]
LIST_LIMIT = 15


@dataclass
class Digest:
    week_start: dt.date
    cycle: object = None
    goal: object = None
    goal_pct: int | None = None
    expected_pct: int | None = None
    pillars: list = field(default_factory=list)      # (name, pct)
    behind: list = field(default_factory=list)       # (title, pct, expected_pct, url)
    behind_more: int = 0
    signals: list = field(default_factory=list)      # (name, words, url)
    candidates: list = field(default_factory=list)   # (name, reason, url, new)
    teams: list = field(default_factory=list)        # (name, done, total, pct)


def _abs(org: Organization, name: str, **kwargs) -> str:
    return settings.SITE_URL + reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def build(org: Organization, *, now: dt.datetime | None = None) -> Digest:
    now = now or timezone.now()
    week = week_start_for(org, now)
    d = Digest(week_start=week)
    d.cycle = current_cycle(org)
    d.goal = active_goal(org)
    if d.cycle is not None:
        cp = cycle_progress(organization=org, cycle=d.cycle)
        d.expected_pct = cp.expected_pct
        pillars = list(pillars_for(org))
        if pillars:
            values = cp.pillar_progress([p.pk for p in pillars])
            d.pillars = [(p.name, round(values.get(p.pk, 0.0) * 100)) for p in pillars]
            if d.goal is not None:
                d.goal_pct = round(P.goal_progress(values.values()) * 100)
        behind = [r for r in cp.rows if r.objective.state == "active" and r.pace == "behind"]
        behind.sort(key=lambda r: r.progress - r.expected)
        d.behind = [(r.objective.title, r.pct, r.expected_pct,
                     _abs(org, "okrs:objective", pk=r.objective.pk))
                    for r in behind[:LIST_LIMIT]]
        d.behind_more = max(0, len(behind) - LIST_LIMIT)
    signals = (Kpi.objects.filter(organization=org)
               .filter(Q(health__has_unfavourable_signal=True)
                       | Q(health__status=KpiHealth.Status.OFF_TARGET))
               .select_related("health").order_by("name")[:LIST_LIMIT])
    for kpi in signals:
        words = []
        if kpi.health.status == KpiHealth.Status.OFF_TARGET:
            words.append("off target")
        if kpi.health.has_unfavourable_signal:
            words.append("an unfavourable signal")
        d.signals.append((kpi.name, " and ".join(words),
                          _abs(org, "kpis:detail", pk=kpi.pk)))
    new_ids = set(HealthEvent.objects.filter(
        kpi__organization=org, kind="loop", new=KpiHealth.Candidate.CANDIDATE,
        created_at__gte=now - dt.timedelta(days=7)).values_list("kpi_id", flat=True))
    candidates = (Kpi.objects.filter(organization=org,
                                     health__candidate=KpiHealth.Candidate.CANDIDATE)
                  .select_related("health").order_by("name")[:LIST_LIMIT])
    d.candidates = [(k.name, k.health.candidate_reason, _abs(org, "kpis:detail", pk=k.pk),
                     k.pk in new_ids) for k in candidates]
    d.teams = [(t.team.name, t.done, t.total, t.pct) for t in team_completion(org, week)
               if t.total]
    return d


def render(org: Organization, user, data: Digest) -> tuple[str, str]:
    ctx = {"org": org, "user": user, "d": data,
           "dashboard_url": _abs(org, "dashboards:home"),
           "preferences_url": _abs(org, "activity:preferences")}
    with translation.override(language_for(user, org)):  # the recipient's language
        return (render_to_string("emails/digest.html", ctx),
                render_to_string("emails/digest.txt", ctx))


def digest_due(org: Organization, schedule: DigestSchedule | None,
               now: dt.datetime) -> dt.date | None:
    """The Monday of this week once the digest's moment (weekday, hour; local) has come."""
    weekday, hour = (schedule.weekday, schedule.hour) if schedule else (0, 8)
    local = now.astimezone(org.tz)
    week = local.date() - dt.timedelta(days=local.weekday())
    due = dt.datetime.combine(week + dt.timedelta(days=weekday), dt.time(hour), tzinfo=org.tz)
    return week if local >= due else None


def digests_send(*, organization_id: int, now: dt.datetime | None = None) -> int:
    """Send this week's digest to each leader (and admin, owner) of the organisation who keeps
    it on (preference "digest", e-mail), once per week: a DigestLog row is written in the
    same transaction as the hand-over to the mail backend, so a re-run sends nothing twice
    and a failed send is retried by the next run. Returns the number sent."""
    now = now or timezone.now()
    org = Organization.objects.get(pk=organization_id)
    week = digest_due(org, DigestSchedule.objects.filter(organization=org).first(), now)
    if week is None:
        return 0
    leaders = [m.user for m in Membership.objects.filter(
        organization=org, role__in=LEADER_ROLES, suspended_at__isnull=True,
        user__is_active=True).select_related("user")]
    done = set(DigestLog.objects.filter(organization=org, week_start=week)
               .values_list("user_id", flat=True))
    prefs = choices_of_many([u.pk for u in leaders], org.pk, Kind.DIGEST)
    todo = [u for u in leaders if u.pk not in done and prefs[u.pk][1]]
    if not todo:
        return 0
    data = build(org, now=now)
    sent = 0
    for user in todo:
        html, text = render(org, user, data)
        with translation.override(language_for(user, org)):  # the recipient's language
            subject = translation.gettext("Weekly digest, week of %(week)s (%(org)s)") % {
                "week": date_format(week, "j F Y"), "org": org.name}
        try:
            with transaction.atomic():
                DigestLog.objects.create(organization=org, user=user, week_start=week)
                mail.send_rendered(subject=subject, to=user.email, text=text, html=html)
        except IntegrityError:
            continue
        except Exception:
            logger.exception("Digest to user %s (org %s) failed; will retry", user.pk, org.pk)
            continue
        sent += 1
    return sent
