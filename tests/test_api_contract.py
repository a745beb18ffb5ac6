"""The API's contract: one JSON error shape for every 4xx/5xx under /api/, the OpenAPI
document listing each operation's codes and bounds, pagination, token scopes."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

from accounts.models import ApiToken
from kpis.models import DataPoint
from tests.factories import KpiFactory
from tests.test_api import Api, make_token, weeks_back

pytestmark = pytest.mark.django_db


def is_error(r, status):
    assert r.status_code == status, r.content
    assert r["Content-Type"].startswith("application/json"), r["Content-Type"]
    body = r.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.fixture
def admin_api(org, admin_user):
    return Api(make_token(org, admin_user))


def test_unknown_route_under_api_is_json_404(admin_api):
    is_error(admin_api.get("/no-such-thing"), 404)
    is_error(Client().get("/api/v2/kpis"), 404)


def test_wrong_method_is_json_405_with_allow(admin_api):
    r = admin_api.client.delete("/api/v1/kpis", **admin_api.headers)
    is_error(r, 405)
    assert "GET" in r["Allow"]


def test_missing_token_is_json_401():
    body = is_error(Client().get("/api/v1/kpis"), 401)
    assert "Bearer" in body["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_body_is_json_413_and_nothing_is_stored(org, admin_api):
    kpi = KpiFactory(organization=org)
    big = {"period": weeks_back(1)[0].isoformat(), "value": 1, "note": "x" * 5000}
    is_error(admin_api.post(f"/kpis/{kpi.pk}/points", big), 413)
    assert not DataPoint.objects.exists()


@pytest.mark.parametrize("until", ["0", "1700000000", "yesterday", "2026-02-30", "2026-1-5"])
def test_a_date_is_iso_text_only(org, admin_api, until):
    kpi = KpiFactory(organization=org)
    body = is_error(admin_api.get(f"/kpis/{kpi.pk}/points", until=until), 422)
    assert "until" in body["errors"]


def test_huge_id_is_422_not_a_database_error(admin_api):
    is_error(admin_api.get(f"/kpis/{2**70}"), 422)
    is_error(admin_api.get("/kpis/0"), 422)


def test_nul_in_text_is_refused(org, admin_api):
    r = admin_api.get("/kpis", team="a\x00b")
    body = is_error(r, r.status_code)
    assert r.status_code in (400, 422) and any("team" in k for k in body["errors"])
    kpi = KpiFactory(organization=org)
    r = admin_api.post(f"/kpis/{kpi.pk}/points",
                       {"period": weeks_back(1)[0].isoformat(), "value": 1, "note": "a\x00"})
    assert r.status_code in (400, 422) and any("note" in k for k in is_error(r, r.status_code)["errors"])


def test_every_operation_documents_its_error_codes_with_the_error_schema():
    schema = Client().get("/api/v1/openapi.json").json()
    assert "ErrorOut" in schema["components"]["schemas"]
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            codes = set(op["responses"])
            assert {"400", "401", "422", "429"} <= codes, (method, path, codes)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method != "get":
                assert "403" in codes, (method, path, codes)
            if "requestBody" in op:
                assert "413" in codes, (method, path, codes)
            for code, resp in op["responses"].items():
                if code.startswith(("4", "5")):
                    ref = resp["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorOut")


def test_schema_declares_formats_and_bounds():
    schema = Client().get("/api/v1/openapi.json").json()
    params = {p["name"]: p["schema"] for p in
              schema["paths"]["/api/v1/kpis/{kpi_id}/points"]["get"]["parameters"]}
    assert {"format": "date", "type": "string"} in params["until"]["anyOf"]
    assert params["size"]["maximum"] == 500 and params["kpi_id"]["minimum"] == 1
    comps = schema["components"]["schemas"]
    assert comps["PointIn"]["properties"]["note"]["maxLength"] == 500
    assert comps["PointsIn"]["properties"]["points"]["minItems"] == 1


# --- Pagination -----------------------------------------------------------------------------


def test_kpis_page_by_page_in_a_stable_order_following_next(org, admin_api):
    for i in (5, 1, 6, 0, 3, 2, 4):
        KpiFactory(organization=org, name=f"K{i}")
    seen, url, pages = [], "/api/v1/kpis?size=3", 0
    while url:
        r = admin_api.client.get(url, **admin_api.headers)
        assert r.status_code == 200
        body = r.json()
        assert body["count"] == 7 and body["size"] == 3
        seen += [k["id"] for k in body["items"]]
        url = body["next"]
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 7
    names = [k["name"] for k in admin_api.get("/kpis", size=500).json()["items"]]
    assert names == sorted(names)
    r = admin_api.get("/kpis", page=9, size=3)
    assert r.json()["items"] == [] and r.json()["next"] is None
    assert "size" in is_error(admin_api.get("/kpis", size=501), 422)["errors"]


@pytest.mark.parametrize("n", [3, 30])
def test_kpi_pages_query_count_is_constant(org, admin_api, django_assert_num_queries, n):
    for i in range(n):
        KpiFactory(organization=org, name=f"Q{i:03}")
    admin_api.get("/kpis")  # the token's last_used_at is set on first use
    with django_assert_num_queries(4):  # token, membership, count, the page (+ joins)
        r = admin_api.get("/kpis", size=2, page=1)
    assert len(r.json()["items"]) == 2


# --- Token scopes ------------------------------------------------------------------------


def test_read_only_token_reads_but_every_write_is_403(org, admin_user):
    raw, prefix, hashed = ApiToken.new_token()
    ApiToken.objects.create(organization=org, user=admin_user, name="ro", prefix=prefix,
                            token_hash=hashed, scope=ApiToken.Scope.READ)
    kpi = KpiFactory(organization=org)
    api = Api(raw)
    assert api.get("/kpis").status_code == 200
    body = is_error(api.post(f"/kpis/{kpi.pk}/points",
                             {"period": weeks_back(1)[0].isoformat(), "value": 1}), 403)
    assert "read-only" in body["detail"]
    assert not DataPoint.objects.exists()


def test_token_page_creates_a_read_only_token_by_default_choice(org, admin_user, as_user):
    from django.urls import reverse

    url = reverse("api_tokens:list", kwargs={"org_slug": org.slug})
    c = as_user(admin_user)
    html = c.get(url).content.decode()
    assert 'value="read" ' in html and "checked" in html.split('value="read"')[1][:40]
    c.post(url, {"name": "BI", "scope": "read"})
    c.post(url, {"name": "Nightly push", "scope": "read_write"})
    assert dict(ApiToken.objects.values_list("name", "scope")) == {
        "BI": "read", "Nightly push": "read_write"}
    r = c.post(url, {"name": "Bad", "scope": "admin"})
    assert r.status_code == 200 and not ApiToken.objects.filter(name="Bad").exists()


def test_error_bodies_are_one_shape(admin_api):
    for r in (admin_api.get("/nope"), Client().get("/api/v1/kpis"),
              admin_api.get("/kpis", size=0)):
        assert set(json.loads(r.content)) <= {"detail", "errors", "retry_after"}


def test_docs_page_has_a_curl_example_per_operation():
    html = Client().get("/api/v1/docs").content.decode()
    schema = Client().get("/api/v1/openapi.json").json()
    ops = [(m, p) for p, ms in schema["paths"].items() for m in ms]
    assert html.count("<pre><code>curl") == len(ops) >= 25
    assert "Idempotency-Key" in html and "next" in html
    assert "cdn" not in html.lower() and "<script" not in html
