"""KPI pages: the operational board, a KPI's detail with its XmR chart and history, the
forms (value, target, rebase, definition), improvement candidates and CSV import.
Thin: reads from selectors, writes through services."""

from __future__ import annotations

import decimal
import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.access import has_role, org_url, org_view
from accounts.models import Role, Team
from core import charts as core_charts
from core.forms import apply_errors, save_versioned
from core.http import safe_next

from . import chart_model, charts, derived, feeds, imports, selectors, services
from . import words as W
from .access import (
    can_add_data,
    get_kpi_for_data_entry,
    get_kpi_for_member,
)
from .forms import CsvForm, DismissForm, KpiForm, RebaseForm, TargetForm, ValueForm
from .health import is_pending
from .models import STATUS_LABELS, Kpi, KpiHealth


def _detail_url(request, kpi) -> str:
    return org_url("kpis:detail", request, pk=kpi.pk)


# --------------------------------------------------------------------------- the board


BOARD_PAGE = 50
_PK_SLOT = 987654321  # stands for a KPI's id in a reversed URL


@org_view(Role.VIEWER)
def kpi_list(request: HttpRequest) -> HttpResponse:
    teams = list(Team.objects.filter(organization=request.org).order_by("name"))  # query
    team_id = request.GET.get("team", "")
    team_id = int(team_id) if team_id.isdigit() else None
    intent = request.GET.get("intent", "")
    intent = intent if intent in Kpi.Intent.values else ""
    status = request.GET.get("status", "")
    status_choices = list(STATUS_LABELS.items())
    status = status if status in dict(status_choices) else ""
    # One page of the board at a time: a 10,000-KPI organisation renders 50 rows.
    filters = {"team_id": team_id, "intent": intent, "status": status}
    paginator = Paginator(selectors.kpi_board_queryset(request.org, **filters), BOARD_PAGE)
    page = paginator.get_page(request.GET.get("page"))  # query: count
    rows = selectors.kpi_board(request.org, **filters, offset=page.start_index() - 1
                               if paginator.count else 0, limit=BOARD_PAGE,
                               total=paginator.count)
    query = request.GET.copy()
    query.pop("page", None)
    # One reverse() for the page, not one {% url %} per row: URL resolving was a visible
    # share of the board's time (bench/FINDINGS.md).
    head, _, tail = org_url("kpis:detail", request, pk=_PK_SLOT).rpartition(str(_PK_SLOT))
    failing = feeds.failing([row.kpi.pk for row in rows])  # one query: sources that fail
    for row in rows:
        row.url = f"{head}{row.kpi.pk}{tail}"
        row.source_failing = failing.get(row.kpi.pk)
        # Inline SVG markup (sparkline_svg escapes the label; the template outputs it with
        # |safe, like figure JSON): no figure JSON, no plotly.js on the board.
        row.spark_svg = core_charts.sparkline_svg(
            row.values, status="stale" if row.is_stale else row.status,
            label=ngettext("%(name)s: last %(n)s value", "%(name)s: last %(n)s values",
                           len(row.values)) % {"name": row.kpi.name, "n": len(row.values)},
        ) if row.values else ""
    ctx = {
        "rows": rows,
        "teams": teams,
        "team_id": team_id,
        "intent": intent,
        "status": status,
        "intents": Kpi.Intent.choices,
        "statuses": status_choices,
        "can_admin": has_role(request, Role.ADMIN),
        "can_lead": has_role(request, Role.LEADER),
        "filtered": bool(team_id or intent or status),
        "page": page,
        "page_query": query.urlencode(),
    }
    template = "kpis/list.html#board" if request.htmx else "kpis/list.html"
    return render(request, template, ctx)


# --------------------------------------------------------------------------- one KPI


_DECIMALS = decimal.Context(prec=60)


def _number(value: float, decimals: int) -> str:
    """``value|floatformat:decimals`` for ``decimals >= 0`` with a "." decimal separator
    and no grouping: the same Decimal rounding without the filter's per-call work (a KPI
    page formats every point, bench/FINDINGS.md)."""
    text = repr(value)
    if "e" in text or "n" in text:  # an exponent, nan, inf: the filter itself
        return str(floatformat(value, decimals))
    rounded = decimal.Decimal(text).quantize(decimal.Decimal(1).scaleb(-decimals),
                                             decimal.ROUND_HALF_UP, _DECIMALS)
    out = f"{rounded:f}"
    return out[1:] if out[0] == "-" and not rounded else out  # never "-0.0"


def _number_format():
    """``_number`` when the active number format is the plain one, else the filter."""
    if get_format("DECIMAL_SEPARATOR") == "." and not settings.USE_THOUSAND_SEPARATOR:
        return _number
    return lambda value, decimals: str(floatformat(value, decimals))


def _detail_context(request, kpi: Kpi, **forms) -> dict:
    d = selectors.kpi_detail(kpi)
    periods = [p.period_start for p in d.points]
    values = [p.value for p in d.points]
    value_at = {p.isoformat(): v for p, v in zip(periods, values, strict=True)}
    # The analysis with the KPI's limit periods and exclusions, as the sweep judged it.
    chart = chart_model.build(kpi, d.points)
    analysis = chart.analysis
    # Both charts as plain plotly.js JSON (not plotly.graph_objects: see kpis.charts).
    figure = charts.xmr_data(periods, values, analysis, target_rule=kpi.target_rule,
                             target_value=kpi.target_value, target_upper=kpi.target_upper,
                             unit=kpi.unit, excluded=chart.excluded_idx,
                             notes=[p.note for p in d.points],
                             favourable=chart.favourable,
                             frequency=kpi.frequency) if values else None
    mr = charts.mr_data(periods, analysis, frequency=kpi.frequency,
                        unit=kpi.unit) if len(values) > 1 else None
    rules_at = charts.rules_by_index(analysis)
    # The table's cells as text, formatted here: a KPI has a hundred points and more, and
    # the template filters (floatformat, date) per cell were most of the page's work.
    number = _number_format()
    decimals = kpi.decimals
    rows = []
    excluded = set(chart.excluded_idx)
    for i, point in enumerate(d.points):
        moving_range = analysis.moving_ranges[i]
        source = point.get_source_display()
        rows.append({
            "period": point.period_start.isoformat(),
            # The table's date in the reader's format (the form fields keep ISO).
            "day": date_format(point.period_start, "j M Y"),
            "excluded": i in excluded,
            "value": number(point.value, decimals),
            "mr": "" if moving_range is None else number(moving_range, decimals),
            "rules": sorted(rules_at.get(i, ())),
            "source": f"{source} · {point.author.display_name}" if point.author else source,
            "note": point.note,
            "revisions": point.revisions,
        })
    rows.reverse()
    # A derived KPI's values are computed (kpis.derived): nobody enters them.
    can_data = not kpi.formula and can_add_data(request, kpi)
    formula_text, gaps = derived.gaps(kpi)
    version = kpi.version
    ctx = {
        "kpi": kpi,
        "d": d,
        "health": d.health,
        "pending": is_pending(kpi, d.health),
        "analysis": analysis,
        "chart": chart,
        "figure_json": core_charts.to_json(figure) if figure else "",
        "mr_json": core_charts.to_json(mr) if mr else "",
        "rows": rows,
        "formula_text": formula_text,
        "formula_gaps": gaps,
        # The derived KPIs computed from this one (it cannot be deleted while they are).
        "used_by": list(Kpi.objects.filter(inputs__input=kpi).order_by("name")
                        .values_list("pk", "name")),
        "target_text": selectors.KpiRow(kpi=kpi, health=d.health).target_text,
        "can_data": can_data,
        "can_admin": has_role(request, Role.ADMIN),
        "can_lead": has_role(request, Role.LEADER),
        "value_form": forms.get("value_form") or ValueForm(
            kpi=kpi, initial={"period": timezone.localdate().isoformat()}),
        "target_form": forms.get("target_form") or TargetForm(initial={
            "version": version, "target_rule": kpi.target_rule, "target_value": kpi.target_value,
            "target_upper": kpi.target_upper}),
        "rebase_form": forms.get("rebase_form") or RebaseForm(initial={
            "version": version, "rebase_date": kpi.rebase_date}),
        "dismiss_form": forms.get("dismiss_form") or DismissForm(),
        # Each current signal with its sentence in the reader's language ("text"); the
        # stored "reason" is in the site's language.
        "signals": [{**s, "text": W.signal_text(
            s, frequency=kpi.frequency, unit=kpi.unit, decimals=kpi.decimals,
            value=value_at.get(s.get("period")) if s.get("rule") == 1 else None)}
            for s in (d.health.signals if d.health else []) if s.get("current")],
        # How a data source feeds it, and whether it fails (kpis.feeds; one query).
        "feed": feeds.status(kpi, admin=has_role(request, Role.ADMIN)),
    }
    return ctx


@org_view(Role.VIEWER)
def kpi_detail(request: HttpRequest, pk: int) -> HttpResponse:
    kpi = get_kpi_for_member(request, pk)
    return render(request, "kpis/detail.html", _detail_context(request, kpi))


def _rerender(request, kpi, status=400, **forms) -> HttpResponse:
    return render(request, "kpis/detail.html", _detail_context(request, kpi, **forms),
                  status=status)


@org_view(Role.MEMBER)
@require_POST
def kpi_add_value(request: HttpRequest, pk: int) -> HttpResponse:
    kpi = get_kpi_for_data_entry(request, pk)
    form = ValueForm(request.POST, kpi=kpi)
    if form.is_valid():
        try:
            outcome = services.kpi_record_value(
                kpi=kpi, period=form.cleaned_data["period"], value=form.cleaned_data["value"],
                note=form.cleaned_data["note"], source="manual", author=request.user)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if outcome.replaced is not None:
                messages.success(request, _("Value replaced (it was %(old)s; the old value is kept "
                                            "in the history).") % {"old": f"{outcome.replaced:g}"})
            else:
                messages.success(request, _("Value recorded."))
            return redirect(_detail_url(request, kpi))
    return _rerender(request, kpi, value_form=form)


@org_view(Role.ADMIN)
@require_POST
def kpi_change_target(request: HttpRequest, pk: int) -> HttpResponse:
    kpi = get_kpi_for_member(request, pk)
    form = TargetForm(request.POST)
    edit = save_versioned(form, lambda version: services.kpi_change_target(
        kpi=kpi, actor=request.user, version=version,
        target_rule=form.cleaned_data["target_rule"],
        target_value=form.cleaned_data["target_value"],
        target_upper=form.cleaned_data["target_upper"], reason=form.cleaned_data["reason"]),
        stale_message=_("Someone else changed this KPI since you opened the page. Check the "
                        "current target and try again."))
    if edit.saved:
        messages.success(request, _("Target changed; the change is kept in the history."))
        return redirect(_detail_url(request, kpi))
    if edit.status == 409:
        kpi.refresh_from_db()
        return _rerender(request, kpi, status=409, target_form=form)
    return _rerender(request, kpi, target_form=form)


@org_view(Role.ADMIN)
@require_POST
def kpi_rebase(request: HttpRequest, pk: int) -> HttpResponse:
    kpi = get_kpi_for_member(request, pk)
    form = RebaseForm(request.POST)
    edit = save_versioned(form, lambda version: services.kpi_rebase(
        kpi=kpi, actor=request.user, version=version,
        rebase_date=form.cleaned_data["rebase_date"], note=form.cleaned_data["note"]),
        stale_message=_("Someone else changed this KPI since you opened the page."))
    if edit.saved:
        messages.success(request, _("Limits rebased."))
        return redirect(_detail_url(request, kpi))
    if edit.status == 409:
        kpi.refresh_from_db()
        return _rerender(request, kpi, status=409, rebase_form=form)
    return _rerender(request, kpi, rebase_form=form)


@org_view(Role.LEADER)
@require_POST
def kpi_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """Dismiss an improvement candidate: from the KPI's page or the candidates list (back
    there), or from the leader dashboard's card (htmx: the card swapped in place; without
    JavaScript its form names the page to return to in ``next``)."""
    kpi = get_kpi_for_member(request, pk)
    back = request.POST.get("next") == "candidates"
    card_back = "" if back else safe_next(request)
    if request.htmx or card_back:
        return _dismiss_from_card(request, kpi, card_back)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            services.candidate_dismiss(kpi=kpi, actor=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” dismissed as a candidate.") % {"name": kpi.name})
            return redirect(org_url("kpis:candidates", request) if back else _detail_url(request, kpi))
    if back:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(org_url("kpis:candidates", request))
    return _rerender(request, kpi, dismiss_form=form)


CARD_NOTE_LENGTH = 2000  # the card's one-line note (its input's maxlength)


def _dismiss_from_card(request: HttpRequest, kpi: Kpi, back: str) -> HttpResponse:
    note = (request.POST.get("note") or "").strip()[:CARD_NOTE_LENGTH]
    try:
        services.candidate_dismiss(kpi=kpi, actor=request.user, note=note)
    except ValidationError as exc:
        error = " ".join(exc.messages)
        if request.htmx:
            return candidate_card(request, kpi, error=error, note=note, show_dismiss=True)
        messages.error(request, error)
        return redirect(back)
    if request.htmx:
        return candidate_card(request, kpi, toast=_("Candidate dismissed"), dismissed=True,
                              note=note)
    messages.success(request, _("Candidate dismissed"))
    return redirect(back)


def candidate_card(request: HttpRequest, kpi: Kpi, *, toast: str = "", **outcome
                   ) -> HttpResponse:
    """The leader dashboard's card of an improvement candidate after an action on it
    (dismissed here, promoted by okrs.promotion_views), for htmx to swap in place; the
    toast says what happened. ``outcome``: see templates/includes/candidate_card.html."""
    kpi = get_kpi_for_member(request, kpi.pk)  # its health as the action left it
    row = selectors.KpiRow(kpi=kpi, health=selectors._health(kpi))
    row.url = _detail_url(request, kpi)
    row.promote_url = org_url("okrs:promote_kpi", request, kpi_pk=kpi.pk)
    row.dismiss_url = org_url("kpis:dismiss", request, pk=kpi.pk)
    response = render(request, "includes/candidate_card.html", {
        "row": row, "can_promote": True, "next_url": safe_next(request), **outcome})
    if toast:
        response["HX-Trigger"] = json.dumps({"toast": toast})
    return response


# --------------------------------------------------------------------------- definitions


@org_view(Role.ADMIN)
def kpi_create(request: HttpRequest) -> HttpResponse:
    form = KpiForm(request.POST or None, organization=request.org)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            kpi = services.kpi_create(organization=request.org, actor=request.user, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("KPI “%(name)s” created. Add its first values.") % {"name": kpi.name})
            return redirect(_detail_url(request, kpi))
    return render(request, "kpis/form.html", {"form": form, "kpi": None},
                  status=400 if form.errors else 200)


@org_view(Role.ADMIN)
def kpi_edit(request: HttpRequest, pk: int) -> HttpResponse:
    kpi = get_kpi_for_member(request, pk)
    form = KpiForm(request.POST or None, instance=kpi, organization=request.org)
    edit = save_versioned(form, lambda version: services.kpi_update(
        kpi=kpi, actor=request.user, version=version,
        **{k: v for k, v in form.cleaned_data.items()
           if k in services.DEFINITION_FIELDS or k == "formula"}),
        stale_message=_("Someone else changed this KPI since you opened the page. Reload to "
                        "see their changes."))
    if edit.saved:
        messages.success(request, _("KPI saved."))
        return redirect(_detail_url(request, kpi))
    status = 400 if form.errors and edit.status == 200 else edit.status
    return render(request, "kpis/form.html", {"form": form, "kpi": kpi}, status=status)


# --------------------------------------------------------------------------- candidates


@org_view(Role.VIEWER)
def candidates(request: HttpRequest) -> HttpResponse:
    rows = selectors.kpi_board(request.org, candidates_only=True)
    active = [r for r in rows if r.health.candidate == KpiHealth.Candidate.CANDIDATE]
    dismissed = [r for r in rows if r.health.candidate == KpiHealth.Candidate.DISMISSED]
    return render(request, "kpis/candidates.html", {
        "active": active,
        "dismissed": dismissed,
        "can_lead": has_role(request, Role.LEADER),
        "dismiss_form": DismissForm(),
    })


# --------------------------------------------------------------------------- CSV import


def _import(request, kpi: Kpi | None) -> HttpResponse:
    form = (CsvForm(request.POST, request.FILES, kpi=kpi) if request.method == "POST"
            else CsvForm(kpi=kpi))
    preview = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            text = form.cleaned_data["text"]
            preview = imports.parse(text, organization=request.org, kpi=kpi)
            if request.POST.get("confirm") == "1" and preview.clean:
                n = imports.run(preview, author=request.user)
                messages.success(request, ngettext("Imported %(n)s value.", "Imported %(n)s values.", n)
                                 % {"n": n})
                return redirect(_detail_url(request, kpi) if kpi else org_url("kpis:list", request))
            if not preview.clean:
                status = 400
            form = CsvForm(initial={"content": text}, kpi=kpi)
        else:
            status = 400
    return render(request, "kpis/import.html", {
        "form": form, "preview": preview, "kpi": kpi,
        "content": preview and form.initial.get("content", ""),
    }, status=status)


@org_view(Role.ADMIN)
def import_bulk(request: HttpRequest) -> HttpResponse:
    return _import(request, None)


@org_view(Role.MEMBER)
def import_one(request: HttpRequest, pk: int) -> HttpResponse:
    kpi = get_kpi_for_data_entry(request, pk)
    return _import(request, kpi)
