"""SSO and SCIM rows. Imported by accounts.models so the accounts app owns them."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Organization, Role, Team

# Roles a first sign-in may grant: never owner (an identity provider cannot make owners).
JIT_ROLES = [Role.VIEWER, Role.MEMBER, Role.LEADER, Role.ADMIN]


class SsoConfig(models.Model):
    """One organisation's OpenID Connect provider."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE,
                                        related_name="sso_config")
    enabled = models.BooleanField(default=True)
    issuer = models.URLField(max_length=300, help_text="The issuer URL; its discovery document "
                             "is at <issuer>/.well-known/openid-configuration.")
    client_id = models.CharField(max_length=200)
    client_secret_encrypted = models.TextField(blank=True)
    # E-mail domains this provider vouches for, lower case, one per line.
    domains = models.TextField(blank=True)
    default_role = models.CharField(max_length=10, choices=[(r.value, r.label) for r in JIT_ROLES],
                                    default=Role.MEMBER)
    groups_claim = models.CharField(max_length=60, blank=True)
    # {"group name": {"role": "leader", "team": "team-slug"}}
    group_map = models.JSONField(default=dict, blank=True)
    enforce = models.BooleanField(default=False, help_text="Members must sign in through the "
                                  "provider; owners keep a break-glass password log-in.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(default_role__in=[r.value for r in JIT_ROLES]),
                                   name="sso_default_role_not_owner"),
        ]

    def __str__(self) -> str:
        return f"SSO for {self.organization}"

    @property
    def domain_list(self) -> list[str]:
        return [d.strip().lower() for d in self.domains.replace(",", "\n").splitlines()
                if d.strip()]

    @classmethod
    def enforced_for(cls, organization) -> bool:
        """Whether the organisation's members must sign in through its provider (then no
        password log-in for non-owners and no invitation links)."""
        return cls.objects.filter(organization=organization, enabled=True, enforce=True).exists()

    def vouches_for(self, email: str) -> bool:
        domain = email.rsplit("@", 1)[-1].lower() if "@" in email else ""
        return bool(domain) and domain in self.domain_list


class SsoIdentity(models.Model):
    """A person at an organisation's provider (its `sub`), linked to one Headway account."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="sso_identities")
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="sso_identities")
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "subject"], name="sso_identity_sub"),
            models.UniqueConstraint(fields=["organization", "user"], name="sso_identity_user"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.user}"


class IdentityLogEntry(models.Model):
    """Recent SSO sign-ins (accepted and refused) and SCIM requests, for the settings page."""

    class Kind(models.TextChoices):
        LOGIN = "login", "Sign-in"
        SCIM = "scim", "SCIM"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="identity_log")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    ok = models.BooleanField()
    summary = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.summary


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ScimToken(models.Model):
    """A bearer token for an organisation's SCIM endpoint. Only a hash is stored."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="scim_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def new_token() -> tuple[str, str, str]:
        raw = "scim_" + secrets.token_urlsafe(32)
        return raw, raw[:11], _hash(raw)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash(raw)


class ScimResource(models.Model):
    """What a SCIM client stored (the whole resource, as it sent it) and the row it drives:
    a User resource drives a person's membership, a Group resource a team."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="scim_resources")
    resource_type = models.CharField(max_length=10)  # "User" | "Group"
    scim_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "resource_type", "scim_id"],
                                    name="scim_resource_id"),
            models.UniqueConstraint(fields=["organization", "user"], name="scim_resource_user",
                                    condition=models.Q(user__isnull=False)),
            models.UniqueConstraint(fields=["organization", "team"], name="scim_resource_team",
                                    condition=models.Q(team__isnull=False)),
            models.CheckConstraint(condition=models.Q(resource_type__in=["User", "Group"]),
                                   name="scim_resource_type_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.scim_id}"
