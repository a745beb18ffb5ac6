"""Form fields that read input by the project's rules (core.numbers, core.text)."""

from __future__ import annotations

from django import forms

from .numbers import NumberError, parse_for_reader


class NumberField(forms.FloatField):
    """A float typed by a person, read by core.numbers (the reader's locale; no "1_000",
    no digits other than 0–9, no NaN or infinity), with the reason on the field."""

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parse_for_reader(value)
        except NumberError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class WholeNumberField(forms.IntegerField):
    """An integer typed by a person, by the same rules as NumberField (Django's own
    parsing takes "1_000" as 1000 and "٣" as 3); "12.0" is 12, "12.5" is refused."""

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        try:
            number = parse_for_reader(value)
        except NumberError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None
        if number != int(number):
            raise forms.ValidationError("Enter a whole number.", code="invalid")
        return int(number)
