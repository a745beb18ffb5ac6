"""The audit trail: who changed what, and when. Services call `audit_record`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import models

from accounts.models import AuditEntry, Organization


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The values of `fields` (FKs by id) before a change, to diff afterwards."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = getattr(obj, field.attname)
    return out


def diff(before: dict[str, Any], obj: models.Model) -> dict[str, list[Any]]:
    changes = {}
    for name, old in before.items():
        new = getattr(obj, obj._meta.get_field(name).attname)
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
    return changes


def audit_record(*, organization: Organization, actor, action: str, obj: models.Model,
                 changes: dict | None = None, note: str = "") -> AuditEntry:
    return AuditEntry.objects.create(
        organization=organization,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes or {},
        note=note,
    )


def history_for(obj: models.Model, limit: int = 50):
    return (
        AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .select_related("actor")[:limit]
    )


# How an app shows the values of its objects' history in words: {model label: show(obj,
# field name, value) -> text, or None for the default}. Registered by the app that owns
# the model (accounts cannot import it): kpis shows a KPI's target values in the KPI's
# unit and decimals ("65 pts", not "65.0"). Read by the {% history %} tag.
ValueWords = Callable[[models.Model, str, Any], "str | None"]
_value_words: dict[str, ValueWords] = {}


def register_value_words(label: str, show: ValueWords) -> None:
    _value_words[label] = show


def value_words(obj: models.Model) -> ValueWords | None:
    return _value_words.get(obj._meta.label_lower)
