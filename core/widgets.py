"""Form widgets whose values are valid for their HTML input type, whatever the language.

A browser's ``<input type="date">`` accepts only an ISO date (``2026-10-01``); given the
en-gb ``01/10/2026`` that Django's DateInput renders by default (the locale's first
DATE_INPUT_FORMATS entry), it shows an empty field and submits nothing — saving an edit
form untouched then deleted its dates (issue 14). These widgets render the HTML
standard's formats; Django still parses them back in every language (it appends the ISO
formats to every locale's input formats). Every form uses them instead of Django's
DateInput/DateTimeInput/TimeInput with a ``type`` attribute; tests/test_input_values.py
holds every rendered page and every form class to it.
"""

from __future__ import annotations

from django import forms

ISO_DATE = "%Y-%m-%d"
ISO_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
ISO_TIME = "%H:%M"


class DateInput(forms.DateInput):
    """``<input type="date">`` with an ISO value."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=ISO_DATE)


class DateTimeLocalInput(forms.DateTimeInput):
    """``<input type="datetime-local">`` with a ``YYYY-MM-DDTHH:MM`` value."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=ISO_DATETIME_LOCAL)


class TimeInput(forms.TimeInput):
    """``<input type="time">`` with an ``HH:MM`` value."""

    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=ISO_TIME)


class NumberInput(forms.NumberInput):
    """``<input type="number">`` whose value is never localized (a decimal comma is not a
    valid number for the browser)."""

    def format_value(self, value):
        if value is None or value == "":
            return None
        return str(value)


# The widgets a test checks every form against: a type that needs a standard value.
ISO_WIDGETS = (DateInput, DateTimeLocalInput, TimeInput)
