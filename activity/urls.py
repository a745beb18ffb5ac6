"""Reach's organisation pages: /o/<org_slug>/…"""

from django.urls import path  # noqa: F401

app_name = "activity"

urlpatterns: list = []
