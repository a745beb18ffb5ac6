"""Included under /o/<org_slug>/ by config/urls.py only when the bench app is installed."""

from django.urls import path

from bench import views

app_name = "bench"

urlpatterns = [
    path("bench/floor/", views.floor, name="floor"),
]
