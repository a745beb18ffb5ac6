"""Form helpers every app's views use."""

from __future__ import annotations

from django import forms


def apply_errors(form: forms.BaseForm, exc: forms.ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def submitted_values(form: forms.BaseForm) -> list[tuple[str, str]]:
    """What the user tried to save (label, value), shown beside the fresh values when a
    stale version is refused. Choices show their label; the hidden version is left out."""
    out = []
    for name, field in form.fields.items():
        if name == "version" or name not in form.cleaned_data:
            continue
        value = form.cleaned_data[name]
        if hasattr(field, "choices") and not hasattr(value, "pk") and value not in (None, ""):
            value = dict(field.choices).get(value, value)
        out.append((field.label or name, "—" if value in (None, "") else str(value)))
    return out
