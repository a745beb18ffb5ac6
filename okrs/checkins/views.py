"""Check-in pages: a team's weekly check-in, "My check-ins", the row POST, KR history."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
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
    fill_last_checkin,
    get_key_result_for_checkin,
    get_key_results_for_checkin,
    kr_checkins,
    my_checkin_rows,
    page_key_result_ids,
    row_for,
    team_checkin_rows,
)
from okrs.checkins.services import (
    CheckInRefused,
    RowInput,
    StaleCheckIn,
    can_check_in,
    checkin_create,
    checkin_edit,
    checkin_many,
    checkin_undo,
    latest_checkin,
    record_no_change,
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
    edit = _url_of_pk("checkins:edit", request.org.slug)
    undo = _url_of_pk("checkins:undo", request.org.slug)
    for row in rows:
        row.history_url = history(row.kr.pk)
        row.post_url = post(row.kr.pk)
        row.edit_url = edit(row.kr.pk)
        row.undo_url = undo(row.kr.pk)


def _attach_forms(request: HttpRequest, rows, team_ids: set[int] | None = None) -> None:
    """Who may check in on each row, its fresh form and its URLs."""
    if team_ids is None:
        team_ids = user_team_ids(request.user, request.org)
    _attach_urls(request, rows)
    for row in rows:
        row.can_check_in = row.refusal is None and can_check_in(
            user=request.user, membership=request.membership, kr=row.kr, team_ids=team_ids)
        if row.can_check_in:
            row.form = RowForm.initial(row.kr, row)


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
    rows = team_checkin_rows(request.org, team_obj, user_id=request.user.pk)
    my_teams = _my_teams(request)
    _attach_forms(request, rows, {t.id for t in my_teams})
    return render(request, _page_or_summary(request), {
        "mode": "team", "team": team_obj, "my_teams": my_teams, "rows": rows, "summary": _summary(rows),
        "weeks": completion_by_week(team_obj, 8),
        "closed": closed_current_cycle(request.org),
        "week_start": week_start_for(request.org),
        "next_url": request.get_full_path(),
        "all_url": reverse("checkins:team_all", kwargs={"org_slug": request.org.slug,
                                                        "team": team_obj.slug}),
        "can_any": any(r.can_check_in for r in rows),
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
        "all_url": reverse("checkins:mine_all", kwargs={"org_slug": request.org.slug}),
        "can_any": any(r.can_check_in for r in rows),
    })


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _mark_saved(request: HttpRequest, kr, checkin) -> None:
    """checkin_create updated `kr` in place (value, done, status, last check-in); the
    annotations read before the write are stale: set them from the new check-in."""
    kr.checked_this_week = checkin.week_start == week_start_for(request.org)
    kr.last_id, kr.last_confidence, kr.last_comment = checkin.pk, checkin.confidence, \
        checkin.comment
    kr.last_author_id, kr.last_week = request.user.pk, checkin.week_start
    kr.last_author_name, kr.last_author_email = request.user.name, request.user.email


def _saved_redirect(request: HttpRequest, kr, toast: str) -> HttpResponse:
    messages.success(request, toast)
    response = HttpResponseRedirect(safe_next(request, reverse(
        "checkins:kr", kwargs={"org_slug": request.org.slug, "pk": kr.pk})))
    response.status_code = 303  # See Other: GET the page after the POST
    return response


def _refresh_from_stale(kr, stale, week=None) -> None:
    """A stale row shows the newer check-in's state (checkin_create did not write);
    `week`: this week's Monday, to say whether that check-in is this week's."""
    if stale is None:
        kr.last_id = 0
        return
    kr.current_value = stale.value if kr.kpi_id is None else kr.current_value
    kr.done, kr.status, kr.last_checkin_at = stale.done, stale.status, stale.created_at
    if week is not None:
        kr.checked_this_week = stale.week_start == week
    kr.last_id, kr.last_confidence, kr.last_comment = stale.pk, stale.confidence, stale.comment
    kr.last_author_id, kr.last_week = stale.author_id, stale.week_start
    author = stale.author
    kr.last_author_name = author.name if author else ""
    kr.last_author_email = author.email if author else ""


@org_view(Role.MEMBER)
@require_POST
def checkin_row(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a check-in from a row's inline form; htmx gets the row back, swapped in place.
    The row's "No change" button (``kr<pk>-no_change``) records the same value and status.

    Errors (bad value, closed cycle) come back in the row with what was typed, status 200
    for htmx (so htmx swaps it in) and 422/409 with the whole page without JavaScript. A
    stale row (someone checked in since the page was loaded: ``kr<pk>-seen``) comes back
    with the newer value and asks to press again (409 without JavaScript).
    """
    kr = get_key_result_for_checkin(request, pk, light=True)  # last check-in: see _save_row
    if not can_check_in(user=request.user, membership=request.membership, kr=kr):
        raise PermissionDenied(_("Only the key result's owner, its team or a leader may check in."))
    form = CheckInForm(request.POST, key_result=kr)
    no_change = bool(request.POST.get(form.add_prefix("no_change")))
    if no_change:
        form.is_valid()  # only for the seen / comment / confidence typed; value not asked
        form.errors.clear()
    if not (no_change or form.is_valid()):
        fill_last_checkin(request.org, kr)
        return _row_response_stale(request, kr, form, toast=None, error_status=422,
                                   stale=None, stale_seen=False)
    data = form.cleaned_data
    seen = data.get("seen")
    seen_kw = {"seen": seen} if seen is not None else {}
    if no_change:
        confidence = data.get("confidence") if "confidence" in data else None
        return _save_row(request, kr, form, _("No change: %(title)s") % {"title": kr.title}, lambda: record_no_change(
            kr, request.user, comment=(data.get("comment") or "") or None,
            confidence=confidence, **seen_kw))
    return _save_row(request, kr, form, _("Checked in: %(title)s") % {"title": kr.title}, lambda: checkin_create(
        key_result=kr, author=request.user, status=data["status"], value=data.get("value"),
        done=data.get("done"), comment=data.get("comment", ""),
        confidence=data.get("confidence"), **seen_kw))


def _save_row(request: HttpRequest, kr, form, toast: str, save) -> HttpResponse:
    """Run `save()` (a check-in service) for one row and answer as the row POST does: the
    row saved (htmx) or a redirect; else the row with the message and what was typed (422
    for bad input, 409 for a refused or stale row without JavaScript). Shared by the row
    POST and the edit POST."""
    stale, stale_seen, error_status = None, False, 422
    try:
        checkin = save()
    except StaleCheckIn as exc:
        stale, stale_seen = exc.latest, True
        _refresh_from_stale(kr, stale, week_start_for(request.org))
        form.add_error(None, str(exc))
        error_status = 409
    except CheckInRefused as exc:
        form.add_error(None, str(exc))
        error_status = 409
    except ValidationError as exc:
        _add_errors(form, exc)
    else:
        _mark_saved(request, kr, checkin)  # sets what a `light` read left out
        if not request.htmx:
            return _saved_redirect(request, kr, toast)
        return _row_response_stale(request, kr, form, toast=toast, error_status=200,
                                   stale=None, stale_seen=False)
    if not stale_seen and not hasattr(kr, "last_id"):  # read `light`: the row needs them
        fill_last_checkin(request.org, kr)
    return _row_response_stale(request, kr, form, toast=None, error_status=error_status,
                               stale=stale, stale_seen=stale_seen)


def _row_response_stale(request, kr, form, *, toast, error_status, stale, stale_seen):
    row = row_for(request.org, kr, user_id=request.user.pk)  # no second read
    row.can_check_in = row.refusal is None
    suggested = row.suggestion.status if row.suggestion else ""
    if toast is not None:
        row.form = RowForm.initial(row.kr, row)
    else:
        row.form = RowForm.from_form(form, seen=row.last_id if stale_seen else None,
                                     suggested=suggested)
        row.form.orig_from = RowForm.initial(row.kr, row).orig
        row.stale = stale_seen
    row.saved = toast is not None
    _attach_urls(request, [row])
    ctx = {"row": row, "mode": request.POST.get("mode", "team"),
           "next_url": safe_next(request, "")}
    if request.htmx:
        response = render(request, "okrs/checkin.html#row", ctx)
        response["HX-Trigger"] = json.dumps(
            {"toast": toast, "checkinSaved": {"kr": kr.pk}} if toast
            else {"toast": _("Not saved: see the message in the row.")})
        return response
    # Without JavaScript: the KR's page with the errors, nothing stored.
    return _history_response(request, kr, row=row, status=error_status)


# --------------------------------------------------------------------------
# Check in all


def _page_rows(request: HttpRequest, team_obj):
    if team_obj is not None:
        return team_checkin_rows(request.org, team_obj, user_id=request.user.pk)
    return my_checkin_rows(request.org, request.user)


@org_view(Role.MEMBER)
@require_POST
def checkin_all(request: HttpRequest, team: str | None = None) -> HttpResponse:
    """"Check in all": every row of the page the person changed (and, with
    ``untouched=1``, every untouched row they may check in as "no change"), each saved or
    refused on its own; the page comes back with each row's outcome and one summary.

    Which rows: the key results named by the POST's ``kr<pk>-orig`` fields, read in one
    query; a row the person may not check in, or that is not on the page, is skipped.
    """
    team_obj = get_team_for_member(request, team) if team is not None else None
    if team_obj is not None:
        team_obj.organization = request.org  # already loaded: no query for it
    ids = []
    for key in request.POST:
        if key.startswith("kr") and key.endswith("-orig"):
            try:
                ids.append(int(key[2:-5]))
            except ValueError:
                continue
    untouched = request.POST.get("untouched") == "1"
    krs = {}
    if ids:
        krs = get_key_results_for_checkin(request, ids)
    team_ids = user_team_ids(request.user, request.org)
    inputs, forms, skipped, invalid = [], {}, 0, set()
    for pk in ids:
        kr = krs.get(pk)
        if kr is None or not can_check_in(user=request.user, membership=request.membership,
                                          kr=kr, team_ids=team_ids):
            continue
        form = CheckInForm(request.POST, key_result=kr)
        forms[pk] = form
        changed = form.changed_from_page
        if not changed and not untouched:
            skipped += 1
            continue
        if not changed:
            form.is_valid()
            form.errors.clear()
            data = form.cleaned_data
            inputs.append(RowInput(key_result=kr, no_change=True,
                                   comment=data.get("comment") or "",
                                   confidence=data.get("confidence"),
                                   **_seen(data)))
        elif form.is_valid():
            data = form.cleaned_data
            inputs.append(RowInput(key_result=kr, status=data["status"], value=data.get("value"),
                                   done=data.get("done"), comment=data.get("comment", ""),
                                   confidence=data.get("confidence"), **_seen(data)))
        else:
            invalid.add(pk)
    outcomes = {o.key_result.pk: o for o in checkin_many(inputs, request.user)} if inputs else {}
    saved = sum(1 for o in outcomes.values() if o.saved)
    refused_forms = {pk: f for pk, f in forms.items()
                     if pk in invalid or (pk in outcomes and not outcomes[pk].saved)}
    for pk, out in outcomes.items():
        if not out.saved:
            form = forms[pk]
            for name, errs in out.errors.items():
                form.add_error(name if name in form.fields else None, errs)
    bad = len(refused_forms)
    summary_text = _all_summary(saved, bad, skipped)
    if not bad and not request.htmx:
        messages.success(request, summary_text)
        response = HttpResponseRedirect(safe_next(request, reverse(
            "checkins:team", kwargs={"org_slug": request.org.slug, "team": team_obj.slug})
            if team_obj else reverse("checkins:mine", kwargs={"org_slug": request.org.slug})))
        response.status_code = 303
        return response
    # The page again: saved rows fresh, refused rows with what was typed and the messages.
    # With htmx (only the form is swapped) the rows are the key results this POST read,
    # updated in place by the services, when they are the whole page: no second read.
    rows = _rows_from_post(request, team_obj, krs, outcomes) if request.htmx else None
    if rows is None:
        rows = _page_rows(request, team_obj)
        my_teams = _my_teams(request)
        team_ids = {t.id for t in my_teams}
    else:
        my_teams = None  # the form alone shows no team menu
    _attach_forms(request, rows, team_ids)
    for row in rows:
        pk = row.kr.pk
        if pk in refused_forms:
            out = outcomes.get(pk)
            stale = bool(out is not None and out.stale_seen)
            row.form = RowForm.from_form(
                refused_forms[pk], seen=row.last_id if stale else None,
                suggested=row.suggestion.status if row.suggestion else "")
            row.form.orig_from = RowForm.initial(row.kr, row).orig  # typed = changed
            row.stale = stale
        elif pk in outcomes:
            row.saved = True
    ctx = {
        "mode": "team" if team_obj else "mine", "team": team_obj, "my_teams": my_teams,
        "rows": rows, "summary": _summary(rows),
        # The whole page only: the form (htmx) shows neither the weeks nor the closed cycle.
        "weeks": completion_by_week(team_obj, 8) if team_obj and not request.htmx else None,
        "closed": None if request.htmx else closed_current_cycle(request.org),
        "week_start": week_start_for(request.org),
        "next_url": safe_next(request, ""),
        "all_url": request.path, "can_any": True, "all_summary": summary_text,
        "all_bad": bad, "untouched": untouched,
    }
    template = "okrs/checkin.html#allform" if request.htmx else "okrs/checkin.html"
    response = render(request, template, ctx, status=200 if request.htmx or not bad else 422)
    if request.htmx:
        response["HX-Trigger"] = json.dumps({"toast": summary_text, "checkinSaved": {}})
    return response


def _rows_from_post(request: HttpRequest, team_obj, krs: dict, outcomes: dict):
    """The page's rows from the key results the POST read (`krs`, which the services
    updated in place), or None when the page holds a row the POST did not name."""
    ids = page_key_result_ids(request.org, team=team_obj,
                              user=request.user if team_obj is None else None)
    if any(pk not in krs for pk in ids):
        return None
    for pk, out in outcomes.items():
        if out.saved:
            _mark_saved(request, krs[pk], out.checkin)
        elif out.stale_seen:
            _refresh_from_stale(krs[pk], out.stale, week_start_for(request.org))
    return [row_for(request.org, krs[pk], user_id=request.user.pk) for pk in ids]


def _seen(data) -> dict:
    seen = data.get("seen")
    return {"seen": seen} if seen is not None else {}


def _all_summary(saved: int, bad: int, skipped: int) -> str:
    if not saved and not bad:
        if skipped:
            return _("Nothing changed: nothing was checked in. Tick “the others: no change” to "
                     "check in the untouched rows.")
        return _("Nothing changed: nothing was checked in.")
    if bad:
        return ngettext("%(saved)s checked in, %(bad)s needs fixing",
                        "%(saved)s checked in, %(bad)s need fixing", bad) % {
            "saved": saved, "bad": bad}
    return _("%(saved)s checked in") % {"saved": saved}


# --------------------------------------------------------------------------
# Edit and undo my check-in of this week


def _my_latest(request: HttpRequest, kr):
    latest = latest_checkin(kr)
    if latest is None or latest.author_id != request.user.pk:
        raise CheckInRefused(_("You have no check-in of this key result to change this week."))
    latest.organization = request.org
    return latest


@org_view(Role.MEMBER)
@require_POST
def checkin_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace my latest check-in of this KR (this week) with the row's values: the old
    one is kept as a revision (the history shows both) and the change audited."""
    kr = get_key_result_for_checkin(request, pk)
    form = CheckInForm(request.POST, key_result=kr)
    if not form.is_valid():
        return _row_response_stale(request, kr, form, toast=None, error_status=422,
                                   stale=None, stale_seen=False)
    data = form.cleaned_data
    return _save_row(request, kr, form, _("Check-in changed: %(title)s") % {"title": kr.title}, lambda: checkin_edit(
        _my_latest(request, kr), request.user, status=data["status"], value=data.get("value"),
        done=data.get("done"), comment=data.get("comment", ""),
        confidence=data.get("confidence"), key_result=kr))


@org_view(Role.MEMBER)
@require_POST
def checkin_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo my latest check-in of this KR (this week): kept, marked undone, audited; the
    KR goes back to the check-in before it."""
    kr = get_key_result_for_checkin(request, pk)
    form = CheckInForm(request.POST, key_result=kr)
    form.is_valid()
    try:
        previous = checkin_undo(_my_latest(request, kr), request.user, key_result=kr)
    except CheckInRefused as exc:
        form.add_error(None, str(exc))
        return _row_response_stale(request, kr, form, toast=None, error_status=409,
                                   stale=None, stale_seen=False)
    week = week_start_for(request.org)
    kr.checked_this_week = bool(previous and previous.week_start == week)
    if previous is not None:
        _refresh_from_stale(kr, previous)
    else:
        kr.last_id = 0
        kr.last_confidence, kr.last_comment, kr.last_author_id = None, "", None
        kr.last_author_name = kr.last_author_email = ""
        kr.last_week = None
    toast = _("Check-in undone: %(title)s") % {"title": kr.title}
    if not request.htmx:
        return _saved_redirect(request, kr, toast)
    return _row_response_stale(request, kr, form, toast=toast, error_status=200,
                               stale=None, stale_seen=False)


def _history_response(request: HttpRequest, kr, *, row=None, status: int = 200) -> HttpResponse:
    if row is None:
        row = row_for(request.org, kr, user_id=request.user.pk)
        row.can_check_in = row.refusal is None and can_check_in(
            user=request.user, membership=request.membership, kr=row.kr)
        if row.can_check_in:
            row.form = RowForm.initial(row.kr, row)
        _attach_urls(request, [row])
    checkins = kr_checkins(kr)
    live = [c for c in checkins if c.replaced_at is None]  # edited or undone: not drawn
    cycle = kr.objective.cycle
    figure = kr_history_figure(
        [(c.created_at.astimezone(request.org.tz), c.value, c.done) for c in live],
        confidences=[c.confidence for c in live],
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
