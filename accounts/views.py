from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.access import (
    get_invitation_for_admin,
    get_membership_for_admin,
    get_team_for_member,
    has_role,
    org_view,
    require_role,
)
from accounts.forms import (
    AcceptSignupForm,
    InviteForm,
    LanguageForm,
    LoginForm,
    OrganizationForm,
    OrgSettingsForm,
    RoleForm,
    SignupForm,
    TeamForm,
)
from accounts.locale import language_for
from accounts.models import Invitation, Membership, Role, SsoConfig, Team, User
from core.forms import apply_errors
from core.ratelimit import rate_limit


def home(request: HttpRequest) -> HttpResponse:
    """/ : the user's organisation, or sign-up/login for a visitor."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    membership = (Membership.objects.filter(user=request.user).select_related("organization")
                  .order_by("-organization__created_at").first())
    last = request.session.get("last_org")
    if last and Membership.objects.filter(user=request.user, organization__slug=last).exists():
        return redirect("dashboards:home", org_slug=last)
    if membership is None:
        return redirect("accounts:org_create")
    return redirect("dashboards:home", org_slug=membership.organization.slug)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        from accounts.sso.views import password_login_refusal

        # An organisation that enforces SSO refuses its members' passwords (owners:
        # audited break-glass log-in).
        if reason := password_login_refusal(self.request, form.get_user()):
            form.add_error(None, reason)
            return self.form_invalid(form)
        return super().form_valid(form)


def logout_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        from accounts.sso.views import end_session_url

        provider_logout = end_session_url(request)  # before the session is flushed
        response = auth_views.LogoutView.as_view()(request)
        return redirect(provider_logout) if provider_logout else response
    return redirect("home")


@rate_limit("signup", key="ip")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, org = services.user_signup(
                email=data["email"], password=data["password"], name=data["name"],
                org_name=data["org_name"], org_slug=data["org_slug"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Headway. %(org)s is ready: start with your "
                                        "ultimate goal and pillars.") % {"org": org.name})
            return redirect("dashboards:home", org_slug=org.slug)
    return render(request, "accounts/signup.html", {"form": form})


@login_required
@rate_limit("org_create", key="user")
def org_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(owner=request.user, name=form.cleaned_data["name"],
                                               slug=form.cleaned_data["slug"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(org)s created. You are its owner.") % {"org": org.name})
            return redirect("dashboards:home", org_slug=org.slug)
    return render(request, "accounts/org_create.html", {"form": form})


@rate_limit("invitation_accept", key="ip")
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Follow a one-time invitation link."""
    try:
        inv = services.invitation_lookup(token)
    except services.InvitationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)},
                      status=410)
    if SsoConfig.enforced_for(inv.organization):
        return render(request, "accounts/invitation_invalid.html", {
            "reason": _("%(org)s requires single sign-on: sign in with your organisation instead "
                        "of this link.") % {"org": inv.organization.name}}, status=410)
    existing = User.objects.filter(email__iexact=inv.email).first()
    form = None
    if request.user.is_authenticated:
        if request.method == "POST":
            return _accept(request, token, request.user)
    elif existing is None:
        form = AcceptSignupForm(request.POST or None, email=inv.email)
        if request.method == "POST" and form.is_valid():
            user = User.objects.create_user(email=inv.email, password=form.cleaned_data["password"],
                                            name=form.cleaned_data["name"])
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return _accept(request, token, user)
    return render(request, "accounts/invitation.html",
                  {"invitation": inv, "form": form, "existing": existing})


def _accept(request: HttpRequest, token: str, user: User) -> HttpResponse:
    try:
        membership = services.invitation_accept(raw_token=token, user=user)
    except services.InvitationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)},
                      status=410)
    messages.success(request, _("You joined %(org)s as %(role)s.") % {
        "org": membership.organization.name, "role": role_word(membership.get_role_display())})
    return redirect("dashboards:home", org_slug=membership.organization.slug)


@org_view(Role.VIEWER)
def settings_page(request: HttpRequest) -> HttpResponse:
    org = request.org
    can_edit = has_role(request, Role.ADMIN)
    form = OrgSettingsForm(request.POST or None, instance=org) if can_edit else None
    if request.method == "POST":
        require_role(request, Role.ADMIN)
        if form.is_valid():
            services.organization_update(organization=org, actor=request.user,
                                         **{f: form.cleaned_data[f] for f in form.Meta.fields})
            messages.success(request, _("Settings saved."))
            return redirect("accounts:settings", org_slug=org.slug)
    return render(request, "accounts/settings.html", {
        "form": form, "can_edit": can_edit, "language_form": LanguageForm(instance=request.user, prefix="me")})


@org_view(Role.VIEWER)
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Any member picks their own interface language (blank: browser, then organisation)."""
    form = LanguageForm(request.POST, instance=request.user, prefix="me")
    if not form.is_valid():
        return render(request, "accounts/settings.html", {
            "form": OrgSettingsForm(instance=request.org) if has_role(request, Role.ADMIN)
            else None, "can_edit": has_role(request, Role.ADMIN), "language_form": form},
            status=400)
    services.user_language_set(user=request.user, language=form.cleaned_data["language"])
    with translation.override(language_for(request.user, request.org)):
        messages.success(request, _("Language saved."))
    return redirect("accounts:settings", org_slug=request.org.slug)


@org_view(Role.VIEWER)
@rate_limit("invitation_send", key=lambda r: f"org:{r.org.pk}:user:{r.user.pk}")
def members(request: HttpRequest) -> HttpResponse:
    org = request.org
    memberships = (Membership.objects.filter(organization=org).select_related("user")
                   .order_by("user__name", "user__email"))
    pending = Invitation.objects.filter(organization=org, accepted_at__isnull=True,
                                        revoked_at__isnull=True).select_related("invited_by")
    is_admin = has_role(request, Role.ADMIN)
    # With SSO enforced people join through the identity provider, never by link.
    sso_enforced = SsoConfig.enforced_for(org)
    form = InviteForm(request.POST or None) if is_admin and not sso_enforced else None
    if request.method == "POST":
        require_role(request, Role.ADMIN)
        if sso_enforced:
            messages.error(request, _("%(org)s enforces single sign-on: people join by signing in "
                                      "through your identity provider, not by invitation.")
                           % {"org": org.name})
            return redirect("accounts:members", org_slug=org.slug)
        if form.is_valid():
            try:
                services.invitation_create(organization=org, email=form.cleaned_data["email"],
                                           role=form.cleaned_data["role"],
                                           invited_by=request.user)
            except ValidationError as exc:
                apply_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error("role", str(exc))
            else:
                messages.success(request, _("Invitation sent to %(email)s.")
                                 % {"email": form.cleaned_data["email"]})
                return redirect("accounts:members", org_slug=org.slug)
    # Shown once, right after the action that made them (a refresh forgets them): the
    # undo of the last role change and a new invitation link to copy.
    undo = request.session.pop(UNDO_KEY, None) if is_admin else None
    if undo and not any(m.pk == undo["pk"] and m.role == undo["to"] for m in memberships):
        undo = None  # changed again meanwhile, or removed: nothing to undo
    if undo:
        undo["person"] = next(m.user.display_name for m in memberships if m.pk == undo["pk"])
        undo["from_label"] = Role(undo["from"]).label.lower()
    new_link = request.session.pop(LINK_KEY, None) if is_admin else None
    return render(request, "accounts/members.html", {
        "memberships": memberships, "pending": pending if is_admin else [], "form": form,
        "is_admin": is_admin, "is_owner": request.membership.role == Role.OWNER,
        "roles": Role.choices, "sso_enforced": sso_enforced, "undo": undo,
        "new_link": new_link,
    })


UNDO_KEY, LINK_KEY = "members_role_undo", "members_invitation_link"


def role_word(label) -> str:
    """A role's name inside a sentence: lower case, but German keeps its nouns capitalised."""
    return str(label) if translation.get_language() == "de" else str(label).lower()


@org_view(Role.ADMIN)
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_membership_for_admin(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
    else:
        old, role = membership.role, form.cleaned_data["role"]
        try:
            services.membership_change_role(membership=membership, role=role,
                                            actor=request.membership)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            if request.POST.get("undo"):
                messages.success(request, _("Undone: %(person)s is %(role)s again.") % {
                    "person": membership.user.display_name, "role": role_word(Role(role).label)})
            elif old != role:
                messages.success(request, _("%(person)s is now %(role)s.") % {
                    "person": membership.user.display_name, "role": role_word(Role(role).label)})
                request.session[UNDO_KEY] = {"pk": membership.pk, "from": old, "to": role}
    return redirect("accounts:members", org_slug=request.org.slug)


def _invitation_action(request: HttpRequest, pk: int, action) -> HttpResponse:
    invitation = get_invitation_for_admin(request, pk)
    try:
        message = action(invitation)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, message)
    return redirect("accounts:members", org_slug=request.org.slug)


@org_view(Role.ADMIN)
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    def revoke(invitation):
        services.invitation_revoke(invitation=invitation, actor=request.membership)
        return _("Invitation for %(email)s revoked: its link no longer works.") % {
            "email": invitation.email}
    return _invitation_action(request, pk, revoke)


@org_view(Role.ADMIN)
@require_POST
@rate_limit("invitation_send", key=lambda r: f"org:{r.org.pk}:user:{r.user.pk}")
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    def resend(invitation):
        services.invitation_renew(invitation=invitation, actor=request.membership, send=True)
        return _("Invitation sent again to %(email)s, with a new link valid for %(days)s days "
                  "(the previous link no longer works).") % {
            "email": invitation.email, "days": settings.INVITATION_DAYS}
    return _invitation_action(request, pk, resend)


@org_view(Role.ADMIN)
@require_POST
def invitation_link(request: HttpRequest, pk: int) -> HttpResponse:
    def link(invitation):
        invitation, raw = services.invitation_renew(invitation=invitation,
                                                    actor=request.membership, send=False)
        request.session[LINK_KEY] = {"pk": invitation.pk, "email": invitation.email,
                                     "url": services.invitation_url(raw)}
        return _("A new link for %(email)s is below: copy it now, it is shown only once (the "
                  "previous link no longer works).") % {"email": invitation.email}
    return _invitation_action(request, pk, link)


@org_view(Role.ADMIN)
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_membership_for_admin(request, pk)
    try:
        services.membership_remove(membership=membership, actor=request.membership)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("%(person)s was removed.") % {"person": membership.user})
    return redirect("accounts:members", org_slug=request.org.slug)


@org_view(Role.VIEWER)
def teams(request: HttpRequest) -> HttpResponse:
    team_list = (Team.objects.filter(organization=request.org).select_related("parent", "lead")
                 .annotate(member_count=Count("members", distinct=True))
                 .prefetch_related(Prefetch("members", queryset=User.objects.order_by("name"))))
    return render(request, "accounts/teams.html", {
        "teams": team_list, "can_edit": has_role(request, Role.ADMIN)})


@org_view(Role.ADMIN)
def team_edit(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    team = get_team_for_member(request, slug) if slug else None
    initial = {}
    if team is not None:
        initial = {"name": team.name, "parent": team.parent, "lead": team.lead,
                   "members": list(team.members.all())}
    form = TeamForm(request.POST or None, organization=request.org, team=team, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = services.team_save(organization=request.org, actor=request.user, team=team,
                                      name=data["name"], parent=data["parent"], lead=data["lead"],
                                      members=list(data["members"]))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Team %(team)s saved.") % {"team": team.name})
            return redirect("accounts:teams", org_slug=request.org.slug)
    return render(request, "accounts/team_form.html", {"form": form, "team": team})


@org_view(Role.VIEWER)
def switch_org(request: HttpRequest) -> HttpResponse:
    """Remember the organisation a user chose, then go to it (404 for outsiders)."""
    request.session["last_org"] = request.org.slug
    return redirect(reverse("dashboards:home", kwargs={"org_slug": request.org.slug}))
