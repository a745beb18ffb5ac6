from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import org_view
from accounts.models import Role
from goals.models import Cycle, StrategicPillar, UltimateGoal
from kpis.models import Kpi
from okrs.models import Objective


@org_view(Role.VIEWER)
def home(request: HttpRequest) -> HttpResponse:
    """The organisation's front page. Until the leader dashboard lands, a getting-started
    checklist built from what the organisation has set up."""
    org = request.org
    request.session["last_org"] = org.slug
    steps = [
        ("Write the ultimate goal", UltimateGoal.objects.filter(organization=org, is_active=True)
         .exists()),
        ("Name the strategic pillars", StrategicPillar.objects.filter(organization=org).exists()),
        ("Open a cycle", Cycle.objects.filter(organization=org).exists()),
        ("Write objectives and key results", Objective.objects.filter(organization=org).exists()),
        ("Add KPIs", Kpi.objects.filter(organization=org).exists()),
    ]
    return render(request, "dashboards/home.html", {"steps": steps})
