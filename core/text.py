"""One check for text that enters from outside (forms, query strings, JSON bodies, CSV cells,
the admin's search): what PostgreSQL and UTF-8 cannot store is refused, with a reason.

PostgreSQL's text types refuse the NUL character (U+0000) with a DataError, and a lone
surrogate (U+D800–U+DFFF, which JSON's ``\\ud800`` escape produces) cannot be encoded as
UTF-8 at all; both used to end in a 500 (issue 15). Everything else Unicode allows is
stored as typed. ``core.middleware.UnstorableInputMiddleware`` applies the check to every
request's parameters and JSON body; services apply it to what they read from files.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.core.exceptions import ValidationError

NUL_MESSAGE = "contains a NUL character (\\u0000), which cannot be stored: remove it."
SURROGATE_MESSAGE = ("contains an unpaired surrogate (\\ud800–\\udfff), which is not valid "
                     "text: remove it.")


def problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None."""
    if "\x00" in text:
        return NUL_MESSAGE
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def check_text(value, field: str | None = None):
    """`value` unchanged if it is storable text (or not text), else ValidationError (a dict
    naming `field` when given)."""
    if isinstance(value, str) and (reason := problem(value)):
        message = f"This text {reason}"
        raise ValidationError({field: message} if field else message)
    return value


def problems(data, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, reason) for every unstorable string in nested JSON-like data (keys too)."""
    if isinstance(data, str):
        if reason := problem(data):
            yield path, reason
    elif isinstance(data, dict):
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (reason := problem(key)):
                yield sub, f"(a field name) {reason}"
            yield from problems(value, sub)
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from problems(value, f"{path}.{i}" if path else str(i))
