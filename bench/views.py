"""The benchmark's floor: the cheapest page of ours (bench/run.py compares every page to it).

It goes through everything a real page does (session, login, the organisation and role
check of ``org_view``, the base layout with its navigation) and runs one indexed query
of its own: the organisation's teams, by the (organization, name) unique index.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import org_view
from accounts.models import Role, Team


@org_view(Role.VIEWER)
def floor(request: HttpRequest) -> HttpResponse:
    teams = list(Team.objects.filter(organization=request.org).order_by("name")
                 .values_list("name", flat=True)[:20])
    return render(request, "bench/floor.html", {"teams": teams})
