"""The JSON API under /api/v1/ (tokens, tenancy, reads, pushes, bad input) and the API
tokens page."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, Membership, Role
from kpis.models import DataPoint, DataPointRevision, KpiHealth
from kpis.periods import period_start
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    KpiFactory,
    ObjectiveFactory,
    OrganizationFactory,
)

pytestmark = pytest.mark.django_db


def weeks_back(n):
    last = period_start(timezone.localdate(), "weekly") - dt.timedelta(weeks=1)
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


def make_token(org, user) -> str:
    raw, prefix, hashed = ApiToken.new_token()
    ApiToken.objects.create(organization=org, user=user, name="t", prefix=prefix,
                            token_hash=hashed)
    return raw


class Api:
    def __init__(self, token):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, **self.headers)

    def post(self, path, body):
        data = body if isinstance(body, str) else json.dumps(body)
        return self.client.post(f"/api/v1{path}", data, content_type="application/json",
                                **self.headers)


@pytest.fixture
def admin_api(org, admin_user):
    return Api(make_token(org, admin_user))


@pytest.fixture
def kpi(org):
    k = KpiFactory(organization=org, name="Reply time")
    DataPoint.objects.bulk_create([DataPoint(kpi=k, period_start=p, value=20 + i % 3)
                                   for i, p in enumerate(weeks_back(8))])
    return k


def test_schema_loads_without_a_token():
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    assert "/api/v1/kpis" in schema["paths"] and "/api/v1/kpis/{kpi_id}/points" in schema["paths"]


def test_no_bad_or_revoked_token_is_401(org, admin_user, kpi):
    assert Api(None).get("/kpis").status_code == 401
    assert Api("hw_nonsense").get("/kpis").status_code == 401
    raw = make_token(org, admin_user)
    ApiToken.objects.update(revoked_at=timezone.now())
    assert Api(raw).get("/kpis").status_code == 401


def test_token_of_a_user_who_left_is_dead(org, admin_user, kpi):
    raw = make_token(org, admin_user)
    Membership.objects.filter(user=admin_user, organization=org).delete()
    assert Api(raw).get("/kpis").status_code == 401


def test_list_kpis_with_health(admin_api, kpi):
    from kpis import health

    health.evaluate_kpi(kpi)
    r = admin_api.get("/kpis")
    assert r.status_code == 200
    (row,) = r.json()["items"]
    assert row["name"] == "Reply time" and row["health"]["status"] == "on_target"
    assert row["target"] == "at most 30.0 min"
    assert ApiToken.objects.get().last_used_at is not None


def test_kpi_of_another_org_is_404(admin_api, outsider):
    foreign = KpiFactory(organization=OrganizationFactory(slug="zz"))
    DataPoint.objects.create(kpi=foreign, period_start=weeks_back(1)[0], value=1)
    assert admin_api.get(f"/kpis/{foreign.pk}").status_code == 404
    assert admin_api.get(f"/kpis/{foreign.pk}/points").status_code == 404
    r = admin_api.post(f"/kpis/{foreign.pk}/points", {"period": "2026-01-05", "value": 2})
    assert r.status_code == 404 and r.json() == {"detail": "Not found."}
    assert DataPoint.objects.get(kpi=foreign).value == 1
    assert all(k["id"] != foreign.pk for k in admin_api.get("/kpis").json()["items"])


def test_read_points(admin_api, kpi):
    r = admin_api.get(f"/kpis/{kpi.pk}/points")
    assert r.status_code == 200 and len(r.json()["items"]) == 8
    r = admin_api.get(f"/kpis/{kpi.pk}/points", since=weeks_back(2)[0].isoformat())
    assert len(r.json()["items"]) == 2


def test_push_one_point_upserts_with_revision(admin_api, kpi, django_capture_on_commit_callbacks):
    period = weeks_back(1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_api.post(f"/kpis/{kpi.pk}/points", {"period": period.isoformat(), "value": 33.5})
    assert r.status_code == 200, r.content
    assert r.json()["results"][0]["replaced"] is not None
    assert DataPoint.objects.get(kpi=kpi, period_start=period).value == 33.5
    assert DataPoint.objects.get(kpi=kpi, period_start=period).source == "api"
    assert DataPointRevision.objects.count() == 1
    assert KpiHealth.objects.get(kpi=kpi).latest_value == 33.5


def test_push_batch_all_or_nothing(admin_api, kpi):
    w = weeks_back(3)
    before = sorted(DataPoint.objects.values_list("period_start", "value"))
    r = admin_api.post(f"/kpis/{kpi.pk}/points/batch", {"points": [
        {"period": w[0].isoformat(), "value": 1}, {"period": w[1].isoformat(), "value": "abc"}]})
    assert r.status_code == 422 and "points.1.value" in r.json()["errors"]
    r = admin_api.post(f"/kpis/{kpi.pk}/points/batch", {"points": [
        {"period": w[0].isoformat(), "value": 1},
        {"period": w[1].isoformat(), "value": 1e300},
        {"period": "2999-01-01", "value": 2},
        {"period": w[0].isoformat(), "value": 3},
    ]})
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert "points.1.value" in errors and "points.2.period" in errors
    assert "points.3.period" in errors  # duplicate in the batch
    assert sorted(DataPoint.objects.values_list("period_start", "value")) == before
    r = admin_api.post(f"/kpis/{kpi.pk}/points/batch", {"points": [
        {"period": w[0].isoformat(), "value": 1}, {"period": w[1].isoformat(), "value": 2}]})
    assert r.status_code == 200 and r.json()["count"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": "2026-01-05", "value": "NaN"}, "value"),
        ('{"period": "2026-01-05", "value": NaN}', "value"),
        ('{"period": "2026-01-05", "value": Infinity}', "value"),
        ({"period": "2026-01-05", "value": 1e300}, "value"),
        ({"period": "2026-01-05", "value": "twelve"}, "value"),
        ({"period": "2026-01-05", "value": True}, "value"),
        ({"period": "yesterday", "value": 1}, "period"),
        ({"period": "1700-01-01", "value": 1}, "period"),
        ({"period": "2999-01-01", "value": 1}, "period"),
        ({"value": 1}, "period"),
        ({"period": "2026-01-05"}, "value"),
        ({"period": "2026-01-05", "value": 1, "note": "x" * 600}, "note"),
    ],
)
def test_bad_input_is_4xx_naming_the_field(admin_api, kpi, body, field):
    before = sorted(DataPoint.objects.values_list("period_start", "value"))
    r = admin_api.post(f"/kpis/{kpi.pk}/points", body)
    assert 400 <= r.status_code < 500, r.content
    assert field in r.json()["errors"], r.json()
    assert sorted(DataPoint.objects.values_list("period_start", "value")) == before


def test_malformed_json_is_4xx(admin_api, kpi):
    r = admin_api.post(f"/kpis/{kpi.pk}/points", "{not json")
    assert 400 <= r.status_code < 500


def test_viewer_token_cannot_push(org, member_of, kpi):
    viewer = member_of(Role.VIEWER)
    api = Api(make_token(org, viewer))
    assert api.get("/kpis").status_code == 200
    r = api.post(f"/kpis/{kpi.pk}/points", {"period": weeks_back(1)[0].isoformat(), "value": 1})
    assert r.status_code == 403


def test_member_token_pushes_to_own_kpi(org, member, kpi):
    kpi.owner = member
    kpi.save()
    api = Api(make_token(org, member))
    r = api.post(f"/kpis/{kpi.pk}/points", {"period": weeks_back(1)[0].isoformat(), "value": 9})
    assert r.status_code == 200


def test_cycle_objectives_and_krs(org, admin_api):
    cycle = CycleFactory(organization=org)
    o = ObjectiveFactory(organization=org, cycle=cycle, title="Grow")
    KeyResultFactory(objective=o, title="Revenue", start_value=0, target_value=100,
                     current_value=50)
    foreign_cycle = CycleFactory(organization=OrganizationFactory(slug="yy"))
    cycles = admin_api.get("/cycles").json()["items"]
    assert [c["id"] for c in cycles] == [cycle.pk]
    r = admin_api.get(f"/cycles/{cycle.pk}/objectives")
    assert r.status_code == 200
    (obj,) = r.json()["items"]
    assert obj["title"] == "Grow" and obj["key_results"][0]["progress"] == 0.5
    assert admin_api.get(f"/cycles/{foreign_cycle.pk}/objectives").status_code == 404


def test_docs_page_is_served_without_cdn_or_inline_script():
    r = Client().get("/api/v1/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert "/api/v1/kpis/{kpi_id}/points" in html
    assert "cdn" not in html.lower() and "<script" not in html


@pytest.mark.parametrize("n", [2, 10])
def test_list_kpis_query_count_does_not_grow(org, admin_api, django_assert_num_queries, n):
    from kpis import health

    for i in range(n):
        KpiFactory(organization=org, name=f"Q{i}")
    health.evaluate_all()
    admin_api.get("/kpis")  # the token's last_used_at is set on first use
    # token (+org, user), membership, the count, KPIs + health + team + owner (the page's
    # ids in a subquery)
    with django_assert_num_queries(4):
        r = admin_api.get("/kpis")
    assert len(r.json()["items"]) == n


# --- The API tokens page ---------------------------------------------------------------------


def page_url(name, **kw):
    return reverse(f"api_tokens:{name}", kwargs={"org_slug": "acme", **kw})


def test_tokens_are_shown_once_and_stored_hashed(org, admin_user, leader, as_user):
    assert as_user(leader).get(page_url("list")).status_code == 403
    c = as_user(admin_user)
    r = c.post(page_url("list"), {"name": "Warehouse", "scope": "read"})
    token = ApiToken.objects.get()
    html = r.content.decode()
    raw = html.split("<code>hw_")[1].split("</code>")[0]
    assert token.token_hash == ApiToken.hash("hw_" + raw)
    assert raw not in token.token_hash
    r = c.get(page_url("list"))
    assert raw not in r.content.decode()
    r = c.post(page_url("revoke", pk=token.pk))
    assert r.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_of_another_org_cannot_be_revoked(org, admin_user, as_user, outsider):
    other = OrganizationFactory(slug="far")
    raw, prefix, hashed = ApiToken.new_token()
    token = ApiToken.objects.create(organization=other, user=outsider, name="x", prefix=prefix,
                                    token_hash=hashed)
    assert as_user(admin_user).post(page_url("revoke", pk=token.pk)).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
