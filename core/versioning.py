"""Editable definitions carry a ``version``: a stale form is refused, never silently
overwriting someone else's change (shared/DESIGN.md, Conventions).

A service that edits a row calls, inside its transaction:

- ``locked_current(obj, version=...)`` when it must validate against the fresh row first:
  it locks the row and refuses a stale version before anything is checked;
- ``versioned_update(obj, version=..., **fields)`` to write: one UPDATE that matches the
  version it was given and moves it on, so nothing is written when the row moved.

The version comes from the form the person saw (``loaded_version``: its hidden field).

The view side (a 409 page showing what was typed) is ``core.forms.save_versioned``.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.db.models import F

M = TypeVar("M", bound=models.Model)


class StaleVersion(Exception):
    """Someone saved the row after the form was rendered. ``current`` is the fresh row."""

    def __init__(self, current=None):
        super().__init__("This was changed by someone else while you were editing.")
        self.current = current


def locked_current(obj: M, *, version: int, queryset: models.QuerySet | None = None) -> M:
    """The row of ``obj``, locked for this transaction; StaleVersion when its version is
    not ``version``. The exception carries the fresh row from ``queryset`` (default: the
    model's manager), which the refusing page shows."""
    model = type(obj)
    fresh = model._default_manager.select_for_update().get(pk=obj.pk)
    if fresh.version != version:
        raise StaleVersion(fresh if queryset is None else queryset.get(pk=obj.pk))
    return fresh


def versioned_update(obj: M, *, version: int, **fields) -> M:
    """Write ``fields`` to ``obj``'s row if its version is still ``version``, moving the
    version on; StaleVersion (with the fresh row) when it is not. ``obj`` is read again
    afterwards."""
    model = type(obj)
    manager = model._default_manager
    if not manager.filter(pk=obj.pk, version=version).update(**fields,
                                                                version=F("version") + 1):
        raise StaleVersion(manager.filter(pk=obj.pk).first())
    obj.refresh_from_db()
    return obj


def loaded_version(form, obj, *, field: str = "version") -> int:
    """The version a form was rendered with (its hidden ``field``), else the row's own
    (a form that carries none edits the version it reads)."""
    loaded = form.cleaned_data.get(field)
    return obj.version if loaded is None else loaded
