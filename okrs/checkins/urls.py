"""Check-in pages, mounted at /o/<org_slug>/ (app_name "checkins").

- `checkins:team`  teams/<team>/check-in/   a team's weekly check-in page
- `checkins:mine`  check-ins/mine/          the KRs I own, across teams
- `checkins:row`   check-ins/kr/<pk>/new/   POST one row's inline form (htmx)
- `checkins:kr`    check-ins/kr/<pk>/       a KR's check-in history and value chart
"""

from django.urls import path

from okrs.checkins import views

app_name = "checkins"

urlpatterns = [
    path("teams/<slug:team>/check-in/", views.team_checkin, name="team"),
    path("check-ins/mine/", views.mine, name="mine"),
    path("check-ins/kr/<int:pk>/", views.kr_history, name="kr"),
    path("check-ins/kr/<int:pk>/new/", views.checkin_row, name="row"),
]
