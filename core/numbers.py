"""One rule for the numbers people type (check-ins, KPI values and targets, CSV cells, API
strings): what a person of the reader's locale means, or a refusal that says why.

Python's ``float()`` is too generous for input from people: it reads ``"1_000"`` as 1000,
Arabic-Indic ``"٣"`` as 3, fullwidth ``"１２"`` as 12, and ``"nan"``/``"inf"`` as numbers;
a person typing any of those did not mean what would be stored. The rule here:

- ASCII digits only, an optional sign (``-``, ``+`` or the minus sign U+2212), an optional
  exponent (``1e3``).
- One decimal mark, ``.`` or ``,``. With both marks, the last one is the decimal mark and
  the other groups thousands (``1,234.5``, ``1.234,5``). A single mark is the decimal mark,
  except the locale's thousands separator followed by exactly three digits, which groups
  (en: ``1,250`` is 1250 and ``23,5`` is 23.5; de: ``1.250`` is 1250 and ``12.5`` is 12.5).
- Thousands groups of exactly three digits, by the mark or by spaces (``1 234,5``).
- No NaN, no infinity, nothing at or beyond ``MAX_ABS_VALUE``.

``parse_number`` is pure (the separators are parameters); ``parse_for_reader`` takes them
from the active language.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal

MAX_ABS_VALUE = 1e15  # business figures; beyond this is a typo or an attack (core.validators)

SPACES = " \u00a0\u202f\u2009"
_PLAIN = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?", re.ASCII)
_GROUPED = re.compile(r"\d{1,3}(?:G\d{3})+")  # G: the grouping mark, substituted below


class NumberError(ValueError):
    """The text is not a number a person meant; ``str(exc)`` says why, for the page."""


def _finite(number: float) -> float:
    if math.isnan(number) or math.isinf(number):
        raise NumberError("Enter a real number (not NaN or infinity).")
    if abs(number) >= MAX_ABS_VALUE:
        raise NumberError("That number is too large.")
    return number


def _grouped(integer: str, mark: str) -> bool:
    return bool(re.fullmatch(_GROUPED.pattern.replace("G", re.escape(mark)), integer, re.ASCII))


def parse_number(raw, *, decimal: str = ".", thousands: str = ",") -> float:
    """A finite float from a number or a person's text, or NumberError with the reason."""
    if isinstance(raw, bool) or raw is None:
        raise NumberError("Enter a number.")
    if isinstance(raw, int | float | Decimal):
        try:
            return _finite(float(raw))
        except OverflowError:  # an integer beyond a float's range
            raise NumberError("That number is too large.") from None
    if not isinstance(raw, str):
        raise NumberError("Enter a number.")
    text = raw.strip(SPACES + "\t\n\r").replace("\u2212", "-")
    if not text:
        raise NumberError("Enter a number.")
    if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text) or any(
            unicodedata.category(ch) == "Nd" and not ("0" <= ch <= "9") for ch in text):
        raise NumberError(f"“{raw}” uses digits other than 0–9: type it with 0–9.")
    if text.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
        raise NumberError("Enter a real number (not NaN or infinity).")
    if "_" in text:
        raise NumberError(f"“{raw}” has an underscore: type the number without it.")
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:]
    # Thousands grouped by spaces: "1 234" or "1 234,5".
    if any(ch in SPACES for ch in text):
        integer, rest = re.match(r"([\d" + SPACES + r"]*)(.*)", text).groups()
        if not _grouped(re.sub(f"[{SPACES}]", " ", integer), " "):
            raise NumberError(f"“{raw}” is not a number (group thousands by three digits).")
        text = re.sub(f"[{SPACES}]", "", integer) + rest
    marks = [ch for ch in text if ch in ".,"]
    if marks:
        last = text.rfind(marks[-1])
        if len(set(marks)) == 2:  # 1,234.5 or 1.234,5: the last mark is the decimal one
            integer, fraction = text[:last], text[last + 1:]
            group = "," if marks[-1] == "." else "."
            if group in fraction or not _grouped(integer, group):
                raise NumberError(f"“{raw}” is not a number.")
            text = integer.replace(group, "") + "." + fraction
        elif len(marks) > 1:  # 1,234,567: only grouping
            if not _grouped(text.split("e")[0].split("E")[0], marks[0]):
                raise NumberError(f"“{raw}” is not a number.")
            text = text.replace(marks[0], "")
        else:
            mark = marks[0]
            integer, fraction = text[:last], text[last + 1:]
            if (mark == thousands and mark != decimal and re.fullmatch(r"\d{3}", fraction)
                    and _grouped(text, mark) and not text.startswith("0")):
                text = integer + fraction
            else:
                text = integer + "." + fraction
    if not _PLAIN.fullmatch(text):
        raise NumberError(f"“{raw}” is not a number.")
    number = float(sign + text)
    if math.isinf(number):  # an exponent beyond a float's range: typed, not infinity
        raise NumberError("That number is too large.")
    return _finite(number)


def parse_for_reader(raw) -> float:
    """parse_number with the active language's decimal and thousands separators."""
    from django.utils import formats

    return parse_number(raw, decimal=formats.get_format("DECIMAL_SEPARATOR") or ".",
                        thousands=formats.get_format("THOUSAND_SEPARATOR") or ",")
