"""Small display helpers for OKR pages."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def num(value) -> str:
    """A figure without noise: 12, 12.5, 0.25 (no trailing zeros), '—' for None."""
    if value is None or value == "":
        return "—"
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if f == int(f) and abs(f) < 1e15:
        return f"{int(f):,}".replace(",", " ")
    return f"{f:.4f}".rstrip("0").rstrip(".")


@register.filter
def percent(value) -> str:
    """0.734 -> '73 %'."""
    if value is None:
        return "—"
    try:
        return f"{round(float(value) * 100)} %"
    except (TypeError, ValueError):
        return "—"


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.inclusion_tag("okrs/_bar.html")
def progress_bar(pct, expected=None, pace="", label=""):
    return {"pct": max(0, min(100, int(pct or 0))), "expected": expected, "pace": pace,
            "label": label}


@register.simple_tag
def options(items, selected="", label="display_name"):
    """`<option>`s for a long list (an organisation's 500 people) in one pass: the same
    markup as a template loop, without a template variable lookup per attribute."""
    selected = str(selected)
    return format_html_join(
        "", '<option value="{}"{}>{}</option>',
        ((item.pk, mark_safe(" selected") if str(item.pk) == selected else "",
          getattr(item, label)) for item in items))
