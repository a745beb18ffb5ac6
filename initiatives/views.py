"""Initiatives: the work under a key result (or an objective). Members write and edit
their own; leaders edit all."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.access import has_role, org_view
from accounts.models import Role
from core.forms import apply_errors, save_versioned, submitted_values
from initiatives import services
from initiatives.access import get_initiative_for_editor
from initiatives.forms import InitiativeForm
from okrs.access import get_key_result_for_member, get_objective_for_member


def _back(request, objective) -> HttpResponse:
    return redirect("okrs:objective", org_slug=request.org.slug, pk=objective.pk)


@org_view(Role.MEMBER)
def create(request: HttpRequest) -> HttpResponse:
    key_result = objective = None
    kr_id = request.GET.get("key_result") or request.POST.get("key_result")
    if kr_id:
        key_result = get_key_result_for_member(request, kr_id)
        parent_objective = key_result.objective
    else:
        objective = get_objective_for_member(request, request.GET.get("objective")
                                             or request.POST.get("objective"))
        parent_objective = objective
    if parent_objective.cycle.is_closed:
        messages.error(request, _("%(cycle)s is closed: it is read-only.")
                       % {"cycle": parent_objective.cycle.name})
        return _back(request, parent_objective)
    can_assign = has_role(request, Role.LEADER)
    form = InitiativeForm(request.POST or None, organization=request.org,
                          can_assign=can_assign, initial={"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if not can_assign:
            data["owner"] = request.user
        try:
            services.initiative_create(actor=request.user, data=data, key_result=key_result,
                                       objective=objective)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Initiative added."))
            return _back(request, parent_objective)
    return render(request, "initiatives/form.html", {
        "form": form, "initiative": None, "key_result": key_result,
        "objective": parent_objective})


@org_view(Role.MEMBER)
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    initiative = get_initiative_for_editor(request, pk)
    key_result = initiative.key_result
    parent_objective = key_result.objective if key_result else initiative.objective
    if parent_objective.cycle.is_closed:
        messages.error(request, _("%(cycle)s is closed: it is read-only.")
                       % {"cycle": parent_objective.cycle.name})
        return _back(request, parent_objective)
    can_assign = has_role(request, Role.LEADER)
    form = InitiativeForm(request.POST or None, instance=initiative, organization=request.org,
                          can_assign=can_assign)
    edit = save_versioned(
        form, lambda version: services.initiative_update(
            initiative=initiative, actor=request.user, version=version,
            data=form.service_data()),
        refreshed=lambda current: InitiativeForm(instance=current, organization=request.org,
                                                 can_assign=can_assign),
        # This page has always listed a status as stored ("in_progress"), not its label.
        stale_values=lambda typed: submitted_values(typed, choice_labels=False))
    if edit.saved:
        messages.success(request, _("Initiative saved."))
        return _back(request, parent_objective)
    return render(request, "initiatives/form.html", {
        "form": edit.form, "initiative": initiative, "key_result": key_result,
        "objective": parent_objective, "stale": edit.stale}, status=edit.status)


@org_view(Role.MEMBER)
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    initiative = get_initiative_for_editor(request, pk)
    parent_objective = (initiative.key_result.objective if initiative.key_result_id
                        else initiative.objective)
    if request.method == "POST":
        try:
            services.initiative_delete(initiative=initiative, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Initiative “%(title)s” deleted.") % {"title": initiative.title})
        return _back(request, parent_objective)
    return render(request, "okrs/confirm_delete.html", {
        "thing": initiative, "kind": "initiative", "reason": "",
        "read_only": parent_objective.cycle.is_closed,
        "back": f"/o/{request.org.slug}/okrs/{parent_objective.pk}/"})
