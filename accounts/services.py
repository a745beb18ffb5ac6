"""Writes for accounts: sign-up, organisations, invitations, roles, teams."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.locale import language_for
from accounts.models import Invitation, Membership, Organization, Role, Team, User


def unique_org_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, n = base, 2
    while Organization.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def organization_create(*, owner: User, name: str, slug: str = "", time_zone: str = "UTC"
                        ) -> Organization:
    slug = slug or unique_org_slug(name)
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("That address is taken; choose another.")})
    org = Organization.objects.create(name=name, slug=slug, time_zone=time_zone)
    Membership.objects.create(user=owner, organization=org, role=Role.OWNER)
    audit_record(organization=org, actor=owner, action="created", obj=org)
    return org


@transaction.atomic
def user_signup(*, email: str, password: str, name: str, org_name: str, org_slug: str = ""
                ) -> tuple[User, Organization]:
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("An account with this email already exists. Log in.")})
    user = User.objects.create_user(email=email, password=password, name=name)
    org = organization_create(owner=user, name=org_name, slug=org_slug)
    return user, org


def invitation_url(raw_token: str) -> str:
    return settings.SITE_URL + reverse("accounts:invitation", kwargs={"token": raw_token})


@transaction.atomic
def invitation_create(*, organization: Organization, email: str, role: str, invited_by: User
                      ) -> tuple[Invitation, str]:
    email = email.strip().lower()
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError({"email": _("%(email)s is already a member of %(org)s.") % {
            "email": email, "org": organization}})
    inviter = Membership.objects.get(organization=organization, user=invited_by)
    if role in (Role.ADMIN, Role.OWNER) and inviter.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner can invite admins or owners."))
    raw, hashed = Invitation.new_token()
    invitation = Invitation.objects.create(
        organization=organization, email=email, role=role, token_hash=hashed,
        invited_by=invited_by,
        expires_at=timezone.now() + dt.timedelta(days=settings.INVITATION_DAYS),
    )
    audit_record(organization=organization, actor=invited_by, action="invited", obj=invitation,
                 changes={"role": [None, role]})
    _send_invitation(invitation, raw, invited_by)
    return invitation, raw


def _send_invitation(invitation: Invitation, raw: str, sender: User) -> None:
    organization, email = invitation.organization, invitation.email
    link = invitation_url(raw)
    # The invitee has no account yet: the organisation's default language (else the site's).
    with translation.override(language_for(None, organization)):
        role = Role(invitation.role).label
        words = {"person": sender.display_name, "org": organization.name, "link": link,
                 "role": str(role) if translation.get_language() == "de" else str(role).lower(),
                 "days": settings.INVITATION_DAYS}
        subject = _("%(person)s invited you to %(org)s on Headway") % words
        body = _("%(person)s invited you to join %(org)s on Headway as %(role)s.\n\n"
                 "Accept the invitation (valid for %(days)s days, usable once):\n%(link)s\n") % words
    transaction.on_commit(lambda: send_mail(subject, body, None, [email], fail_silently=True))


def _pending_for_update(invitation: Invitation, actor: Membership) -> Invitation:
    """The invitation, locked, if it is still pending and the actor may manage it."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied(_("Only admins and owners manage invitations."))
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.role in (Role.ADMIN, Role.OWNER) and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner can manage an invitation for an admin or owner."))
    if invitation.accepted_at:
        raise ValidationError(_("The invitation for %(email)s has already been accepted.")
                              % {"email": invitation.email})
    if invitation.revoked_at:
        raise ValidationError(_("The invitation for %(email)s was revoked.")
                              % {"email": invitation.email})
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Membership) -> Invitation:
    """Withdraw a pending invitation: its link stops working at once."""
    invitation = _pending_for_update(invitation, actor)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(organization=invitation.organization, actor=actor.user, action="revoked",
                 obj=invitation)
    return invitation


@transaction.atomic
def invitation_renew(*, invitation: Invitation, actor: Membership, send: bool
                     ) -> tuple[Invitation, str]:
    """A new link for a pending (or expired) invitation, valid for INVITATION_DAYS from now.

    Only a hash of a link is stored, so an old link cannot be shown again: renewing makes
    a new one and the previous link stops working. With ``send`` it is e-mailed to the
    invitee (resend); without, it is returned for the admin to copy and pass on."""
    invitation = _pending_for_update(invitation, actor)
    raw, hashed = Invitation.new_token()
    invitation.token_hash = hashed
    invitation.expires_at = timezone.now() + dt.timedelta(days=settings.INVITATION_DAYS)
    invitation.save(update_fields=["token_hash", "expires_at"])
    audit_record(organization=invitation.organization, actor=actor.user,
                 action="invitation resent" if send else "invitation link renewed",
                 obj=invitation)
    if send:
        _send_invitation(invitation, raw, actor.user)
    return invitation, raw


class InvitationError(Exception):
    pass


def invitation_lookup(raw_token: str) -> Invitation:
    """The pending invitation for a link, or InvitationError with a message for the page."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=Invitation.hash(raw_token)).first()
    )
    if invitation is None:
        raise InvitationError(_("This invitation link is not valid. Ask for a new invitation."))
    if invitation.accepted_at:
        raise InvitationError(_("This invitation has already been used. Log in instead, or ask "
                              "for a new invitation."))
    if invitation.revoked_at:
        raise InvitationError(_("This invitation was withdrawn. Ask for a new one."))
    if invitation.is_expired:
        raise InvitationError(_("This invitation has expired. Ask the person who invited you to "
                              "send a new one."))
    return invitation


@transaction.atomic
def invitation_accept(*, raw_token: str, user: User) -> Membership:
    invitation = invitation_lookup(raw_token)
    # Lock the row so a double click cannot use it twice.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise InvitationError(_("This invitation has already been used."))
    membership, created = Membership.objects.get_or_create(
        user=user, organization=invitation.organization, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    if created:
        audit_record(organization=invitation.organization, actor=user, action="joined",
                     obj=membership, changes={"role": [None, membership.role]})
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor: Membership) -> Membership:
    role = Role(role)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied(_("Only admins and owners change roles."))
    touches_top = role in (Role.ADMIN, Role.OWNER) or membership.role in (Role.ADMIN, Role.OWNER)
    if touches_top and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner can grant or take away the admin or owner role."))
    if membership.role == Role.OWNER and role != Role.OWNER:
        owners = Membership.objects.select_for_update().filter(
            organization=membership.organization, role=Role.OWNER)
        if owners.count() <= 1:
            raise ValidationError(_("The last owner cannot be demoted. Make someone else owner "
                                  "first."))
    old = membership.role
    if old == role:
        return membership
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(organization=membership.organization, actor=actor.user, action="role_changed",
                 obj=membership, changes={"role": [old, role]})
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Membership) -> None:
    if membership.role in (Role.ADMIN, Role.OWNER) and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner can remove an admin or owner."))
    if membership.role == Role.OWNER and Membership.objects.filter(
            organization=membership.organization, role=Role.OWNER).count() <= 1:
        raise ValidationError(_("The last owner cannot be removed."))
    audit_record(organization=membership.organization, actor=actor.user, action="removed",
                 obj=membership, changes={"role": [membership.role, None]})
    for team in Team.objects.filter(organization=membership.organization,
                                    members=membership.user):
        team.members.remove(membership.user)
    membership.delete()


@transaction.atomic
def organization_update(*, organization: Organization, actor: User, **fields) -> Organization:
    from accounts.audit import diff, snapshot

    before = snapshot(organization, fields.keys())
    for key, value in fields.items():
        setattr(organization, key, value)
    organization.full_clean()
    organization.save()
    changes = diff(before, organization)
    if changes:
        audit_record(organization=organization, actor=actor, action="updated", obj=organization,
                     changes=changes)
    return organization


def user_language_set(*, user: User, language: str) -> User:
    user.language = language
    user.full_clean(validate_unique=False, exclude=["password"])
    user.save(update_fields=["language"])
    return user


@transaction.atomic
def team_save(*, organization: Organization, actor: User, team: Team | None = None,
              name: str, parent: Team | None = None, lead: User | None = None,
              members: list[User] | None = None) -> Team:
    if parent is not None and parent.organization_id != organization.id:
        raise ValidationError({"parent": _("Choose a team of this organisation.")})
    creating = team is None
    team = team or Team(organization=organization)
    if not creating and parent is not None:
        node = parent
        while node is not None:  # no team may sit under itself
            if node.pk == team.pk:
                raise ValidationError({"parent": _("A team cannot sit under itself or one of "
                                                 "its sub-teams.")})
            node = node.parent
    team.name = name
    team.parent = parent
    team.lead = lead
    if creating:
        base = slugify(name)[:50] or "team"
        slug, n = base, 2
        while Team.objects.filter(organization=organization, slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        team.slug = slug
    team.save()
    if members is not None:
        team.members.set(members)
    audit_record(organization=organization, actor=actor,
                 action="created" if creating else "updated", obj=team)
    return team
