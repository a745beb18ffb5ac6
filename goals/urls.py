from django.urls import path

from goals import views

app_name = "goals"

urlpatterns = [
    path("strategy/goal/edit/", views.goal_edit, name="goal_edit"),
    path("strategy/goal/pillars/", views.pillars, name="pillars"),
    path("strategy/goal/pillars/<int:pk>/edit/", views.pillar_edit, name="pillar_edit"),
    path("strategy/goal/pillars/<int:pk>/delete/", views.pillar_delete, name="pillar_delete"),
    path("cycles/", views.cycles, name="cycles"),
    path("cycles/new/", views.cycle_edit, name="cycle_create"),
    path("cycles/<int:pk>/edit/", views.cycle_edit, name="cycle_edit"),
]
