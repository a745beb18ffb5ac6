"""Slack and Microsoft Teams messages from outbox events.

Both platforms take a JSON POST to an incoming-webhook URL the admin pastes in:

- Slack: ``{"text": <fallback>, "blocks": [header, section (mrkdwn), context, actions]}``
  following the Block Kit reference (docs.slack.dev/reference/block-kit/blocks: a header's
  plain_text at most 150 characters, a section's text at most 3,000, a button's text at most 75
  and its url at most 3,000; at most 50 blocks). Text from people is escaped (&, <, >: Slack's
  markup, so a KPI called "<!channel>" pings nobody).
- Teams: the message envelope of "Send Adaptive Cards using an Incoming Webhook"
  (learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/
  connectors-using#send-adaptive-cards-using-an-incoming-webhook):
  ``{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": <AdaptiveCard
  1.4: TextBlocks, FactSet, Action.OpenUrl>}]}``.

tests/schemas/ holds the JSON Schemas of the parts used; tests/test_chat.py checks every
message against them.

Texts are in the organisation's language (accounts.locale.language_for(organization=...)):
``payload_for`` renders under ``translation.override``; the weekly digest's title and lines are
written in it when the event is emitted.

What a connection can choose (ChatConnection.EVENT_CHOICES) and the event kinds behind it are
in ``CHAT_EVENTS``. A connection for a team gets only the events of that team's objectives,
key results and KPIs (the event data's ``team_id``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _

from accounts.locale import language_for
from accounts.models import Organization
from activity.models import ChatConnection, Delivery
from activity.webhooks import clean_outbound_url
from core import secrets
from core.models import OutboxEvent
from core.outbound import post

TIMEOUT_SECONDS = 10.0

# choice → event kinds
CHAT_EVENTS: dict[str, tuple[str, ...]] = {
    "candidate": ("kpi.candidate_flagged",),
    "kpi_off": ("kpi.health_changed",),
    "digest": ("digest.weekly",),
    "checkin_summary": ("checkins.summary",),
    "checkins": ("checkin.created",),
}
# Hosts the pages say are expected; others are accepted (self-hosted proxies) with a warning.
KNOWN_HOSTS = {ChatConnection.SLACK: ("hooks.slack.com",),
               ChatConnection.TEAMS: (".webhook.office.com", ".logic.azure.com",
                                      ".powerplatform.com")}

UNFAVOURABLE = {"off_target"}


def _wanted(event: OutboxEvent, choice: str) -> bool:
    if event.kind not in CHAT_EVENTS.get(choice, ()):
        return False
    if event.kind == "kpi.health_changed":
        data = event.data or {}
        return data.get("status") in UNFAVOURABLE or bool(data.get("unfavourable_signal"))
    return True


def connections_for(event: OutboxEvent) -> list[ChatConnection]:
    if event.kind == "webhook.test":
        return []
    team_id = (event.data or {}).get("team_id")
    found = []
    for conn in ChatConnection.objects.filter(organization_id=event.organization_id,
                                              enabled=True).order_by("id"):
        if conn.team_id is not None and conn.team_id != team_id:
            continue
        if any(_wanted(event, choice) for choice in conn.events or []):
            found.append(conn)
    return found


# --- The message, platform-neutral ------------------------------------------------------------

@dataclass
class Message:
    title: str
    text: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    link: str = ""
    link_label: str = ""  # "Open in Headway" (in the active language) when empty


def _link(name: str, org_slug: str, **kwargs) -> str:
    try:
        return settings.SITE_URL + reverse(name, kwargs={"org_slug": org_slug, **kwargs})
    except NoReverseMatch:
        return settings.SITE_URL + "/"


def _num(value) -> str:
    if isinstance(value, float):
        return f"{value:,.10g}"
    return str(value) if value is not None else "—"


def _kr_status(code) -> str:
    from okrs.models import Status

    return str(dict(Status.choices).get(code, str(code or "").replace("_", " ")))


def _kpi_status(code) -> str:
    from kpis.models import KpiHealth

    return str(dict(KpiHealth.Status.choices).get(code, str(code or "").replace("_", " ")))


def _and_more(text: str, more) -> str:
    return _("%(list)s and %(count)s more") % {"list": text, "count": more} if more else text


def _week_label(data: dict) -> str:
    import datetime as dt

    try:
        return formats.date_format(dt.date.fromisoformat(data["week_start"]), "DATE_FORMAT")
    except (KeyError, TypeError, ValueError):
        return str(data.get("week_label", ""))


def message_for(event: OutboxEvent, org: Organization) -> Message:
    """The event as a platform-neutral message, in the active language (payload_for sets the
    organisation's). Names and notes from people are kept as written."""
    data = event.data or {}
    slug = org.slug
    if event.kind == "kpi.candidate_flagged":
        return Message(
            title=_("New improvement candidate: %(kpi)s") % {
                "kpi": data.get("kpi_name") or _("a KPI")},
            text=data.get("reason") or _("A KPI was flagged for improvement."),
            facts=[(_("Organisation"), org.name)],
            link=_link("kpis:detail", slug, pk=data.get("kpi_id", 0)),
            link_label=_("Open the KPI"))
    if event.kind == "kpi.health_changed":
        kpi = data.get("kpi_name") or _("A KPI")
        title = (_("%(kpi)s: %(status)s") % {"kpi": kpi, "status": _kpi_status(data["status"])}
                 if data.get("status") else _("%(kpi)s: its health changed") % {"kpi": kpi})
        return Message(
            title=title,
            text=data.get("message") or _("Its health changed."),
            facts=[(_("Latest value"), _num(data.get("latest_value"))),
                   (_("Previous status"), _kpi_status(data.get("previous_status")))],
            link=_link("kpis:detail", slug, pk=data.get("kpi_id", 0)),
            link_label=_("Open the KPI"))
    if event.kind == "checkin.created":
        facts = [(_("Value"), _num(data.get("value")))]
        if data.get("confidence"):
            facts.append((_("Confidence"), str(data["confidence"])))
        return Message(
            title=_("Check-in: %(kr)s") % {"kr": data.get("key_result_title") or _("a key result")},
            text=(data.get("note") or "").strip() or _("%(name)s checked in.") % {
                "name": data.get("author_name") or _("Someone")},
            facts=[(_("Checked in by"), str(data.get("author_name", "")))] + facts,
            link=_link("okrs:objective", slug, pk=data.get("objective_id", 0)),
            link_label=_("Open the objective"))
    if event.kind == "checkins.summary":
        done, total = data.get("done", 0), data.get("total", 0)
        lines = [_("%(done)s of %(total)s key results checked in.") % {"done": done,
                                                                        "total": total}]
        if data.get("checked"):
            lines.append(_("Checked in: %(list)s") % {"list": _and_more("; ".join(
                f"{c.get('title', '')} ({_kr_status(c.get('status'))})"
                for c in data["checked"][:10]), data.get("checked_more"))})
        if data.get("missing"):
            lines.append(_("Not checked in: %(list)s") % {"list": _and_more(
                "; ".join(data["missing"][:10]), data.get("missing_more"))})
        return Message(
            title=_("%(team)s: check-ins, week of %(week)s") % {
                "team": data.get("team_name") or _("A team"), "week": _week_label(data)},
            text="\n".join(lines),
            facts=[(_("Checked in"), f"{done}/{total}")],
            link=data.get("url") or settings.SITE_URL + "/", link_label=_("Open the team"))
    if event.kind == "digest.weekly":
        return Message(
            title=data.get("title") or _("%(org)s: the week in Headway") % {"org": org.name},
            text="\n".join(str(x) for x in data.get("lines", [])) or _("Nothing new."),
            link=data.get("url") or settings.SITE_URL + "/")
    return Message(title=f"Headway: {event.kind}", text=data.get("message", ""),
                   link=settings.SITE_URL + "/")


def _label(message: Message) -> str:
    return message.link_label or _("Open in Headway")


# --- Slack Block Kit ---------------------------------------------------------------------------

def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    text = str(text).replace("\x00", "")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def slack_payload(message: Message) -> dict:
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(_slack_escape(message.title), 150),
                                    "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": _cut(_slack_escape(message.text) or "—", 3000)}},
    ]
    if message.facts:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": _cut(f"*{_slack_escape(k)}*\n{_slack_escape(v)}", 2000)}
            for k, v in message.facts[:10]]})
    if message.link:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text",
                                        "text": _cut(_slack_escape(_label(message)), 75)},
             "url": _cut(message.link, 3000), "action_id": "open"}]})
    fallback = _slack_escape(f"{message.title}: {message.text}")
    return {"text": _cut(fallback, 3000), "blocks": blocks}


# --- Teams Adaptive Card -----------------------------------------------------------------------

def teams_payload(message: Message) -> dict:
    body: list[dict] = [
        {"type": "TextBlock", "text": _cut(message.title, 500), "weight": "Bolder",
         "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": _cut(message.text or "—", 5000), "wrap": True},
    ]
    if message.facts:
        body.append({"type": "FactSet", "facts": [
            {"title": _cut(k, 100), "value": _cut(v, 1000)} for k, v in message.facts[:10]]})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard", "version": "1.4", "body": body}
    if message.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": _cut(_label(message), 75),
                            "url": message.link}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": card}]}


def payload_for(connection: ChatConnection, event: OutboxEvent) -> dict:
    """The message for the connection's platform, in its organisation's language."""
    org = connection.organization
    with translation.override(language_for(organization=org)):
        if event.kind == "webhook.test":
            message = Message(
                title=_("Headway is connected"),
                text=_("This channel will get the events %(org)s chose.") % {"org": org.name},
                link=settings.SITE_URL + "/")
        else:
            message = message_for(event, org)
        if connection.platform == ChatConnection.SLACK:
            return slack_payload(message)
        return teams_payload(message)


def send(delivery: Delivery):
    import json

    connection, event = delivery.chat, delivery.event
    body = json.dumps(payload_for(connection, event), ensure_ascii=False).encode()
    return post(connection.url(), body, headers={"content-type": "application/json"},
                timeout=TIMEOUT_SECONDS, user_agent="Headway chat")


# --- Services for the pages --------------------------------------------------------------------

def clean_url(raw, platform: str) -> str:
    return clean_outbound_url(
        raw, empty="Paste the channel's incoming-webhook URL.",
        scheme="Only https:// (or http://) incoming-webhook URLs can be used.")


def clean_events(raw) -> list[str]:
    valid = dict(ChatConnection.EVENT_CHOICES)
    chosen = [str(c) for c in (raw or [])]
    if any(c not in valid for c in chosen):
        raise ValidationError(_("Unknown event choice."))
    if not chosen:
        raise ValidationError(_("Choose at least one kind of message."))
    return [c for c in valid if c in chosen]


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "")[:255]


def expected_host(url: str, platform: str) -> bool:
    host = host_of(url)
    return any(host == h or (h.startswith(".") and host.endswith(h))
               for h in KNOWN_HOSTS.get(platform, ()))


@transaction.atomic
def connection_create(*, organization, actor, platform: str, name: str, url: str,
                      events: list[str], team=None) -> ChatConnection:
    return ChatConnection.objects.create(
        organization=organization, team=team, platform=platform, name=name,
        url_encrypted=secrets.encrypt(url), url_host=host_of(url), events=events,
        created_by=actor)


@transaction.atomic
def connection_update(*, connection: ChatConnection, name: str, events: list[str], team=None,
                      url: str = "") -> ChatConnection:
    conn = ChatConnection.objects.select_for_update().get(pk=connection.pk)
    conn.name, conn.events, conn.team = name, events, team
    fields = ["name", "events", "team"]
    if url:
        conn.url_encrypted, conn.url_host = secrets.encrypt(url), host_of(url)
        fields += ["url_encrypted", "url_host"]
    conn.save(update_fields=fields)
    return conn


@transaction.atomic
def connection_set_enabled(*, connection: ChatConnection, enabled: bool) -> ChatConnection:
    conn = ChatConnection.objects.select_for_update().get(pk=connection.pk)
    conn.enabled = enabled
    if enabled:
        conn.disabled_reason, conn.consecutive_failures = "", 0
    else:
        conn.disabled_reason = "Disabled by an administrator."
    conn.save(update_fields=["enabled", "disabled_reason", "consecutive_failures"])
    return conn


# --- The weekly digest in chat -----------------------------------------------------------------

def digest_lines(data) -> list[str]:
    """activity.digest's weekly figures as short lines for a chat message (in the active
    language: chat_digest_emit sets the organisation's)."""
    lines = []
    if data.goal_pct is not None:
        lines.append(_("Goal: %(pct)s %% (expected %(expected)s %%)") % {
            "pct": data.goal_pct, "expected": data.expected_pct}
            if data.expected_pct is not None else _("Goal: %(pct)s %%") % {"pct": data.goal_pct})
    if data.behind:
        lines.append(_("Behind pace: %(list)s") % {"list": _and_more(", ".join(
            f"{t} ({p} %)" for t, p, _e, _u in data.behind[:5]), data.behind_more)})
    if data.signals:
        lines.append(_("KPI signals: %(list)s") % {
            "list": ", ".join(f"{n} ({w})" for n, w, _u in data.signals[:5])})
    new = [n for n, _r, _u, is_new in data.candidates if is_new]
    if new:
        lines.append(_("New improvement candidates: %(list)s") % {"list": ", ".join(new[:5])})
    if data.teams:
        lines.append(_("Check-ins this week: %(list)s") % {"list": ", ".join(
            f"{name} {done}/{total}" for name, done, total, _p in data.teams[:10])})
    return lines or [_("Nothing needs attention this week.")]


def chat_digest_emit(*, organization_id: int, now=None) -> bool:
    """Once a week, at the organisation's digest moment (activity.digest.digest_due), write one
    ``digest.weekly`` event for its chat connections that chose the weekly digest. Once per
    week: the organisation's row is locked and an event of this week stops a second one."""
    from django.utils import timezone

    from activity import digest
    from activity.models import DigestSchedule
    from core.events import emit

    now = now or timezone.now()
    if not any("digest" in (events or []) for events in ChatConnection.objects.filter(
            organization_id=organization_id, enabled=True).values_list("events", flat=True)):
        return False
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization_id)
        week = digest.digest_due(org, DigestSchedule.objects.filter(organization=org).first(),
                                 now)
        if week is None or OutboxEvent.objects.filter(
                organization_id=org.pk, kind="digest.weekly",
                data__week_start=week.isoformat()).exists():
            return False
        data = digest.build(org, now=now)
        with translation.override(language_for(organization=org)):
            title = _("%(org)s: the week of %(week)s") % {
                "org": org.name, "week": formats.date_format(week, "DATE_FORMAT")}
            lines = digest_lines(data)
        emit(org.pk, "digest.weekly", {
            "week_start": week.isoformat(), "title": title,
            "lines": lines, "url": f"{settings.SITE_URL}/o/{org.slug}/"})
    return True


# --- A team's weekly check-in summary ----------------------------------------------------------

SUMMARY_ROWS = 10


def _summary_data(org: Organization, team, week) -> dict:
    """The check-ins of the team's key results in the week starting ``week``: how many of the
    key results due were checked in, which (with their status) and which not."""
    from okrs.checkins.selectors import _counted_krs
    from okrs.models import CheckIn

    krs = list(_counted_krs(org, week).filter(objective__team=team)
               .order_by("objective_id", "id").values("id", "title"))
    latest: dict[int, str] = {}
    for kr_id, status in (CheckIn.objects.filter(
            organization=org, key_result_id__in=[k["id"] for k in krs], week_start=week,
            replaced_at__isnull=True, undone=False)
            .order_by("key_result_id", "created_at", "id").values_list("key_result_id", "status")):
        latest[kr_id] = status
    checked = [{"title": k["title"][:120], "status": latest[k["id"]]} for k in krs
               if k["id"] in latest]
    missing = [k["title"][:120] for k in krs if k["id"] not in latest]
    return {
        "team_id": team.pk, "team_name": team.name, "week_start": week.isoformat(),
        "week_label": f"{week:%-d %B %Y}", "done": len(checked), "total": len(krs),
        "checked": checked[:SUMMARY_ROWS], "checked_more": max(0, len(checked) - SUMMARY_ROWS),
        "missing": missing[:SUMMARY_ROWS], "missing_more": max(0, len(missing) - SUMMARY_ROWS),
        "url": _link("checkins:team", org.slug, team=team.slug),
    }


def chat_summaries_emit(*, organization_id: int, now=None) -> int:
    """Once a week per team, at the organisation's digest moment (activity.digest.digest_due),
    one ``checkins.summary`` event for the week that has just ended (the check-in window is
    the week, Monday to Sunday in the organisation's time zone), for the teams a connection
    that chose "checkin_summary" covers (its own team, or every team for an organisation-wide
    connection). Teams with no key result due that week get none. Once per team and week:
    ``ChatSummaryLog``'s unique key, written with the event in one transaction."""
    import datetime as dt

    from django.db import IntegrityError
    from django.utils import timezone

    from accounts.models import Team
    from activity import digest
    from activity.models import ChatSummaryLog, DigestSchedule
    from core.events import emit

    now = now or timezone.now()
    conns = [c for c in ChatConnection.objects.filter(organization_id=organization_id,
                                                      enabled=True)
             if "checkin_summary" in (c.events or [])]
    if not conns:
        return 0
    org = Organization.objects.get(pk=organization_id)
    this_week = digest.digest_due(org, DigestSchedule.objects.filter(organization=org).first(),
                                  now)
    if this_week is None:
        return 0
    week = this_week - dt.timedelta(weeks=1)
    teams = Team.objects.filter(organization=org).order_by("name")
    if all(c.team_id for c in conns):
        teams = teams.filter(pk__in=[c.team_id for c in conns])
    done = set(ChatSummaryLog.objects.filter(organization=org, week_start=week)
               .values_list("team_id", flat=True))
    written = 0
    for team in teams:
        if team.pk in done:
            continue
        data = _summary_data(org, team, week)
        if not data["total"]:
            continue
        try:
            with transaction.atomic():
                event = emit(org.pk, "checkins.summary", data)
                ChatSummaryLog.objects.create(organization=org, team=team, week_start=week,
                                              event_id=event.id)
        except IntegrityError:  # another run wrote it meanwhile
            continue
        written += 1
    return written
