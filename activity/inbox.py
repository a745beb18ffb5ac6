"""The inbox ("Needs you") of one person in one organisation: the reads.

What needs the person is partly computed (it goes away when they act: a check-in recorded, a
candidate decided, fresh data) and partly stored (mentions, replies, notices: read or not).
Each part is one query whatever the organisation's size; each entry links to the place to act,
and only entries whose action the person's role allows are listed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import Invitation, Membership, Organization, Role
from activity.models import Notification
from kpis.models import Kpi, KpiHealth
from okrs.checkins.selectors import my_checkin_rows
from okrs.models import Status

RECENT_READ = 10  # read entries still listed under the unread ones
LIST_LIMIT = 50   # per section: the page stays short in a large organisation


@dataclass(frozen=True)
class Entry:
    kind: str       # checkin, candidate, stale, source, invitation, mention, reply, ...
    text: str
    url: str
    action: str     # the link's words: what the person does there
    notification: Notification | None = None
    invitation: Invitation | None = None  # an invitation to the person: its action is a POST

    @property
    def unread(self) -> bool:
        return self.notification is None or self.notification.read_at is None


@dataclass
class Inbox:
    todo: list[Entry]
    unread: list[Entry]
    read: list[Entry]

    @property
    def count(self) -> int:
        return len(self.todo) + len(self.unread)


def _url(org: Organization, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _due_checkins(org: Organization, user, membership: Membership, now) -> list[Entry]:
    """Key results the person owns that wait for this week's check-in (one query). A viewer
    never checks in, so a viewer has none."""
    if not membership.has_role(Role.MEMBER):
        return []
    rows = [r for r in my_checkin_rows(org, user, now=now)
            if not r.kr.checked_this_week and r.kr.status != Status.ACCOMPLISHED]
    return [Entry("checkin", _("Check in on “%(title)s” this week") % {"title": r.kr.title},
                  _url(org, "checkins:kr", pk=r.kr.pk), _("Check in"))
            for r in rows[:LIST_LIMIT]]


def _candidates(org: Organization, membership: Membership) -> list[Entry]:
    """Improvement candidates waiting for a decision: leaders and above decide (one query)."""
    if not membership.has_role(Role.LEADER):
        return []
    kpis = (Kpi.objects.filter(organization=org, health__candidate=KpiHealth.Candidate.CANDIDATE)
            .only("id", "name").order_by("name")[:LIST_LIMIT])
    return [Entry("candidate", _("“%(name)s” is an improvement candidate: promote or dismiss it")
                  % {"name": k.name}, _url(org, "kpis:detail", pk=k.pk), _("Decide")) for k in kpis]


def _my_kpis(org: Organization, user, membership: Membership) -> list[Entry]:
    """KPIs the person owns whose data is stale or whose data source fails (one query).

    Stale data: a member adds the value (kpis.access.can_add_data: the owner may); a viewer
    cannot, so a viewer's inbox does not list it. A failing source: admins fix it on the
    source's page; anyone else who owns the KPI is told, with the KPI's page to look at.
    """
    if not membership.has_role(Role.MEMBER):
        return []
    kpis = (Kpi.objects.filter(organization=org, owner=user)
            .filter(Q(health__is_stale=True) | Q(feed__source__failing_since__isnull=False))
            .select_related("health", "feed__source").order_by("name")[:LIST_LIMIT])
    entries = []
    admin = membership.has_role(Role.ADMIN)
    for kpi in kpis:
        feed = getattr(kpi, "feed", None)
        source = feed.source if feed is not None else None
        if source is not None and source.failing_since is not None:
            if admin:
                entries.append(Entry("source", _("The data source “%(source)s” of “%(kpi)s” fails")
                                     % {"source": source.name, "kpi": kpi.name},
                                     _url(org, "sources:detail", pk=source.pk), _("Fix the source")))
            else:
                entries.append(Entry("source", _("The data source of “%(kpi)s” fails: an admin "
                                                 "can fix it") % {"kpi": kpi.name},
                                     _url(org, "kpis:detail", pk=kpi.pk), _("See the KPI")))
        elif kpi.health.is_stale:
            entries.append(Entry("stale", _("“%(kpi)s” has no value for its last period")
                                 % {"kpi": kpi.name}, _url(org, "kpis:detail", pk=kpi.pk),
                                 _("Add the value")))
    return entries


def _invitations(org: Organization, membership: Membership, now) -> list[Entry]:
    """Admins: invitations of this organisation that expired unaccepted (one query)."""
    if not membership.has_role(Role.ADMIN):
        return []
    expired = (Invitation.objects.filter(organization=org, accepted_at__isnull=True,
                                         revoked_at__isnull=True, expires_at__lt=now,
                                         expires_at__gte=now - dt.timedelta(days=30))
               .only("email").order_by("-expires_at")[:LIST_LIMIT])
    url = _url(org, "accounts:members")
    return [Entry("invitation", _("The invitation of %(email)s expired unaccepted")
                  % {"email": inv.email}, url, _("Invite again")) for inv in expired]


def _invitations_to_me(org: Organization, user, now) -> list[Entry]:
    """Pending invitations addressed to the person's e-mail, to organisations they are not a
    member of (one query; the same entries in each of their organisations' inboxes: they are
    the person's, not this organisation's). The action e-mails them a fresh link: the link's
    token is the proof of the mailbox (e-mail addresses of accounts are not verified), so the
    inbox never accepts an invitation itself."""
    if not getattr(user, "email", ""):
        return []
    pending = (Invitation.objects.filter(email__iexact=user.email, accepted_at__isnull=True,
                                         revoked_at__isnull=True, expires_at__gt=now)
               .exclude(organization__in=Membership.objects.filter(user=user)
                        .values("organization_id"))
               .select_related("organization", "invited_by")
               .order_by("-created_at")[:LIST_LIMIT])
    return [Entry("invitation_to_me",
                  _invitation_text(inv),
                  _url(org, "activity:invitation_send", pk=inv.pk), _("Send me the link again"),
                  invitation=inv)
            for inv in pending]


def _invitation_text(inv: Invitation) -> str:
    who = inv.invited_by.display_name if inv.invited_by else _("Someone")
    role = str(Role(inv.role).label)  # inside a sentence: lower case, German keeps its noun's capital
    if translation.get_language() != "de":
        role = role.lower()
    until = formats.date_format(timezone.localtime(inv.expires_at), "j M Y")
    return _("%(who)s invited you to join %(org)s as %(role)s (the link in the e-mail to "
             "%(email)s works until %(until)s)") % {
        "who": who, "org": inv.organization.name, "role": role, "email": inv.email,
        "until": until}


def _stored(org: Organization, user) -> tuple[list[Entry], list[Entry]]:
    """Mentions, replies and notices: unread ones, then the latest read ones (one query)."""
    rows = list(Notification.objects.filter(organization=org, user=user)
                .order_by("read_at", "-created_at", "-id")[:LIST_LIMIT + RECENT_READ])
    unread = [n for n in rows if n.read_at is None][:LIST_LIMIT]
    read = sorted((n for n in rows if n.read_at is not None), key=lambda n: n.created_at,
                  reverse=True)[:RECENT_READ]

    def entry(n: Notification) -> Entry:
        action = {"mention": _("Reply"), "reply": _("Read the thread")}.get(
            n.kind, pgettext("verb", "Open"))
        return Entry(n.kind, n.text, n.url, action, n)

    return [entry(n) for n in unread], [entry(n) for n in read]


def inbox_for(org: Organization, user, membership: Membership, *, now=None) -> Inbox:
    """Everything that needs the person (six queries at most, whatever the size)."""
    now = now or timezone.now()
    todo = (_due_checkins(org, user, membership, now) + _candidates(org, membership)
            + _my_kpis(org, user, membership) + _invitations(org, membership, now)
            + _invitations_to_me(org, user, now))
    unread, read = _stored(org, user)
    return Inbox(todo=todo, unread=unread, read=read)


def inbox_count(org: Organization, user, membership: Membership, *, now=None) -> int:
    """The number in the navigation: what is to do plus the unread entries."""
    return inbox_for(org, user, membership, now=now).count
