from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard.csv", views.home_csv, name="home_csv"),
    path("candidates/<int:pk>/promote/", views.candidate_promote, name="candidate_promote"),
    path("candidates/<int:pk>/dismiss/", views.candidate_dismiss, name="candidate_dismiss"),
    path("strategy/", views.strategy_map, name="strategy_map"),
    path("strategy/export.csv", views.strategy_csv, name="strategy_csv"),
    path("strategy/node/<slug:kind>/<int:pk>/", views.strategy_node, name="strategy_node"),
    path("review/", views.review, name="review"),
    path("review/export.csv", views.review_csv, name="review_csv"),
    path("operations/", views.operations, name="operations"),
    path("operations/export.csv", views.operations_csv, name="operations_csv"),
    path("teams/<slug:team>/", views.team, name="team"),
    path("teams/<slug:team>/export.csv", views.team_csv, name="team_csv"),
]
