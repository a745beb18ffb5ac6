"""Weekly check-in reminders: who is due, and the e-mail sent once per owner and week."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.locale import language_for
from accounts.models import Organization, Role, role_at_least
from goals.models import Cycle
from okrs.models import KeyResult, Objective, ReminderLog, Status

logger = logging.getLogger(__name__)

# The one-click "no change this week" link of a reminder: signed (django.core.signing, its own
# salt) with the key result, the person, the organisation and the week; valid until the end of
# that week in the organisation's time zone; single use is enforced by activity.NoChangeUse.
NO_CHANGE_SALT = "headway.checkins.no-change"
NO_CHANGE_MAX_AGE = dt.timedelta(days=8)  # outer bound: a week's link never lives longer


def no_change_token(*, organization_id: int, key_result_id: int, user_id: int,
                    week_start: dt.date) -> str:
    return signing.dumps({"o": organization_id, "k": key_result_id, "u": user_id,
                          "w": week_start.isoformat()}, salt=NO_CHANGE_SALT)


class NoChangeLinkInvalid(Exception):
    """Forged, altered or garbled: not a link Headway made."""


class NoChangeLinkExpired(Exception):
    def __init__(self, week_start: dt.date | None = None):
        super().__init__("expired")
        self.week_start = week_start


def read_no_change_token(token: str, *, now: dt.datetime | None = None) -> dict:
    """{"organization_id", "key_result_id", "user_id", "week_start"} of a valid link.

    Raises NoChangeLinkInvalid (a bad signature or shape) or NoChangeLinkExpired (the week is
    over in the organisation's time zone)."""
    now = now or timezone.now()
    try:
        data = signing.loads(token, salt=NO_CHANGE_SALT,
                             max_age=NO_CHANGE_MAX_AGE.total_seconds())
        payload = {"organization_id": int(data["o"]), "key_result_id": int(data["k"]),
                   "user_id": int(data["u"]), "week_start": dt.date.fromisoformat(data["w"])}
    except signing.SignatureExpired:
        raise NoChangeLinkExpired() from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NoChangeLinkInvalid() from None
    org = Organization.objects.filter(pk=payload["organization_id"]).first()
    if org is None:
        raise NoChangeLinkInvalid()
    week_end = dt.datetime.combine(payload["week_start"] + dt.timedelta(days=7), dt.time(0),
                                   tzinfo=org.tz)
    if now >= week_end:
        raise NoChangeLinkExpired(payload["week_start"])
    payload["organization"] = org
    return payload


def no_change_url(org: Organization, kr: KeyResult, user_id: int, week: dt.date) -> str:
    token = no_change_token(organization_id=org.pk, key_result_id=kr.pk, user_id=user_id,
                            week_start=week)
    return settings.SITE_URL + reverse("no_change", kwargs={"token": token})


def reminder_week_due(org: Organization, now: dt.datetime) -> dt.date | None:
    """The Monday of the current week (org time zone) once this week's reminder moment
    (org.reminder_weekday at org.reminder_hour, local time) has come; None before it."""
    local = now.astimezone(org.tz)
    week = local.date() - dt.timedelta(days=local.weekday())
    due = dt.datetime.combine(week + dt.timedelta(days=org.reminder_weekday),
                              dt.time(org.reminder_hour), tzinfo=org.tz)
    return week if local >= due else None


def pending_checkins_by_owner(org: Organization, week: dt.date, today: dt.date
                              ) -> dict[int, list[KeyResult]]:
    """Owner id -> the KRs they have not checked in during `week`. One query.

    Counted: live KRs of live, active objectives in open cycles containing `today`, owned
    by an active user who is still at least a member of the organisation (viewers cannot
    check in). Accomplished KRs need no more check-ins.
    """
    checkable_roles = [r for r in Role.values if role_at_least(r, Role.MEMBER)]
    krs = (
        KeyResult.objects.alive()
        .filter(organization=org, owner__isnull=False, owner__is_active=True,
                owner__memberships__organization=org,
                owner__memberships__role__in=checkable_roles,
                objective__deleted_at__isnull=True, objective__state=Objective.State.ACTIVE,
                objective__cycle__state=Cycle.State.OPEN,
                objective__cycle__start__lte=today, objective__cycle__end__gte=today)
        .exclude(status=Status.ACCOMPLISHED)
        .exclude(checkins__week_start=week)
        .select_related("owner", "objective", "objective__team")
        .order_by("owner_id", "objective__order", "objective_id", "order", "id")
    )
    by_owner: dict[int, list[KeyResult]] = {}
    for kr in krs:
        by_owner.setdefault(kr.owner_id, []).append(kr)
    return by_owner


def checkin_reminders_send(*, organization_id: int, now: dt.datetime | None = None) -> int:
    """Email every owner of the org who has KRs not checked in this week, once per week.

    Does nothing before the org's reminder moment of the week. Each reminder is recorded
    in ReminderLog (unique per org, user and week) in the same transaction as the email
    is handed to the mail backend: a second run — even a concurrent one — sends nothing
    again, and a failed send leaves no record so the next run (every 15 minutes) retries.
    Returns the number of emails sent.
    """
    now = now or timezone.now()
    org = Organization.objects.get(pk=organization_id)
    week = reminder_week_due(org, now)
    if week is None:
        return 0
    today = now.astimezone(org.tz).date()
    pending = pending_checkins_by_owner(org, week, today)
    if not pending:
        return 0
    already = set(ReminderLog.objects.filter(organization=org, week_start=week,
                                             user_id__in=list(pending))
                  .values_list("user_id", flat=True))
    url = settings.SITE_URL + reverse("checkins:mine", kwargs={"org_slug": org.slug})
    sent = 0
    for owner_id, krs in pending.items():
        if owner_id in already:
            continue
        owner = krs[0].owner
        rows = [(kr, no_change_url(org, kr, owner_id, week)) for kr in krs]
        ctx = {"org": org, "user": owner, "krs": krs, "rows": rows, "week_start": week,
               "url": url}
        with translation.override(language_for(owner, org)):  # the recipient's language
            subject = " ".join(
                render_to_string("emails/checkin_reminder_subject.txt", ctx).split())
            body = render_to_string("emails/checkin_reminder.txt", ctx)
            html = render_to_string("emails/checkin_reminder.html", ctx)
        try:
            with transaction.atomic():
                ReminderLog.objects.create(organization=org, user=owner, week_start=week,
                                           key_results=[kr.pk for kr in krs])
                send_mail(subject, body, None, [owner.email], html_message=html)
        except IntegrityError:
            continue  # another run recorded (and sent) this reminder first
        except Exception:
            logger.exception("Check-in reminder to user %s (org %s) failed; will retry",
                             owner_id, org.pk)
            continue
        sent += 1
    return sent
