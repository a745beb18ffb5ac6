"""Middleware of core: input that cannot be stored is refused at the door; every response
carries the privacy and cache headers a multi-tenant app owes its users."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from .text import problems

PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone",
    "payment", "usb", "interest-cohort", "browsing-topics"))

# Pages that show one organisation's data (and the API, and the accounts pages a logged-in
# person sees): a shared proxy must not keep them, and the browser must not show them from
# its cache after a log-out.
PRIVATE_PREFIXES = ("/o/", "/api/", "/accounts/", "/admin/")


def _json_body(request: HttpRequest):
    if not (request.content_type or "").endswith("json") or not request.body:
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        return None  # malformed JSON is the API's to answer (a 400 naming it)


def _unstorable(request: HttpRequest) -> list[tuple[str, str]]:
    found = [("path", reason) for _, reason in problems(request.path)]
    for where, params in (("query", request.GET), ("form", request.POST)):
        for key in params:
            found += [(f"{where} parameter {key!r}", reason)
                      for _, reason in problems([key, *params.getlist(key)])]
    if request.method in {"POST", "PUT", "PATCH"}:
        for name, upload in request.FILES.items():
            found += [(f"file name of {name!r}", r) for _, r in problems(upload.name or "")]
        body = _json_body(request)
        if body is not None:
            found += list(problems(body, "body"))
    return found


class UnstorableInputMiddleware:
    """A request whose path, query, form fields or JSON body hold text that PostgreSQL or
    UTF-8 cannot store (core.text) is answered 400 with what and where, before any view
    runs: nothing is half-read or half-stored. The API answers its JSON error shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = _unstorable(request)
        if not found:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            errors: dict[str, list[str]] = {}
            for where, reason in found:
                errors.setdefault(where.removeprefix("body."), []).append(f"This text {reason}")
            return JsonResponse({"detail": "Invalid input.", "errors": errors}, status=400)
        html = render_to_string("400.html", {"problems": [f"The {w} {r}" for w, r in found]},
                                request=request)
        return HttpResponse(html, status=400)


class HeadersMiddleware:
    """Permissions-Policy on every response; ``Cache-Control: private, no-store`` on the
    organisation pages, the API and the signed-in pages (unless a view set its own)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        private = request.path.startswith(PRIVATE_PREFIXES) or (
            user is not None and user.is_authenticated)
        if private and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "private, no-store"
        return response
