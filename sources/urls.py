from django.urls import path

from sources import views

app_name = "sources"

urlpatterns = [
    path("sources/", views.source_list, name="list"),
    path("sources/new/", views.source_create, name="create"),
    path("sources/<int:pk>/", views.source_detail, name="detail"),
    path("sources/<int:pk>/edit/", views.source_edit, name="edit"),
    path("sources/<int:pk>/run/", views.source_run_now, name="run"),
    path("sources/<int:pk>/delete/", views.source_delete, name="delete"),
    path("sources/<int:pk>/feeds/", views.feed_add, name="feed_add"),
    path("sources/<int:pk>/feeds/<int:feed_pk>/remove/", views.feed_remove, name="feed_remove"),
]
