"""Every error the API returns is JSON: {"detail": ..., "errors": {field: [messages]}}."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError

# pydantic names the member of a union that failed ("float", "int", ...) in an error's
# location; the caller sent one field, so the location names only the field.
_UNION_TAGS = {"float", "int", "str", "bool"}


def add_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def _validation_error(request, exc: NinjaValidationError):
        errors: dict[str, list[str]] = {}
        for err in exc.errors:
            loc = [str(p) for p in err.get("loc", [])
                   if p not in ("body", "payload", "query", "path") and p not in _UNION_TAGS]
            key = ".".join(loc) or "body"
            msg = "Enter a number." if key.endswith("value") else err.get("msg", "Invalid.")
            if msg not in errors.get(key, []):
                errors.setdefault(key, []).append(msg)
        return api.create_response(request, {"detail": "Invalid input.", "errors": errors},
                                   status=422)

    @api.exception_handler(ValidationError)
    def _django_validation_error(request, exc: ValidationError):
        if hasattr(exc, "error_dict"):
            errors = exc.message_dict
        else:
            errors = {"body": exc.messages}
        return api.create_response(request, {"detail": "Invalid input.", "errors": errors},
                                   status=400)

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return api.create_response(request, {"detail": "Not found."}, status=404)
