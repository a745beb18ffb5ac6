"""Types the API's schemas share, so the OpenAPI document states what the code enforces.

Ids are bounded to the database's integer range (a larger one would be a database error,
not a 404); dates are ISO text only (pydantic alone takes ``0`` as 1970-01-01); text has a
maximum length and refuses the NUL character PostgreSQL cannot store.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from ninja import Path
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
)

from core.numbers import MAX_ABS_VALUE

MAX_ID = 2**63 - 1  # BigAutoField
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value):
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("Enter a date as YYYY-MM-DD.")
    return value


def _no_nul(value):
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("Text cannot contain the NUL character.")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date),
                    WithJsonSchema({"type": "string", "format": "date"})]


def Text(max_length: int, *, min_length: int = 0, pattern: str | None = None):
    """A string of at most ``max_length`` characters without NUL."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length,
                                            pattern=pattern), AfterValidator(_no_nul)]


def id_path(description: str = "The object's id"):
    return Path(..., ge=1, le=MAX_ID, description=description)


Slug = Text(100, pattern=r"^[-a-zA-Z0-9_]*$")


# A JSON number (an integer is one too; text, booleans, NaN and infinity are not), below
# the size every stored figure is held to (core.numbers.MAX_ABS_VALUE, refused from it).
Number = Annotated[float, Strict(),
                   Field(gt=-MAX_ABS_VALUE, lt=MAX_ABS_VALUE, allow_inf_nan=False)]
Weight = Annotated[float, Strict(), Field(ge=0, le=1000, allow_inf_nan=False)]
