"""Writes for SSO: the configuration, SCIM tokens, and signing a person in from verified
ID-token claims (just-in-time provisioning)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Membership, Organization, Role, Team, User
from accounts.sso.models import IdentityLogEntry, ScimToken, SsoConfig, SsoIdentity
from core.secrets import encrypt


class SignInRefused(Exception):  # noqa: N818 - reads better at the raise site
    """Verified claims that still must not sign anyone in; the message is for the page."""


def identity_log(*, organization: Organization, kind: str, ok: bool, summary: str,
                 status: int | None = None) -> None:
    IdentityLogEntry.objects.create(organization=organization, kind=kind, ok=ok,
                                    summary=summary[:300], status=status)


@transaction.atomic
def sso_config_save(*, organization: Organization, actor: User, issuer: str, client_id: str,
                    client_secret: str, domains: str, default_role: str, groups_claim: str,
                    group_map: dict, enforce: bool, enabled: bool) -> SsoConfig:
    config = SsoConfig.objects.filter(organization=organization).first()
    creating = config is None
    config = config or SsoConfig(organization=organization)
    before = {"issuer": config.issuer, "client_id": config.client_id, "enforce": config.enforce,
              "enabled": config.enabled, "default_role": config.default_role,
              "domains": config.domains}
    config.issuer = issuer.strip()
    config.client_id = client_id.strip()
    if client_secret:  # empty keeps the stored one: the secret is never shown back
        config.client_secret_encrypted = encrypt(client_secret)
    config.domains = "\n".join(sorted({d.strip().lower() for d in domains.replace(",", "\n")
                                       .splitlines() if d.strip()}))
    config.default_role = default_role
    config.groups_claim = groups_claim.strip()
    config.group_map = group_map
    config.enforce = enforce
    config.enabled = enabled
    config.full_clean()
    config.save()
    after = {k: getattr(config, k) for k in before}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if client_secret:
        changes["client_secret"] = ["…", "(changed)"]
    if changes or creating:
        audit_record(organization=organization, actor=actor,
                     action="created" if creating else "updated", obj=config, changes=changes)
    return config


@transaction.atomic
def scim_token_create(*, organization: Organization, actor: User, name: str
                      ) -> tuple[ScimToken, str]:
    raw, prefix, hashed = ScimToken.new_token()
    token = ScimToken.objects.create(organization=organization, name=name or "SCIM",
                                     prefix=prefix, token_hash=hashed, created_by=actor)
    audit_record(organization=organization, actor=actor, action="created", obj=token)
    return token, raw


@transaction.atomic
def scim_token_revoke(*, token: ScimToken, actor: User) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(organization=token.organization, actor=actor, action="revoked", obj=token)


def _mapped(config: SsoConfig, groups) -> tuple[str, list[Team]]:
    """The role and teams the groups claim maps to (the highest role wins)."""
    role = config.default_role
    teams: list[Team] = []
    if not config.groups_claim or not isinstance(groups, list):
        return role, teams
    from accounts.models import ROLE_RANK

    slugs = []
    for group in groups:
        rule = config.group_map.get(str(group)) if isinstance(config.group_map, dict) else None
        if not isinstance(rule, dict):
            continue
        mapped = rule.get("role")
        if mapped in Role.values and mapped != Role.OWNER and \
                ROLE_RANK[Role(mapped)] > ROLE_RANK[Role(role)]:
            role = mapped
        if rule.get("team"):
            slugs.append(str(rule["team"]))
    if slugs:
        teams = list(Team.objects.filter(organization=config.organization, slug__in=slugs))
    return role, teams


@transaction.atomic
def sso_sign_in(*, config: SsoConfig, claims: dict, current_user: User | None = None
                ) -> tuple[User, Membership, bool]:
    """The account verified claims sign in, creating it or its membership when needed.

    Who the claims may be: the person this provider already linked (by `sub`); else the
    person logged in now (they proved the account); else, only for a domain this
    organisation vouches for, the account with that verified e-mail or a new one. Never
    an account of a domain it does not vouch for. Returns (user, membership, created).
    """
    org = config.organization
    subject = str(claims["sub"])
    email = str(claims["email"]).strip().lower()
    identity = (SsoIdentity.objects.select_for_update().select_related("user")
                .filter(organization=org, subject=subject).first())
    created = False
    if identity is not None:
        user = identity.user
        if current_user is not None and current_user.pk != user.pk:
            raise SignInRefused("This identity is linked to another Headway account.")
    elif current_user is not None:
        user = current_user
    else:
        if not config.vouches_for(email):
            raise SignInRefused(f"{org.name}'s identity provider does not vouch for "
                                f"{email.rsplit('@', 1)[-1]} addresses, so it cannot sign "
                                "this address in. Ask an admin to add the domain.")
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            name = str(claims.get("name") or "")[:150]
            user = User.objects.create_user(email=email, password=None, name=name)
            created = True
    if not user.is_active:
        raise SignInRefused("This account is deactivated.")
    if identity is None:
        try:
            with transaction.atomic():
                identity = SsoIdentity.objects.create(organization=org, subject=subject,
                                                      user=user)
        except IntegrityError:
            raise SignInRefused("This Headway account is already linked to another identity "
                                f"at {org.name}'s provider.")
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["last_login_at"])
    role, teams = _mapped(config, claims.get(config.groups_claim) if config.groups_claim else None)
    membership = Membership.objects.select_for_update().filter(user=user, organization=org).first()
    if membership is None:
        membership = Membership.objects.create(user=user, organization=org, role=role)
        audit_record(organization=org, actor=user, action="joined", obj=membership,
                     changes={"role": [None, role]}, note="First sign-in through SSO.")
    elif membership.suspended_at is not None:
        raise SignInRefused(f"Your access to {org.name} is suspended.")
    for team in teams:
        team.members.add(user)
    return user, membership, created
