"""The form of the API tokens page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What uses it, e.g. “Data warehouse sync”."))
    scope = forms.ChoiceField(
        label=_("Access"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text=_("Read only: it can read but never change anything. Read and write: it "
                  "can also push values, check in and edit, as far as its user may."))
