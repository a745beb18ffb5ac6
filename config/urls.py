"""Root URLs. Organisation pages live under /o/<org_slug>/, one include per app."""

from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as account_views
from accounts.locale import javascript_catalog
from accounts.sso.scim_views import scim_endpoint
from api.main import api
from sources import views as source_views


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


ORG = "o/<slug:org_slug>/"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin, a JSON
    # answer): the same icon as the layout's, not a 404 in the log.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True),
         name="favicon"),
    path("admin/", admin.site.urls),
    # The JavaScript strings' catalogue in one language (static/js/*.js call gettext()).
    path("jsi18n/<str:lang>.js", javascript_catalog, name="javascript-catalog"),
    path("api/v1/", api.urls),
    # A webhook source's secret URL: no session, no CSRF; the token names the source.
    path("hooks/sources/<str:token>/", source_views.webhook, name="source_webhook"),
    # SCIM 2.0 provisioning: the organisation comes from the bearer token (accounts/sso).
    path("scim/v2/", scim_endpoint, name="scim_root"),
    path("scim/v2/<path:path>", scim_endpoint, name="scim"),
    path("", include("accounts.urls")),
    path("", include("activity.public_urls")),  # the reminder's signed "no change" links
    path(ORG, include("dashboards.urls")),
    path(ORG, include("goals.urls")),
    path(ORG, include("okrs.urls")),
    path(ORG, include("okrs.checkins.urls")),
    path(ORG, include("initiatives.urls")),
    path(ORG, include("activity.urls")),
    path(ORG, include("kpis.urls")),
    path(ORG, include("sources.urls")),
    path(ORG, include("api.urls")),
]

if apps.is_installed("bench"):  # only when benchmarking (HEADWAY_BENCH=1): the floor page
    urlpatterns.append(path(ORG, include("bench.urls")))
