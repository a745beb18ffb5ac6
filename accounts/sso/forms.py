from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.sso.models import JIT_ROLES


class SsoStartForm(forms.Form):
    who = forms.CharField(label=_("Work e-mail or organisation address"), max_length=254,
                          help_text=_("e.g. ana@acme.com, or acme"))


class SsoConfigForm(forms.Form):
    issuer = forms.URLField(label=_("Issuer URL"), max_length=300, assume_scheme="https",
                            help_text=_("The discovery document is read from "
                                      "&lt;issuer&gt;/.well-known/openid-configuration."))
    client_id = forms.CharField(label=_("Client ID"), max_length=200)
    client_secret = forms.CharField(label=_("Client secret"), required=False,
                                    widget=forms.PasswordInput(render_value=False),
                                    help_text=_("Stored encrypted and never shown again; leave "
                                              "empty to keep the current one."))
    domains = forms.CharField(label=_("E-mail domains it vouches for"), widget=forms.Textarea(
        attrs={"rows": 2}), help_text=_("One per line, e.g. acme.com"))
    default_role = forms.ChoiceField(label=_("Role on first sign-in"),
                                     choices=[(r.value, r.label) for r in JIT_ROLES])
    groups_claim = forms.CharField(label=_("Groups claim"), max_length=60, required=False,
                                   help_text=_("e.g. groups"))
    group_map = forms.CharField(label=_("Groups → role and team"), required=False,
                                widget=forms.Textarea(attrs={"rows": 3}),
                                help_text=_('JSON, e.g. {"okr-leads": {"role": "leader", '
                                          '"team": "sales"}}'))
    enabled = forms.BooleanField(label=_("Offer sign-in through this provider"), required=False)
    enforce = forms.BooleanField(label=_("Enforce single sign-on"), required=False,
                                 help_text=_("Members then cannot log in with a password or join "
                                           "by invitation link; owners keep a break-glass "
                                           "password log-in, which is audited."))

    def __init__(self, *args, has_secret: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_secret = has_secret

    def clean_domains(self):
        domains = [d.strip().lower().lstrip("@") for d in
                   self.cleaned_data["domains"].replace(",", "\n").splitlines() if d.strip()]
        for d in domains:
            if "." not in d or " " in d or "@" in d:
                raise forms.ValidationError(_("“%(domain)s” is not a domain (e.g. acme.com).")
                                            % {"domain": d})
        if not domains:
            raise forms.ValidationError(_("Name at least one domain."))
        return "\n".join(domains)

    def clean_group_map(self):
        raw = self.cleaned_data["group_map"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError(_("This is not valid JSON."))
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise forms.ValidationError(_('Give an object of objects: {"group": {"role": …}}.'))
        for group, rule in value.items():
            if rule.get("role") not in (None, *[r.value for r in JIT_ROLES]):
                raise forms.ValidationError(_("%(group)s: the role must be one of %(roles)s.") % {
                    "group": group, "roles": ", ".join(r.value for r in JIT_ROLES)})
        return value

    def clean(self):
        data = super().clean()
        if not self.has_secret and not data.get("client_secret"):
            self.add_error("client_secret", _("Enter the client secret."))
        return data


class ScimTokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100, initial="SCIM")


ROLE_CHOICES = Role.choices
