"""The KPI list's fast path (issue 21's paging benchmark): values() rows rendered by one
function and answered without django-ninja's second validation. What it answers must be
exactly what the validated path answers (GET /kpis/{id} goes through the response
schema), and it must hold to the KpiPage schema the OpenAPI document publishes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from api.kpis import KpiOut
from api.pagination import page_of
from kpis import health
from kpis.models import DataPoint, Kpi, KpiHealth
from tests.factories import KpiFactory, TeamFactory
from tests.test_api import admin_api, kpi, weeks_back  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _variety(org, admin_user):
    team = TeamFactory(organization=org, name="Support")
    plain = KpiFactory(organization=org, name="A no health", target_rule=Kpi.TargetRule.NONE,
                       target_value=None)
    between = KpiFactory(organization=org, name="B between", team=team, owner=admin_user,
                         target_rule=Kpi.TargetRule.BETWEEN, target_value=2.5,
                         target_upper=4, unit="%", decimals=1)
    evaluated = KpiFactory(organization=org, name="C evaluated", owner=admin_user)
    DataPoint.objects.bulk_create([DataPoint(kpi=evaluated, period_start=p, value=40 + i)
                                   for i, p in enumerate(weeks_back(8))])
    health.evaluate_kpis([evaluated.pk, between.pk])
    KpiHealth.objects.filter(kpi=evaluated).update(candidate="candidate",
                                                    candidate_reason="Off target for 2 periods")
    Kpi.objects.filter(pk=between.pk).update(  # changed after its evaluation: pending
        data_changed_at=timezone.now() + dt.timedelta(seconds=5))
    KpiHealth.objects.filter(kpi=plain).delete()
    return [plain, between, evaluated]


def test_the_list_answers_what_the_validated_read_answers(org, admin_user, admin_api):  # noqa: F811
    kpis = _variety(org, admin_user)
    r = admin_api.get("/kpis", size=500)
    assert r.status_code == 200 and r["Content-Type"] == "application/json; charset=utf-8"
    body = r.json()
    page_of(KpiOut).model_validate(body)  # the published schema holds
    assert [i["id"] for i in body["items"]] == [k.pk for k in kpis]
    for item in body["items"]:
        one = admin_api.get(f"/kpis/{item['id']}")
        assert one.status_code == 200
        assert item == one.json()  # byte for byte the same fields and formats
    by_name = {i["name"]: i for i in body["items"]}
    assert by_name["A no health"]["health"] is None
    assert by_name["A no health"]["loop_state"] == "none"
    assert by_name["B between"]["target"] == "between 2.5 and 4.0%"
    assert by_name["B between"]["team"] == "Support"
    assert by_name["B between"]["health"]["pending"] is True
    assert by_name["C evaluated"]["loop_state"] == "candidate"
    assert by_name["C evaluated"]["health"]["pending"] is False
    assert by_name["C evaluated"]["health"]["latest_period"]


def test_filters_and_links_still_work_on_the_fast_path(org, admin_user, admin_api):  # noqa: F811
    _variety(org, admin_user)
    r = admin_api.get("/kpis", team="Support")
    assert [i["name"] for i in r.json()["items"]] == ["B between"]
    first = admin_api.get("/kpis", size=2).json()
    assert first["count"] == 3 and first["next"].endswith("size=2&page=2")
    second = admin_api.client.get(first["next"], **admin_api.headers).json()
    assert [i["name"] for i in second["items"]] == ["C evaluated"]
    assert second["next"] is None and second["previous"]
