"""The data-source forms: thin; the rules are in sources.services and the database."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from core.widgets import TimeInput
from kpis.models import Kpi

from .models import DataSource

SECRET_HELP = gettext_lazy("Stored encrypted and never shown again; leave empty to keep the stored one.")


class SourceForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(max_length=120, label=gettext_lazy("Name"))
    kind = forms.ChoiceField(choices=DataSource.Kind.choices, label=gettext_lazy("Kind"))
    url = forms.CharField(
        max_length=2000, required=False, label=gettext_lazy("Connection URL or URL"),
        help_text=gettext_lazy("SQL: postgresql://user:password@host/db, mysql://…, "
                  "sqlite:////path/to/file.sqlite3. HTTP: https://… returning CSV or JSON. "
                  "The password is stored encrypted and shown masked (***)."))
    query = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        label=gettext_lazy("SQL query"),
        help_text=gettext_lazy("Returns (period, value) rows for one KPI, or (kpi key, period, value) "
                  "rows for several. One statement; it runs read-only."))
    kpi = forms.ModelChoiceField(queryset=Kpi.objects.none(), required=False,
                                 label=gettext_lazy("KPI it feeds"),
                                 help_text=gettext_lazy("For a source feeding one KPI; add more on the "
                                           "source's page."))
    format = forms.ChoiceField(choices=DataSource.Format.choices, required=False,
                               label=gettext_lazy("HTTP format"))
    json_path = forms.CharField(max_length=300, required=False, label=gettext_lazy("JMESPath (JSON)"),
                                help_text=gettext_lazy("e.g. data.rows[*].{period: week, value: count}"))
    auth = forms.ChoiceField(choices=DataSource.Auth.choices, required=False,
                             label=gettext_lazy("HTTP credentials"))
    auth_user = forms.CharField(max_length=150, required=False, label=gettext_lazy("User (basic)"))
    auth_header = forms.CharField(max_length=100, required=False, label=gettext_lazy("Header name"))
    secret = forms.CharField(max_length=2000, required=False, label=gettext_lazy("Token, password or header value"),
                             widget=forms.PasswordInput(render_value=False), help_text=SECRET_HELP)
    hmac_secret = forms.CharField(max_length=200, required=False,
                                  label=gettext_lazy("Webhook signing secret (HMAC-SHA256)"),
                                  widget=forms.PasswordInput(render_value=False),
                                  help_text=SECRET_HELP)
    schedule = forms.ChoiceField(choices=DataSource.Schedule.choices, label=gettext_lazy("Schedule"))
    run_at = forms.TimeField(required=False, label=gettext_lazy("At (daily, weekly)"),
                             widget=TimeInput())
    weekday = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label=gettext_lazy("On (weekly)"),
        choices=[("", "—")] + list(enumerate(
            [gettext_lazy("Monday"), gettext_lazy("Tuesday"), gettext_lazy("Wednesday"),
             gettext_lazy("Thursday"), gettext_lazy("Friday"), gettext_lazy("Saturday"),
             gettext_lazy("Sunday")])))
    timeout_seconds = forms.IntegerField(min_value=1, max_value=300, initial=10,
                                         label=gettext_lazy("Timeout (seconds)"))
    row_cap = forms.IntegerField(min_value=1, max_value=1_000_000, initial=10_000,
                                 label=gettext_lazy("Row cap"))
    active = forms.BooleanField(required=False, initial=True, label=gettext_lazy("Active"))

    def __init__(self, *args, organization, source: DataSource | None = None, **kwargs):
        if source is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "version": source.version, "name": source.name, "kind": source.kind,
                "url": source.url_display, "query": source.query, "format": source.format,
                "json_path": source.json_path, "auth": source.auth,
                "auth_user": source.auth_user, "auth_header": source.auth_header,
                "schedule": source.schedule, "run_at": source.run_at,
                "weekday": source.weekday, "timeout_seconds": source.timeout_seconds,
                "row_cap": source.row_cap, "active": source.active,
            }
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = Kpi.objects.filter(organization=organization)

    def clean(self):
        data = super().clean()
        schedule = data.get("schedule")
        if schedule in ("daily", "weekly") and data.get("run_at") is None:
            self.add_error("run_at", gettext_lazy("Give the time of day it runs."))
        if schedule == "weekly" and data.get("weekday") is None:
            self.add_error("weekday", gettext_lazy("Choose the day it runs."))
        if data.get("kind") == "sql" and data.get("url") and not data["url"].strip().split(":")[0]:
            self.add_error("url", gettext_lazy("Give a database URL."))
        data["format"] = data.get("format") or DataSource.Format.CSV
        data["auth"] = data.get("auth") or DataSource.Auth.NONE
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class FeedForm(forms.Form):
    kpi = forms.ModelChoiceField(queryset=Kpi.objects.none(), label=gettext_lazy("KPI"))
    key = forms.CharField(max_length=150, required=False, label=gettext_lazy("Key"),
                          help_text=gettext_lazy("Its value in the kpi column of (kpi, period, value) rows "
                                    "(default: the KPI's name)."))
    query = forms.CharField(required=False, label=gettext_lazy("Its own SQL (period, value)"),
                            widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = Kpi.objects.filter(organization=organization, feed=None)
