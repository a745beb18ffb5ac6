"""The leader dashboard's "Recent changes": check-ins, KPI status changes, promotions and
objective changes, newest first, each as one sentence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.timesince import timesince

from accounts.models import AuditEntry, Organization
from kpis.models import HealthEvent
from okrs.checkins.selectors import format_value as format_checkin_value
from okrs.models import CheckIn


@dataclass
class FeedItem:
    at: dt.datetime
    kind: str  # checkin, kpi, objective
    actor: str
    text: str
    url: str = ""
    status: str = ""

    @property
    def ago(self) -> str:
        if timezone.now() - self.at < dt.timedelta(minutes=1):
            return "just now"
        return f"{timesince(self.at, depth=1)} ago"


FEED_EACH = 8
FEED_DAYS = 35
FEED_LENGTH = 12
FEED_EVENT_KINDS = ("status", "loop", "candidate", "promoted", "sustain", "dismissed")


# What the feed reads of a person (User.display_name): only these columns are loaded.
_ACTOR_FIELDS = ("actor__name", "actor__email")


def recent_changes(org: Organization, links, *, limit: int = FEED_LENGTH) -> list[FeedItem]:
    """Check-ins, KPI status changes, promotions and objective changes (three queries,
    only the columns the feed shows)."""
    items: list[FeedItem] = []
    # Recent check-ins only: the (organization, week_start) index keeps this fast for an
    # organisation with years of history. The newest are picked from the check-ins alone
    # (a subquery) and only those joined to their key result and author: joining first
    # would join thousands of rows to sort them.
    since = timezone.localdate() - dt.timedelta(days=FEED_DAYS)
    newest = (CheckIn.objects.filter(organization=org, week_start__gte=since)
              .order_by("-created_at", "-id").values("pk")[:FEED_EACH])
    for ci in (CheckIn.objects.filter(pk__in=newest)
               .select_related("author", "key_result")
               .only("created_at", "done", "value", "status", "key_result__title",
                     "key_result__unit", "key_result__objective_id", "author__name",
                     "author__email")
               .order_by("-created_at", "-id")):  # query 1
        kr = ci.key_result
        value = "done" if ci.done else (format_checkin_value(ci.value, kr.unit)
                                        if ci.value is not None else "")
        items.append(FeedItem(
            at=ci.created_at, kind="checkin",
            actor=ci.author.display_name if ci.author else "Someone",
            text=f"checked in on “{kr.title}”" + (f": {value}" if value else ""),
            url=links.obj("okrs:objective", kr.objective_id), status=ci.status))
    for ev in (HealthEvent.objects.filter(kpi__organization=org, kind__in=FEED_EVENT_KINDS)
               .exclude(kind="status", old="")  # a KPI's first evaluation is not news
               .select_related("kpi", "actor")
               .only("created_at", "kind", "old", "new", "kpi__name", *_ACTOR_FIELDS)
               .order_by("-created_at", "-id")[:FEED_EACH]):  # query 2
        items.append(FeedItem(
            at=ev.created_at, kind="kpi", actor=ev.actor.display_name if ev.actor else "",
            text=_event_text(ev), url=links.obj("kpis:detail", ev.kpi_id), status=ev.new))
    for entry in (AuditEntry.objects.filter(organization=org, object_type="okrs.objective")
                  .exclude(action="updated").select_related("actor")
                  .only("created_at", "action", "object_id", "object_repr", "note",
                        *_ACTOR_FIELDS)
                  .order_by("-created_at", "-id")[:FEED_EACH]):  # query 3
        items.append(FeedItem(
            at=entry.created_at, kind="objective",
            actor=entry.actor.display_name if entry.actor else "",
            text=f"{entry.action} the objective “{entry.object_repr}”"
                 + (f" ({entry.note})" if entry.note else ""),
            url=links.obj("okrs:objective", entry.object_id) if entry.object_id.isdigit() else ""))
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


EVENT_WORDS = {
    "on_target": "on target", "off_target": "off target", "no_data": "no data",
    "no_target": "no target", "candidate": "an improvement candidate",
    "dismissed": "dismissed as a candidate", "in_improvement": "in improvement",
    "none": "not a candidate", "stale": "stale", "sustain": "back to sustain",
}


def _event_text(ev: HealthEvent) -> str:
    name = ev.kpi.name
    if ev.kind == "loop":  # kpis.loop: one event per change of the loop state
        if ev.new == "in_improvement":
            return f"“{name}” is now in improvement"
        if ev.new == "dismissed":
            return f"dismissed “{name}” as an improvement candidate"
        if ev.new == "none":
            return (f"“{name}” is back to business as usual" if ev.old == "in_improvement"
                    else f"“{name}” is back in sustain")
    if ev.kind == "promoted":
        return f"promoted “{name}” into an improvement OKR"
    if ev.kind == "sustain":
        return f"“{name}” is back to business as usual"
    new = EVENT_WORDS.get(ev.new, ev.new.replace("_", " "))
    if ev.kind == "candidate" and ev.new == "dismissed":
        return f"dismissed “{name}” as an improvement candidate"
    return f"“{name}” is now {new}"
