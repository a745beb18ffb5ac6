"""Runs of data sources end to end (no browser): recording, idempotency, replacement with
revision, bad rows write nothing, one run at a time, failures on the KPI, tenancy, HTTP
sources through the SSRF guard against a local server, webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from core import secrets
from kpis.models import DataPoint, DataPointRevision, HealthEvent, Kpi
from sources import services
from sources.models import DataSource, Feed, SourceRun
from tests.factories import KpiFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.sources.warehouses import stream_forever, weeks


def make_source(org, kpi=None, **fields):
    data = {"name": fields.pop("name", "Warehouse"), "kind": fields.pop("kind", "sql"),
            "schedule": "manual", "timeout_seconds": 10, "row_cap": 10_000, "active": True,
            **fields}
    return services.source_create(organization=org, actor=None, kpi=kpi, **data)


@pytest.fixture
def kpi(org, admin_user):
    return KpiFactory(organization=org, name="Tickets opened", owner=admin_user,
                      frequency=Kpi.Frequency.WEEKLY)


@pytest.fixture(autouse=True)
def _commit_callbacks(django_capture_on_commit_callbacks):
    """Run on-commit work (health evaluation, e-mails) as a real commit would."""
    global _capture
    _capture = django_capture_on_commit_callbacks


_capture = None


def run(source, trigger="manual"):
    with _capture(execute=True):
        out = services.source_run(source_id=source.pk, trigger=trigger)
    source.refresh_from_db()
    return out


def test_sql_run_records_then_second_run_writes_nothing(org, kpi, sqlite_warehouse):
    source = make_source(org, kpi, url=f"sqlite:///{sqlite_warehouse}",
                         query="select week, opened from tickets")
    first = run(source)
    assert (first.status, first.rows_read, first.created, first.replaced) == ("ok", 6, 6, 0)
    points = list(DataPoint.objects.filter(kpi=kpi).order_by("period_start"))
    assert [p.value for p in points] == [10, 11, 12, 13, 14, 15]
    assert {p.source for p in points} == {"sql"}
    assert points[0].source_ref == f"source {source.pk} run {first.pk}"
    kpi.refresh_from_db()
    assert kpi.health.points_count == 6  # health re-evaluated (the worker, eager here)

    changed_at = kpi.data_changed_at
    second = run(source)
    assert (second.status, second.created, second.replaced, second.unchanged) == ("ok", 0, 0, 6)
    assert not DataPointRevision.objects.exists()
    kpi.refresh_from_db()
    assert kpi.data_changed_at == changed_at  # nothing changed: no re-evaluation queued


def test_changed_value_is_a_replacement_with_revision(org, kpi, sqlite_warehouse, admin_user):
    from kpis.services import kpi_record_value

    source = make_source(org, kpi, url=f"sqlite:///{sqlite_warehouse}",
                         query="select week, opened from tickets")
    run(source)
    week = weeks(6)[-1]
    # A manual correction of a fed point, then the warehouse changes the same week.
    kpi_record_value(kpi=kpi, period=week, value=99, author=admin_user)
    con = sqlite3.connect(sqlite_warehouse)
    con.execute("update tickets set opened = 50 where week = ?", (week.isoformat(),))
    con.commit()
    third = run(source)
    assert (third.created, third.replaced, third.unchanged) == (0, 1, 5)
    point = DataPoint.objects.get(kpi=kpi, period_start=week)
    assert (point.value, point.source) == (50, "sql")
    history = list(point.revisions.order_by("id").values_list("old_value", "old_source",
                                                              "new_value"))
    assert history == [(15, "sql", 99), (99, "manual", 50)]


def test_bad_row_names_the_row_and_writes_nothing(org, kpi, sqlite_warehouse):
    con = sqlite3.connect(sqlite_warehouse)
    con.execute("insert into tickets values ('2026-13-40', 'support', 1)")
    con.execute("insert into tickets values ('2026-01-05', 'support', 'many')")
    con.commit()
    source = make_source(org, kpi, url=f"sqlite:///{sqlite_warehouse}",
                         query="select week, opened from tickets order by rowid")
    result = run(source)
    assert result.status == "failed"
    assert "Row 7 (2026-13-40, 1)" in result.row_errors[0]
    assert "Row 8" in result.row_errors[1] and "many" in result.row_errors[1]
    assert not DataPoint.objects.filter(kpi=kpi).exists()
    assert source.failing_since is not None and "bad row" in source.last_error


def test_future_period_and_wrong_column_count_are_row_errors(org, kpi, sqlite_warehouse):
    source = make_source(org, kpi, url=f"sqlite:///{sqlite_warehouse}",
                         query="select '2999-01-04', 1")
    result = run(source)
    assert result.status == "failed" and "is in the future" in result.row_errors[0]
    DataSource.objects.filter(pk=source.pk).update(query="select 1, 2, 3, 4")
    result = run(source)
    assert result.status == "failed" and "found 4 columns" in result.row_errors[0]
    assert not DataPoint.objects.exists()


def test_failure_shows_on_the_kpi_and_tells_owner_and_admins(org, kpi, sqlite_warehouse,
                                                              admin_user, as_user):
    source = make_source(org, kpi, url=f"sqlite:///{sqlite_warehouse}",
                         query="select week, opened from tickets")
    run(source)
    con = sqlite3.connect(sqlite_warehouse)
    con.execute("alter table tickets rename to tickets_old")
    con.commit()
    failed = run(source)
    assert failed.status == "failed" and "no such table: tickets" in failed.error
    assert HealthEvent.objects.filter(kpi=kpi, kind="source", new="failing").count() == 1
    assert len(mail.outbox) == 1 and admin_user.email in mail.outbox[0].to
    run(source)  # still failing: no second e-mail
    assert len(mail.outbox) == 1
    page = as_user(admin_user).get(reverse("kpis:detail", kwargs={"org_slug": org.slug,
                                                                  "pk": kpi.pk}))
    text = page.content.decode()
    assert "failing since" in text and "no such table: tickets" in text
    board = as_user(admin_user).get(reverse("kpis:list", kwargs={"org_slug": org.slug}))
    assert "Source failing" in board.content.decode()
    operations = as_user(admin_user).get(reverse("dashboards:operations",
                                                 kwargs={"org_slug": org.slug}))
    assert operations.status_code == 200 and "Source failing" in operations.content.decode()


def test_one_run_at_a_time(org, kpi, sqlite_warehouse):
    source = make_source(org, kpi, url=f"sqlite:///{sqlite_warehouse}",
                         query="select week, opened from tickets")
    assert services.claim(source.pk)
    assert services.source_run(source_id=source.pk) is None  # the claim is held
    assert not SourceRun.objects.exists()
    DataSource.objects.filter(pk=source.pk).update(running_since=None)
    assert services.source_run(source_id=source.pk).status == "ok"


def test_multi_kpi_query_by_key(org, sqlite_warehouse):
    a = KpiFactory(organization=org, name="Support tickets")
    b = KpiFactory(organization=org, name="Sales tickets")
    con = sqlite3.connect(sqlite_warehouse)
    con.executemany("insert into tickets values (?, 'sales', ?)",
                    [(w.isoformat(), 5) for w in weeks(3)])
    con.commit()
    source = make_source(org, url=f"sqlite:///{sqlite_warehouse}",
                         query="select team, week, opened from tickets")
    services.feed_add(source=source, kpi=a, key="support")
    services.feed_add(source=source, kpi=b, key="sales")
    result = run(source)
    assert (result.status, result.created) == ("ok", 9)
    assert DataPoint.objects.filter(kpi=b).count() == 3


def test_tenancy_feeds_and_pages(org, kpi, sqlite_warehouse, admin_user, as_user):
    other = OrganizationFactory(name="Globex", slug="globex")
    foreign_kpi = KpiFactory(organization=other)
    source = make_source(org, url=f"sqlite:///{sqlite_warehouse}", query="select 1, 2")
    with pytest.raises(services.ValidationError):
        services.feed_add(source=source, kpi=foreign_kpi)
    globex_admin = UserFactory()
    MembershipFactory(user=globex_admin, organization=other, role=Role.ADMIN)
    client = as_user(globex_admin)
    for name in ("sources:detail", "sources:edit"):
        assert client.get(reverse(name, kwargs={"org_slug": org.slug, "pk": source.pk})
                          ).status_code == 404
        # Their own organisation's URL with acme's source id: 404 too.
        assert client.get(reverse(name, kwargs={"org_slug": other.slug, "pk": source.pk})
                          ).status_code == 404
    assert source.name not in client.get(
        reverse("sources:list", kwargs={"org_slug": other.slug})).content.decode()


def test_secrets_encrypted_and_never_shown(org, kpi, pg_warehouse, admin_user, as_user):
    url, _ = pg_warehouse
    with_password = url.replace("postgres@", "postgres:s3cr3t-pw@")
    source = make_source(org, kpi, url=with_password, query="select 1, 2")
    assert "s3cr3t-pw" not in source.url_encrypted and "s3cr3t-pw" not in source.url_display
    assert secrets.decrypt(source.url_encrypted) == with_password
    page = as_user(admin_user).get(reverse("sources:edit", kwargs={"org_slug": org.slug,
                                                                   "pk": source.pk}))
    assert "s3cr3t-pw" not in page.content.decode()
    from accounts.models import AuditEntry

    assert "s3cr3t-pw" not in json.dumps(list(AuditEntry.objects.values("changes", "note")))


# --- HTTP sources ---------------------------------------------------------------------------

def test_http_csv_and_json(org, kpi, http_site, settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    rows = "\n".join(f"{w.isoformat()},{i}" for i, w in enumerate(weeks(4)))
    http_site.routes["/t.csv"] = (200, "text/csv", f"period,value\n{rows}\n".encode(), {})
    source = make_source(org, kpi, kind="http", url=f"{http_site.url}/t.csv", auth="bearer",
                         secret="tok-123")
    assert run(source).created == 4
    assert http_site.seen[-1]["headers"]["Authorization"] == "Bearer tok-123"
    body = json.dumps({"data": [{"week": w.isoformat(), "n": 7} for w in weeks(4)]}).encode()
    http_site.routes["/t.json"] = (200, "application/json", body, {})
    services.source_update(source=source, actor=None, version=source.version,
                           url=f"{http_site.url}/t.json", format="json",
                           json_path="data[*].{period: week, value: n}", kind="http",
                           name=source.name, schedule="manual")
    source.refresh_from_db()
    result = run(source)
    assert (result.status, result.replaced) == ("ok", 4), result.error


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]/x", "http://10.1.2.3/x", "http://localhost/x"])
def test_http_private_addresses_refused(org, kpi, url, settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = []
    source = make_source(org, kpi, kind="http", url=url)
    result = run(source)
    assert result.status == "failed" and "refused" in result.error


def test_http_redirect_to_private_refused(org, kpi, http_site, settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    http_site.routes["/r"] = (302, "text/plain", b"", {"Location": "http://169.254.169.254/"})
    source = make_source(org, kpi, kind="http", url=f"{http_site.url}/r")
    result = run(source)
    assert "169.254.169.254" in result.error and "refused" in result.error


def test_http_huge_response_is_cut(org, kpi, http_site, settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    http_site.routes["/big"] = (200, "text/csv", stream_forever(b"2026-01-05,1\n" * 8192, 20), {})
    source = make_source(org, kpi, kind="http", url=f"{http_site.url}/big")
    result = run(source)
    assert result.status == "failed" and "larger than 5 MB" in result.error
    assert not DataPoint.objects.exists()


def test_http_malformed_json(org, kpi, http_site, settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    http_site.routes["/bad"] = (200, "application/json", b"{not json", {})
    source = make_source(org, kpi, kind="http", url=f"{http_site.url}/bad", format="json")
    result = run(source)
    assert result.status == "failed" and "not valid JSON" in result.error


# --- Webhooks ---------------------------------------------------------------------------------

def _hook(source) -> str:
    return reverse("source_webhook", kwargs={"token": secrets.decrypt(
        source.webhook_token_encrypted)})


def test_webhook_records_json_and_csv_with_signature(org, kpi):
    source = make_source(org, kpi, kind="webhook", hmac_secret="shh")
    client = Client(enforce_csrf_checks=True)
    week = weeks(1)[0].isoformat()
    body = json.dumps({"period": week, "value": 12}).encode()
    assert client.post(_hook(source), body, content_type="application/json").status_code == 401
    sig = "sha256=" + hmac.new(b"shh", body, hashlib.sha256).hexdigest()
    response = client.post(_hook(source), body, content_type="application/json",
                           HTTP_X_HEADWAY_SIGNATURE=sig)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1
    assert DataPoint.objects.get(kpi=kpi).source == "webhook"
    csv_body = f"period,value\n{week},13\n".encode()
    sig = "sha256=" + hmac.new(b"shh", csv_body, hashlib.sha256).hexdigest()
    response = client.post(_hook(source), csv_body, content_type="text/csv",
                           HTTP_X_HEADWAY_SIGNATURE=sig)
    assert response.json()["replaced"] == 1


def test_webhook_bad_body_is_400_and_writes_nothing(org, kpi):
    source = make_source(org, kpi, kind="webhook")
    client = Client()
    response = client.post(_hook(source), b'[{"period": "2026-01-05", "value": "x"}]',
                           content_type="application/json")
    assert response.status_code == 400 and "Row 1" in response.json()["errors"][0]
    assert client.post(_hook(source), b"{", content_type="application/json").status_code == 400
    assert client.post("/hooks/sources/not-a-token/", b"{}",
                       content_type="application/json").status_code == 404
    assert not DataPoint.objects.exists()


def test_webhook_of_one_org_cannot_write_another(org, kpi):
    other = OrganizationFactory(name="Globex", slug="globex")
    theirs = KpiFactory(organization=other, name="Tickets opened")
    source = make_source(org, kpi, kind="webhook")
    body = json.dumps({"points": [{"kpi": str(theirs.pk), "period": weeks(1)[0].isoformat(),
                                   "value": 1}]})
    response = Client().post(_hook(source), body, content_type="application/json")
    assert response.status_code == 400
    assert not DataPoint.objects.filter(kpi=theirs).exists()
    assert Feed.objects.filter(kpi=theirs).count() == 0


def test_webhook_rate_limited(org, kpi, settings):
    settings.RATELIMIT_ENABLED = True
    settings.HEADWAY_RATE_LIMITS = {"source_webhook": (2, 60)}
    source = make_source(org, kpi, kind="webhook")
    body = json.dumps({"period": weeks(1)[0].isoformat(), "value": 1})
    codes = [Client().post(_hook(source), body, content_type="application/json").status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_source_feeding_a_derived_kpi_records_nothing_and_says_why(org, kpi, admin_user,
                                                                    sqlite_warehouse):
    """A derived KPI (issue 20) is computed from its formula: a source's rows for it are
    row errors, and nothing is recorded."""
    from kpis import services as kpi_services

    ratio = kpi_services.kpi_create(organization=org, actor=admin_user, name="Doubled",
                                    frequency=Kpi.Frequency.WEEKLY, formula="[Tickets opened] * 2")
    source = make_source(org, ratio, url=f"sqlite:///{sqlite_warehouse}",
                         query="select week, opened from tickets")
    result = run(source)
    assert result.status == "failed"
    assert "Doubled is computed from its formula" in result.row_errors[0]
    assert not DataPoint.objects.filter(kpi=ratio).exists()
