"""Form helpers every app's views use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from core.versioning import StaleVersion


def apply_errors(form: forms.BaseForm, exc: forms.ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def submitted_values(form: forms.BaseForm, *, choice_labels: bool = True
                     ) -> list[tuple[str, str]]:
    """What the user tried to save (label, value), shown beside the fresh values when a
    stale version is refused. Choices show their label (their stored value without
    ``choice_labels``); the hidden version is left out."""
    out = []
    for name, field in form.fields.items():
        if name == "version" or name not in form.cleaned_data:
            continue
        value = form.cleaned_data[name]
        if (choice_labels and hasattr(field, "choices") and not hasattr(value, "pk")
                and value not in (None, "")):
            value = dict(field.choices).get(value, value)
        out.append((field.label or name, "—" if value in (None, "") else str(value)))
    return out


@dataclass
class Saved:
    """What `save_versioned` made of a form: the form to render, the response status, the
    values typed into a refused form (None unless a fresh form replaced it), and the
    service's result once saved."""

    form: forms.BaseForm
    status: int = 200
    stale: list[tuple[str, str]] | None = None
    result: Any = None
    saved: bool = False


def save_versioned(form: forms.BaseForm, save: Callable[[int], Any], *,
                   refreshed: Callable[[Any], forms.BaseForm] | None = None,
                   stale_message: str = "",
                   stale_values: Callable[[forms.BaseForm], list] = submitted_values) -> Saved:
    """Save a valid bound form of a versioned row with ``save(version)``.

    A stale version answers 409 and writes nothing. With ``refreshed``, the page shows a
    form of the fresh row (``refreshed(current)``) and what was typed beside it
    (``stale``, the okrs/_stale.html panel); else the typed form comes back with
    ``stale_message``. A ValidationError is put on the form. An unbound or invalid form is
    returned as it is, status 200.
    """
    outcome = Saved(form=form)
    if not form.is_valid():
        return outcome
    try:
        outcome.result = save(form.cleaned_data.get("version") or 0)
    except StaleVersion as exc:
        outcome.status = 409
        if refreshed is not None:
            outcome.stale = stale_values(form)
            outcome.form = refreshed(exc.current)
        else:
            form.add_error(None, stale_message)
    except forms.ValidationError as exc:
        apply_errors(form, exc)
    else:
        outcome.saved = True
    return outcome
