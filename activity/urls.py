"""Reach's organisation pages: /o/<org_slug>/…"""

from django.urls import path

from activity import views

app_name = "activity"

urlpatterns: list = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/count/", views.inbox_badge, name="inbox_badge"),
    path("inbox/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("inbox/read-all/", views.notification_read_all, name="notification_read_all"),
    path("comments/<slug:kind>/<int:pk>/", views.thread, name="thread"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment_delete"),
    path("members/mentions/", views.mention_search, name="mention_search"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/digest/", views.digest_schedule, name="digest_schedule"),
    path("digest/preview/", views.digest_preview, name="digest_preview"),
]
