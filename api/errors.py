"""Every error the API returns is JSON of one shape: ``{"detail": ..., "errors": {field: [messages]}}``.

``errors`` is present only for bad input. The handlers below cover what a view raises;
``api.middleware.ApiJsonErrorsMiddleware`` covers what Django answers before or around
the API (an unknown route under /api/, a wrong method, an oversized body, a 500), so a
script never has to parse an HTML page. ``documented`` lists the codes per operation for
the OpenAPI document, so the schema says what the code answers.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from core.versioning import StaleVersion

# pydantic names the member of a union that failed ("float", "int", ...) in an error's
# location; the caller sent one field, so the location names only the field.
_UNION_TAGS = {"float", "int", "str", "bool"}


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None
    retry_after: int | None = None  # 429 only (also the Retry-After header)


# Every authenticated operation can answer these: unstorable input (NUL, refused by
# core.middleware before the view), no/bad token, bad parameters, the rate limit.
_ALWAYS = (400, 401, 422, 429)
_MESSAGES = {
    400: "Refused.", 401: "Send a valid token: Authorization: Bearer <token>.",
    403: "Not allowed.", 404: "Not found.", 405: "Method not allowed.", 409: "Conflict.",
    413: "Request body too large.", 422: "Invalid input.", 429: "Too many requests.",
    500: "Server error.",
}


def documented(ok: dict, *codes: int, public: bool = False) -> dict:
    """``response=`` for an operation: its success schemas plus ErrorOut for each error."""
    extra = () if public else _ALWAYS
    return {**ok, **dict.fromkeys(sorted({*extra, *codes}), ErrorOut)}


def message_for(status: int) -> str:
    return _MESSAGES.get(status, "Error.")


def add_error_handlers(api: NinjaAPI) -> None:
    def respond(request, status: int, detail: str, errors=None, headers=None):
        body = {"detail": detail} if errors is None else {"detail": detail, "errors": errors}
        response = api.create_response(request, body, status=status)
        for k, v in (headers or {}).items():
            response[k] = v
        return response

    @api.exception_handler(NinjaValidationError)
    def _validation_error(request, exc: NinjaValidationError):
        errors: dict[str, list[str]] = {}
        for err in exc.errors:
            loc = [str(p) for p in err.get("loc", [])
                   if p not in ("body", "payload", "query", "path", "header")
                   and p not in _UNION_TAGS]
            key = ".".join(loc) or "body"
            msg = "Enter a number." if key.endswith("value") else err.get("msg", "Invalid.")
            if msg not in errors.get(key, []):
                errors.setdefault(key, []).append(msg)
        return respond(request, 422, "Invalid input.", errors)

    @api.exception_handler(ValidationError)
    def _django_validation_error(request, exc: ValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}
        return respond(request, 400, "Invalid input.", errors)

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return respond(request, 404, "Not found.")

    @api.exception_handler(PermissionDenied)
    def _forbidden(request, exc):
        return respond(request, 403, str(exc) or message_for(403))

    @api.exception_handler(AuthenticationError)
    def _unauthorized(request, exc):
        return respond(request, 401, message_for(401), headers={"WWW-Authenticate": "Bearer"})

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        return respond(request, exc.status_code, str(exc) or message_for(exc.status_code))

    @api.exception_handler(StaleVersion)
    def _stale(request, exc: StaleVersion):
        current = getattr(exc.current, "version", None)
        return respond(request, 409, str(exc) + " Read it again and resend with its version.",
                       {"version": [f"The current version is {current}."]} if current else None)

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request, exc):
        return respond(request, 413, message_for(413))


def complete_error_responses(schema: dict) -> dict:
    """What every operation can answer whether or not its router listed it (an operation
    added without ``documented`` still tells the truth): the codes of ``_ALWAYS``, 404
    with a path parameter, 403 and 413 with a body or a write, 409 with an Idempotency-Key."""
    ref = {"content": {"application/json": {"schema": {"$ref":
                                                        "#/components/schemas/ErrorOut"}}}}
    if "ErrorOut" not in schema.setdefault("components", {}).setdefault("schemas", {}):
        schema["components"]["schemas"]["ErrorOut"] = ErrorOut.model_json_schema()
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            codes = set(_ALWAYS)
            if "{" in path:
                codes.add(404)
            if method != "get":
                codes.add(403)
            if "requestBody" in op:
                codes.add(413)
            if any(p.get("name") == "Idempotency-Key" for p in op.get("parameters", [])):
                codes.add(409)  # the key was used for a different request
            responses = op.setdefault("responses", {})
            for code in sorted(codes):
                if code not in responses and str(code) not in responses:
                    responses[code] = {"description": message_for(code), **ref}
    return schema
