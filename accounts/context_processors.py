"""Navigation for the base layout: only the pages that exist are linked."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from accounts.models import Membership

NAV = [
    ("Dashboard", "dashboards:home"),
    ("Strategy", "dashboards:strategy_map"),
    ("OKRs", "okrs:list"),
    ("Check-ins", "checkins:mine"),
    ("KPIs", "kpis:list"),
    ("Operations", "dashboards:operations"),
    ("Review", "dashboards:review"),
    ("Teams", "accounts:teams"),
    ("Settings", "accounts:settings"),
]


def navigation(request) -> dict:
    org = getattr(request, "org", None)
    if org is None or not request.user.is_authenticated:
        return {}
    items = []
    path = request.path
    for label, name in NAV:
        try:
            url = reverse(name, kwargs={"org_slug": org.slug})
        except NoReverseMatch:
            continue
        home = name == "dashboards:home"
        active = path == url if home else path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    other_orgs = (
        Membership.objects.filter(user=request.user)
        .exclude(organization=org)
        .select_related("organization")
        .order_by("organization__name")
    )
    return {"nav_items": items, "other_memberships": other_orgs}
