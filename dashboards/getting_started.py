"""The getting-started checklist the leader dashboard and the strategy map show until the
organisation has set up its strategy."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.access import has_role
from accounts.models import Role
from dashboards.links import Links
from goals.models import Cycle, StrategicPillar, UltimateGoal
from kpis.models import Kpi
from okrs.models import Objective


def setup_steps(request) -> list[dict]:
    """What the organisation has set up, each step linked to its page for those allowed
    to do it (others read who does it)."""
    org = request.org
    links = Links(org.slug)
    steps = [
        (_("Write the ultimate goal"), Role.ADMIN, "goals:goal_edit",
         UltimateGoal.objects.filter(organization=org, is_active=True)),
        (_("Name the strategic pillars"), Role.ADMIN, "goals:pillars",
         StrategicPillar.objects.filter(organization=org)),
        (_("Open a cycle"), Role.ADMIN, "goals:cycle_create", Cycle.objects.filter(organization=org)),
        (_("Write objectives and key results"), Role.LEADER, "okrs:objective_create",
         Objective.objects.filter(organization=org)),
        (_("Add KPIs"), Role.ADMIN, "kpis:create", Kpi.objects.filter(organization=org)),
    ]
    who_does = {Role.ADMIN: _("an admin does this"), Role.LEADER: _("a leader does this")}
    out = []
    for label, role, name, qs in steps:
        allowed = has_role(request, role)
        out.append({"label": label, "done": qs.exists(),
                    "url": links.page(name) if allowed else "",
                    "who": "" if allowed else who_does[role]})
    return out


def unfinished_steps(request) -> list[dict]:
    return [s for s in setup_steps(request) if not s["done"]]
