"""Check-in pages, mounted at /o/<org_slug>/ (app_name "checkins").

- `checkins:team`  teams/<team>/check-in/   a team's weekly check-in page
- `checkins:mine`  check-ins/mine/          the KRs I own, across teams
- `checkins:row`   check-ins/kr/<pk>/new/   POST one row's inline form (htmx)
- `checkins:kr`    check-ins/kr/<pk>/       a KR's check-in history and value chart
- `checkins:team_all` / `checkins:mine_all`  POST "check in all" of a page
- `checkins:edit` / `checkins:undo`  check-ins/kr/<pk>/edit|undo/  POST: change or undo my
  latest check-in of the KR, during its week
"""

from django.urls import path

from okrs.checkins import views

app_name = "checkins"

urlpatterns = [
    path("teams/<slug:team>/check-in/", views.team_checkin, name="team"),
    path("check-ins/mine/", views.mine, name="mine"),
    path("check-ins/kr/<int:pk>/", views.kr_history, name="kr"),
    path("check-ins/kr/<int:pk>/new/", views.checkin_row, name="row"),
    path("teams/<slug:team>/check-in/all/", views.checkin_all, name="team_all"),
    path("check-ins/mine/all/", views.checkin_all, name="mine_all"),
    path("check-ins/kr/<int:pk>/edit/", views.checkin_edit_view, name="edit"),
    path("check-ins/kr/<int:pk>/undo/", views.checkin_undo_view, name="undo"),
]
