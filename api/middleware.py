"""Under /api/, an error Django answers itself is JSON too (api.errors has the shape).

An unknown route (Django's 404 page), a wrong method (ninja's plain "Method not allowed"),
a body over DATA_UPLOAD_MAX_MEMORY_SIZE read before the API's handlers run, a server
error: all of these would be HTML or plain text, which a script cannot read. Headers such
as ``Allow`` and ``Retry-After`` are kept.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from .errors import message_for

PREFIX = "/api/"


def json_error(status: int, detail: str | None = None) -> HttpResponse:
    return HttpResponse(json.dumps({"detail": detail or message_for(status)}), status=status,
                        content_type="application/json")


def _declared_too_big(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and length > limit


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(PREFIX) and _declared_too_big(request):
            # Before any middleware reads the body (Django would answer a bare 400 then).
            return json_error(413)
        response = self.get_response(request)
        if not request.path.startswith(PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        replaced = json_error(response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate", "Cache-Control"):
            if header in response:
                replaced[header] = response[header]
        return replaced

    def process_exception(self, request: HttpRequest, exc: Exception):
        # Django answers RequestDataTooBig with a generic 400; say what it is.
        if request.path.startswith(PREFIX) and isinstance(exc, RequestDataTooBig):
            return json_error(413)
        return None
