"""The form of the API tokens page."""

from __future__ import annotations

from django import forms


class TokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100,
                           help_text="What uses it, e.g. “Data warehouse sync”.")
