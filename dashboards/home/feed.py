"""The leader dashboard's "Recent changes": check-ins, KPI status changes, promotions and
objective changes, newest first, each as one sentence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

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
            return _("just now")
        return _("%(time)s ago") % {"time": timesince(self.at, depth=1)}


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
        value = pgettext("a key result's check-in", "done") if ci.done else (format_checkin_value(ci.value, kr.unit)
                                        if ci.value is not None else "")
        items.append(FeedItem(
            at=ci.created_at, kind="checkin",
            actor=ci.author.display_name if ci.author else _("Someone"),
            # The feed prints the person's name, then this text: a predicate of its own.
            text=(pgettext("feed, after a person's name", "checked in on “%(title)s”: %(value)s")
                  % {"title": kr.title, "value": value} if value else
                  pgettext("feed, after a person's name", "checked in on “%(title)s”")
                  % {"title": kr.title}),
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
            text=_objective_text(entry),
            url=links.obj("okrs:objective", entry.object_id) if entry.object_id.isdigit() else ""))
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


def _event_words() -> dict[str, str]:
    """Each new state as one whole sentence (the KPI's name is its placeholder)."""
    return {
        "on_target": _("“%(name)s” is now on target"),
        "off_target": _("“%(name)s” is now off target"),
        "no_data": _("“%(name)s” now has no data"),
        "no_target": _("“%(name)s” now has no target"),
        "candidate": _("“%(name)s” is now an improvement candidate"),
        "dismissed": _("“%(name)s” is now dismissed as a candidate"),
        "in_improvement": _("“%(name)s” is now in improvement"),
        "none": _("“%(name)s” is now not a candidate"),
        "stale": _("“%(name)s” is now stale"),
        "sustain": _("“%(name)s” is back to sustain"),
    }


def _objective_text(entry: AuditEntry) -> str:
    """An objective's audit entry as a predicate after the person's name."""
    words = {
        "created": pgettext("feed, after a person's name", "created the objective “%(title)s”"),
        "deleted": pgettext("feed, after a person's name", "deleted the objective “%(title)s”"),
    }
    text = words.get(entry.action, pgettext(
        "feed, after a person's name", "%(action)s the objective “%(title)s”")) % {
        "title": entry.object_repr, "action": entry.action}
    return f"{text} ({entry.note})" if entry.note else text


def _event_text(ev: HealthEvent) -> str:
    name = ev.kpi.name
    after_name = "feed, after a person's name"
    if ev.kind == "loop":  # kpis.loop: one event per change of the loop state
        if ev.new == "in_improvement":
            return _("“%(name)s” is now in improvement") % {"name": name}
        if ev.new == "dismissed":
            return pgettext(after_name, "dismissed “%(name)s” as an improvement candidate") % {
                "name": name}
        if ev.new == "none":
            return (_("“%(name)s” is back to business as usual") if ev.old == "in_improvement"
                    else _("“%(name)s” is back in sustain")) % {"name": name}
    if ev.kind == "promoted":
        return pgettext(after_name, "promoted “%(name)s” into an improvement OKR") % {
            "name": name}
    if ev.kind == "sustain":
        return _("“%(name)s” is back to business as usual") % {"name": name}
    if ev.kind == "candidate" and ev.new == "dismissed":
        return pgettext(after_name, "dismissed “%(name)s” as an improvement candidate") % {
            "name": name}
    sentence = _event_words().get(ev.new)
    if sentence is None:
        return _("“%(name)s” is now %(state)s") % {"name": name,
                                                   "state": ev.new.replace("_", " ")}
    return sentence % {"name": name}
