"""A derived KPI's formula through the API (issue 20): set on create and PATCH with the
pages' rules (kpis.derived.clean_formula: the restricted parser, unknown names, itself,
another frequency, a cycle), every refusal a 400 JSON error naming ``formula``, shown with
the inputs' names, documented in the OpenAPI schema."""

from __future__ import annotations

import json

import pytest

from kpis.models import DataPoint, HealthEvent, Kpi, KpiInput
from tests.factories import KpiFactory
from tests.test_api import Api, make_token, weeks_back

pytestmark = pytest.mark.django_db


class Admin(Api):
    def patch(self, path, body):
        return self.client.patch(f"/api/v1{path}", json.dumps(body),
                                 content_type="application/json", **self.headers)


@pytest.fixture
def api(org, admin_user):
    return Admin(make_token(org, admin_user))


@pytest.fixture
def inputs(org):
    done = KpiFactory(organization=org, name="Resolved first time", frequency="weekly")
    total = KpiFactory(organization=org, name="Tickets", frequency="weekly")
    weeks = weeks_back(3)
    DataPoint.objects.bulk_create(
        [DataPoint(kpi=done, period_start=p, value=v) for p, v in zip(weeks, [30, 40, 45], strict=True)]
        + [DataPoint(kpi=total, period_start=p, value=v) for p, v in zip(weeks[:2], [60, 80], strict=True)])
    return done, total, weeks


def _create(api, **extra):
    return api.post("/kpis", {"name": "FCR", "frequency": "weekly", "unit": "%", **extra})


def test_create_with_formula_computes_and_shows_names(api, inputs):
    done, total, weeks = inputs
    r = _create(api, formula="[resolved first time] / [Tickets] × 100")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["formula"] == "[Resolved first time] / [Tickets] × 100"
    kpi = Kpi.objects.get(pk=body["id"])
    assert f"{{{done.pk}}}" in kpi.formula and f"{{{total.pk}}}" in kpi.formula
    assert set(KpiInput.objects.filter(derived=kpi).values_list("input_id", flat=True)) == {
        done.pk, total.pk}
    values = dict(DataPoint.objects.filter(kpi=kpi).values_list("period_start", "value"))
    assert values == {weeks[0]: 50.0, weeks[1]: 50.0}  # the third week: no Tickets, empty
    assert HealthEvent.objects.filter(kpi=kpi, kind="formula").count() == 1
    got = api.get(f"/kpis/{kpi.pk}/definition").json()
    assert got["formula"] == body["formula"]
    # An ordinary KPI reads "" and a renamed input shows its new name.
    assert api.get(f"/kpis/{done.pk}/definition").json()["formula"] == ""
    Kpi.objects.filter(pk=total.pk).update(name="All tickets")
    assert api.get(f"/kpis/{kpi.pk}/definition").json()["formula"] == (
        "[Resolved first time] / [All tickets] × 100")


@pytest.mark.parametrize("formula, words", [
    ("[Nope] / [Tickets]", "No KPI is named"),
    ("__import__('os')", ""),
    ("[Tickets] ** 2", ""),
    ("[Tickets] // 2", ""),
    ("len([Tickets])", ""),
    ("[Tickets] / ", ""),
])
def test_bad_formula_on_create_is_400_naming_the_field(api, inputs, formula, words):
    r = _create(api, formula=formula)
    assert r.status_code == 400, r.content
    assert "formula" in r.content.decode()
    assert words in r.content.decode()
    assert not Kpi.objects.filter(name="FCR").exists()


def test_other_frequency_is_refused(api, org, inputs):
    KpiFactory(organization=org, name="Monthly orders", frequency="monthly")
    r = _create(api, formula="[Tickets] / [Monthly orders]")
    assert r.status_code == 400
    assert "weekly KPI can only use weekly KPIs" in r.content.decode()


def test_patch_sets_changes_and_clears_the_formula(api, inputs):
    done, total, _ = inputs
    kpi = Kpi.objects.get(pk=_create(api).json()["id"])
    assert kpi.formula == ""
    r = api.patch(f"/kpis/{kpi.pk}", {"version": kpi.version, "formula": "[Tickets] * 2"})
    assert r.status_code == 200, r.content
    assert r.json()["formula"] == "[Tickets] * 2"
    kpi.refresh_from_db()
    assert f"{{{total.pk}}}" in kpi.formula
    # A PATCH without "formula" leaves it alone.
    r = api.patch(f"/kpis/{kpi.pk}", {"version": kpi.version, "unit": "x"})
    assert r.status_code == 200 and r.json()["formula"] == "[Tickets] * 2"
    kpi.refresh_from_db()
    r = api.patch(f"/kpis/{kpi.pk}", {"version": kpi.version, "formula": ""})
    assert r.status_code == 200 and r.json()["formula"] == ""
    assert not KpiInput.objects.filter(derived=kpi).exists()


def test_patch_refuses_itself_and_a_cycle(api, inputs):
    done, total, _ = inputs
    derived = Kpi.objects.get(pk=_create(api, formula="[Tickets] + 1").json()["id"])
    r = api.patch(f"/kpis/{derived.pk}", {"version": derived.version, "formula": "[FCR] + 1"})
    assert r.status_code == 400
    assert "computed from itself" in r.content.decode()
    total.refresh_from_db()
    r = api.patch(f"/kpis/{total.pk}", {"version": total.version, "formula": "[FCR] / 2"})
    assert r.status_code == 400, r.content
    assert "round in a circle" in r.content.decode()
    total.refresh_from_db()
    assert total.formula == ""


def test_patch_with_a_stale_version_is_409_and_changes_nothing(api, inputs):
    kpi = Kpi.objects.get(pk=_create(api).json()["id"])
    r = api.patch(f"/kpis/{kpi.pk}", {"version": kpi.version + 5, "formula": "[Tickets] * 2"})
    assert r.status_code == 409
    kpi.refresh_from_db()
    assert kpi.formula == ""


def test_member_cannot_set_a_formula(org, member, inputs):
    member_api = Admin(make_token(org, member))
    r = member_api.post("/kpis", {"name": "FCR", "frequency": "weekly", "formula": "[Tickets]"})
    assert r.status_code == 403
    kpi = inputs[1]
    r = member_api.patch(f"/kpis/{kpi.pk}", {"version": kpi.version, "formula": "1"})
    assert r.status_code == 403


def test_formula_of_another_organisations_kpi_is_unknown(api, inputs, outsider):
    from accounts.models import Membership

    other_org = Membership.objects.get(user=outsider).organization
    KpiFactory(organization=other_org, name="Secret", frequency="weekly")
    r = _create(api, formula="[Secret] * 2")
    assert r.status_code == 400 and "No KPI is named" in r.content.decode()


def test_openapi_documents_the_formula():
    schema = Api(None).get("/openapi.json").json()
    comps = schema["components"]["schemas"]
    assert "formula" in comps["KpiIn"]["properties"]
    assert "formula" in comps["KpiPatch"]["properties"]
    assert "square brackets" in json.dumps(comps["KpiIn"]["properties"]["formula"])
    assert "formula" in comps["KpiDefinitionOut"]["required"]
