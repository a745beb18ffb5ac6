"""Admin for people, organisations and access. Scoped per organisation (admin_scoping)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from accounts.models import (
    ApiToken,
    AuditEntry,
    Invitation,
    Membership,
    Organization,
    Role,
    Team,
    User,
)
from accounts.services import membership_change_role, membership_remove
from core.admin_scoping import (
    OrgScopedAdmin,
    admin_org_roles,
    is_owner_of,
    is_superadmin,
)

admin.site.site_header = _("Headway administration")
admin.site.site_title = _("Headway admin")
admin.site.index_title = _("Configuration")

TOP_ROLES = (Role.ADMIN, Role.OWNER)


# --- Users: superusers only (an organisation admin never edits accounts) ----------------


class SuperuserOnlyMixin:
    """For rows that belong to no organisation: only superusers see them."""

    def has_module_permission(self, request):
        return is_superadmin(request)

    def has_view_permission(self, request, obj=None):
        return is_superadmin(request)

    def has_add_permission(self, request, *args):
        return is_superadmin(request)

    def has_change_permission(self, request, obj=None):
        return is_superadmin(request)

    def has_delete_permission(self, request, obj=None):
        return is_superadmin(request)


class UserCreation(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class UserChange(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(SuperuserOnlyMixin, DjangoUserAdmin):
    form = UserChange
    add_form = UserCreation
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_superuser", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal", {"fields": ("name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups",
                               "user_permissions"),
                    "description": "An organisation admin needs “staff” to open this admin; "
                                   "what they see comes from their memberships."}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("email", "name", "usable_password", "password1", "password2")}),
    )


# --- Organisations ------------------------------------------------------------------------


@admin.register(Organization)
class OrganizationAdmin(OrgScopedAdmin):
    org_path = ""
    list_display = ["name", "slug", "time_zone", "reminder_weekday", "reminder_hour",
                    "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["created_at"]

    def has_add_permission(self, request):
        # A new tenant is created by signing up (or by a superuser here).
        return is_superadmin(request)

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return is_superadmin(request) or Role.OWNER in admin_org_roles(request).values()
        return is_owner_of(request, obj.pk)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not is_superadmin(request):
            fields.append("slug")  # URLs and bookmarks depend on it
        return fields

    def get_deleted_objects(self, objs, request):
        """An owner deletes the whole organisation: the guards on single rows (the last
        owner, objectives with check-ins, closed cycles) do not hold back the cascade, which
        never leaves the organisation."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if all(is_owner_of(request, org.pk) for org in objs):
            perms_needed = set()
        return deleted, counts, perms_needed, protected


# --- Memberships: roles follow the app's rules (only an owner touches admins/owners) ---


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "organization", "role"]

    def clean(self):
        cleaned = super().clean()
        request = self._request
        if is_superadmin(request):
            return cleaned
        role = cleaned.get("role")
        if self.instance.pk:
            org_id, old = self.instance.organization_id, self.instance.role
        else:
            org = cleaned.get("organization")
            org_id, old = (org.pk if org else None), None
        if org_id is None or role is None:
            return cleaned
        touches_top = role in TOP_ROLES or old in TOP_ROLES
        if touches_top and not is_owner_of(request, org_id):
            self.add_error("role", _("Only an owner can grant or take away the admin or owner "
                                   "role."))
        if old == Role.OWNER and role != Role.OWNER and Membership.objects.filter(
                organization_id=org_id, role=Role.OWNER).count() <= 1:
            self.add_error("role", _("The last owner cannot be demoted. Make someone else owner "
                                   "first."))
        return cleaned


def _actor_membership(request, org_id: int) -> Membership | None:
    return Membership.objects.filter(user=request.user, organization_id=org_id).first()


@admin.register(Membership)
class MembershipAdmin(OrgScopedAdmin):
    form = MembershipForm
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__email", "user__name"]
    list_select_related = ["user", "organization"]
    user_fields_any_org = ("user",)  # a new membership names someone not yet in the org
    audit = False  # the services record it

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form._request = request
        return form

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("user")
        return fields

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        if obj is None or is_superadmin(request):
            return True
        if obj.role in TOP_ROLES and not is_owner_of(request, obj.organization_id):
            return False
        return not (obj.role == Role.OWNER and Membership.objects.filter(
            organization_id=obj.organization_id, role=Role.OWNER).count() <= 1)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through the service
        return actions

    def save_model(self, request, obj, form, change):
        actor = _actor_membership(request, obj.organization_id)
        if change and "role" in form.changed_data:
            if actor is None:  # a superuser who is not a member
                old = form.initial.get("role")
                obj.save()
                audit_record(organization=obj.organization, actor=request.user,
                             action="role_changed", obj=obj, changes={"role": [old, obj.role]})
                return
            new_role = obj.role
            obj.role = form.initial.get("role")
            membership_change_role(membership=obj, role=new_role, actor=actor)
            obj.refresh_from_db()
            return
        creating = obj.pk is None
        obj.save()
        if creating:
            audit_record(organization=obj.organization, actor=request.user, action="added",
                         obj=obj, changes={"role": [None, obj.role]})

    def delete_model(self, request, obj):
        actor = _actor_membership(request, obj.organization_id)
        if actor is None or is_superadmin(request):
            audit_record(organization=obj.organization, actor=request.user, action="removed",
                         obj=obj, changes={"role": [obj.role, None]})
            obj.delete()
            return
        try:
            membership_remove(membership=obj, actor=actor)
        except (PermissionDenied, ValidationError) as exc:  # checked before; a race
            raise PermissionDenied(str(exc))


# --- Teams --------------------------------------------------------------------------------


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["organization", "name", "slug", "parent", "lead", "members"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        node = parent
        while node is not None and self.instance.pk:
            if node.pk == self.instance.pk:
                raise ValidationError(_("A team cannot sit under itself or one of its sub-teams."))
            node = node.parent
        return parent


@admin.register(Team)
class TeamAdmin(OrgScopedAdmin):
    form = TeamForm
    list_display = ["name", "organization", "parent", "lead"]
    list_filter = ["organization"]
    search_fields = ["name", "slug"]
    list_select_related = ["organization", "parent", "lead"]
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ["members"]
    autocomplete_fields = ["parent"]
    fields = ["organization", "name", "slug", "parent", "lead", "members"]


# --- Invitations: created and sent in the app; here they can be seen and revoked ----------


@admin.register(Invitation)
class InvitationAdmin(OrgScopedAdmin):
    read_only = True
    list_display = ["email", "organization", "role", "state", "invited_by", "created_at",
                    "expires_at"]
    list_filter = ["role", "organization"]
    search_fields = ["email"]
    list_select_related = ["organization", "invited_by"]
    exclude = ["token_hash"]
    actions = ["revoke"]

    @admin.display(description="State")
    def state(self, obj):
        return obj.state

    @admin.action(description="Revoke selected pending invitations")
    def revoke(self, request, queryset):
        now = timezone.now()
        count = 0
        with transaction.atomic():
            for invitation in queryset.select_for_update(of=("self",)).filter(
                    accepted_at__isnull=True, revoked_at__isnull=True):
                invitation.revoked_at = now
                invitation.save(update_fields=["revoked_at"])
                audit_record(organization=invitation.organization, actor=request.user,
                             action="revoked", obj=invitation)
                count += 1
        self.message_user(request, f"{count} invitation(s) revoked.", messages.SUCCESS)


# --- API tokens: the raw token is shown once, only its hash is stored -----------------------


@admin.register(ApiToken)
class ApiTokenAdmin(OrgScopedAdmin):
    list_display = ["name", "organization", "user", "prefix", "active", "created_at",
                    "last_used_at"]
    list_filter = ["organization"]
    search_fields = ["name", "prefix", "user__email"]
    list_select_related = ["organization", "user"]
    deletable = False  # revoke instead: the row stays in the trail
    actions = ["revoke"]
    audit = False

    def get_fields(self, request, obj=None):
        if obj is None:
            # Like the app: an admin creates tokens as themself (never as another member,
            # say an owner). A superuser may name any member of the organisation.
            return ["organization", "user", "name"] if is_superadmin(request) \
                else ["organization", "name"]
        return ["organization", "user", "name", "prefix", "created_at", "last_used_at",
                "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["organization", "user", "prefix", "created_at", "last_used_at", "revoked_at"]

    @admin.display(boolean=True, description="Active")
    def active(self, obj):
        return obj.is_active

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        if not is_superadmin(request) or obj.user_id is None:
            obj.user = request.user
        raw, prefix, digest = ApiToken.new_token()
        obj.prefix, obj.token_hash = prefix, digest
        obj.save()
        request._headway_raw_token = raw  # shown once by response_add, never stored
        audit_record(organization=obj.organization, actor=request.user, action="token created",
                     obj=obj)

    def response_add(self, request, obj, post_url_continue=None):
        raw = getattr(request, "_headway_raw_token", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API token created",
            "token": obj,
            "raw_token": raw,
        }
        response = TemplateResponse(request, "admin/accounts/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        now = timezone.now()
        count = 0
        with transaction.atomic():
            for token in queryset.select_for_update(of=("self",)).filter(revoked_at__isnull=True):
                token.revoked_at = now
                token.save(update_fields=["revoked_at"])
                audit_record(organization=token.organization, actor=request.user,
                             action="token revoked", obj=token)
                count += 1
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)


# --- The audit trail: read-only for everybody ---------------------------------------------


@admin.register(AuditEntry)
class AuditEntryAdmin(OrgScopedAdmin):
    read_only = True
    list_display = ["created_at", "organization", "actor", "action", "object_type",
                    "object_repr"]
    list_filter = ["action", "object_type", "organization"]
    search_fields = ["object_repr", "actor__email", "note"]
    list_select_related = ["organization", "actor"]
    date_hierarchy = "created_at"

