"""Check-in pages: a team's weekly check-in, "My check-ins", the row POST, KR history."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_team_for_member, org_view
from accounts.models import Role
from core.charts import to_json
from core.http import safe_next
from okrs.checkins.charts import kr_history_figure
from okrs.checkins.forms import CheckInForm, RowForm
from okrs.checkins.selectors import (
    Completion,
    closed_current_cycle,
    completion_by_week,
    get_key_result_for_checkin,
    kr_checkins,
    my_checkin_rows,
    row_for,
    team_checkin_rows,
)
from okrs.checkins.services import (
    CheckInRefused,
    can_check_in,
    checkin_create,
    user_team_ids,
    week_start_for,
)


def _my_teams(request: HttpRequest) -> list:
    return list(request.user.teams.filter(organization=request.org).order_by("name"))


def _url_of_pk(name: str, org_slug: str):
    """`pk -> URL` for a URL taking org_slug and pk, with one reverse() instead of one per
    row (72 reverse() calls were a noticeable part of rendering a 36-row page)."""
    sentinel = 2_147_483_647
    url = reverse(name, kwargs={"org_slug": org_slug, "pk": sentinel})
    head, _, tail = url.rpartition(str(sentinel))
    return lambda pk: f"{head}{int(pk)}{tail}"


def _attach_urls(request: HttpRequest, rows) -> None:
    history = _url_of_pk("checkins:kr", request.org.slug)
    post = _url_of_pk("checkins:row", request.org.slug)
    for row in rows:
        row.history_url = history(row.kr.pk)
        row.post_url = post(row.kr.pk)


def _attach_forms(request: HttpRequest, rows, team_ids: set[int] | None = None) -> None:
    """Who may check in on each row, its fresh form and its URLs."""
    if team_ids is None:
        team_ids = user_team_ids(request.user, request.org)
    _attach_urls(request, rows)
    for row in rows:
        row.can_check_in = row.refusal is None and can_check_in(
            user=request.user, membership=request.membership, kr=row.kr, team_ids=team_ids)
        if row.can_check_in:
            row.form = RowForm.initial(row.kr)


def _summary(rows) -> Completion:
    return Completion(week_start=None, total=len(rows),
                      done=sum(1 for r in rows if r.checked_this_week))


def _page_or_summary(request: HttpRequest) -> str:
    """htmx refreshes the summary card after each check-in: give it just that partial."""
    if request.htmx and request.htmx.target == "ci-summary":
        return "okrs/checkin.html#summary"
    return "okrs/checkin.html"


@org_view(Role.VIEWER)
@require_GET
def team_checkin(request: HttpRequest, team: str) -> HttpResponse:
    team_obj = get_team_for_member(request, team)
    team_obj.organization = request.org  # already loaded: no query for it
    rows = team_checkin_rows(request.org, team_obj)
    my_teams = _my_teams(request)
    _attach_forms(request, rows, {t.id for t in my_teams})
    return render(request, _page_or_summary(request), {
        "mode": "team", "team": team_obj, "my_teams": my_teams, "rows": rows, "summary": _summary(rows),
        "weeks": completion_by_week(team_obj, 8),
        "closed": closed_current_cycle(request.org),
        "week_start": week_start_for(request.org),
        "next_url": request.get_full_path(),
    })


@org_view(Role.VIEWER)
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    rows = my_checkin_rows(request.org, request.user)
    my_teams = _my_teams(request)
    _attach_forms(request, rows, {t.id for t in my_teams})
    return render(request, _page_or_summary(request), {
        "mode": "mine", "my_teams": my_teams, "rows": rows, "summary": _summary(rows),
        "closed": closed_current_cycle(request.org),
        "week_start": week_start_for(request.org),
        "next_url": request.get_full_path(),
    })


@org_view(Role.MEMBER)
@require_POST
def checkin_row(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a check-in from a row's inline form; htmx gets the row back, swapped in place.

    Errors (bad value, closed cycle) come back in the row with what was typed, status 200
    for htmx (so htmx swaps it in) and 422/409 with the whole page without JavaScript.
    """
    kr = get_key_result_for_checkin(request, pk)
    if not can_check_in(user=request.user, membership=request.membership, kr=kr):
        raise PermissionDenied("Only the key result's owner, its team or a leader may check in.")
    form = CheckInForm(request.POST, key_result=kr)
    error_status = 422
    toast = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            checkin = checkin_create(
                key_result=kr, author=request.user, status=data["status"],
                value=data.get("value"), done=data.get("done"),
                comment=data.get("comment", ""), confidence=data.get("confidence"))
        except CheckInRefused as exc:
            form.add_error(None, str(exc))
            error_status = 409
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.error_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            # checkin_create updated kr in place (value, done, status, last check-in); the
            # annotation read before the write is stale.
            kr.checked_this_week = checkin.week_start == week_start_for(request.org)
            toast = f"Checked in: {kr.title}"
            if not request.htmx:
                messages.success(request, toast)
                response = HttpResponseRedirect(safe_next(request, reverse(
                    "checkins:kr", kwargs={"org_slug": request.org.slug, "pk": kr.pk})))
                response.status_code = 303  # See Other: GET the page after the POST
                return response

    row = row_for(request.org, kr)  # no second read: see get_key_result_for_checkin
    row.can_check_in = row.refusal is None
    row.form = RowForm.from_form(form) if toast is None else RowForm.initial(row.kr)
    row.saved = toast is not None
    _attach_urls(request, [row])
    ctx = {"row": row, "mode": request.POST.get("mode", "team"),
           "next_url": safe_next(request, "")}
    if request.htmx:
        response = render(request, "okrs/checkin.html#row", ctx)
        response["HX-Trigger"] = json.dumps(
            {"toast": toast, "checkinSaved": {"kr": kr.pk}} if toast
            else {"toast": "Not saved: see the message in the row."})
        return response
    # Without JavaScript: the KR's page with the errors, nothing stored.
    return _history_response(request, kr, row=row, status=error_status)


def _history_response(request: HttpRequest, kr, *, row=None, status: int = 200) -> HttpResponse:
    if row is None:
        row = row_for(request.org, kr)
        row.can_check_in = row.refusal is None and can_check_in(
            user=request.user, membership=request.membership, kr=row.kr)
        if row.can_check_in:
            row.form = RowForm.initial(row.kr)
        _attach_urls(request, [row])
    checkins = kr_checkins(kr)
    cycle = kr.objective.cycle
    figure = kr_history_figure(
        [(c.created_at.astimezone(request.org.tz), c.value, c.done) for c in checkins],
        cycle_start=cycle.start, cycle_end=cycle.end, start_value=kr.start_value,
        target_value=kr.target_value, kind=kr.kind, unit=kr.unit,
        today=timezone.now().astimezone(request.org.tz).date())
    return render(request, "okrs/kr_history.html", {
        "kr": kr, "row": row, "checkins": list(reversed(checkins)),
        "figure_json": to_json(figure), "mode": "history",
        "next_url": request.get_full_path(),
    }, status=status)


@org_view(Role.VIEWER)
@require_GET
def kr_history(request: HttpRequest, pk: int) -> HttpResponse:
    kr = get_key_result_for_checkin(request, pk)
    return _history_response(request, kr)
