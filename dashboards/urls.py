from django.urls import path

from dashboards.home import views as home
from dashboards.operations import views as operations
from dashboards.review import views as review
from dashboards.strategy_map import views as strategy_map
from dashboards.team import views as team

app_name = "dashboards"

urlpatterns = [
    path("", home.home, name="home"),
    path("dashboard.csv", home.home_csv, name="home_csv"),
    path("strategy/", strategy_map.strategy_map, name="strategy_map"),
    path("strategy/export.csv", strategy_map.strategy_csv, name="strategy_csv"),
    path("strategy/node/<slug:kind>/<int:pk>/", strategy_map.strategy_node,
         name="strategy_node"),
    path("review/", review.review, name="review"),
    path("review/export.csv", review.review_csv, name="review_csv"),
    path("operations/", operations.operations, name="operations"),
    path("operations/export.csv", operations.operations_csv, name="operations_csv"),
    path("teams/<slug:team>/", team.team, name="team"),
    path("teams/<slug:team>/export.csv", team.team_csv, name="team_csv"),
]
