from django.urls import path

from kpis import limit_views, views

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
    path("kpis/legend/", limit_views.legend, name="legend"),
    path("kpis/<int:pk>/chart.csv", limit_views.chart_csv, name="chart_csv"),
    path("kpis/<int:pk>/limits/periods/", limit_views.period_add, name="period_add"),
    path("kpis/<int:pk>/limits/periods/decline/", limit_views.period_decline,
         name="period_decline"),
    path("kpis/<int:pk>/limits/periods/remove/", limit_views.period_remove, name="period_remove"),
    path("kpis/<int:pk>/limits/periods/lock/", limit_views.period_lock, name="period_lock"),
    path("kpis/<int:pk>/limits/periods/unlock/", limit_views.period_unlock, name="period_unlock"),
    path("kpis/<int:pk>/limits/exclude/", limit_views.point_exclude, name="point_exclude"),
    path("kpis/<int:pk>/limits/include/", limit_views.point_include, name="point_include"),
    path("kpis/<int:pk>/limits/method/", limit_views.limit_method, name="limit_method"),
]
