"""The API token pages, under /o/<org_slug>/ (the API itself is api.main.api, at /api/v1/).

The namespace is not "api": django-ninja already names the API's own URLs that.
"""

from django.urls import path

from api import views

app_name = "api_tokens"

urlpatterns = [
    path("kpis/api-tokens/", views.api_tokens, name="list"),
    path("kpis/api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="revoke"),
]
