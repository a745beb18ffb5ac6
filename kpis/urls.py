from django.urls import path

from kpis import views

app_name = "kpis"

urlpatterns = [
    path("kpis/", views.kpi_list, name="list"),
    path("kpis/new/", views.kpi_create, name="create"),
    path("kpis/candidates/", views.candidates, name="candidates"),
    path("kpis/import/", views.import_bulk, name="import"),
    path("kpis/<int:pk>/", views.kpi_detail, name="detail"),
    path("kpis/<int:pk>/edit/", views.kpi_edit, name="edit"),
    path("kpis/<int:pk>/value/", views.kpi_add_value, name="add_value"),
    path("kpis/<int:pk>/target/", views.kpi_change_target, name="target"),
    path("kpis/<int:pk>/rebase/", views.kpi_rebase, name="rebase"),
    path("kpis/<int:pk>/dismiss/", views.kpi_dismiss, name="dismiss"),
    path("kpis/<int:pk>/import/", views.import_one, name="import_one"),
]
