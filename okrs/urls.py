from django.urls import path

from okrs import promotion_views, views

app_name = "okrs"

urlpatterns = [
    path("strategy/goal/", views.goal, name="goal"),
    path("okrs/", views.okr_list, name="list"),
    path("okrs/owners/", views.okr_owner_options, name="owner_options"),
    path("okrs/new/", views.objective_create, name="objective_create"),
    path("okrs/<int:pk>/", views.objective, name="objective"),
    path("okrs/<int:pk>/edit/", views.objective_edit, name="objective_edit"),
    path("okrs/<int:pk>/delete/", views.objective_delete, name="objective_delete"),
    path("okrs/<int:pk>/duplicate/", views.objective_duplicate, name="objective_duplicate"),
    path("okrs/<int:pk>/key-results/new/", views.kr_create, name="kr_create"),
    path("okrs/key-results/<int:pk>/edit/", views.kr_edit, name="kr_edit"),
    path("okrs/key-results/<int:pk>/delete/", views.kr_delete, name="kr_delete"),
    path("okrs/key-results/<int:pk>/move/<str:direction>/", views.kr_move, name="kr_move"),
    path("okrs/cycles/<int:pk>/close/", views.cycle_close, name="cycle_close"),
    path("okrs/cycles/<int:pk>/carry-over/", views.carry_over, name="carry_over"),
    path("okrs/promote/<int:kpi_pk>/", promotion_views.promote_kpi, name="promote_kpi"),
]
