"""Admin pages for the ultimate goal, the pillars and the cycles.

The read-only goal & pillars page with progress lives in okrs.views.goal (goals may
not import okrs, and the roll-up needs the objectives)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.access import org_view
from accounts.models import Role
from core.forms import apply_errors, save_versioned
from goals import selectors, services
from goals.access import get_cycle_for_member, get_pillar_for_member
from goals.forms import CycleForm, GoalForm, PillarForm
from goals.models import Cycle, StrategicPillar


@org_view(Role.ADMIN)
def goal_edit(request: HttpRequest) -> HttpResponse:
    goal = selectors.active_goal(request.org)
    form = GoalForm(request.POST or None, instance=goal)
    edit = save_versioned(form, lambda version: services.goal_save(
        organization=request.org, actor=request.user, goal=goal, version=version,
        data=form.service_data()), refreshed=lambda current: GoalForm(instance=current))
    if edit.saved:
        messages.success(request, _("Goal saved."))
        return redirect("okrs:goal", org_slug=request.org.slug)
    return render(request, "goals/goal_form.html", {"form": edit.form, "goal": goal,
                                                     "stale": edit.stale}, status=edit.status)


@org_view(Role.ADMIN)
def pillars(request: HttpRequest) -> HttpResponse:
    """The pillars with how many objectives support each in the cycle shown — the goal
    page's count, by the same selector (issue 14, defect 10)."""
    rows = list(StrategicPillar.objects.filter(organization=request.org)
                .order_by("archived", "order", "id"))  # 1 query
    cycles = selectors.cycles_for(request.org)  # 1 query
    cycle = selectors.pick_cycle(request.org, cycles, request.GET.get("cycle", ""))
    found = selectors.pillar_figures(cycle) if cycle else {}  # 1 query
    for p in rows:
        p.objective_count = found[p.pk].objective_count if p.pk in found else 0
    form = PillarForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pillar = services.pillar_create(organization=request.org, actor=request.user,
                                            data=form.service_data())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Pillar “%(name)s” added.") % {"name": pillar.name})
            return redirect("goals:pillars", org_slug=request.org.slug)
    return render(request, "goals/pillars.html", {"pillars": rows, "form": form,
                                                   "cycle": cycle, "cycles": cycles})


@org_view(Role.ADMIN)
def pillar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    pillar = get_pillar_for_member(request, pk)
    form = PillarForm(request.POST or None, instance=pillar)
    edit = save_versioned(form, lambda version: services.pillar_update(
        pillar=pillar, actor=request.user, version=version, data=form.service_data()),
        refreshed=lambda current: PillarForm(instance=current))
    if edit.saved:
        messages.success(request, _("Pillar saved."))
        return redirect("goals:pillars", org_slug=request.org.slug)
    return render(request, "goals/pillar_form.html", {"form": edit.form, "pillar": pillar,
                                                       "stale": edit.stale}, status=edit.status)


@org_view(Role.ADMIN)
def pillar_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then delete a pillar. The page says what happens to the objectives aligned
    to it (kept, without a pillar) and offers archiving instead. The POST must carry the
    confirmation field of the page's form: a bare POST only shows the page again."""
    pillar = get_pillar_for_member(request, pk)
    if request.method == "POST" and request.POST.get("confirm") == "delete":
        services.pillar_delete(pillar=pillar, actor=request.user)
        messages.success(request, _("Pillar “%(name)s” deleted.") % {"name": pillar.name})
        return redirect("goals:pillars", org_slug=request.org.slug)
    return render(request, "goals/pillar_delete.html", {
        "pillar": pillar, "impact": services.pillar_delete_impact(pillar)})


@org_view(Role.ADMIN)
def cycles(request: HttpRequest) -> HttpResponse:
    rows = (Cycle.objects.filter(organization=request.org).select_related("parent", "closed_by")
            .annotate(objective_count=Count("objectives",
                                            filter=Q(objectives__deleted_at__isnull=True)))
            .order_by("-start", "kind", "id"))
    return render(request, "goals/cycles.html", {"cycles": rows})


@org_view(Role.ADMIN)
def cycle_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    cycle = get_cycle_for_member(request, pk) if pk is not None else None
    if cycle is not None and cycle.is_closed:
        messages.error(request, _("%(name)s is closed: it is read-only.") % {"name": cycle.name})
        return redirect("goals:cycles", org_slug=request.org.slug)
    form = CycleForm(request.POST or None, instance=cycle, organization=request.org)

    def save(version: int):
        if cycle is None:
            return services.cycle_create(organization=request.org, actor=request.user,
                                         data=form.service_data())
        return services.cycle_update(cycle=cycle, actor=request.user, version=version,
                                     data=form.service_data())

    edit = save_versioned(form, save, refreshed=lambda current: CycleForm(
        instance=current, organization=request.org))
    if edit.saved:
        messages.success(request, _("Cycle saved."))
        return redirect("goals:cycles", org_slug=request.org.slug)
    return render(request, "goals/cycle_form.html", {"form": edit.form, "cycle": cycle,
                                                      "stale": edit.stale}, status=edit.status)
