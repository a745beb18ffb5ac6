"""How numbers and values with a unit read on a page, written once.

Pure Python (no Django import): the KPI rules, the check-in rows and the dashboards share
it. Two styles exist, and each page keeps the one it has always shown:

- KPI figures: a fixed number of decimals (the KPI's own), "," between thousands, ``%``
  right after the number: ``1,200 EUR``, ``97.5%``;
- key-result values on check-in pages: up to two decimals with trailing zeros dropped, a
  narrow no-break space between thousands, ``%`` after a space: ``1 200 EUR``, ``50 %``.

Both follow the reader's language (issue 23): the active language's decimal separator, and in
the KPI style its thousands separator (``1.234,5`` in German and Spanish, ``1 234,5`` in
French), and ``%`` after a no-break space outside English (``97,5 %``). The English strings
are unchanged. Form inputs never use these (they carry the HTML standard's dot decimals).
"""

from __future__ import annotations

from decimal import Decimal

NO_VALUE = "—"
NARROW_NBSP = "\u202f"
NBSP = "\u00a0"


def format_number(value, decimals: int | None = 0, *, grouping: str = ",") -> str:
    """``value`` with ``decimals`` fixed decimals (``None``: up to two, trailing zeros
    dropped), ``grouping`` between thousands. Never ``-0.0`` with fixed decimals."""
    if decimals is None:
        text = (f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value)
                else f"{int(value):,}")
    else:
        d = max(0, int(decimals or 0))
        v = value if isinstance(value, Decimal) else float(value)
        text = f"{v:,.{d}f}"
        if text.startswith("-") and float(text.replace(",", "")) == 0:
            text = text[1:]
    decimal, thousands = _separators()
    if grouping == ",":
        grouping = thousands
    if decimal == "." and grouping == ",":
        return text
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", grouping)


def _separators() -> tuple[str, str]:
    """The active language's (decimal, thousands) separators; English's outside Django."""
    try:
        from django.conf import settings

        if not settings.configured:
            return ".", ","
        from django.utils import formats

        return (formats.get_format("DECIMAL_SEPARATOR") or ".",
                formats.get_format("THOUSAND_SEPARATOR") or ",")
    except ImportError:  # pragma: no cover - Django is always there in the project
        return ".", ","


def percent_gap_for_reader(percent_gap: str = "") -> str:
    """English writes 97.5%; German, French and Spanish put a no-break space before %."""
    if percent_gap:
        return percent_gap
    try:
        from django.utils import translation

        language = translation.get_language() or "en"
    except ImportError:  # pragma: no cover
        language = "en"
    return "" if language.startswith("en") else NBSP


def format_value(value, unit: str = "", decimals: int | None = 0, *, grouping: str = ",",
                 percent_gap: str = "") -> str:
    """A number and its unit: ``52 min``; ``%`` follows the number after ``percent_gap``.
    ``—`` for no value. See format_number for ``decimals`` and ``grouping``."""
    if value is None:
        return NO_VALUE
    text = format_number(value, decimals, grouping=grouping)
    unit = (unit or "").strip()
    if not unit:
        return text
    if unit == "%":
        return f"{text}{percent_gap_for_reader(percent_gap)}%"
    return f"{text} {unit}"
