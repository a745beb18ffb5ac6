"""Navigation for the base layout: every section of an organisation."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership
from accounts.tenancy import ADMIN_ROLES

NAV = [
    (_("Dashboard"), "dashboards:home"),
    (_("Goal & pillars"), "okrs:goal"),
    (_("Strategy map"), "dashboards:strategy_map"),
    (_("OKRs"), "okrs:list"),
    (_("Check-ins"), "checkins:mine"),
    (_("KPIs"), "kpis:list"),
    (_("Operations"), "dashboards:operations"),
    (_("Review"), "dashboards:review"),
    (_("Teams"), "accounts:teams"),
    (_("Settings"), "accounts:settings"),
]


def navigation(request) -> dict:
    org = getattr(request, "org", None)
    if org is None or not request.user.is_authenticated:
        return {}
    path = request.path
    items = [{"label": label, "url": reverse(name, kwargs={"org_slug": org.slug}),
              "active": False} for label, name in NAV]
    # The longest URL that prefixes the path is the current section ("/strategy/goal/"
    # is the goal page, not the strategy map); the dashboard only matches exactly.
    home = f"/o/{org.slug}/"
    matches = [i for i in items if path == i["url"] or (i["url"] != home
                                                         and path.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    other_orgs = (
        Membership.objects.filter(user=request.user)
        .exclude(organization=org)
        .select_related("organization")
        .order_by("organization__name")
    )
    # The "Admin site" link by the admin's own rule (core.admin_scoping.rules.can_enter:
    # an active admin/owner membership, or a superuser), read from the membership this
    # page already loaded (a suspended one never reaches a page).
    membership = getattr(request, "membership", None)
    admin_site = request.user.is_superuser or (
        membership is not None and membership.role in ADMIN_ROLES)
    return {"nav_items": items, "other_memberships": other_orgs, "admin_site": admin_site}
