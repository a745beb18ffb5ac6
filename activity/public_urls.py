"""Reach's pages outside the organisations: the reminder's signed one-click links."""

from django.urls import path

from activity import views

urlpatterns = [
    path("check-ins/no-change/<str:token>/", views.no_change, name="no_change"),
]
