"""The inline check-in form of one key result row.

The value field is a text input (inputmode=decimal), not type=number: the browser then
sends exactly what was typed, the server says what is wrong with it, and the row shows
the typed text back next to the message.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from okrs.checkins import check_value
from okrs.models import KeyResult, Status

MAX_VALUE_CHARS = 40


class CheckInForm(forms.Form):
    value = forms.CharField(label="New value", required=False, max_length=MAX_VALUE_CHARS,
                            strip=True)
    done = forms.BooleanField(label="Done", required=False)
    status = forms.ChoiceField(label="Status", choices=Status.choices)
    confidence = forms.TypedChoiceField(
        label="Confidence", required=False, coerce=int, empty_value=None,
        choices=[("", "–")] + [(str(i), str(i)) for i in range(11)],
        help_text="0–10, optional.")
    comment = forms.CharField(label="Comment", required=False, max_length=2000,
                              widget=forms.TextInput(attrs={"placeholder": "What moved? (optional)"}))

    def __init__(self, *args, key_result: KeyResult, **kwargs):
        kwargs.setdefault("prefix", f"kr{key_result.pk}")
        if not args and "data" not in kwargs:
            # The current value is pre-filled: an unchanged KR is one click ("Check in").
            kwargs.setdefault("initial", {"status": key_result.status or Status.ON_TRACK,
                                          "done": key_result.done,
                                          "value": _plain(key_result.current_value)})
        super().__init__(*args, **kwargs)
        self.key_result = key_result
        self.asks_value = key_result.kpi_id is None and key_result.kind != KeyResult.Kind.MILESTONE
        self.asks_done = key_result.kpi_id is None and key_result.kind == KeyResult.Kind.MILESTONE
        if not self.asks_value:
            del self.fields["value"]
        else:
            self.fields["value"].widget.attrs.update(
                inputmode="decimal", autocomplete="off", size="8",
                placeholder=key_result.unit or "value")
        if not self.asks_done:
            del self.fields["done"]

    def clean_value(self):
        raw = self.cleaned_data.get("value", "")
        if raw == "":
            raise ValidationError("Enter the new value.", code="required")
        text = raw.replace("\u202f", "").replace(" ", "").replace("_", "")
        # A decimal comma ("12,5") is accepted; a thousands comma ("1,250") too when unambiguous.
        if "," in text and "." not in text and text.count(",") == 1 and len(text.split(",")[1]) != 3:
            text = text.replace(",", ".")
        else:
            text = text.replace(",", "")
        try:
            number = float(text)
        except ValueError:
            raise ValidationError(f"“{raw}” is not a number.", code="invalid") from None
        return check_value(self.key_result, number)


def _plain(value: float | None) -> str:
    """A float as a user would type it: 250, 12.5, 0.001 (no exponent, no trailing zeros)."""
    if value is None:
        return ""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"
