"""Reach's organisation pages: /o/<org_slug>/…"""

from django.urls import path

from activity import integrations_views as iv
from activity import views

app_name = "activity"

urlpatterns: list = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/count/", views.inbox_badge, name="inbox_badge"),
    path("inbox/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("inbox/read-all/", views.notification_read_all, name="notification_read_all"),
    path("inbox/invitations/<int:pk>/send/", views.invitation_send, name="invitation_send"),
    path("comments/<slug:kind>/<int:pk>/", views.thread, name="thread"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment_delete"),
    path("members/mentions/", views.mention_search, name="mention_search"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/digest/", views.digest_schedule, name="digest_schedule"),
    path("digest/preview/", views.digest_preview, name="digest_preview"),
    path("integrations/", iv.integrations, name="integrations"),
    path("integrations/webhooks/new/", iv.webhook_create, name="webhook_create"),
    path("integrations/webhooks/<int:pk>/", iv.webhook_detail, name="webhook"),
    path("integrations/webhooks/<int:pk>/rotate/", iv.webhook_rotate, name="webhook_rotate"),
    path("integrations/webhooks/<int:pk>/enabled/", iv.webhook_enabled, name="webhook_enabled"),
    path("integrations/webhooks/<int:pk>/test/", iv.webhook_test, name="webhook_test"),
    path("integrations/webhooks/<int:pk>/delete/", iv.webhook_delete, name="webhook_delete"),
    path("integrations/chat/new/", iv.chat_create, name="chat_create"),
    path("integrations/chat/<int:pk>/", iv.chat_detail, name="chat"),
    path("integrations/chat/<int:pk>/enabled/", iv.chat_enabled, name="chat_enabled"),
    path("integrations/chat/<int:pk>/test/", iv.chat_test, name="chat_test"),
    path("integrations/chat/<int:pk>/delete/", iv.chat_delete, name="chat_delete"),
    path("integrations/deliveries/<int:pk>/resend/", iv.delivery_resend, name="delivery_resend"),
]
