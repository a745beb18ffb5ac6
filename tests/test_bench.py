"""The benchmark cannot rot: seed_bench at a tiny scale, the floor page, run.py's helpers.

The bench app is installed only when benchmarking (HEADWAY_BENCH=1), so these tests call
the seed_bench command by its class and serve the floor page from this module's own
URLconf (the production URLconf plus bench.urls). The timed run itself
(`bench/run.py --quick`, gunicorn + a Celery worker on PostgreSQL and Redis) is a
separate CI step; nothing here asserts a timing.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import NoReverseMatch, include, path, reverse

from accounts.models import Membership, Organization, Role, Team, User
from bench import client as bench_client
from bench import env as bench_env
from bench import report as bench_report
from bench.management.commands.seed_bench import Command as SeedBench
from bench.seeding import BENCH_EMAIL, BENCH_SLUG, SCALES
from config.urls import ORG
from config.urls import urlpatterns as production_urlpatterns
from initiatives.models import Initiative
from kpis.models import DataPoint, Kpi, KpiHealth
from okrs.models import CheckIn, KeyResult, Objective

# The URLconf of bench/run.py's processes (HEADWAY_BENCH=1), for @pytest.mark.urls(__name__).
urlpatterns = [*production_urlpatterns, path(ORG, include("bench.urls"))]


def seed_bench(*args):
    call_command(SeedBench(), *args)


def counts(org):
    return {
        "teams": Team.objects.filter(organization=org).count(),
        "members": Membership.objects.filter(organization=org).count(),
        "objectives": Objective.objects.filter(organization=org).count(),
        "krs": KeyResult.objects.filter(organization=org).count(),
        "checkins": CheckIn.objects.filter(organization=org).count(),
        "initiatives": Initiative.objects.filter(organization=org).count(),
        "kpis": Kpi.objects.filter(organization=org).count(),
        "points": DataPoint.objects.filter(kpi__organization=org).count(),
    }


def fingerprint(org):
    """What the RNG decided: values, targets, check-ins (ids and timestamps aside)."""
    points = list(DataPoint.objects.filter(kpi__organization=org)
                  .order_by("kpi__name", "period_start").values_list("kpi__name", "value"))
    targets = list(Kpi.objects.filter(organization=org).order_by("name")
                   .values_list("name", "target_rule", "target_value", "target_upper"))
    checkins = list(CheckIn.objects.filter(organization=org)
                    .order_by("key_result__title", "week_start", "value")
                    .values_list("key_result__title", "week_start", "value", "status"))
    return points, targets, checkins


@pytest.mark.django_db
def test_seed_bench_tiny_makes_every_kind_of_row_and_real_health():
    size = SCALES["tiny"]
    seed_bench("--scale", "tiny")
    org = Organization.objects.get(slug=BENCH_SLUG)
    got = counts(org)
    assert got == {
        "teams": size.teams,
        "members": size.members + 1,  # + the bench owner
        "objectives": size.objectives,
        "krs": size.krs,
        "checkins": size.krs * size.checkin_weeks,
        "initiatives": size.initiatives,
        "kpis": size.kpis,
        "points": size.kpis * size.points,
    }
    bench = User.objects.get(email=BENCH_EMAIL)
    assert bench.check_password("headway-bench")
    assert Membership.objects.get(user=bench, organization=org).role == Role.OWNER
    # Every KPI's health was computed by the engine from its points.
    health = KpiHealth.objects.filter(kpi__organization=org)
    assert health.count() == size.kpis
    assert not health.filter(evaluated_at__isnull=True).exists()
    assert not health.exclude(points_count=size.points).exclude(points_count=0).exists()
    # Key results mirror their latest check-in; check-ins keep their own dates.
    kr = KeyResult.objects.filter(organization=org, kind="metric").order_by("pk").first()
    latest = CheckIn.objects.filter(key_result=kr).order_by("-created_at").first()
    assert kr.current_value == latest.value and kr.last_checkin_at == latest.created_at
    assert CheckIn.objects.filter(key_result=kr).values("week_start").distinct().count() == (
        size.checkin_weeks)


@pytest.mark.django_db
def test_seed_bench_is_idempotent_deterministic_and_resettable():
    seed_bench("--scale", "tiny")
    org = Organization.objects.get(slug=BENCH_SLUG)
    first = fingerprint(org)
    before = counts(org)

    seed_bench("--scale", "tiny")  # a second run changes nothing
    assert counts(org) == before

    with pytest.raises(CommandError, match="--reset"):
        seed_bench("--scale", "small")

    seed_bench("--scale", "tiny", "--reset")
    org = Organization.objects.get(slug=BENCH_SLUG)
    assert counts(org) == before
    assert fingerprint(org) == first  # the same seed gives the same data
    assert Organization.objects.filter(slug=BENCH_SLUG).count() == 1


def test_production_has_no_benchmark_app_or_url():
    assert not apps.is_installed("bench")
    with pytest.raises(NoReverseMatch):
        reverse("bench:floor", kwargs={"org_slug": "acme"})
    with pytest.raises(CommandError, match="Unknown command"):
        call_command("seed_bench", "--scale", "tiny")


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_bench_floor_page(as_user, org, viewer, outsider, django_assert_num_queries):
    Team.objects.create(organization=org, name="Zeta", slug="zeta")
    Team.objects.create(organization=org, name="Alpha", slug="alpha")
    url = reverse("bench:floor", kwargs={"org_slug": org.slug})
    assert url == f"/o/{org.slug}/bench/floor/"  # the path bench/run.py always measured
    client = as_user(viewer)
    client.get(url)
    # session, user, membership + organisation, the teams (the one query of its own),
    # and the navigation's other memberships.
    with django_assert_num_queries(5):
        resp = client.get(url)
    assert resp.status_code == 200
    body = resp.content.decode()
    assert body.index("Alpha") < body.index("Zeta")
    assert as_user(outsider).get(url).status_code == 404


def test_run_helpers_parse_forms_and_percentiles():
    html = """
    <form method="post" action="/o/x/check-ins/kr/7/new/">
      <input type="hidden" name="csrfmiddlewaretoken" value="tok">
      <input name="kr-7-value" value="">
      <select name="kr-7-status"><option value="">–</option><option value="on_track">On</option>
        <option value="off_track" selected>Off</option></select>
      <input type="checkbox" name="kr-7-done">
      <textarea name="kr-7-comment"></textarea>
      <button type="submit">Save</button>
    </form>"""
    (form,) = bench_client.parse_forms(html)
    assert form["action"] == "/o/x/check-ins/kr/7/new/" and form["method"] == "post"
    assert form["fields"] == {"csrfmiddlewaretoken": "tok", "kr-7-value": "",
                              "kr-7-status": "off_track", "kr-7-comment": ""}
    assert form["selects"]["kr-7-status"] == ["", "on_track", "off_track"]
    assert bench_report.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert bench_report.percentile([5.0], 0.95) == 5.0


def test_run_uses_its_own_database(monkeypatch):
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://ci@db.example:5433/headway")
    assert bench_env.bench_database_url(False) == "postgres://ci@db.example:5433/headway_bench"
    assert bench_env.bench_database_url(True) == "postgres://ci@db.example:5433/headway_bench_quick"
    monkeypatch.setenv("DATABASE_URL", "")
    assert bench_env.bench_database_url(False).endswith("127.0.0.1:5432/headway_bench")
    monkeypatch.setenv("BENCH_DATABASE_URL", "postgres://x@h/other")
    assert bench_env.bench_database_url(True) == "postgres://x@h/other"
