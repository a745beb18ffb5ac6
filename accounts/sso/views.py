"""SSO pages: "Sign in with your organisation", the provider's callback, and the
organisation's SSO settings (/o/<org>/settings/sso/)."""

from __future__ import annotations

import json
import logging
import math
import time

from django.contrib import messages
from django.contrib.auth import login
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import get_in_org, org_view
from accounts.audit import audit_record
from accounts.models import Role
from accounts.sso import oidc, services
from accounts.sso.forms import ScimTokenForm, SsoConfigForm, SsoStartForm
from accounts.sso.models import IdentityLogEntry, ScimToken, SsoConfig
from core.ratelimit import (
    RateLimited,
    client_ip,
    hit,
    limit_for,
    rate_limit,
    too_many_requests,
)
from core.ratelimit import enabled as ratelimit_enabled

logger = logging.getLogger(__name__)
SESSION_FLOWS = "sso_flows"
MAX_FLOWS = 5  # pending sign-ins per browser (several tabs), oldest dropped


def config_for(who: str) -> SsoConfig | None:
    """The enabled provider for an e-mail (by vouched domain) or an organisation slug."""
    who = who.strip().lower()
    qs = SsoConfig.objects.select_related("organization").filter(enabled=True)
    if "@" in who:
        domain = who.rsplit("@", 1)[1]
        for config in qs.filter(Q(domains__iexact=domain) | Q(domains__icontains=domain)):
            if domain in config.domain_list:
                return config
        return None
    return qs.filter(organization__slug=who).first()


def _redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("accounts:sso_callback"))


# The log-in lockout for SSO. django-axes locks (username, address) pairs, but a refused
# callback has no username we can trust (its token failed the checks), and feeding axes
# an unverified e-mail would let anyone lock a named account. So refused callbacks count
# per address ("sso_failure"): past the limit, that address gets 429 at the SSO start and
# callback until the window ends. Password log-ins stay under axes.
LOCK_KEY = "sso_lock:{ip}"


def _failure_key(request: HttpRequest) -> str:
    return f"ip:{client_ip(request)}"


def _locked_out(request: HttpRequest) -> HttpResponse | None:
    until = cache.get(LOCK_KEY.format(ip=client_ip(request)))
    if until is None or until <= time.time():
        return None
    limit, window = limit_for("sso_failure")
    return too_many_requests(request, RateLimited(
        scope="sso_failure", retry_after=max(1, math.ceil(until - time.time())), limit=limit,
        window=window))


def refused(request: HttpRequest, reason: str, *, config: SsoConfig | None = None,
            status: int = 400, failure: bool = False) -> HttpResponse:
    """The refusal page; `failure` counts it against the caller's address."""
    if config is not None:
        services.identity_log(organization=config.organization, kind="login", ok=False,
                              summary=reason)
    if failure and ratelimit_enabled():
        # Like axes: the Nth failure locks (this one still shows why it was refused).
        limit, window = limit_for("sso_failure")
        retry = hit("sso_failure", _failure_key(request), limit=limit - 1, window=window)
        if retry is not None:
            cache.set(LOCK_KEY.format(ip=client_ip(request)), time.time() + retry,
                      timeout=retry)
            logger.warning("SSO lockout for %s after refused callbacks", client_ip(request))
    return render(request, "accounts/sso_refused.html", {"reason": reason}, status=status)


@rate_limit("sso_start", key="ip", methods=("GET", "POST"))
def sso_start(request: HttpRequest) -> HttpResponse:
    if (locked := _locked_out(request)) is not None:
        return locked
    data = request.POST if request.method == "POST" else (request.GET if "who" in request.GET
                                                          else None)
    form = SsoStartForm(data)
    if data is not None and form.is_valid():
        config = config_for(form.cleaned_data["who"])
        if config is None:
            form.add_error("who", _("No organisation offers single sign-on for this address. "
                                  "Log in with your password instead."))
        else:
            next_url = request.POST.get("next") or request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()},
                                                   require_https=request.is_secure()):
                next_url = ""
            try:
                url, flow = oidc.authorization_url(
                    config, redirect_uri=_redirect_uri(request),
                    org_slug=config.organization.slug, next_url=next_url)
            except oidc.OidcError as exc:
                return refused(request, _("The identity provider of %(org)s cannot be used right "
                                          "now: %(error)s") % {"org": config.organization.name,
                                                               "error": exc},
                               config=config, status=502)
            flows = request.session.get(SESSION_FLOWS, {})
            flows[flow.state] = {"nonce": flow.nonce, "verifier": flow.verifier,
                                 "org": flow.org_slug, "next": flow.next_url}
            request.session[SESSION_FLOWS] = dict(list(flows.items())[-MAX_FLOWS:])
            if request.method == "POST":
                # The page's CSP (form-action 'self') covers the redirects that follow a
                # form submission, so a 302 to the provider would be blocked by the
                # browser: a page that moves on by itself (meta refresh, a link without it).
                response = render(request, "accounts/sso_continue.html",
                                  {"url": url, "organization": config.organization})
                add_never_cache_headers(response)  # the URL carries this sign-in's state
                return response
            return redirect(url)
    return render(request, "accounts/sso_start.html", {"form": form})


@rate_limit("sso_callback", key="ip", methods=("GET",))
def sso_callback(request: HttpRequest) -> HttpResponse:
    if (locked := _locked_out(request)) is not None:
        return locked
    state = request.GET.get("state", "")
    flows = request.session.get(SESSION_FLOWS, {})
    pending = flows.pop(state, None) if state else None
    request.session[SESSION_FLOWS] = flows  # a state is used once: a replayed callback fails
    if pending is None:
        return refused(request, _("This sign-in link is not valid any more (it was already used, "
                                "or started in another browser). Start again."), failure=True)
    config = SsoConfig.objects.select_related("organization").filter(
        organization__slug=pending["org"], enabled=True).first()
    if config is None:
        return refused(request, _("Single sign-on is no longer offered for this organisation."))
    if request.GET.get("error"):
        return refused(request, _("The identity provider refused: %(error)s") % {
            "error": request.GET.get("error_description") or request.GET["error"]}, config=config)
    code = request.GET.get("code", "")
    if not code:
        return refused(request, _("The identity provider sent no authorization code."),
                       config=config, failure=True)
    flow = oidc.Flow(state=state, nonce=pending["nonce"], verifier=pending["verifier"],
                     org_slug=pending["org"], next_url=pending.get("next", ""))
    try:
        tokens = oidc.exchange_code(config, code=code, flow=flow,
                                    redirect_uri=_redirect_uri(request))
        claims = oidc.validate_id_token(config, tokens["id_token"], nonce=flow.nonce)
        current = request.user if request.user.is_authenticated else None
        user, membership, created = services.sso_sign_in(config=config, claims=claims,
                                                         current_user=current)
    except (oidc.OidcError, services.SignInRefused) as exc:
        return refused(request, str(exc), config=config, failure=True)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session["sso_org"] = config.organization.slug
    request.session["sso_id_token"] = tokens["id_token"]
    services.identity_log(organization=config.organization, kind="login", ok=True,
                          summary=f"{user.email} signed in"
                                  f"{' (new account)' if created else ''} as {membership.role}")
    if flow.next_url:
        return redirect(flow.next_url)
    return redirect("dashboards:home", org_slug=config.organization.slug)


def end_session_url(request: HttpRequest) -> str | None:
    """Where to send the browser after logging out of Headway, when the provider that
    signed this session in offers RP-initiated logout. Read before the session is flushed."""
    slug = request.session.get("sso_org")
    if not slug:
        return None
    config = SsoConfig.objects.filter(organization__slug=slug).first()
    if config is None:
        return None
    try:
        doc = oidc.discover(config.issuer)
    except oidc.OidcError:
        return None
    endpoint = doc.get("end_session_endpoint")
    if not endpoint:
        return None
    from urllib.parse import urlencode

    params = {"client_id": config.client_id,
              "post_logout_redirect_uri": request.build_absolute_uri(reverse("accounts:login"))}
    if request.session.get("sso_id_token"):
        params["id_token_hint"] = request.session["sso_id_token"]
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


def password_login_refusal(request: HttpRequest, user) -> str | None:
    """Why this person may not log in with a password (SSO enforced), or None. An owner
    may (break-glass): that log-in is audited in each enforcing organisation."""
    enforced = (SsoConfig.objects.filter(enforce=True, enabled=True,
                                         organization__memberships__user=user,
                                         organization__memberships__suspended_at__isnull=True)
                .select_related("organization"))
    blocked = []
    for config in enforced:
        membership = config.organization.memberships.get(user=user)
        if membership.role == Role.OWNER:
            audit_record(organization=config.organization, actor=user, action="break_glass",
                         obj=membership, note="Password log-in while SSO is enforced.")
        else:
            blocked.append(config.organization.name)
    if blocked:
        return (f"{', '.join(blocked)} requires single sign-on: use “Sign in with your "
                "organisation”.")
    return None


def _page(request, form, *, config, new_token=None, steps=None, status=200):
    return render(request, "accounts/sso_settings.html", {
        "form": form, "config": config, "token_form": ScimTokenForm(),
        "tokens": ScimToken.objects.filter(organization=request.org).select_related("created_by"),
        "log": IdentityLogEntry.objects.filter(organization=request.org)[:30],
        "new_token": new_token, "steps": steps,
        "callback_url": _redirect_uri(request),
        "scim_url": request.build_absolute_uri("/scim/v2/"),
    }, status=status)


def _initial(config: SsoConfig | None) -> dict:
    if config is None:
        return {"default_role": Role.MEMBER, "enabled": True}
    return {"issuer": config.issuer, "client_id": config.client_id, "domains": config.domains,
            "default_role": config.default_role, "groups_claim": config.groups_claim,
            "group_map": json.dumps(config.group_map) if config.group_map else "",
            "enabled": config.enabled, "enforce": config.enforce}


@org_view(Role.ADMIN)
@rate_limit("sso_settings", key=lambda r: f"org:{r.org.pk}:user:{r.user.pk}")
def sso_settings(request: HttpRequest) -> HttpResponse:
    config = SsoConfig.objects.filter(organization=request.org).first()
    has_secret = bool(config and config.client_secret_encrypted)
    action = request.POST.get("action", "save")
    if request.method == "POST" and action == "test":
        if config is None:
            messages.error(request, _("Save the provider first."))
            return redirect("accounts:sso_settings", org_slug=request.org.slug)
        form = SsoConfigForm(initial=_initial(config), has_secret=has_secret)
        return _page(request, form, config=config, steps=oidc.test_connection(config))
    if request.method == "POST" and action == "token":
        token_form = ScimTokenForm(request.POST)
        name = token_form.cleaned_data["name"] if token_form.is_valid() else "SCIM"
        _token, raw = services.scim_token_create(organization=request.org, actor=request.user,
                                                 name=name)
        form = SsoConfigForm(initial=_initial(config), has_secret=has_secret)
        return _page(request, form, config=config, new_token=raw)
    form = SsoConfigForm(request.POST if request.method == "POST" else None,
                         initial=_initial(config), has_secret=has_secret)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        config = services.sso_config_save(
            organization=request.org, actor=request.user, issuer=data["issuer"],
            client_id=data["client_id"], client_secret=data["client_secret"],
            domains=data["domains"], default_role=data["default_role"],
            groups_claim=data["groups_claim"], group_map=data["group_map"],
            enforce=data["enforce"], enabled=data["enabled"])
        messages.success(request, _("Single sign-on settings saved."))
        return redirect("accounts:sso_settings", org_slug=request.org.slug)
    return _page(request, form, config=config, status=400 if form.is_bound else 200)


@org_view(Role.ADMIN)
@require_POST
def scim_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_in_org(request, ScimToken, pk=pk)
    services.scim_token_revoke(token=token, actor=request.user)
    messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.prefix})
    return redirect("accounts:sso_settings", org_slug=request.org.slug)
