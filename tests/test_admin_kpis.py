"""KPI admin: targets (same validation as the app, a reason for every change), CSV import
and export, health re-evaluation, data points with revision history."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, Role
from kpis import periods as P
from kpis.models import DataPoint, DataPointRevision, HealthEvent, Kpi, KpiHealth, TargetChange
from tests.factories import (
    DataPointFactory,
    KpiFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
)


@pytest.fixture
def staff_admin(org):
    user = UserFactory(name="Ada Admin", is_staff=True)
    MembershipFactory(user=user, organization=org, role=Role.ADMIN)
    return user


@pytest.fixture
def client_(client, staff_admin):
    client.force_login(staff_admin)
    return client


def management(html: str) -> dict:
    return dict(re.findall(
        r'<input type="hidden" name="([^"]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"'
        r'[^>]*value="([^"]*)"', html))


def kpi_payload(kpi: Kpi, **changes) -> dict:
    data = {
        "name": kpi.name, "description": kpi.description, "unit": kpi.unit,
        "decimals": kpi.decimals, "owner": kpi.owner_id or "", "team": kpi.team_id or "",
        "frequency": kpi.frequency, "intent": kpi.intent, "active": "on" if kpi.active else "",
        "version": kpi.version, "target_rule": kpi.target_rule,
        "target_value": "" if kpi.target_value is None else kpi.target_value,
        "target_upper": "" if kpi.target_upper is None else kpi.target_upper,
        "baseline_size": kpi.baseline_size or "", "rebase_date": "",
        "target_change_reason": "",
    }
    data.update(changes)
    return data


def change_kpi(client, kpi, **changes):
    page = client.get(reverse("admin:kpis_kpi_change", args=[kpi.pk]))
    assert page.status_code == 200
    return client.post(reverse("admin:kpis_kpi_change", args=[kpi.pk]),
                       {**management(page.content.decode()), **kpi_payload(kpi, **changes)})


def form_errors(response) -> str:
    return str(response.context["adminform"].form.errors)


def months_back(n: int) -> list[dt.date]:
    start = P.period_start(timezone.localdate(), "monthly")
    out = [start]
    for _ in range(n - 1):
        out.append(P.add_periods(out[-1], "monthly", -1))
    return sorted(out)


# --- The whole story: configure a KPI, import a year, see its health ------------------------


def test_admin_configures_a_kpi_imports_a_year_and_sees_its_health(
        client_, org, staff_admin, django_capture_on_commit_callbacks):
    team = TeamFactory(organization=org, name="Support", slug="support")
    page = client_.get(reverse("admin:kpis_kpi_add"))
    data = {**management(page.content.decode()),
            "organization": org.pk, "name": "Reply time", "unit": "h", "decimals": 1,
            "team": team.pk, "owner": staff_admin.pk, "frequency": "monthly",
            "intent": "sustain", "active": "on", "version": 1, "target_rule": "at_most",
            "target_value": "24", "target_upper": "", "baseline_size": 20}
    with django_capture_on_commit_callbacks(execute=True):
        response = client_.post(reverse("admin:kpis_kpi_add"), data)
    assert response.status_code == 302, form_errors(response)
    kpi = Kpi.objects.get(organization=org, name="Reply time")
    assert (kpi.target_rule, kpi.target_value, kpi.team) == ("at_most", 24.0, team)
    assert AuditEntry.objects.filter(object_id=str(kpi.pk), action="created").exists()

    changelist = reverse("admin:kpis_kpi_changelist")
    step1 = client_.post(changelist, {"action": "import_points_csv", "index": 0,
                                      "_selected_action": [kpi.pk]})
    assert step1.status_code == 200
    assert b'type="file"' in step1.content
    rows = "\n".join(f"{m.isoformat()},{20 + i % 3}" for i, m in enumerate(months_back(12)))
    upload = SimpleUploadedFile("year.csv", f"period,value\n{rows}\n".encode(), "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        step2 = client_.post(changelist, {"action": "import_points_csv", "apply": "1",
                                          "_selected_action": [kpi.pk], "file": upload})
    assert step2.status_code == 302
    assert DataPoint.objects.filter(kpi=kpi, source=DataPoint.Source.CSV).count() == 12
    health = KpiHealth.objects.get(kpi=kpi)
    assert health.points_count == 12
    assert health.status == KpiHealth.Status.ON_TARGET
    assert health.center is not None  # XmR limits from 12 points

    page = client_.get(reverse("admin:kpis_kpi_change", args=[kpi.pk]))
    assert b"On target" in page.content
    listing = client_.get(changelist).content.decode()
    assert "On target" in listing
    latest = months_back(12)[-1]
    assert f"({latest:%Y-%m-%d})" in listing  # the latest value and its period


def test_import_is_all_or_nothing_and_lists_bad_rows(client_, org):
    kpi = KpiFactory(organization=org, frequency="monthly")
    months = months_back(3)
    text = (f"period,value\n{months[0]},10\n{months[1]},ten\n{months[2]},12\n"
            f"2999-01-01,5\n")
    response = client_.post(reverse("admin:kpis_kpi_changelist"), {
        "action": "import_points_csv", "apply": "1", "_selected_action": [kpi.pk],
        "file": SimpleUploadedFile("x.csv", text.encode(), "text/csv")})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Nothing was imported" in body
    assert "Line 3" in body and "Line 5" in body
    assert not DataPoint.objects.filter(kpi=kpi).exists()


def test_import_needs_one_kpi_and_a_file(client_, org):
    k1, k2 = KpiFactory(organization=org), KpiFactory(organization=org)
    changelist = reverse("admin:kpis_kpi_changelist")
    response = client_.post(changelist, {"action": "import_points_csv", "index": 0,
                                         "_selected_action": [k1.pk, k2.pk]}, follow=True)
    assert b"Select exactly one KPI" in response.content
    response = client_.post(changelist, {"action": "import_points_csv", "apply": "1",
                                         "_selected_action": [k1.pk]})
    assert response.status_code == 200
    assert b"Choose a CSV file" in response.content


def test_export_round_trips_through_import(client_, org, django_capture_on_commit_callbacks):
    kpi = KpiFactory(organization=org, name="=HYPERLINK(1)", frequency="monthly")
    months = months_back(2)
    DataPointFactory(kpi=kpi, period_start=months[0], value=1.5, note="+danger")
    DataPointFactory(kpi=kpi, period_start=months[1], value=2.5)
    response = client_.post(reverse("admin:kpis_kpi_changelist"), {
        "action": "export_points_csv", "index": 0, "_selected_action": [kpi.pk]})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["kpi", "period", "value", "note"]
    assert rows[1] == ["'=HYPERLINK(1)", months[0].isoformat(), "1.5", "'+danger"]
    # Rename the KPI so the exported name matches, then import the file back unchanged.
    Kpi.objects.filter(pk=kpi.pk).update(name="Plain")
    text = response.content.decode().replace("'=HYPERLINK(1)", "Plain")
    with django_capture_on_commit_callbacks(execute=True):
        again = client_.post(reverse("admin:kpis_kpi_changelist"), {
            "action": "import_points_csv", "apply": "1", "_selected_action": [kpi.pk],
            "file": SimpleUploadedFile("e.csv", text.encode(), "text/csv")})
    assert again.status_code == 302
    assert DataPoint.objects.filter(kpi=kpi).count() == 2


def test_reevaluate_action_computes_health(client_, org):
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30)
    DataPointFactory(kpi=kpi, period_start=P.period_start(timezone.localdate(), "weekly"),
                     value=40)
    assert not KpiHealth.objects.filter(kpi=kpi).exists()
    response = client_.post(reverse("admin:kpis_kpi_changelist"), {
        "action": "reevaluate_health", "index": 0, "_selected_action": [kpi.pk]}, follow=True)
    assert b"re-evaluated for 1 KPI" in response.content
    assert KpiHealth.objects.get(kpi=kpi).status == KpiHealth.Status.OFF_TARGET


# --- Targets -------------------------------------------------------------------------------------


def test_changing_the_target_needs_a_reason_and_records_it(
        client_, org, staff_admin, django_capture_on_commit_callbacks):
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30)
    DataPointFactory(kpi=kpi, period_start=P.period_start(timezone.localdate(), "weekly"),
                     value=25)
    response = change_kpi(client_, kpi, target_value="20")
    assert response.status_code == 200
    assert "Say why the target changes" in form_errors(response)
    kpi.refresh_from_db()
    assert kpi.target_value == 30 and not TargetChange.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = change_kpi(client_, kpi, target_value="20",
                              target_change_reason="Customers expect faster replies")
    assert response.status_code == 302, form_errors(response)
    kpi.refresh_from_db()
    assert (kpi.target_rule, kpi.target_value, kpi.version) == ("at_most", 20.0, 2)
    change = TargetChange.objects.get(kpi=kpi)
    assert (change.old_value, change.new_value) == (30.0, 20.0)
    assert change.reason == "Customers expect faster replies"
    assert change.changed_by == staff_admin
    assert HealthEvent.objects.filter(kpi=kpi, kind="target").exists()
    # Re-evaluated after commit: 25 is now above the new "at most 20".
    assert KpiHealth.objects.get(kpi=kpi).status == KpiHealth.Status.OFF_TARGET
    page = client_.get(reverse("admin:kpis_kpi_change", args=[kpi.pk]))
    assert b"Customers expect faster replies" in page.content  # the history inline


def test_other_changes_need_no_reason(client_, org):
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30)
    response = change_kpi(client_, kpi, description="Median first reply", unit="min")
    assert response.status_code == 302, form_errors(response)
    kpi.refresh_from_db()
    assert kpi.description == "Median first reply" and kpi.version == 2
    assert not TargetChange.objects.exists()


@pytest.mark.parametrize(("rule", "low", "high", "field"), [
    ("between", "10", "5", "target_upper"),
    ("between", "10", "", "target_upper"),
    ("at_least", "", "", "target_value"),
    ("at_most", "nan", "", "target_value"),
    ("at_most", "1e20", "", "target_value"),
])
def test_target_validation_is_the_apps(client_, org, rule, low, high, field):
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30)
    response = change_kpi(client_, kpi, target_rule=rule, target_value=low, target_upper=high,
                          target_change_reason="why not")
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    kpi.refresh_from_db()
    assert (kpi.target_rule, kpi.target_value) == ("at_most", 30.0)
    # The add form refuses it too.
    page = client_.get(reverse("admin:kpis_kpi_add"))
    response = client_.post(reverse("admin:kpis_kpi_add"), {
        **management(page.content.decode()), "organization": org.pk, "name": "New",
        "decimals": 1, "frequency": "weekly", "intent": "sustain", "version": 1,
        "target_rule": rule, "target_value": low, "target_upper": high})
    assert response.status_code == 200
    assert not Kpi.objects.filter(name="New").exists()


def test_a_stale_form_is_refused(client_, org):
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30)
    payload_version = kpi.version
    Kpi.objects.filter(pk=kpi.pk).update(version=payload_version + 1, description="theirs")
    response = change_kpi(client_, kpi, description="mine", version=payload_version)
    assert response.status_code == 200
    assert "changed by someone else" in str(response.context["adminform"].form.non_field_errors())
    kpi.refresh_from_db()
    assert kpi.description == "theirs"


def test_duplicate_name_is_a_form_error(client_, org):
    KpiFactory(organization=org, name="Uptime")
    kpi = KpiFactory(organization=org, name="Churn")
    response = change_kpi(client_, kpi, name="uptime")
    assert response.status_code == 200
    assert "already exists" in form_errors(response)


def test_latest_points_inline_is_limited_with_a_link_to_all(client_, org):
    kpi = KpiFactory(organization=org)
    for i in range(15):
        DataPointFactory(kpi=kpi, period_start=dt.date(2025, 1, 6) + dt.timedelta(weeks=i))
    page = client_.get(reverse("admin:kpis_kpi_change", args=[kpi.pk]))
    body = page.content.decode()
    assert "15 point(s)" in body
    assert f"/admin/kpis/datapoint/?kpi__id__exact={kpi.pk}" in body
    shown = re.findall(r"/admin/kpis/datapoint/(\d+)/change/", body)
    assert len(set(shown)) == 12


# --- Data points ----------------------------------------------------------------------------


def test_data_point_add_and_replace_keep_history(client_, org, django_capture_on_commit_callbacks):
    kpi = KpiFactory(organization=org, frequency="weekly")
    monday = P.period_start(timezone.localdate(), "weekly") - dt.timedelta(weeks=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_.post(reverse("admin:kpis_datapoint_add"), {
            "kpi": kpi.pk, "period_start": (monday + dt.timedelta(days=2)).isoformat(),
            "value": "12.5", "note": "first"})
    assert response.status_code == 302
    point = DataPoint.objects.get(kpi=kpi)
    assert point.period_start == monday  # normalised to the period's start
    assert KpiHealth.objects.filter(kpi=kpi).exists()  # evaluated after commit
    response = client_.post(reverse("admin:kpis_datapoint_change", args=[point.pk]),
                            {"value": "14", "note": "corrected"})
    assert response.status_code == 302
    point.refresh_from_db()
    assert point.value == 14
    revision = DataPointRevision.objects.get(point=point)
    assert (revision.old_value, revision.new_value) == (12.5, 14)
    # The same period again is refused with a clear message.
    response = client_.post(reverse("admin:kpis_datapoint_add"), {
        "kpi": kpi.pk, "period_start": monday.isoformat(), "value": "1"})
    assert response.status_code == 200
    assert "already a value" in form_errors(response)


@pytest.mark.parametrize(("period", "value", "field"), [
    ("2999-01-04", "1", "period_start"),
    ("2026-01-05", "inf", "value"),
])
def test_data_point_validation_is_the_apps(client_, org, period, value, field):
    kpi = KpiFactory(organization=org)
    response = client_.post(reverse("admin:kpis_datapoint_add"), {
        "kpi": kpi.pk, "period_start": period, "value": value})
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not DataPoint.objects.exists()


def test_health_and_events_are_read_only(client_, org):
    kpi = KpiFactory(organization=org)
    health = KpiHealth.objects.create(kpi=kpi)
    event = HealthEvent.objects.create(kpi=kpi, kind="status")
    for model, pk in (("kpihealth", health.pk), ("healthevent", event.pk)):
        assert client_.get(reverse(f"admin:kpis_{model}_add")).status_code == 403
        assert client_.get(reverse(f"admin:kpis_{model}_delete", args=[pk])).status_code == 403
        page = client_.get(reverse(f"admin:kpis_{model}_change", args=[pk]))
        assert page.status_code == 200 and b'name="_save"' not in page.content


def test_deleting_a_kpi_takes_its_history_along(client_, org):
    kpi = KpiFactory(organization=org)
    KpiHealth.objects.create(kpi=kpi)
    HealthEvent.objects.create(kpi=kpi, kind="status")
    response = client_.post(reverse("admin:kpis_kpi_delete", args=[kpi.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Kpi.objects.filter(pk=kpi.pk).exists()
