"""/scim/v2/…: one endpoint, the organisation named by its bearer token (never by the URL,
so a token of organisation A can only ever reach A's resources: another's id is a 404)."""

from __future__ import annotations

import json
import logging

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from scim2_models import SCIMException, UnauthorizedException
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse

from accounts.sso.models import ScimToken
from accounts.sso.scim import handler_for
from accounts.sso.services import identity_log
from core.ratelimit import RateLimited, client_ip, enforce

logger = logging.getLogger(__name__)


def _respond(response: ScimResponse) -> HttpResponse:
    body = json.dumps(response.body) if response.body is not None else ""
    out = HttpResponse(body, status=int(response.status))
    for name, value in response.headers.items():
        out[name] = value
    return out


def _error(status: int, detail: str, extra: dict | None = None) -> HttpResponse:
    out = HttpResponse(json.dumps({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": str(status),
        "detail": detail}), status=status, content_type="application/scim+json")
    for name, value in (extra or {}).items():
        out[name] = value
    return out


def _token(request: HttpRequest) -> ScimToken | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    raw = header[7:].strip()
    return (ScimToken.objects.select_related("organization")
            .filter(token_hash=ScimToken.hash(raw), revoked_at__isnull=True).first())


@csrf_exempt
def scim_endpoint(request: HttpRequest, path: str = "") -> HttpResponse:
    token = _token(request)
    try:
        if token is None:
            enforce(request, "scim_auth", key=f"ip:{client_ip(request)}")
            return _error(401, "A valid SCIM bearer token is required.",
                          {"WWW-Authenticate": 'Bearer realm="scim"'})
        enforce(request, "scim", key=f"org:{token.organization_id}")
    except RateLimited as exc:
        return _error(429, exc.message, {"Retry-After": str(exc.retry_after)})
    org = token.organization
    ScimToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    handler = handler_for(org)
    scim_request = ScimRequest(
        method=request.method, base_url=request.build_absolute_uri("/scim/v2"),
        path="/" + path, query=request.GET.dict(), headers=dict(request.headers),
        body=request.body, subject=token)
    try:
        with transaction.atomic():
            response = handler.handle(scim_request)
    except UnauthorizedException as exc:
        response = handler.service.error_response(exc)
    except SCIMException as exc:
        response = handler.service.error_response(exc)
    if request.method != "GET" or int(response.status) >= 400:
        identity_log(organization=org, kind="scim", ok=int(response.status) < 400,
                     summary=f"{request.method} /scim/v2/{path}"[:300],
                     status=int(response.status))
    return _respond(response)
