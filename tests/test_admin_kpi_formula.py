"""A derived KPI's formula in the Django admin (issue 20): typed with names, validated like
the app's form and the API (kpis.derived.clean_formula), stored with ids through
kpis.services, shown with names when editing; errors are messages on the form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from kpis.models import DataPoint, HealthEvent, Kpi, KpiInput
from tests.factories import KpiFactory, MembershipFactory, UserFactory
from tests.test_admin_kpis import change_kpi, form_errors, management
from tests.test_api import weeks_back

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_(client, org):
    user = UserFactory(name="Ada Admin", is_staff=True)
    MembershipFactory(user=user, organization=org, role=Role.ADMIN)
    client.force_login(user)
    return client


@pytest.fixture
def inputs(org):
    done = KpiFactory(organization=org, name="Resolved first time", frequency="weekly")
    total = KpiFactory(organization=org, name="Tickets", frequency="weekly")
    weeks = weeks_back(2)
    DataPoint.objects.bulk_create(
        [DataPoint(kpi=done, period_start=w, value=v) for w, v in zip(weeks, [30, 40], strict=True)]
        + [DataPoint(kpi=total, period_start=w, value=v) for w, v in zip(weeks, [60, 80], strict=True)])
    return done, total, weeks


def _add(client, org, **extra):
    page = client.get(reverse("admin:kpis_kpi_add"))
    assert b'name="formula"' in page.content
    data = {**management(page.content.decode()), "organization": org.pk, "name": "FCR",
            "unit": "%", "decimals": 1, "frequency": "weekly", "intent": "sustain",
            "active": "on", "version": 1, "target_rule": "none", "target_value": "",
            "target_upper": "", "baseline_size": 20, **extra}
    return client.post(reverse("admin:kpis_kpi_add"), data)


def test_admin_adds_a_derived_kpi(client_, org, inputs):
    done, total, weeks = inputs
    r = _add(client_, org, formula="[Resolved first time] / [Tickets] × 100")
    assert r.status_code == 302, form_errors(r)
    kpi = Kpi.objects.get(organization=org, name="FCR")
    assert f"{{{done.pk}}}" in kpi.formula and f"{{{total.pk}}}" in kpi.formula
    assert set(KpiInput.objects.filter(derived=kpi).values_list("input_id", flat=True)) == {
        done.pk, total.pk}
    assert sorted(DataPoint.objects.filter(kpi=kpi).values_list("value", flat=True)) == [50.0, 50.0]
    assert HealthEvent.objects.filter(kpi=kpi, kind="formula").exists()
    # Editing shows it with the names.
    page = client_.get(reverse("admin:kpis_kpi_change", args=[kpi.pk])).content.decode()
    assert 'value="[Resolved first time] / [Tickets] × 100"' in page


@pytest.mark.parametrize("formula, words", [
    ("[Nobody] * 2", "No KPI is named"),
    ("[Tickets] ** 2", ""),
    ("__import__('os')", ""),
])
def test_bad_formula_is_a_message_on_the_form(client_, org, inputs, formula, words):
    r = _add(client_, org, formula=formula)
    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert "formula" in errors and words in str(errors["formula"])
    assert not Kpi.objects.filter(organization=org, name="FCR").exists()


def test_change_sets_refuses_a_cycle_and_clears(client_, org, inputs):
    done, total, _ = inputs
    derived = KpiFactory(organization=org, name="FCR", frequency="weekly")
    r = change_kpi(client_, derived, formula="[Tickets] * 2")
    assert r.status_code == 302, form_errors(r)
    derived.refresh_from_db()
    assert derived.formula == f"{{{total.pk}}} * 2"
    # Tickets computed from FCR would go round in a circle.
    r = change_kpi(client_, total, formula="[FCR] / 2")
    assert r.status_code == 200
    assert "round in a circle" in form_errors(r)
    total.refresh_from_db()
    assert total.formula == ""
    # Itself.
    r = change_kpi(client_, derived, formula="[FCR] + 1")
    assert "computed from itself" in form_errors(r)
    # An untouched formula changes nothing; emptied, the KPI is ordinary again.
    derived.refresh_from_db()
    events = HealthEvent.objects.filter(kpi=derived, kind="formula").count()
    r = change_kpi(client_, derived, formula="[Tickets] * 2", unit="x")
    assert r.status_code == 302, form_errors(r)
    assert HealthEvent.objects.filter(kpi=derived, kind="formula").count() == events
    derived.refresh_from_db()
    r = change_kpi(client_, derived, formula="")
    assert r.status_code == 302, form_errors(r)
    derived.refresh_from_db()
    assert derived.formula == "" and not KpiInput.objects.filter(derived=derived).exists()
