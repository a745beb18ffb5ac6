"""The KPI page's chart controls: limit periods (confirm or decline a suggested one, add,
remove, lock, unlock), excluded points, the moving range method; the chart's data as CSV
and the legend of the verdicts. Leaders and admins change them; a closed (inactive) KPI
is refused like a foreign one (404). Writes go through ``kpis.limit_store``."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import org_url, org_view
from accounts.models import Role

from . import limit_store as S
from . import selectors
from .access import get_kpi_for_member
from .models import Kpi


def _open_kpi(request, pk) -> Kpi:
    kpi = get_kpi_for_member(request, pk)
    if not kpi.active:
        raise Http404("This KPI is closed.")
    return kpi


def _int(raw) -> int:
    raw = (raw or "").strip()
    if not raw.isascii() or not raw.isdigit():
        raise ValidationError({"reason": _("That entry does not exist (any more).")})
    return int(raw)


def _apply(request, pk, write, success: str) -> HttpResponse:
    """Run one write; on a refusal show the KPI's page again with the message (400)."""
    kpi = _open_kpi(request, pk)
    try:
        write(kpi)
    except ValidationError as exc:
        from .views import _detail_context

        text = " ".join(m for ms in exc.message_dict.values() for m in ms) \
            if hasattr(exc, "error_dict") else " ".join(exc.messages)
        ctx = _detail_context(request, kpi)
        ctx["limit_error"] = text
        return render(request, "kpis/detail.html", ctx, status=400)
    messages.success(request, success)
    return redirect(org_url("kpis:detail", request, pk=kpi.pk) + "#chart-h")


@org_view(Role.LEADER)
@require_POST
def period_add(request: HttpRequest, pk: int) -> HttpResponse:
    p = request.POST
    suggested = p.get("suggested") == "1"
    return _apply(request, pk, lambda kpi: S.period_add(
        kpi=kpi, actor=request.user, start=p.get("start"), reason=p.get("reason"),
        suggested=suggested),
        _("New limit period confirmed: the chart's limits step there.") if suggested
        else _("Limit period added: the chart's limits step there."))


@org_view(Role.LEADER)
@require_POST
def period_decline(request: HttpRequest, pk: int) -> HttpResponse:
    p = request.POST
    return _apply(request, pk, lambda kpi: S.period_decline(
        kpi=kpi, actor=request.user, start=p.get("start"), reason=p.get("reason")),
        _("Suggestion declined; it is kept in the KPI's history."))


@org_view(Role.LEADER)
@require_POST
def period_remove(request: HttpRequest, pk: int) -> HttpResponse:
    p = request.POST
    return _apply(request, pk, lambda kpi: S.period_remove(
        kpi=kpi, actor=request.user, period_id=_int(p.get("period")), reason=p.get("reason")),
        _("Limit period removed."))


@org_view(Role.LEADER)
@require_POST
def period_lock(request: HttpRequest, pk: int) -> HttpResponse:
    p = request.POST
    return _apply(request, pk, lambda kpi: S.period_lock(
        kpi=kpi, actor=request.user, period_id=_int(p.get("period"))), _("Limits locked."))


@org_view(Role.LEADER)
@require_POST
def period_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    p = request.POST
    return _apply(request, pk, lambda kpi: S.period_unlock(
        kpi=kpi, actor=request.user, period_id=_int(p.get("period")), reason=p.get("reason")),
        _("Limits unlocked and recalculated from the period's values."))


@org_view(Role.LEADER)
@require_POST
def point_exclude(request: HttpRequest, pk: int) -> HttpResponse:
    p = request.POST
    return _apply(request, pk, lambda kpi: S.point_exclude(
        kpi=kpi, actor=request.user, period=p.get("period"), reason=p.get("reason")),
        _("Point left out of the limit calculation (drawn hollow)."))


@org_view(Role.LEADER)
@require_POST
def point_include(request: HttpRequest, pk: int) -> HttpResponse:
    p = request.POST
    return _apply(request, pk, lambda kpi: S.point_include(
        kpi=kpi, actor=request.user, excluded_id=_int(p.get("excluded")),
        reason=p.get("reason", "")), _("Point counts towards the limits again."))


@org_view(Role.LEADER)
@require_POST
def limit_method(request: HttpRequest, pk: int) -> HttpResponse:
    p = request.POST
    return _apply(request, pk, lambda kpi: S.method_set(
        kpi=kpi, actor=request.user, method=p.get("method", ""), reason=p.get("reason")),
        _("Moving range method changed."))


@org_view(Role.VIEWER)
def chart_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The chart's data: every point with its period's limits, its signals and its note."""
    from .chart_model import build, csv_rows

    kpi = get_kpi_for_member(request, pk)
    points = selectors.kpi_detail(kpi).points
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kpi-{kpi.pk}-chart.csv"'
    writer = csv.writer(response)
    for row in csv_rows(kpi, points, build(kpi, points)):
        writer.writerow(row)
    return response


@org_view(Role.VIEWER)
def legend(request: HttpRequest) -> HttpResponse:
    return render(request, "kpis/legend.html", {})
