from django.urls import include, path

from accounts import views
from accounts.sso import views as sso_views

app_name = "accounts"

# Public and per-user pages: /accounts/...
urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/new-organisation/", views.org_create, name="org_create"),
    path("accounts/invitation/<str:token>/", views.invitation, name="invitation"),
    path("accounts/sso/", sso_views.sso_start, name="sso_start"),
    path("accounts/sso/callback/", sso_views.sso_callback, name="sso_callback"),
]

# Organisation pages, under /o/<org_slug>/
org_urlpatterns = [
    path("switch/", views.switch_org, name="switch"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/language/", views.language_set, name="language"),
    path("settings/members/", views.members, name="members"),
    path("settings/sso/", sso_views.sso_settings, name="sso_settings"),
    path("settings/sso/tokens/<int:pk>/revoke/", sso_views.scim_token_revoke,
         name="scim_token_revoke"),
    path("settings/members/<int:pk>/role/", views.member_role, name="member_role"),
    path("settings/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("settings/members/invitations/<int:pk>/revoke/", views.invitation_revoke,
         name="invitation_revoke"),
    path("settings/members/invitations/<int:pk>/resend/", views.invitation_resend,
         name="invitation_resend"),
    path("settings/members/invitations/<int:pk>/link/", views.invitation_link,
         name="invitation_link"),
    path("teams/", views.teams, name="teams"),
    path("teams/new/", views.team_edit, name="team_create"),
    path("teams/<slug:slug>/edit/", views.team_edit, name="team_edit"),
]

urlpatterns += [path("o/<slug:org_slug>/", include(org_urlpatterns))]
