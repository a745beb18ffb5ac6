"""A small cache-based rate limiter: fixed windows counted in the Django cache.

Use the decorator on views::

    @rate_limit("signup", key="ip")             # limits from RATE_LIMITS / settings
    def signup(request): ...

or call `enforce()` where the key is only known inside the view::

    enforce(request, "invitation_send", key=f"org:{org.pk}")   # raises RateLimited

and turn `RateLimited` into a response with `too_many_requests(request, exc)`: a JSON
429 `{"detail": ..., "retry_after": s}` for the API and JSON clients, otherwise the
429 page (htmx gets a toast through HX-Trigger). Every 429 carries `Retry-After`.

The API (/api/v1/) is limited by `ApiRateLimitMiddleware`, per token: "api" for every
request, "api_write" also for writes; requests without a token count per address.

Limits are `(count, seconds)`; defaults below, overridden per scope by
`settings.HEADWAY_RATE_LIMITS`. `settings.RATELIMIT_ENABLED = False` turns them off
(the test suite does that; tests of the limits turn it back on with the `settings`
fixture). If the cache is unreachable (Redis down) the limiter lets requests through
and logs a warning: a missing limit is better than a site that does not answer.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

# scope: (requests, per seconds)
RATE_LIMITS: dict[str, tuple[int, int]] = {
    "signup": (10, 3600),             # new accounts per address per hour
    "org_create": (10, 3600),         # new organisations per user per hour
    "invitation_send": (30, 3600),    # invitations per admin per organisation per hour
    "invitation_accept": (30, 3600),  # invitation link submissions per address per hour
    "api": (300, 60),                 # API requests per token per minute
    "api_write": (60, 60),            # API writes per token per minute
    "sso_start": (30, 300),           # SSO sign-ins started per address per 5 minutes
    "sso_callback": (30, 300),        # SSO callbacks per address per 5 minutes
    "sso_failure": (10, 900),         # refused SSO callbacks per address, then locked out
    "sso_settings": (60, 3600),       # SSO settings saves / tests / tokens per admin per hour
    "scim": (600, 60),                # SCIM requests per organisation per minute
    "scim_auth": (20, 300),           # SCIM requests with a bad token per address
}

MESSAGES = {
    "signup": "Too many sign-ups from your network.",
    "org_create": "Too many new organisations in a short time.",
    "invitation_send": "Too many invitations sent in a short time.",
    "invitation_accept": "Too many attempts with invitation links.",
    "api": "Too many API requests for this token.",
    "api_write": "Too many API writes for this token.",
    "sso_start": "Too many single sign-on attempts from your network.",
    "sso_callback": "Too many single sign-on attempts from your network.",
    "sso_failure": "Too many refused single sign-on attempts from your network.",
    "sso_settings": "Too many changes to the single sign-on settings.",
    "scim": "Too many SCIM requests for this organisation.",
    "scim_auth": "Too many SCIM requests with a wrong token.",
}


@dataclass
class RateLimited(Exception):  # noqa: N818 - reads better at the raise site
    scope: str
    retry_after: int
    limit: int
    window: int

    @property
    def message(self) -> str:
        lead = MESSAGES.get(self.scope, "Too many requests.")
        return f"{lead} Please try again in {_human(self.retry_after)}."

    def __str__(self) -> str:
        return self.message


def _human(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


def enabled() -> bool:
    return getattr(settings, "RATELIMIT_ENABLED", True)


def limit_for(scope: str) -> tuple[int, int]:
    overrides = getattr(settings, "HEADWAY_RATE_LIMITS", {}) or {}
    return tuple(overrides.get(scope, RATE_LIMITS[scope]))  # type: ignore[return-value]


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address, or None when there is no valid one. Behind a proxy set
    CLIENT_IP_HEADER (e.g. "HTTP_X_FORWARDED_FOR"): the right-most entry, the one our
    proxy added, is used. Never a non-address (axes stores it in an IP field)."""
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header and request.META.get(header):
        candidate = request.META[header].split(",")[-1].strip()
    else:
        candidate = request.META.get("REMOTE_ADDR", "") or ""
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def hit(scope: str, key: str, *, limit: int | None = None, window: int | None = None,
        now: float | None = None) -> int | None:
    """Count one request for (scope, key). None when allowed; else seconds to wait."""
    if limit is None or window is None:
        limit, window = limit_for(scope)
    now = time.time() if now is None else now
    bucket = int(now // window)
    cache_key = f"rl:{scope}:{key}:{bucket}"
    try:
        cache.add(cache_key, 0, timeout=window + 5)
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 5)
        count = 1
    except Exception:  # cache down: fail open, never take the site with it
        logger.warning("rate limiter: cache unavailable, %s not limited", scope, exc_info=True)
        return None
    if count <= limit:
        return None
    return max(1, math.ceil((bucket + 1) * window - now))


def enforce(request: HttpRequest | None, scope: str, *, key: str) -> None:
    """Count a request and raise RateLimited when the scope's limit is exceeded."""
    if not enabled():
        return
    limit, window = limit_for(scope)
    retry_after = hit(scope, key, limit=limit, window=window)
    if retry_after is not None:
        logger.info("rate limited: %s %s", scope, key)
        raise RateLimited(scope=scope, retry_after=retry_after, limit=limit, window=window)


def wants_json(request: HttpRequest) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def too_many_requests(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """The 429 answer: JSON for the API / JSON clients, the 429 page otherwise."""
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {"detail": exc.message, "retry_after": exc.retry_after}, status=429)
    else:
        response = render(request, "429.html", {"message": exc.message,
                                                "retry_after": exc.retry_after}, status=429)
        if getattr(request, "htmx", False):
            response["HX-Trigger"] = json.dumps({"toast": exc.message})
    response["Retry-After"] = str(exc.retry_after)
    return response


def _key(request: HttpRequest, key: str | Callable[[HttpRequest], str]) -> str:
    if callable(key):
        return key(request)
    if key == "ip":
        return f"ip:{client_ip(request)}"
    if key == "user":
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{client_ip(request)}"
    raise ValueError(f"unknown rate-limit key {key!r}")


def rate_limit(scope: str, *, key: str | Callable[[HttpRequest], str] = "ip",
               methods: tuple[str, ...] = ("POST",)) -> Callable:
    """Limit a view per `key` ("ip", "user" or a function of the request) for `methods`.

    Place it below `org_view` when the key needs `request.org`. GETs are not counted
    by default: only the requests that create something.
    """
    limit_for(scope)  # fail at import time on an unknown scope

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in methods:
                try:
                    enforce(request, scope, key=_key(request, key))
                except RateLimited as exc:
                    return too_many_requests(request, exc)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """django-axes: the account a log-in attempt is for, normalised (emails ignore case)."""
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        value = request.POST.get("username")
    return value.strip().lower() if isinstance(value, str) else None


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def api_key(request: HttpRequest) -> str:
    """Who an API request counts against: its bearer token (hashed, never stored raw in
    the cache), or its address when it has none."""
    import hashlib

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:24]
    return f"ip:{client_ip(request)}"


class ApiRateLimitMiddleware:
    """Rate-limit /api/ per token: JSON 429 with Retry-After over the limit."""

    prefix = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.prefix):
            key = api_key(request)
            try:
                enforce(request, "api", key=key)
                if request.method in WRITE_METHODS:
                    enforce(request, "api_write", key=key)
            except RateLimited as exc:
                return too_many_requests(request, exc)
        return self.get_response(request)
