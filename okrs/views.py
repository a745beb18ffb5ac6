"""OKR pages: goal & pillars roll-up, the cycle's OKR list, objective detail, forms,
cycle close and carry-over. Thin: reads from selectors, writes through services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from accounts.access import has_role, org_url, org_view
from accounts.models import Role
from core.forms import apply_errors, save_versioned
from core.versioning import StaleVersion
from goals import selectors as goal_selectors
from okrs import progress as P
from okrs import selectors, services
from okrs.access import get_cycle_for_member, get_key_result_for_member, get_objective_for_member
from okrs.forms import CarryOverForm, CycleCloseForm, KeyResultForm, KeyResultFormSet, ObjectiveForm
from okrs.models import Objective


def _objective_url(request, objective) -> str:
    return org_url("okrs:objective", request, pk=objective.pk)


COLLAPSE_OVER = 60  # objectives; above this the OKR list opens with closed team groups
GROUP_PAGE = 50  # objectives of one opened team group per request ("Show more" loads the next)


# ------------------------------------------------------------------- reads


@org_view(Role.VIEWER)
def goal(request: HttpRequest) -> HttpResponse:
    """The ultimate goal and its pillars, with the cycle's progress rolled up."""
    org = request.org
    cycles = goal_selectors.cycles_for(org)  # 1 query
    cycle = goal_selectors.pick_cycle(org, cycles, request.GET.get("cycle", ""))
    the_goal = goal_selectors.active_goal(org)  # 1 query
    pillars = goal_selectors.pillars_for(org)  # 1 query
    cp = selectors.cycle_expected(org, cycle) if cycle else None  # no query
    pillar_rows = []
    if cycle is not None:
        ids = [p.pk for p in pillars]
        found = goal_selectors.pillar_figures(cycle)  # 1 query
        tops = selectors.pillar_tops(org, cycle, ids)  # 1 query
        values = {pid: found[pid].progress if pid in found else 0.0 for pid in ids}
        for p in pillars:
            pillar_rows.append({"pillar": p, "pct": round(values[p.pk] * 100),
                                "count": found[p.pk].objective_count if p.pk in found else 0,
                                "top": tops[p.pk]})
        goal_pct = round(P.goal_progress(values.values()) * 100) if pillars else 0
    else:
        goal_pct = 0
        pillar_rows = [{"pillar": p, "pct": 0, "count": 0, "top": []} for p in pillars]
    return render(request, "goals/goal.html", {
        "goal": the_goal, "pillar_rows": pillar_rows, "goal_pct": goal_pct, "cp": cp,
        "cycle": cycle, "cycles": cycles, "can_admin": has_role(request, Role.ADMIN),
        "can_edit": has_role(request, Role.LEADER),
    })


@org_view(Role.VIEWER)
def okr_list(request: HttpRequest) -> HttpResponse:
    """A cycle's objectives grouped by team, progress against expected, status chips.

    Reads stored figures only (issue 16): a long unfiltered list shows its team groups
    from one aggregate (each opens with htmx and reads that team's rows); a short or
    filtered one reads the matching rows. The owner is picked with an autocomplete
    (okr_owner_options), not from a list of every member."""
    org = request.org
    cycles = goal_selectors.cycles_for(org)  # 1 query
    cycle = goal_selectors.pick_cycle(org, cycles, request.GET.get("cycle", ""))
    f = {k: request.GET.get(k, "").strip() for k in ("team", "owner", "pillar", "status",
                                                      "state")}
    owner_id, owner_text = selectors.owner_filter(org, f["owner"])  # 0-1 query
    teams = selectors.org_teams(org)  # 1 query
    pillars = goal_selectors.pillars_for(org, include_archived=True)  # 1 query
    now = timezone.now()
    expected = (round(P.expected_progress(cycle.start, cycle.end,
                                          timezone.localtime(now, org.tz).date()) * 100)
                if cycle else 0)
    summaries = selectors.list_summaries(org, cycle, teams) if cycle else []  # 1 query
    total = sum(g.count for g in summaries)
    filtered = any(f.values())
    collapsed = total > COLLAPSE_OVER and not filtered
    rows: list = []
    # One team group opened with htmx: a page of its rows at a time, in SQL order.
    group_part = bool(request.htmx and request.GET.get("part") == "table" and f["team"]
                      and not f["pillar"] and not f["status"])
    offset = request.GET.get("offset", "")
    offset = int(offset) if offset.isascii() and offset.isdigit() else 0
    more_offset = None
    if collapsed:
        groups = summaries  # long lists open with their team groups closed
    else:
        page = {"offset": offset, "limit": GROUP_PAGE + 1} if group_part else {}
        rows = (selectors.list_rows(org, cycle, **{**f, "owner": owner_id}, now=now, **page)
                if cycle else [])  # 2 queries
        if group_part and len(rows) > GROUP_PAGE:
            rows, more_offset = rows[:GROUP_PAGE], offset + GROUP_PAGE
        groups = selectors.group_by_team(rows)
    if request.htmx and request.GET.get("part") == "table" and len(groups) == 1:
        # One collapsed team group opened (the list is long): its table only.
        return render(request, "okrs/list.html#group_table", {
            "g": groups[0], "cycle": cycle, "expected_pct": expected,
            "more_offset": more_offset, "group_team": f["team"]})
    ctx = {
        "cycle": cycle, "cycles": cycles, "expected_pct": expected, "groups": groups,
        "filters": f, "owner_text": owner_text,
        "count": total if collapsed else len(rows), "total": total,
        "teams": teams,
        "pillars": [p for p in pillars if not p.archived],
        "statuses": selectors.STATUS_FILTER_CHOICES,
        "can_edit": has_role(request, Role.LEADER) and cycle is not None
        and not cycle.is_closed,
        "can_close": has_role(request, Role.LEADER),
        "filtered": filtered,
        "collapsed": collapsed,
    }
    template = "okrs/list.html#groups" if request.htmx else "okrs/list.html"
    return render(request, template, ctx)


@org_view(Role.VIEWER)
def okr_owner_options(request: HttpRequest) -> HttpResponse:
    """The owner autocomplete's suggestions: at most 20 `<option>`s of members whose name or
    e-mail contains what was typed (the OKR list's owner field, htmx)."""
    text = request.GET.get("owner", request.GET.get("q", ""))[:100]
    return render(request, "okrs/list.html#owner_options",
                  {"people": selectors.people_matching(request.org, text)})


@org_view(Role.VIEWER)
def objective(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_objective_for_member(request, pk)  # 1 query
    detail = selectors.objective_detail(organization=request.org, objective=obj)
    editable = has_role(request, Role.LEADER) and not obj.cycle.is_closed
    return render(request, "okrs/objective.html", {
        "o": obj, "d": detail, "row": detail.row, "can_edit": editable,
        "can_add_initiative": has_role(request, Role.MEMBER) and not obj.cycle.is_closed,
        "user_id": request.user.pk, "is_leader": has_role(request, Role.LEADER),
        "status_labels": selectors.STATUS_LABELS,
    })


# ------------------------------------------------------------------ writes


@org_view(Role.LEADER)
def objective_create(request: HttpRequest) -> HttpResponse:
    org = request.org
    initial = {"owner": request.user.pk, "state": Objective.State.ACTIVE}
    for key in ("parent", "pillar", "team", "cycle"):
        if request.GET.get(key, "").isdigit():
            initial[key] = int(request.GET[key])
    if "cycle" not in initial:
        current = goal_selectors.current_cycle(org)
        if current and not current.is_closed:
            initial["cycle"] = current.pk
    form = ObjectiveForm(request.POST or None, organization=org, initial=initial)
    formset = KeyResultFormSet(request.POST or None, prefix="kr",
                               form_kwargs={"organization": org, "with_current": True})
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        krs = [f.service_data() for f in formset.forms
               if f.has_changed() and f.cleaned_data and f.cleaned_data.get("title")]
        try:
            obj = services.objective_create(organization=org, actor=request.user,
                                            data=form.service_data(), key_results=krs)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Objective “%(title)s” created.") % {"title": obj.title})
            return redirect(_objective_url(request, obj))
    return render(request, "okrs/objective_form.html", {"form": form, "formset": formset,
                                                         "o": None})


@org_view(Role.LEADER)
def objective_edit(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_objective_for_member(request, pk)
    if obj.cycle.is_closed:
        messages.error(request, services.closed_cycle_message(obj.cycle))
        return redirect(_objective_url(request, obj))
    form = ObjectiveForm(request.POST or None, instance=obj, organization=request.org)
    edit = save_versioned(form, lambda version: services.objective_update(
        objective=obj, actor=request.user, version=version, data=form.service_data()),
        refreshed=lambda current: ObjectiveForm(instance=current, organization=request.org))
    if edit.saved:
        messages.success(request, _("Objective saved."))
        return redirect(_objective_url(request, edit.result))
    return render(request, "okrs/objective_form.html",
                  {"form": edit.form, "o": obj, "stale": edit.stale}, status=edit.status)


@org_view(Role.LEADER)
def objective_delete(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_objective_for_member(request, pk)
    reason = services.objective_history_reason(obj)
    if request.method == "POST":
        try:
            services.objective_delete(objective=obj, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(_objective_url(request, obj))
        messages.success(request, _("Objective “%(title)s” deleted.") % {"title": obj.title})
        return redirect(org_url("okrs:list", request) + f"?cycle={obj.cycle_id}")
    return render(request, "okrs/confirm_delete.html", {
        "thing": obj, "kind": "objective", "reason": reason,
        "read_only": obj.cycle.is_closed, "back": _objective_url(request, obj)})


@org_view(Role.LEADER)
@require_POST
def objective_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_objective_for_member(request, pk)
    try:
        copy = services.objective_duplicate(objective=obj, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_objective_url(request, obj))
    messages.success(request, _("Duplicated as a draft. Review it and set it active."))
    return redirect(_objective_url(request, copy))


@org_view(Role.LEADER)
def kr_create(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_objective_for_member(request, pk)
    if obj.cycle.is_closed:
        messages.error(request, services.closed_cycle_message(obj.cycle))
        return redirect(_objective_url(request, obj))
    form = KeyResultForm(request.POST or None, organization=request.org,
                         initial={"owner": obj.owner_id or request.user.pk, "weight": 1})
    if request.method == "POST" and form.is_valid():
        try:
            services.key_result_create(objective=obj, actor=request.user,
                                       data=form.service_data())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if request.htmx:  # inline add on the objective page: refresh the KR list
                response = _krs_partial(request, obj)
                retarget(response, "#krs")
                reswap(response, "innerHTML")
                return trigger_client_event(response, "toast", "Key result added")
            messages.success(request, _("Key result added."))
            return redirect(_objective_url(request, obj))
    template = "okrs/kr_form.html#form" if request.htmx else "okrs/kr_form.html"
    return render(request, template, {"form": form, "o": obj, "kr": None,
                                      "inline": bool(request.htmx)})


def _krs_partial(request, obj) -> HttpResponse:
    """The KR list, plus the progress tiles swapped out of band (they may have moved)."""
    obj = get_objective_for_member(request, obj.pk)
    detail = selectors.objective_detail(organization=request.org, objective=obj)
    ctx = {"o": obj, "d": detail, "row": detail.row, "can_edit": True,
           "can_add_initiative": True, "user_id": request.user.pk, "is_leader": True,
           "status_labels": selectors.STATUS_LABELS}
    krs = render_to_string("okrs/objective.html#krs", ctx, request=request)
    tiles = render_to_string("okrs/objective.html#tiles", {**ctx, "oob": True},
                             request=request)
    return HttpResponse(krs + tiles)


@org_view(Role.LEADER)
def kr_edit(request: HttpRequest, pk: int) -> HttpResponse:
    kr = get_key_result_for_member(request, pk)
    obj = kr.objective
    if obj.cycle.is_closed:
        messages.error(request, services.closed_cycle_message(obj.cycle))
        return redirect(_objective_url(request, obj))
    form = KeyResultForm(request.POST or None, instance=kr, organization=request.org)
    edit = save_versioned(form, lambda version: services.key_result_update(
        key_result=kr, actor=request.user, version=version, data=form.service_data()),
        refreshed=lambda current: KeyResultForm(instance=current, organization=request.org))
    if edit.saved:
        messages.success(request, _("Key result saved."))
        return redirect(_objective_url(request, obj))
    return render(request, "okrs/kr_form.html", {"form": edit.form, "o": obj, "kr": kr,
                                                  "stale": edit.stale}, status=edit.status)


@org_view(Role.LEADER)
def kr_delete(request: HttpRequest, pk: int) -> HttpResponse:
    kr = get_key_result_for_member(request, pk)
    obj = kr.objective
    reason = ""
    if kr.checkins.exists():
        reason = _("it has check-ins")
    elif kr.initiatives.exists():
        reason = _("it has initiatives")
    if request.method == "POST":
        try:
            services.key_result_delete(key_result=kr, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Key result “%(title)s” deleted.") % {"title": kr.title})
        return redirect(_objective_url(request, obj))
    return render(request, "okrs/confirm_delete.html", {
        "thing": kr, "kind": "key result", "reason": reason,
        "read_only": obj.cycle.is_closed, "back": _objective_url(request, obj)})


@org_view(Role.LEADER)
@require_POST
def kr_move(request: HttpRequest, pk: int, direction: str) -> HttpResponse:
    kr = get_key_result_for_member(request, pk)
    obj = kr.objective
    try:
        services.key_result_move(key_result=kr, actor=request.user, direction=direction)
    except ValidationError as exc:
        if request.htmx:
            return HttpResponse(" ".join(exc.messages), status=409)
        messages.error(request, " ".join(exc.messages))
        return redirect(_objective_url(request, obj))
    if request.htmx:
        return _krs_partial(request, obj)
    return redirect(_objective_url(request, obj))


# --------------------------------------------------------- cycle close


@org_view(Role.LEADER)
def cycle_close(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_cycle_for_member(request, pk)
    list_url = org_url("okrs:list", request) + f"?cycle={cycle.pk}"
    if cycle.is_closed:
        messages.info(request, _("%(name)s is already closed.") % {"name": cycle.name})
        return redirect(list_url)
    cp = selectors.cycle_progress(organization=request.org, cycle=cycle)
    form = CycleCloseForm(request.POST or None, cycle=cycle, rows=cp.rows)
    if request.method == "POST" and form.is_valid():
        try:
            services.cycle_close(cycle=cycle, actor=request.user,
                                 version=form.cleaned_data["version"],
                                 decisions=form.decisions())
        except StaleVersion:
            messages.error(request, _("This cycle was changed by someone else while you were "
                                      "closing it. Check the values again."))
            return redirect(org_url("okrs:cycle_close", request, pk=cycle.pk))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is closed. Scores are frozen.") % {
                "name": cycle.name})
            return redirect(org_url("okrs:carry_over", request, pk=cycle.pk))
    today = goal_selectors.org_today(request.org)
    early = today < cycle.end  # closing before the last day: say so (issue 14, defect 8)
    return render(request, "okrs/cycle_close.html", {"cycle": cycle, "cp": cp, "form": form,
                                                     "early": early, "today": today})


@org_view(Role.LEADER)
def carry_over(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_cycle_for_member(request, pk)
    objectives = list(Objective.objects.alive().filter(organization=request.org, cycle=cycle)
                      .order_by("order", "id"))
    already = set(Objective.objects.filter(organization=request.org,
                                           carried_from__in=objectives)
                  .values_list("carried_from_id", flat=True))
    candidates = [o for o in services.carryable(objectives) if o.pk not in already]
    form = CarryOverForm(request.POST or None, organization=request.org, source=cycle,
                         candidates=candidates)
    if request.method == "POST" and form.is_valid():
        try:
            copies = services.objectives_carry_over(
                source=cycle, target=form.cleaned_data["target"], actor=request.user,
                objective_ids=[int(i) for i in form.cleaned_data["objectives"]])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            target = form.cleaned_data["target"]
            messages.success(request, ngettext(
                "%(n)s objective carried into %(name)s.", "%(n)s objectives carried into %(name)s.",
                len(copies)) % {"n": len(copies), "name": target.name})
            return redirect(org_url("okrs:list", request) + f"?cycle={target.pk}")
    return render(request, "okrs/carry_over.html", {
        "cycle": cycle, "form": form, "candidates": candidates,
        "already": [o for o in objectives if o.pk in already]})
