"""Small display helpers for OKR pages."""

from __future__ import annotations

from django import template
from django.utils.formats import get_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def num(value) -> str:
    """A figure without noise: 12, 12.5, 0.25 (no trailing zeros), '—' for None; the
    reader's decimal separator (12,5 in German), thousands apart by a space in every
    language (1 200)."""
    if value is None or value == "":
        return "—"
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if f == int(f) and abs(f) < 1e15:
        return f"{int(f):,}".replace(",", " ")
    return f"{f:.4f}".rstrip("0").rstrip(".").replace(".", get_format("DECIMAL_SEPARATOR"))


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def progress_bar(pct, expected=None, pace="", label=""):
    """A progress bar with the tick where we should be by now. Built in Python: a page
    draws up to a few hundred of them (the OKR list's team groups, the team pages), and
    an inclusion tag renders a template each time."""
    pct = max(0, min(100, int(pct or 0)))
    # A missing value reaches the tag as "" (an unset context variable, e.g. the goal page
    # with no cycle): no tick, as with None.
    has_expected = expected is not None and expected != ""
    if has_expected:  # the tick's position is a class (static/css/utilities.css: no style="")
        expected = max(0, min(100, round(float(expected))))
    title = (_("%(pct)s %% done, %(expected)s %% expected by now") % {"pct": pct, "expected": expected}
             if has_expected else _("%(pct)s %% done") % {"pct": pct})
    bar = {"behind": "bar bar--behind", "ahead": "bar bar--ahead"}.get(pace, "bar")
    return format_html(
        '<div class="progress-row" title="{}">\n'
        '  <div class="progress" role="progressbar" aria-valuenow="{}" aria-valuemin="0" '
        'aria-valuemax="100"{}>\n'
        '    <div class="{} w-{}"></div>\n'
        "    {}\n"
        "  </div>\n"
        '  <span class="pct">{} %</span>\n'
        "</div>\n",
        title, pct, format_html(' aria-label="{}"', label) if label else "", bar, pct,
        format_html('<span class="expected x-{}" aria-hidden="true"></span>',
                    expected) if has_expected else "",
        pct)


@register.simple_tag
def options(items, selected="", label="display_name"):
    """`<option>`s for a long list (an organisation's 500 people) in one pass: the same
    markup as a template loop, without a template variable lookup per attribute."""
    selected = str(selected)
    return format_html_join(
        "", '<option value="{}"{}>{}</option>',
        ((item.pk, mark_safe(" selected") if str(item.pk) == selected else "",
          getattr(item, label)) for item in items))
