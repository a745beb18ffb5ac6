"""The inbox side's pages: the inbox and its count, comment threads, the mention
autocomplete, preferences, the digest's schedule and preview, and the one-click "no change"
confirmation of a reminder."""

from __future__ import annotations

from csp.decorators import csp
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_in_org, org_url, org_view
from accounts.models import Membership, Role
from activity import comments as svc
from activity import digest
from activity.inbox import inbox_count, inbox_for
from activity.mentions import org_members, search_members
from activity.models import Comment, DigestSchedule, NoChangeUse, Notification
from activity.preferences import choices_for, preferences_save
from kpis.models import DataPoint
from okrs.checkins import reminders
from okrs.checkins.services import CheckInRefused, can_check_in, record_no_change
from okrs.models import CheckIn, KeyResult

POINTS = 12  # a KPI's thread offers a thread per value for its latest ones

# --------------------------------------------------------------------------
# Inbox


@org_view(Role.VIEWER)
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    box = inbox_for(request.org, request.user, request.membership)
    return render(request, "activity/inbox.html", {"inbox": box})


@org_view(Role.VIEWER)
@require_GET
def inbox_badge(request: HttpRequest) -> HttpResponse:
    """The navigation's count (htmx, on load and every minute)."""
    count = inbox_count(request.org, request.user, request.membership)
    return render(request, "activity/inbox_badge.html", {"count": count})


@org_view(Role.VIEWER)
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_in_org(request, Notification.objects.filter(user=request.user), pk=pk)
    if entry.read_at is None:
        Notification.objects.filter(pk=entry.pk).update(read_at=timezone.now())
    if request.POST.get("next") == "open":
        return redirect(entry.url)
    return redirect(org_url("activity:inbox", request))


@org_view(Role.VIEWER)
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    n = Notification.objects.filter(organization=request.org, user=request.user,
                                    read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"{n} entr{'y' if n == 1 else 'ies'} marked read.")
    return redirect(org_url("activity:inbox", request))


@org_view(Role.VIEWER)
@require_POST
def invitation_send(request: HttpRequest, pk: int) -> HttpResponse:
    """An invitation to the person (listed in their inbox): a fresh link to their address."""
    from activity import invitations

    inv = invitations.mine(request.user, pk)
    try:
        invitations.send_link_again(invitation=inv, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("A new link to join %(org)s was sent to %(email)s.") % {
            "org": inv.organization.name, "email": inv.email})
    return redirect(org_url("activity:inbox", request))


# --------------------------------------------------------------------------
# Comments


def _thread_context(request: HttpRequest, target: svc.Target, *, form_text: str = "",
                    error: str = "") -> dict:
    rows = list(Comment.objects.filter(organization=request.org, target_kind=target.kind,
                                       target_id=target.id).select_related("author"))
    now = timezone.now()
    points = []
    if target.kind == Comment.Target.KPI:  # its latest values, each with a thread of its own
        points = list(DataPoint.objects.filter(kpi_id=target.id, kpi__organization=request.org)
                      .order_by("-period_start").only("id", "period_start", "value")[:POINTS])
        counts = dict(Comment.objects.filter(
            organization=request.org, target_kind=Comment.Target.DATA_POINT,
            target_id__in=[p.pk for p in points], deleted_at__isnull=True)
            .values_list("target_id").annotate(n=Count("id")))
        for p in points:
            p.comment_count = counts.get(p.pk, 0)
    return {
        "target": target, "error": error, "form_text": form_text, "points": points,
        "comments": [{"c": c, "html": svc.render_body(c.body) if c.deleted_at is None else "",
                      "mine": svc.can_change(c, request.user, now)} for c in rows],
        "post_url": org_url("activity:thread", request, kind=target.kind, pk=target.id),
        "members_url": org_url("activity:mention_search", request),
        "max_length": svc.COMMENT_MAX_LENGTH,
    }


@org_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def thread(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """A comment thread: its list and form (htmx partial in the object's page; the full page
    without htmx). Viewers may comment too (transparency)."""
    target = svc.find_target(request.org, kind, pk)
    template = ("activity/comments.html#thread" if request.headers.get("HX-Request")
                else "activity/comments.html")
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            svc.comment_create(organization=request.org, target=target, author=request.user,
                               body=body)
        except ValidationError as exc:
            # The message in place with what was typed: 422 for htmx (static/js/mentions.js
            # lets htmx swap a comment form's 422), 400 for a plain form post.
            keep = body.replace("\x00", "")
            return render(request, template,
                          _thread_context(request, target, form_text=keep,
                                          error=" ".join(exc.messages)),
                          status=422 if request.headers.get("HX-Request") else 400)
        if not request.headers.get("HX-Request"):
            return redirect(org_url("activity:thread", request, kind=target.kind, pk=target.id))
    return render(request, template, _thread_context(request, target))


def _own_comment(request: HttpRequest, pk: int) -> Comment:
    comment = get_in_org(request, Comment.objects.select_related("author"), pk=pk)
    if not svc.can_change(comment, request.user):
        raise PermissionDenied("Only its author can change a comment, within 15 minutes of "
                               "writing it.")
    return comment


@org_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _own_comment(request, pk)
    target = svc.find_target(request.org, comment.target_kind, comment.target_id)
    error, text = "", comment.body
    if request.method == "POST":
        text = request.POST.get("body", "")
        try:
            svc.comment_edit(comment=comment, user=request.user, body=text)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            if request.headers.get("HX-Request"):
                return render(request, "activity/comments.html#thread",
                              _thread_context(request, target))
            return redirect(target.url)
    return render(request, "activity/comment_edit.html",
                  {"comment": comment, "target": target,
                   "text": text.replace("\x00", ""),
                   "error": error, "max_length": svc.COMMENT_MAX_LENGTH,
                   "members_url": org_url("activity:mention_search", request)},
                  status=400 if error else 200)


@org_view(Role.VIEWER)
@require_POST
def comment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    comment = _own_comment(request, pk)
    target = svc.find_target(request.org, comment.target_kind, comment.target_id)
    svc.comment_delete(comment=comment, user=request.user)
    if request.headers.get("HX-Request"):
        return render(request, "activity/comments.html#thread", _thread_context(request, target))
    return redirect(target.url)


@org_view(Role.VIEWER)
@require_GET
def mention_search(request: HttpRequest) -> JsonResponse:
    """Members of this organisation whose name or e-mail matches ?q= (the @ autocomplete)."""
    found = search_members(org_members(request.org.pk), request.GET.get("q", "")[:100])
    return JsonResponse({"members": [{"id": m.id, "name": m.name} for m in found]})


# --------------------------------------------------------------------------
# Preferences and the digest


@org_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    choices = choices_for(request.user, request.org.pk)
    if request.method == "POST":
        values = {kind: (f"{kind}-in_app" in request.POST, f"{kind}-email" in request.POST)
                  for kind in choices}
        preferences_save(user=request.user, organization_id=request.org.pk, values=values)
        messages.success(request, _("Your notification choices are saved."))
        return redirect(org_url("activity:preferences", request))
    schedule = DigestSchedule.objects.filter(organization=request.org).first()
    return render(request, "activity/preferences.html", {
        "choices": list(choices.values()), "schedule": schedule or DigestSchedule(),
        "is_admin": request.membership.has_role(Role.ADMIN),
        "is_leader": request.membership.has_role(Role.LEADER),
        "weekdays": list(WEEKDAYS.items()),  # Django's own, translated: 0 = Monday
        "hours": range(24)})


@org_view(Role.ADMIN)
@require_POST
def digest_schedule(request: HttpRequest) -> HttpResponse:
    try:
        weekday, hour = int(request.POST.get("weekday", "")), int(request.POST.get("hour", ""))
        if not (0 <= weekday <= 6 and 0 <= hour <= 23):
            raise ValueError
    except ValueError:
        messages.error(request, "Choose a weekday and an hour from 0 to 23.")
        return redirect(org_url("activity:preferences", request))
    DigestSchedule.objects.update_or_create(organization=request.org,
                                            defaults={"weekday": weekday, "hour": hour})
    messages.success(request, "The weekly digest's day and hour are saved.")
    return redirect(org_url("activity:preferences", request))


# The e-mail's own HTML (styles in its <style> block and on its bars, as e-mail clients need);
# nothing else may load or run on this page.
EMAIL_PAGE_CSP = {"default-src": ["'none'"], "style-src": ["'unsafe-inline'"],
                  "img-src": ["'self'"], "base-uri": ["'none'"], "form-action": ["'none'"],
                  "frame-ancestors": ["'none'"]}


@org_view(Role.LEADER)
@require_GET
@csp(EMAIL_PAGE_CSP)
def digest_preview(request: HttpRequest) -> HttpResponse:
    """This week's leader digest as the e-mail's HTML (or ?format=text)."""
    data = digest.build(request.org)
    html, text = digest.render(request.org, request.user, data)
    if request.GET.get("format") == "text":
        return HttpResponse(text, content_type="text/plain; charset=utf-8")
    return HttpResponse(html)


# --------------------------------------------------------------------------
# The reminder's one-click "no change this week" (public: the signed link is the key)


@require_http_methods(["GET", "POST"])
def no_change(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what will be recorded and a button; only the POST records it. A forged link
    answers 400, an expired or used one 410, each with a page that says so."""
    def page(state: str, status: int, **ctx) -> HttpResponse:
        return render(request, "activity/no_change.html", {"state": state, **ctx}, status=status)

    try:
        link = reminders.read_no_change_token(token)
    except reminders.NoChangeLinkInvalid:
        return page("invalid", 400)
    except reminders.NoChangeLinkExpired as exc:
        return page("expired", 410, week_start=exc.week_start)
    org, week = link["organization"], link["week_start"]
    kr = (KeyResult.objects.alive().filter(organization=org, pk=link["key_result_id"],
                                           objective__deleted_at__isnull=True)
          .select_related("objective", "objective__cycle", "owner").first())
    membership = (Membership.objects.filter(organization=org, user_id=link["user_id"],
                                            suspended_at__isnull=True, user__is_active=True)
                  .select_related("user", "organization").first())
    if kr is None or membership is None:
        return page("gone", 410, org=org)
    user = membership.user
    checkin_url = reverse("checkins:mine", kwargs={"org_slug": org.slug})
    ctx = {"kr": kr, "org": org, "week_start": week, "person": user, "checkin_url": checkin_url}
    used = NoChangeUse.objects.filter(key_result=kr, user=user, week_start=week).first()
    if used is not None:
        return page("used", 410, used_at=used.used_at, **ctx)
    if not can_check_in(user=user, membership=membership, kr=kr):
        return page("refused", 403, reason="You can no longer check in on this key result.",
                    **ctx)
    if CheckIn.objects.filter(key_result=kr, week_start=week, replaced_at__isnull=True).exists():
        return page("done", 200, **ctx)
    if request.method == "GET":
        return page("confirm", 200, **ctx)
    try:
        with transaction.atomic():
            NoChangeUse.objects.create(organization=org, key_result=kr, user=user,
                                       week_start=week)
            checkin = record_no_change(kr, user)
    except IntegrityError:  # a second click or a copy of the link won the race
        used = NoChangeUse.objects.filter(key_result=kr, user=user, week_start=week).first()
        return page("used", 410, used_at=used.used_at if used else None, **ctx)
    except (CheckInRefused, ValidationError) as exc:
        reason = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        return page("refused", 409, reason=reason, **ctx)
    return page("recorded", 200, checkin=checkin, **ctx)


