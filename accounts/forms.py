from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, Role, Team, User

TIME_ZONES = sorted(zoneinfo.available_timezones())


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True}))
    error_messages = {
        "invalid_login": _("That email and password do not match an account."),
        "inactive": _("This account is inactive."),
    }


class SignupForm(forms.Form):
    name = forms.CharField(max_length=150, label=_("Your name"))
    email = forms.EmailField(label=_("Work email"))
    password = forms.CharField(widget=forms.PasswordInput, strip=False, label=_("Password"))
    org_name = forms.CharField(max_length=120, label=_("Organisation name"))
    org_slug = forms.SlugField(max_length=60, required=False, label=_("Address"),
                               help_text=_("Letters, digits and dashes. Leave empty to derive "
                                           "it from the name."))

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this email already exists. Log in."))
        return email

    def clean_org_slug(self) -> str:
        slug = self.cleaned_data["org_slug"].lower()
        if slug and Organization.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("That address is taken; choose another."))
        return slug

    def clean(self):
        data = super().clean()
        if data.get("password"):
            user = User(email=data.get("email", ""), name=data.get("name", ""))
            try:
                password_validation.validate_password(data["password"], user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Organisation name"))
    slug = forms.SlugField(max_length=60, required=False, label=_("Address"))

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].lower()
        if slug and Organization.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("That address is taken; choose another."))
        return slug


class AcceptSignupForm(forms.Form):
    """For a person who follows an invitation and has no account yet."""

    name = forms.CharField(max_length=150, label=_("Your name"))
    password = forms.CharField(widget=forms.PasswordInput, strip=False, label=_("Password"))

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password, User(email=self.email))
        return password


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class OrgSettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=[(tz, tz) for tz in TIME_ZONES])
    language = forms.ChoiceField(required=False, label=_("Default language"), choices=[
        ("", _("The site's default (English)")), *settings.LANGUAGES])

    class Meta:
        model = Organization
        fields = ["name", "time_zone", "reminder_weekday", "reminder_hour", "language"]
        labels = {"name": _("Name"), "language": _("Default language"),
                  "reminder_weekday": _("Check-in reminder day"),
                  "reminder_hour": _("Reminder hour (0–23, your time zone)")}

    def clean_reminder_hour(self) -> int:
        hour = self.cleaned_data["reminder_hour"]
        if hour > 23:
            raise forms.ValidationError(_("Choose an hour from 0 to 23."))
        return hour


class LanguageForm(forms.ModelForm):
    """A person's own language; blank follows the browser, then the organisation."""

    class Meta:
        model = User
        fields = ["language"]
        labels = {"language": _("Your language")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("As my browser asks (else the "
                                                  "organisation's default)"))] + list(
            settings.LANGUAGES)


class TeamForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Name"))
    parent = forms.ModelChoiceField(queryset=Team.objects.none(), required=False,
                                    label=_("Part of"))
    lead = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label=_("Lead"))
    members = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False,
                                             label=_("Members"),
                                             widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, organization: Organization, team: Team | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.team = team
        teams = Team.objects.filter(organization=organization)
        if team is not None:
            teams = teams.exclude(pk=team.pk)
        self.fields["parent"].queryset = teams
        people = User.objects.filter(memberships__organization=organization).order_by("name")
        self.fields["lead"].queryset = people
        self.fields["members"].queryset = people

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Team.objects.filter(organization=self.organization, name__iexact=name)
        if self.team is not None:
            clash = clash.exclude(pk=self.team.pk)
        if clash.exists():
            raise forms.ValidationError(_("A team with this name already exists."))
        return name
