"""The inline check-in form of one key result row.

The value field is a text input (inputmode=decimal), not type=number: the browser then
sends exactly what was typed, the server says what is wrong with it, and the row shows
the typed text back next to the message.

`CheckInForm` validates a POST. The row partial does not render it through Django's
widget templates (a team page has dozens of rows of five widgets, and a template per
widget was most of the page's work): it renders the inputs by hand from a `RowForm`,
built from the key result for a fresh row or from the bound form when a POST is refused,
so the typed values and the messages come back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.forms.forms import NON_FIELD_ERRORS
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from core.numbers import NumberError, parse_for_reader
from okrs.checkins.services import check_value
from okrs.models import KeyResult, Status

MAX_VALUE_CHARS = 40
MAX_COMMENT_CHARS = 2000
CONFIDENCE_CHOICES = [("", "–")] + [(str(i), str(i)) for i in range(11)]
CONFIDENCE_HELP = _("0–10, optional.")
COMMENT_PLACEHOLDER = _("What moved? (optional)")


def asks_value(kr: KeyResult) -> bool:
    """The row asks for a number: a metric or guardrail KR not fed by a KPI."""
    return kr.kpi_id is None and kr.kind != KeyResult.Kind.MILESTONE


def asks_done(kr: KeyResult) -> bool:
    """The row asks done / not done: a milestone KR not fed by a KPI."""
    return kr.kpi_id is None and kr.kind == KeyResult.Kind.MILESTONE


class CheckInForm(forms.Form):
    value = forms.CharField(label=_("New value"), required=False, max_length=MAX_VALUE_CHARS,
                            strip=True)
    done = forms.BooleanField(label=_("Done"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    confidence = forms.TypedChoiceField(
        label=_("Confidence"), required=False, coerce=int, empty_value=None,
        choices=CONFIDENCE_CHOICES, help_text=CONFIDENCE_HELP)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=MAX_COMMENT_CHARS,
                              widget=forms.TextInput(attrs={"placeholder": COMMENT_PLACEHOLDER}))
    # The last check-in id the page showed (the stale-page guard); "" when absent (the API,
    # an old page): no check.
    seen = forms.CharField(required=False, widget=forms.HiddenInput)
    # The values the row was rendered with (okrs.checkins.forms.signature): "check in all"
    # saves only the rows whose values differ from them.
    orig = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, key_result: KeyResult, **kwargs):
        kwargs.setdefault("prefix", f"kr{key_result.pk}")
        if not args and "data" not in kwargs:
            # The current value is pre-filled: an unchanged KR is one click ("Check in").
            kwargs.setdefault("initial", {"status": key_result.status or Status.ON_TRACK,
                                          "done": key_result.done,
                                          "value": _plain(key_result.current_value)})
        super().__init__(*args, **kwargs)
        self.key_result = key_result
        self.asks_value = asks_value(key_result)
        self.asks_done = asks_done(key_result)
        if not self.asks_value:
            del self.fields["value"]
        else:
            self.fields["value"].widget.attrs.update(
                inputmode="decimal", autocomplete="off", size="8",
                placeholder=key_result.unit or _("value"))
        if not self.asks_done:
            del self.fields["done"]

    def clean_seen(self):
        raw = (self.cleaned_data.get("seen") or "").strip()
        if raw == "":
            return None
        try:
            return max(0, int(raw))
        except ValueError:
            return None

    def typed_signature(self) -> str:
        """The signature of what was submitted, to compare with `orig`."""
        def raw(name):
            if name not in self.fields:
                return ""
            value = self[name].value()
            if name == "done":
                return "1" if self.fields["done"].widget.check_test(value) else "0"
            return "" if value is None else str(value).strip()
        return signature(raw("value"), raw("done"), raw("status"), raw("confidence"),
                         raw("comment"))

    @property
    def changed_from_page(self) -> bool:
        """Whether the person changed anything in the row (no `orig`: counted as changed)."""
        orig = self.data.get(self.add_prefix("orig"))
        return orig is None or orig != self.typed_signature()

    def clean_value(self):
        raw = self.cleaned_data.get("value", "")
        if raw == "":
            raise ValidationError(_("Enter the new value."), code="required")
        try:  # the one rule for typed numbers: "12,5" and "1,250" as meant; "1_000" refused
            number = parse_for_reader(raw)
        except NumberError as exc:
            raise ValidationError(str(exc), code="invalid") from None
        return check_value(self.key_result, number)


def signature(value: str, done: str, status: str, confidence: str, comment: str) -> str:
    """What a row's inputs hold, as one string (compared, never parsed)."""
    return "|".join((value, done, status, confidence, str(len(comment)), comment))


def _plain(value: float | None) -> str:
    """A float as a user would type it: 250, 12.5, 0.001 (no exponent, no trailing zeros)."""
    if value is None:
        return ""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


# --------------------------------------------------------------------------
# What the row partial renders


def _options(choices: tuple[tuple[str, str], ...], selected: str) -> SafeString:
    """The <option>s of a select, the one whose value is `selected` marked (as Django's
    Select does); none when `selected` is not a choice (a refused POST)."""
    return _options_html(choices, selected if any(v == selected for v, _ in choices) else None)


@lru_cache(maxsize=32)
def _options_html(choices: tuple[tuple[str, str], ...], selected: str | None) -> SafeString:
    # Cached: a page of 36 rows has a handful of distinct selects. Keys are only choice
    # values (or None), never what a POST typed.
    return format_html_join("", '<option value="{}"{}>{}</option>',
                            ((value, " selected" if value == selected else "", label)
                             for value, label in choices))


def _no_errors() -> dict[str, list[str]]:
    # Every field present: the template's {{ f.errors.status }} is then a plain dict hit.
    return {name: [] for name in ("value", "done", "status", "confidence", "comment")}


def _status_choices() -> tuple[tuple[str, str], ...]:
    """The statuses in the reader's language (read per page: the labels are lazy)."""
    return tuple((str(v), str(label)) for v, label in Status.choices)
_CONFIDENCE_CHOICES = tuple(CONFIDENCE_CHOICES)


@dataclass
class RowForm:
    """The inline check-in form of one row as the partial renders it: the values to show
    (strings, as typed) and the messages per field (lists of strings)."""

    prefix: str                     # "kr12": the names are kr12-value, kr12-status...
    asks_value: bool
    asks_done: bool
    placeholder: str = "value"      # of the value input: the KR's unit
    value: str = ""
    done: bool = False
    status: str = Status.ON_TRACK
    confidence: str = ""
    comment: str = ""
    seen: int = 0                   # the last check-in id the row shows
    suggested: str = ""             # the suggested status (marked in the select)
    orig_from: str | None = None    # a refused row: the fresh row's signature (see orig)
    errors: dict[str, list[str]] = field(default_factory=_no_errors)
    non_field_errors: list[str] = field(default_factory=list)

    value_maxlength: ClassVar[int] = MAX_VALUE_CHARS
    comment_maxlength: ClassVar[int] = MAX_COMMENT_CHARS
    comment_placeholder: ClassVar[str] = COMMENT_PLACEHOLDER
    confidence_help: ClassVar[str] = CONFIDENCE_HELP

    @classmethod
    def initial(cls, kr: KeyResult, row=None) -> RowForm:
        """A fresh row (no Django form): the KR's current value, the suggested status (from
        pace, `row.suggestion`) preselected, the last check-in's confidence kept."""
        suggested = row.suggestion.status if row is not None and row.suggestion else ""
        confidence = row.last_confidence if row is not None else None
        return cls(prefix=f"kr{kr.pk}", asks_value=asks_value(kr), asks_done=asks_done(kr),
                   placeholder=kr.unit or _("value"), value=_plain(kr.current_value),
                   done=bool(kr.done), status=suggested or kr.status or Status.ON_TRACK,
                   confidence="" if confidence is None else str(confidence),
                   seen=row.last_id if row is not None else 0, suggested=suggested)

    @classmethod
    def from_form(cls, form: CheckInForm, *, seen: int | None = None,
                  suggested: str = "") -> RowForm:
        """A refused POST: what was typed and the form's messages (`seen`: the newer
        check-in a stale row now shows, so a second press overwrites it)."""
        def typed(name: str) -> str:
            if name not in form.fields:
                return ""
            value = form[name].value()
            return "" if value is None else str(value)

        kr = form.key_result
        done = form.fields["done"].widget.check_test(form["done"].value()) \
            if "done" in form.fields else bool(kr.done)
        errors = form.errors
        return cls(
            prefix=form.prefix, asks_value=form.asks_value, asks_done=form.asks_done,
            placeholder=kr.unit or _("value"), value=typed("value"), done=done,
            status=typed("status"), confidence=typed("confidence"), comment=typed("comment"),
            seen=seen if seen is not None else (form.cleaned_data.get("seen") or 0
                                                if hasattr(form, "cleaned_data") else 0),
            suggested=suggested,
            errors={**_no_errors(), **{name: [str(e) for e in errs]
                                        for name, errs in errors.items()
                                        if name != NON_FIELD_ERRORS}},
            non_field_errors=[str(e) for e in errors.get(NON_FIELD_ERRORS, [])])

    @property
    def has_errors(self) -> bool:
        return bool(self.non_field_errors) or any(self.errors.values())

    @property
    def orig(self) -> str:
        """The signature of the values the row is rendered with (see `signature`); for a
        refused row, that of the fresh row, so what was typed still counts as a change."""
        if self.orig_from is not None:
            return self.orig_from
        return signature(self.value if self.asks_value else "",
                         ("1" if self.done else "0") if self.asks_done else "",
                         self.status, self.confidence, self.comment)

    @property
    def status_options(self) -> SafeString:
        statuses = _status_choices()
        if self.suggested:
            choices = tuple((v, str(_("%(status)s (suggested)") % {"status": label})
                             if v == self.suggested else label) for v, label in statuses)
            return _options(choices, self.status)
        return _options(statuses, self.status)

    @property
    def confidence_options(self) -> SafeString:
        return _options(_CONFIDENCE_CHOICES, self.confidence)
