"""The admin site, entered by the one rule of core.admin_scoping.rules.can_enter.

Django's AdminSite lets in ``is_staff`` users only. Headway's rule is the membership's:
a superuser, or anybody with an active admin or owner membership — so the owner of an
organisation made at sign-up enters exactly as the demo's owner does (issue 14), and the
"Admin site" link of the layout (accounts.context_processors) follows the same rule.
``is_staff`` no longer grants or refuses anything here.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _

from core.admin_scoping.rules import can_enter


class HeadwayAdminSite(admin.AdminSite):
    site_header = _("Headway administration")
    site_title = _("Headway admin")
    index_title = _("Configuration")

    def has_permission(self, request) -> bool:
        return can_enter(request)


class HeadwayAdminConfig(AdminConfig):
    """Installed instead of django.contrib.admin: ``admin.site`` is a HeadwayAdminSite."""

    default_site = "core.admin_scoping.site.HeadwayAdminSite"
