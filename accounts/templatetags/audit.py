"""`{% load audit %}{% history obj %}`: an object's audit trail (who, when, old → new).

Renders templates/includes/history.html from `accounts.audit.history_for(obj)`. Field
names become their verbose names; foreign-key ids are shown as the objects they point
to (one query per related model, whatever the number of entries).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.audit import history_for, value_words

register = template.Library()

EMPTY = "—"
# What an entry's action code reads as (an unknown code reads as itself, underscores spaced).
ACTIONS = {
    "created": gettext_lazy("created"),
    "updated": gettext_lazy("updated"),
    "deleted": gettext_lazy("deleted"),
    "revoked": gettext_lazy("revoked"),
    "removed": gettext_lazy("removed"),
    "added": gettext_lazy("added"),
    "joined": gettext_lazy("joined"),
    "invited": gettext_lazy("invited"),
    "closed": gettext_lazy("closed"),
    "commented": gettext_lazy("commented"),
    "rebased": gettext_lazy("rebased"),
    "reactivated": gettext_lazy("reactivated"),
    "role_changed": gettext_lazy("role changed"),
    "break_glass": gettext_lazy("break glass"),
    "limits_locked": gettext_lazy("limits locked"),
    "limits_unlocked": gettext_lazy("limits unlocked"),
    "limit_period_added": gettext_lazy("limit period added"),
    "limit_period_removed": gettext_lazy("limit period removed"),
    "limit_period_declined": gettext_lazy("limit period declined"),
    "limit_method_changed": gettext_lazy("limit method changed"),
    "point_excluded": gettext_lazy("point excluded"),
    "point_included": gettext_lazy("point included"),
}


def _field(model: type[models.Model], name: str) -> models.Field | None:
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        for f in model._meta.concrete_fields:  # "owner_id" → owner
            if f.attname == name:
                return f
    return None


def _label(field: models.Field | None, name: str) -> str:
    if field is not None and getattr(field, "verbose_name", None):
        return str(field.verbose_name).capitalize()
    return name.replace("_id", "").replace("_", " ").capitalize()


def history_rows(obj: models.Model, limit: int = 50) -> list[dict[str, Any]]:
    """The entries of `obj`'s history, ready to render."""
    entries = list(history_for(obj, limit=limit))
    model = type(obj)
    # Collect foreign-key ids to show them by name, one query per related model.
    wanted: dict[type[models.Model], set] = defaultdict(set)
    for entry in entries:
        for name, pair in (entry.changes or {}).items():
            field = _field(model, name)
            if isinstance(field, models.ForeignKey) and isinstance(pair, list | tuple):
                wanted[field.related_model].update(v for v in pair if isinstance(v, int))
    names: dict[type[models.Model], dict[Any, str]] = {}
    for related, ids in wanted.items():
        names[related] = {o.pk: str(o) for o in related._default_manager.filter(pk__in=ids)}
    choices_cache: dict[str, dict] = {}
    words = value_words(obj)

    def show(field: models.Field | None, value: Any) -> str:
        if value is None or value == "":
            return EMPTY
        if words is not None and field is not None:
            said = words(obj, field.name, value)
            if said is not None:
                return said
        if isinstance(field, models.ForeignKey):
            return names.get(field.related_model, {}).get(value, f"#{value}")
        if field is not None and field.choices:
            choices = choices_cache.setdefault(field.name, {str(k): v for k, v in
                                                            field.flatchoices})
            return str(choices.get(str(value), value))
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        return str(value)

    rows = []
    for entry in entries:
        changes = []
        for name, pair in (entry.changes or {}).items():
            field = _field(model, name)
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                pair = [None, pair]
            changes.append({"field": _label(field, name), "old": show(field, pair[0]),
                            "new": show(field, pair[1])})
        rows.append({"entry": entry, "actor": entry.actor.display_name if entry.actor else
                     "Headway", "action": str(ACTIONS.get(entry.action, entry.action.replace("_", " "))),
                     "changes": changes})
    return rows


@register.inclusion_tag("includes/history.html")
def history(obj: models.Model, limit: int = 50, title: str = "") -> dict[str, Any]:
    """`title`: the card's heading, already translated by the page ({% translate … as t %})."""
    return {"rows": history_rows(obj, limit=limit) if obj is not None else [],
            "title": title or _("History"), "limit": limit}
