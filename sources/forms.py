"""The data-source forms: thin; the rules are in sources.services and the database."""

from __future__ import annotations

from django import forms

from core.widgets import TimeInput
from kpis.models import Kpi

from .models import DataSource

SECRET_HELP = "Stored encrypted and never shown again; leave empty to keep the stored one."


class SourceForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=DataSource.Kind.choices, label="Kind")
    url = forms.CharField(
        max_length=2000, required=False, label="Connection URL or URL",
        help_text="SQL: postgresql://user:password@host/db, mysql://…, "
                  "sqlite:////path/to/file.sqlite3. HTTP: https://… returning CSV or JSON. "
                  "The password is stored encrypted and shown masked (***).")
    query = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        label="SQL query",
        help_text="Returns (period, value) rows for one KPI, or (kpi key, period, value) "
                  "rows for several. One statement; it runs read-only.")
    kpi = forms.ModelChoiceField(queryset=Kpi.objects.none(), required=False,
                                 label="KPI it feeds",
                                 help_text="For a source feeding one KPI; add more on the "
                                           "source's page.")
    format = forms.ChoiceField(choices=DataSource.Format.choices, required=False,
                               label="HTTP format")
    json_path = forms.CharField(max_length=300, required=False, label="JMESPath (JSON)",
                                help_text="e.g. data.rows[*].{period: week, value: count}")
    auth = forms.ChoiceField(choices=DataSource.Auth.choices, required=False,
                             label="HTTP credentials")
    auth_user = forms.CharField(max_length=150, required=False, label="User (basic)")
    auth_header = forms.CharField(max_length=100, required=False, label="Header name")
    secret = forms.CharField(max_length=2000, required=False, label="Token, password or header value",
                             widget=forms.PasswordInput(render_value=False), help_text=SECRET_HELP)
    hmac_secret = forms.CharField(max_length=200, required=False,
                                  label="Webhook signing secret (HMAC-SHA256)",
                                  widget=forms.PasswordInput(render_value=False),
                                  help_text=SECRET_HELP)
    schedule = forms.ChoiceField(choices=DataSource.Schedule.choices)
    run_at = forms.TimeField(required=False, label="At (daily, weekly)",
                             widget=TimeInput())
    weekday = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="On (weekly)",
        choices=[("", "—")] + list(enumerate(
            ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])))
    timeout_seconds = forms.IntegerField(min_value=1, max_value=300, initial=10,
                                         label="Timeout (seconds)")
    row_cap = forms.IntegerField(min_value=1, max_value=1_000_000, initial=10_000,
                                 label="Row cap")
    active = forms.BooleanField(required=False, initial=True)

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
            self.add_error("run_at", "Give the time of day it runs.")
        if schedule == "weekly" and data.get("weekday") is None:
            self.add_error("weekday", "Choose the day it runs.")
        if data.get("kind") == "sql" and data.get("url") and not data["url"].strip().split(":")[0]:
            self.add_error("url", "Give a database URL.")
        data["format"] = data.get("format") or DataSource.Format.CSV
        data["auth"] = data.get("auth") or DataSource.Auth.NONE
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class FeedForm(forms.Form):
    kpi = forms.ModelChoiceField(queryset=Kpi.objects.none(), label="KPI")
    key = forms.CharField(max_length=150, required=False, label="Key",
                          help_text="Its value in the kpi column of (kpi, period, value) rows "
                                    "(default: the KPI's name).")
    query = forms.CharField(required=False, label="Its own SQL (period, value)",
                            widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = Kpi.objects.filter(organization=organization, feed=None)
