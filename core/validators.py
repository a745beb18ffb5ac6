"""Validators shared by every app's numeric fields."""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError
from django.db import models

from .numbers import MAX_ABS_VALUE  # business figures; beyond it is a typo or an attack


def validate_finite(value) -> None:
    if value is None:
        return
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError("Enter a number.", code="invalid")
    if math.isnan(number) or math.isinf(number):
        raise ValidationError("Enter a real number (not NaN or infinity).", code="not_finite")
    if abs(number) >= MAX_ABS_VALUE:
        raise ValidationError("That number is too large.", code="too_large")


def finite_check(field: str, name: str, *, nullable: bool = True) -> models.CheckConstraint:
    """A database check that keeps NaN, infinities and absurd magnitudes out of `field`.

    In PostgreSQL NaN compares greater than every number, so the upper bound rejects it.
    """
    bounded = models.Q(**{f"{field}__gt": -MAX_ABS_VALUE, f"{field}__lt": MAX_ABS_VALUE})
    condition = bounded | models.Q(**{f"{field}__isnull": True}) if nullable else bounded
    return models.CheckConstraint(condition=condition, name=name)
