"""The promote endpoint: an improvement candidate becomes a draft improvement OKR
(okrs.promotion.kpi_promote)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.access import org_url, org_view
from accounts.models import Role
from core.http import safe_next
from kpis.access import get_kpi_for_member
from kpis.views import candidate_card
from okrs.promotion import kpi_promote

PROMOTED = "Promoted into a draft objective"


@org_view(Role.LEADER)
@require_POST
def promote_kpi(request: HttpRequest, kpi_pk: int) -> HttpResponse:
    """From the KPI's page or the candidates list: promote, then open the draft. From the
    leader dashboard's card: htmx swaps the card in place; without JavaScript its form
    names the page to return to in ``next``."""
    kpi = get_kpi_for_member(request, kpi_pk)
    back = safe_next(request)
    try:
        objective, _kr = kpi_promote(kpi=kpi, actor=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
        if request.htmx:
            return candidate_card(request, kpi, error=error)
        messages.error(request, error)
        return redirect(back or org_url("kpis:detail", request, pk=kpi.pk))
    objective_url = org_url("okrs:objective", request, pk=objective.pk)
    if request.htmx:
        return candidate_card(request, kpi, toast=PROMOTED, promoted=objective,
                              objective_url=objective_url)
    if back:
        messages.success(request, PROMOTED)
        return redirect(back)
    messages.success(request, f"Draft objective created for “{kpi.name}”. Review it and "
                              f"make it active when ready.")
    return redirect(objective_url)
