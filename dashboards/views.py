"""Leader dashboards: home, strategy map, operations, strategic review, team page, and
their CSV exports. Views stay thin: reads are in dashboards.selectors."""

from __future__ import annotations

import copy
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import get_in_org, get_team_for_member, has_role, org_view
from accounts.models import Role, Team
from dashboards import selectors as S
from dashboards.exports import csv_response, pct
from dashboards.links import Links, first_url
from goals import charts
from goals.models import Cycle, StrategicPillar, UltimateGoal
from kpis.models import Kpi
from okrs.models import Objective
from okrs.selectors import status_label


def setup_steps(request) -> list[dict]:
    """The getting-started checklist: what the organisation has set up, each step linked
    to its page for those allowed to do it (others read who does it)."""
    org = request.org
    slug = org.slug
    steps = [
        ("Write the ultimate goal", Role.ADMIN, ("goals:goal_edit", "okrs:goal"),
         UltimateGoal.objects.filter(organization=org, is_active=True)),
        ("Name the strategic pillars", Role.ADMIN, ("goals:pillars", "okrs:goal"),
         StrategicPillar.objects.filter(organization=org)),
        ("Open a cycle", Role.ADMIN, ("goals:cycle_create", "goals:cycles"),
         Cycle.objects.filter(organization=org)),
        ("Write objectives and key results", Role.LEADER,
         ("okrs:objective_create", "okrs:list"), Objective.objects.filter(organization=org)),
        ("Add KPIs", Role.ADMIN, ("kpis:create", "kpis:list"),
         Kpi.objects.filter(organization=org)),
    ]
    out = []
    for label, role, names, qs in steps:
        allowed = has_role(request, role)
        out.append({"label": label, "done": qs.exists(),
                    "url": first_url(slug, *names) if allowed else "",
                    "who": "" if allowed else f"an {Role(role).label.lower()} does this"
                    if role == Role.ADMIN else f"a {Role(role).label.lower()} does this"})
    return out


def _linked(row, url: str):
    """A copy of a shared okrs.selectors row (cycle_progress results are shared between
    requests and never modified) carrying its page's URL."""
    row = copy.copy(row)
    row.url = url
    return row


def _kpi_links(request, rows) -> None:
    links = Links(request.org.slug)
    for row in rows:
        row.url = links.obj("kpis:detail", row.kpi.pk)
        row.team_url = links.obj("dashboards:team", row.kpi.team.slug, "team") \
            if row.kpi.team else ""


def _candidate_links(request, rows) -> None:
    """The promote / dismiss form actions of candidate rows (one reverse each per page,
    not per row)."""
    links = Links(request.org.slug)
    for row in rows:
        row.promote_url = links.obj("dashboards:candidate_promote", row.kpi.pk)
        row.dismiss_url = links.obj("dashboards:candidate_dismiss", row.kpi.pk)


# --- Operations: business as usual ------------------------------------------------------


@org_view(Role.VIEWER)
def operations(request: HttpRequest) -> HttpResponse:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    data = S.operations_page(request.org, team_value=request.GET.get("team", ""),
                             status=request.GET.get("status", ""), page=page)
    _kpi_links(request, data.rows)
    slug = request.org.slug
    query = urlencode({k: v for k, v in (("team", data.team_value), ("status", data.status))
                       if v})
    ctx = {
        "p": data,
        "query": query,
        "status_choices": list(S.KPI_STATUS_LABELS.items()),
        "any_kpi": data.total or data.filtered or any(n for _k, _l, n in data.counts),
        "add_kpi_url": first_url(slug, "kpis:create", "kpis:kpi_create", "kpis:list"),
        "kpis_url": first_url(slug, "kpis:list"),
        "can_admin": has_role(request, Role.ADMIN),
    }
    return render(request, "dashboards/operations.html", ctx)


KPI_CSV_HEADER = ["Team", "KPI", "Intent", "Frequency", "Unit", "Target", "Latest period",
                  "Latest value", "Status", "Stale", "Unfavourable signal", "Candidate",
                  "Owner"]


def _kpi_csv_rows(rows):
    for r in rows:
        h = r.health
        yield [r.kpi.team.name if r.kpi.team else "", r.kpi.name, r.kpi.get_intent_display(),
               r.kpi.get_frequency_display(), r.kpi.unit, r.target_text, r.latest_period,
               r.latest_value, r.status_label, r.is_stale, r.has_signal,
               h.get_candidate_display() if h else "",
               r.kpi.owner.display_name if r.kpi.owner else ""]


@org_view(Role.VIEWER)
def operations_csv(request: HttpRequest) -> HttpResponse:
    teams = list(Team.objects.filter(organization=request.org))
    where, _team, _value, status = S.operations_filter(
        request.org, teams, request.GET.get("team", ""), request.GET.get("status", ""))
    if status:
        where &= S.STATUS_FILTERS[status]
    rows = S.kpi_rows(request.org, intent=Kpi.Intent.SUSTAIN, where=where, spark_points=0)
    return csv_response(f"{request.org.slug}-operations", KPI_CSV_HEADER, _kpi_csv_rows(rows))


# --- Team page ---------------------------------------------------------------------------


TEAM_KPIS = 24


def _team_context(request, team_obj) -> dict:
    from goals.selectors import current_cycle
    from okrs.checkins.selectors import completion_by_week
    from okrs.selectors import cycle_progress

    org = request.org
    links = Links(org.slug)
    cycle = current_cycle(org)  # 1 query
    objectives, expected = [], None
    if cycle:
        cp = cycle_progress(organization=org, cycle=cycle)  # 2 queries
        expected = cp.expected_pct
        objectives = [_linked(r, links.obj("okrs:objective", r.objective.pk))
                      for r in cp.by_id.values() if r.objective.team_id == team_obj.pk]
    # The team's KPIs, the ones needing attention first; a long list continues on the
    # operations view (one extra row fetched tells whether there are more).
    rows = S.kpi_rows(org, team=team_obj, limit=TEAM_KPIS + 1,
                      order_by=(S.OFF_TARGET_FIRST, "-health__is_stale",
                                "-health__has_unfavourable_signal", "name", "id"),
                      defer=S.LIGHT)  # 2
    more_kpis = len(rows) > TEAM_KPIS
    rows = rows[:TEAM_KPIS]
    _kpi_links(request, rows)
    weeks = completion_by_week(team_obj, 8)  # 2 queries
    completion = [{"week": w.week_start, "done": w.done, "expected": w.total,
                   "pct": w.pct} for w in weeks]
    has_due = any(w.total for w in weeks)
    return {
        "team": team_obj, "cycle": cycle, "objectives": objectives, "expected": expected,
        "kpis": rows, "more_kpis": more_kpis, "lead": team_obj.lead,
        "operations_url": links.page("dashboards:operations") + f"?team={team_obj.slug}",
        "members": list(team_obj.members.order_by("name", "email")),  # 1 query
        "completion": completion if has_due else [],
        "completion_json": charts.to_json(charts.completion_bars(
            [(w.week_start, w.done, w.total) for w in weeks])) if has_due else "",
        "completion_label": _completion_label(team_obj, weeks),
        "teams_url": links.page("accounts:teams"),
        "checkin_url": links.obj("checkins:team", team_obj.slug, "team"),
        "new_objective_url": first_url(org.slug, "okrs:objective_create")
        if has_role(request, Role.LEADER) else "",
    }


def _completion_label(team_obj, weeks) -> str:
    due = [w for w in weeks if w.total]
    if not due:
        return f"{team_obj.name}: no key results to check in on in the last 8 weeks."
    parts = [f"week of {w.week_start:%d %b}: {w.done} of {w.total}" for w in due]
    return f"Check-in completion of {team_obj.name}, " + "; ".join(parts)


@org_view(Role.VIEWER)
def team(request: HttpRequest, team: str) -> HttpResponse:
    team_obj = get_team_for_member(request, team)
    return render(request, "dashboards/team.html", _team_context(request, team_obj))


@org_view(Role.VIEWER)
def team_csv(request: HttpRequest, team: str) -> HttpResponse:
    team_obj = get_team_for_member(request, team)
    ctx = _team_context(request, team_obj)
    out = []
    for r in ctx["objectives"]:
        out.append(["Objective", r.objective.title, pct(r.progress), pct(r.expected),
                    r.status_label, r.objective.owner.display_name if r.objective.owner else ""])
        for k in r.krs:
            out.append(["Key result", k.kr.title, pct(k.progress), "",
                        status_label(k.status), k.kr.owner.display_name if k.kr.owner else ""])
    for row in ctx["kpis"]:
        out.append(["KPI", row.kpi.name, row.latest_text, row.target_text, row.status_label,
                    row.kpi.owner.display_name if row.kpi.owner else ""])
    for w in ctx["completion"]:
        out.append(["Check-in week", w["week"], w["done"], w["expected"],
                    f"{w['pct']}%" if w["pct"] is not None else "", ""])
    return csv_response(f"{request.org.slug}-team-{team_obj.slug}",
                        ["Kind", "Name", "Progress / value", "Expected / target", "Status",
                         "Owner"], out)


# --- Home: the leader dashboard ------------------------------------------------------------


@org_view(Role.VIEWER)
def home(request: HttpRequest) -> HttpResponse:
    org = request.org
    if request.session.get("last_org") != org.slug:
        request.session["last_org"] = org.slug
    links = Links(org.slug)
    data = copy.copy(S.dashboard(org, links))  # shared between requests: change a copy
    if data.goal is None and data.cycle is None and not data.kpi_total:
        return render(request, "dashboards/home.html",
                      {"empty": True, "steps": setup_steps(request)})
    data.company_rows = [_linked(r, links.obj("okrs:objective", r.objective.pk))
                         for r in data.company_rows]
    _kpi_links(request, data.attention + data.candidates)
    _candidate_links(request, data.candidates)
    for c in data.completion:
        c.url = links.obj("dashboards:team", c.team.slug, "team")
    ctx = {
        "d": data,
        "can_promote": has_role(request, Role.LEADER),
        "steps": [s for s in setup_steps(request) if not s["done"]]
        if (data.goal is None or data.cycle is None or not data.kpi_total) else [],
        "strategy_url": links.page("dashboards:strategy_map"),
        "goal_url": links.page("okrs:goal"),
        "okrs_url": links.page("okrs:list"),
        "review_url": links.page("dashboards:review"),
        "operations_url": links.page("dashboards:operations"),
    }
    return render(request, "dashboards/home.html", ctx)


@org_view(Role.VIEWER)
def home_csv(request: HttpRequest) -> HttpResponse:
    org = request.org
    data = S.dashboard(org, Links(org.slug))
    out = []
    if data.goal is not None:
        out.append(["Goal", data.goal.title, pct(data.goal_progress), "", "", ""])
    for line in data.pillars:
        out.append(["Pillar", line.pillar.name, pct(line.progress), "", "",
                    f"{line.objectives} objectives"])
    for r in data.company_rows:
        out.append(["Objective", r.objective.title, pct(r.progress), pct(r.expected),
                    r.status_label, r.objective.owner.display_name if r.objective.owner else ""])
    for _key, label, n in (data.kpi_counts if data.kpi_total else []):
        out.append(["KPIs", label, n, "", "", ""])
    for row in data.attention:
        out.append(["KPI needing attention", row.kpi.name, row.latest_text, row.target_text,
                    row.status_label + (" (stale)" if row.is_stale else ""),
                    row.kpi.owner.display_name if row.kpi.owner else ""])
    for row in data.candidates:
        out.append(["Improvement candidate", row.kpi.name, row.latest_text, row.target_text,
                    row.health.candidate_reason if row.health else "",
                    row.kpi.owner.display_name if row.kpi.owner else ""])
    for c in data.completion:
        out.append(["Check-ins this week", c.team.name, f"{c.done} of {c.total}",
                    "", f"{c.pct}%" if c.pct is not None else "", ""])
    return csv_response(f"{org.slug}-dashboard",
                        ["Kind", "Name", "Progress / value", "Expected / target", "Status",
                         "Owner / note"], out)


# --- Improvement candidates: promote / dismiss in place ------------------------------------


def _candidate_kpi(request, pk) -> Kpi:
    return get_in_org(request, Kpi.objects.select_related("health", "team", "owner"), pk=pk)


def _candidate_response(request, kpi, *, outcome: dict, toast: str = "") -> HttpResponse:
    if not request.htmx:
        if outcome.get("error"):
            messages.error(request, outcome["error"])
        elif toast:
            messages.success(request, toast)
        return redirect("dashboards:home", org_slug=request.org.slug)
    rows = S.kpi_rows(request.org, ids=[kpi.pk], spark_points=0)
    row = rows[0] if rows else S.KpiRow(kpi=kpi, health=S._health(kpi))
    _kpi_links(request, [row])
    _candidate_links(request, [row])
    ctx = {"row": row, "can_promote": True, **outcome}
    response = render(request, "dashboards/home.html#candidate", ctx)
    if toast:
        response["HX-Trigger"] = json.dumps({"toast": toast})
    return response


@org_view(Role.LEADER)
@require_POST
def candidate_promote(request: HttpRequest, pk: int) -> HttpResponse:
    from okrs.promotion import kpi_promote

    kpi = _candidate_kpi(request, pk)
    try:
        objective, _kr = kpi_promote(kpi=kpi, actor=request.user)
    except ValidationError as exc:
        return _candidate_response(request, kpi, outcome={"error": " ".join(exc.messages)})
    links = Links(request.org.slug)
    return _candidate_response(
        request, kpi, toast="Promoted into a draft objective",
        outcome={"promoted": objective,
                 "objective_url": links.obj("okrs:objective", objective.pk),
                 "review_url": links.page("dashboards:review")})


@org_view(Role.LEADER)
@require_POST
def candidate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    from kpis.services import candidate_dismiss as dismiss

    kpi = _candidate_kpi(request, pk)
    note = (request.POST.get("note") or "").strip()[:2000]
    try:
        dismiss(kpi=kpi, actor=request.user, note=note)
    except ValidationError as exc:
        return _candidate_response(request, kpi, outcome={"error": " ".join(exc.messages),
                                                          "note": note, "show_dismiss": True})
    return _candidate_response(request, kpi, toast="Candidate dismissed",
                               outcome={"dismissed": True, "note": note})


# --- Strategy map ----------------------------------------------------------------------------


def _map_cycle(request):
    """(cycle, cycles): ?cycle=<pk> among the organisation's cycles, else the current one.
    One query. A foreign or unknown id falls back to the current cycle."""
    from goals.selectors import cycles_for, org_today, pick_current_cycle

    cycles = cycles_for(request.org)
    wanted = request.GET.get("cycle", "")
    chosen = next((c for c in cycles if str(c.pk) == wanted), None)
    return chosen or pick_current_cycle(cycles, org_today(request.org)), cycles


@org_view(Role.VIEWER)
def strategy_map(request: HttpRequest) -> HttpResponse:
    cycle, cycles = _map_cycle(request)
    links = Links(request.org.slug)
    smap = S.strategy_map(request.org, cycle, cycles, links)
    ctx = {
        "m": smap, "cycle": cycle, "cycle_query": f"?cycle={cycle.pk}" if cycle else "",
        "steps": [s for s in setup_steps(request) if not s["done"]]
        if (smap.goal is None or not smap.pillars or cycle is None) else [],
        "goal_url": links.page("okrs:goal"),
    }
    return render(request, "dashboards/strategy_map.html", ctx)


NODE_KINDS = {"pillar", "objective", "unaligned"}


@org_view(Role.VIEWER)
def strategy_node(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in NODE_KINDS:
        raise Http404("No such node.")
    cycle, _cycles = _map_cycle(request)
    links = Links(request.org.slug)
    found = S.map_subtree(request.org, cycle, kind, pk, links)
    if found is None:
        raise Http404("No such node in this cycle.")
    krs, objectives, title = found
    ctx = {"krs": krs, "objectives": objectives, "cycle": cycle, "node_title": title,
           "cycle_query": f"?cycle={cycle.pk}" if cycle else "", "kind": kind, "pk": pk}
    if request.htmx:
        return render(request, "dashboards/strategy_map.html#subtree", ctx)
    # Without JavaScript, a node opens as its own page.
    ctx["node_page"] = True
    ctx["m"] = None
    return render(request, "dashboards/strategy_map.html", ctx)


@org_view(Role.VIEWER)
def strategy_csv(request: HttpRequest) -> HttpResponse:
    cycle, cycles = _map_cycle(request)
    smap = S.strategy_map(request.org, cycle, cycles, Links(request.org.slug))
    out = []
    if smap.goal:
        out.append([0, "Goal", smap.goal.title, pct(smap.goal_progress), "", "", "", "", ""])
    pillar_names = {n.pk: n.title for n in smap.pillars}
    for n in smap.pillars:
        out.append([1, "Pillar", n.title, pct(n.progress), pct(n.expected), "", "", "", ""])
    cp = smap.cycle_progress
    if cp:
        depth: dict[int, int] = {}

        def level(row) -> int:
            oid, seen, d = row.objective.pk, set(), 0
            parent = row.objective.parent_id
            while parent in cp.by_id and parent not in seen:
                seen.add(parent)
                d += 1
                parent = cp.by_id[parent].objective.parent_id
            depth[oid] = d
            return d

        rows = sorted(cp.by_id.values(), key=lambda r: (level(r), r.objective.order,
                                                        r.objective.pk))
        for r in rows:
            o = r.objective
            pillars = ", ".join(pillar_names.get(p, "") for p in sorted(r.pillar_ids))
            out.append([2 + depth[o.pk], "Objective", o.title, pct(r.progress), pct(r.expected),
                        r.status_label, o.team.name if o.team else "Company",
                        o.owner.display_name if o.owner else "", pillars])
            for k in r.krs:
                out.append([3 + depth[o.pk], "Key result", k.kr.title, pct(k.progress), "",
                            status_label(k.status), o.team.name if o.team else "Company",
                            k.kr.owner.display_name if k.kr.owner else "",
                            k.kr.kpi.name if k.kr.kpi else ""])
    name = f"{request.org.slug}-strategy" + (f"-{cycle.name}" if cycle else "")
    return csv_response(name.replace(" ", "-"),
                        ["Level", "Kind", "Title", "Progress", "Expected", "Status",
                         "Team", "Owner", "Pillars / KPI"], out)


# --- Strategic review ------------------------------------------------------------------


@org_view(Role.VIEWER)
def review(request: HttpRequest) -> HttpResponse:
    cycle, cycles = _map_cycle(request)
    links = Links(request.org.slug)
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    data = S.review(request.org, cycle, cycles, links, page=page)
    data.at_risk = [(_linked(r, links.obj("okrs:objective", r.objective.pk)), k)
                    for r, k in data.at_risk]
    for row in data.improve_without_okr:
        row.url = links.obj("kpis:detail", row.kpi.pk)
    ctx = {
        "r": data, "cycle": cycle, "cycle_query": f"?cycle={cycle.pk}" if cycle else "",
        "cycle_url": first_url(request.org.slug, "goals:cycle_create", "goals:cycles")
        if has_role(request, Role.ADMIN) else "",
        "candidates_url": first_url(request.org.slug, "kpis:candidates"),
        "today": timezone.localdate(),
    }
    return render(request, "dashboards/review.html", ctx)


@org_view(Role.VIEWER)
def review_csv(request: HttpRequest) -> HttpResponse:
    cycle, cycles = _map_cycle(request)
    data = S.review(request.org, cycle, cycles, Links(request.org.slug), per_page=10 ** 6)
    out = []
    for imp in data.improvements:
        r = imp.row
        out.append(["Improvement objective", r.objective.title, pct(r.progress),
                    pct(r.expected), r.status_label, r.objective.get_state_display(),
                    r.objective.team.name if r.objective.team else "Company"])
        for t in imp.kpis:
            row = t.row
            out.append(["Targeted KPI", t.kpi.name, row.latest_text, row.target_text,
                        row.status_label, "", ""])
    for row in data.improve_without_okr:
        out.append(["KPI to improve without an OKR", row.kpi.name, row.latest_text,
                    row.target_text, row.status_label, "", ""])
    for r, k in data.at_risk:
        out.append(["Key result at risk", k.kr.title, pct(k.progress), pct(r.expected),
                    status_label(k.status), r.objective.title,
                    r.objective.team.name if r.objective.team else "Company"])
    name = f"{request.org.slug}-review" + (f"-{cycle.name}" if cycle else "")
    return csv_response(name.replace(" ", "-"),
                        ["Kind", "Name", "Progress / value", "Expected / target", "Status",
                         "State / objective", "Team"], out)
