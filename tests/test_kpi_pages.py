"""KPI pages: board, detail, forms, candidates, CSV import — access and input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from kpis import health
from kpis.models import DataPoint, DataPointRevision, HealthEvent, Kpi, KpiHealth, TargetChange
from kpis.periods import period_start
from okrs.models import KeyResult, Objective
from tests.factories import CycleFactory, KpiFactory, OrganizationFactory, TeamFactory

pytestmark = pytest.mark.django_db


def url(name, **kw):
    return reverse(f"kpis:{name}", kwargs={"org_slug": "acme", **kw})


def weeks_back(n):
    last = period_start(timezone.localdate(), "weekly") - dt.timedelta(weeks=1)
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


def make_kpis(org, n, points=12):
    team = TeamFactory(organization=org)
    out = []
    for i in range(n):
        k = KpiFactory(organization=org, name=f"K{i:03}", team=team)
        DataPoint.objects.bulk_create(
            [DataPoint(kpi=k, period_start=p, value=20 + (j % 3)) for j, p in
             enumerate(weeks_back(points))]
        )
        out.append(k)
    health.evaluate_all()
    return out


# --- The board ----------------------------------------------------------------------------


def test_board_lists_kpis_with_status_target_and_sparkline(org, viewer, as_user):
    (kpi,) = make_kpis(org, 1)
    r = as_user(viewer).get(url("list"))
    assert r.status_code == 200
    html = r.content.decode()
    assert kpi.name in html and "at most 30.0 min" in html and "On target" in html
    # The sparkline is inline SVG with its text alternative: no figure JSON, no plotly.js.
    assert f'<svg class="sparkline" width="100%" height="40" role="img" aria-label="{kpi.name}: ' \
           'last 12 values"' in html
    assert 'class="plot-data"' not in html and "plotly" not in html


def test_board_filters(org, viewer, as_user):
    a, b = make_kpis(org, 2)
    Kpi.objects.filter(pk=b.pk).update(intent="improve")
    r = as_user(viewer).get(url("list"), {"intent": "improve"})
    assert b.name in r.content.decode() and a.name not in r.content.decode()
    r = as_user(viewer).get(url("list"), {"status": "off_target"})
    assert "No KPI matches" in r.content.decode()
    r = as_user(viewer).get(url("list"), {"team": "abc", "status": "nonsense"})
    assert r.status_code == 200
    r = as_user(viewer).get(url("list"), {"intent": "improve"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "<html" not in r.content.decode()


@pytest.mark.parametrize("n", [3, 12])
def test_board_query_count_does_not_grow(org, viewer, as_user, django_assert_num_queries, n):
    make_kpis(org, n)
    client = as_user(viewer)
    # session, user, membership (+org), other memberships for the switcher (context
    # processor), teams for the filter, count for the pager, one page of KPIs + health +
    # team (a subquery picks the page's ids), recent points of that page, the page's
    # failing data sources (kpis.feeds)
    with django_assert_num_queries(9):
        r = client.get(url("list"))
    assert r.status_code == 200


def test_board_pages_fifty_kpis_at_a_time(org, viewer, as_user, django_assert_num_queries):
    make_kpis(org, 53)
    client = as_user(viewer)
    first = client.get(url("list")).content.decode()
    assert "KPIs 1–50 of 53" in first and first.count('class="sparkline"') == 50
    with django_assert_num_queries(9):
        second = client.get(url("list"), {"page": 2}).content.decode()
    assert "KPIs 51–53 of 53" in second
    assert "← Previous" in second and "Next →" not in second
    # Past the end, or junk: the nearest valid page, never an error.
    assert client.get(url("list"), {"page": "99"}).status_code == 200
    assert client.get(url("list"), {"page": "x"}).status_code == 200


def test_board_pages_list_active_kpis_first_by_name(org, django_assert_num_queries):
    """Pages are read active KPIs first (by the name index), then the inactive ones: the
    pages put together are the board's order, whatever the page size."""
    from kpis import selectors

    kpis = make_kpis(org, 11, points=3)
    Kpi.objects.filter(pk__in=[kpis[i].pk for i in (0, 4, 5, 9)]).update(active=False)
    expected = list(selectors.kpi_board_queryset(org).values_list("name", flat=True))
    assert expected[:7] == ["K001", "K002", "K003", "K006", "K007", "K008", "K010"]
    total = len(expected)
    for size in (1, 2, 3, 5, 7, 11, 50):
        pages = [selectors.kpi_board(org, offset=o, limit=size, total=total)
                 for o in range(0, total, size)]
        assert [r.kpi.name for page in pages for r in page] == expected, size
        assert all(len(r.values) == 3 for page in pages for r in page)
    # A page of active KPIs only: the page, then its points.
    with django_assert_num_queries(2):
        selectors.kpi_board(org, offset=0, limit=5, total=total)
    # The last page of active KPIs reaching into the inactive ones: one query more.
    with django_assert_num_queries(3):
        rows = selectors.kpi_board(org, offset=5, limit=5, total=total)
    assert [r.kpi.name for r in rows] == ["K008", "K010", "K000", "K004", "K005"]
    # A page of inactive KPIs only: the empty active slice, the count of active KPIs,
    # the inactive slice, the points.
    with django_assert_num_queries(4):
        rows = selectors.kpi_board(org, offset=8, limit=5, total=total)
    assert [r.kpi.name for r in rows] == ["K004", "K005", "K009"]
    # Without the total (the candidates page reads everything; others may page blindly).
    assert [r.kpi.name for r in selectors.kpi_board(org, offset=6, limit=50)] == expected[6:]
    assert [r.kpi.name for r in selectors.kpi_board(org)] == expected
    # A status filter sorts its matches (same order); nothing to show: no query at all.
    on_target = list(selectors.kpi_board_queryset(org, status="on_target")
                     .values_list("name", flat=True))
    assert on_target == expected
    for size in (2, 5):
        assert [r.kpi.name for o in range(0, total, size) for r in selectors.kpi_board(
            org, status="on_target", offset=o, limit=size, total=total)] == expected
    with django_assert_num_queries(0):
        assert selectors.kpi_board(org, status="off_target", offset=0, limit=5, total=0) == []
    # Filters apply to both parts.
    Kpi.objects.filter(pk=kpis[4].pk).update(intent="improve")
    Kpi.objects.filter(pk=kpis[3].pk).update(intent="improve")
    assert [r.kpi.name for r in selectors.kpi_board(org, intent="improve", offset=0, limit=1)
            + selectors.kpi_board(org, intent="improve", offset=1, limit=1)] == ["K003", "K004"]


def test_board_shows_pending_health(org, viewer, as_user):
    (kpi,) = make_kpis(org, 1)
    Kpi.objects.filter(pk=kpi.pk).update(data_changed_at=timezone.now())
    r = as_user(viewer).get(url("list"))
    assert "Pending" in r.content.decode()
    r = as_user(viewer).get(url("detail", pk=kpi.pk))
    assert "Health pending" in r.content.decode()


def test_outsider_gets_404_everywhere(org, outsider, as_user):
    (kpi,) = make_kpis(org, 1)
    c = as_user(outsider)
    for name in ("detail", "edit", "import_one"):
        assert c.get(url(name, pk=kpi.pk)).status_code == 404
    for name in ("add_value", "target", "rebase", "dismiss"):
        assert c.post(url(name, pk=kpi.pk), {}).status_code == 404


def test_kpi_of_another_org_is_404_for_a_member(org, admin_user, as_user):
    other = OrganizationFactory(slug="globex2")
    foreign = KpiFactory(organization=other)
    c = as_user(admin_user)
    assert c.get(url("detail", pk=foreign.pk)).status_code == 404
    assert c.post(url("add_value", pk=foreign.pk), {"period": "2026-01-05", "value": "1"}
                  ).status_code == 404
    assert not DataPoint.objects.filter(kpi=foreign).exists()


# --- Detail and forms -------------------------------------------------------------------------


def test_detail_shows_chart_table_history(org, viewer, as_user):
    (kpi,) = make_kpis(org, 1)
    r = as_user(viewer).get(url("detail", pk=kpi.pk))
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-target="xmr-chart"' in html and "Natural process limits" in html
    assert "Health history" in html and "Add or correct a value" not in html  # viewer


def test_detail_table_shows_values_sources_and_corrections(org, admin_user, as_user):
    """The data table's cells (formatted in the view, not by template filters)."""
    from kpis import services

    kpi = KpiFactory(organization=org, decimals=1)
    p1, p2, p3 = weeks_back(3)
    DataPoint.objects.create(kpi=kpi, period_start=p1, value=20.25, note="a <b>note</b>")
    DataPoint.objects.create(kpi=kpi, period_start=p2, value=-0.04, source="csv",
                             author=admin_user)
    DataPoint.objects.create(kpi=kpi, period_start=p3, value=21.0)
    services.kpi_record_value(kpi=kpi, period=p3, value=22.35, author=admin_user)
    html = as_user(admin_user).get(url("detail", pk=kpi.pk)).content.decode()
    who = admin_user.display_name
    def cell(day):  # the reader's date, the ISO date for machines (issue 20)
        return f'<td><time datetime="{day.isoformat()}">{day.day} {day:%b %Y}</time></td>'

    assert (f"<tr>{cell(p1)}<td class=\"num\">20.3</td>\n"
            f"        <td class=\"num\"></td>") in html  # half up; no moving range yet
    assert "<td>Manual</td>\n        <td>a &lt;b&gt;note&lt;/b&gt;</td>" in html
    assert (f"<tr>{cell(p2)}<td class=\"num\">0.0</td>\n"  # never "-0.0"
            f"        <td class=\"num\">20.3</td>") in html
    assert f"<td>CSV · {who}</td>" in html
    assert "<td class=\"num\">22.4</td>" in html  # 22.35 → 22.4
    assert "was 21.0 → 22.4 (" in html and f", {who})</small>" in html


def test_number_matches_floatformat():
    import random

    from django.template.defaultfilters import floatformat

    from kpis.views import _number, _number_format

    assert _number_format() is _number  # en-gb, no thousand separator
    rng = random.Random(7)
    values = [0.0, -0.0, -0.04, 0.05, 0.15, 0.25, 2.675, 99.95, 1e15, -1e15, 1e-7, 5e-324,
              123456789.125, float("inf"), float("nan")]
    values += [rng.uniform(-1e6, 1e6) for _ in range(2000)]
    values += [round(rng.uniform(-100, 100), rng.randint(0, 4)) for _ in range(2000)]
    for v in values:
        for decimals in range(4):
            assert _number(v, decimals) == str(floatformat(v, decimals)), (v, decimals)


@pytest.mark.parametrize("points", [8, 60])
def test_detail_query_count_is_fixed(org, viewer, as_user, django_assert_num_queries, points):
    (kpi,) = make_kpis(org, 1, points=points)
    # with a revision on every point, and events
    from kpis import services

    for p in kpi.points.all()[:5]:
        services.kpi_record_value(kpi=kpi, period=p.period_start, value=p.value + 1)
    c = as_user(viewer)
    # session, user, membership, switcher, kpi (+health/team/owner), points (+author),
    # revisions of the KPI's points (+author), target changes, events, linked KRs, the
    # audit trail (accounts.audit), limit periods, excluded points (kpis.chart_model), its
    # data-source feed (kpis.feeds), the derived KPIs computed from it (kpis.derived)
    with django_assert_num_queries(15):
        assert c.get(url("detail", pk=kpi.pk)).status_code == 200


def test_member_adds_value_only_to_own_kpi(org, member, as_user):
    mine = KpiFactory(organization=org, owner=member)
    theirs = KpiFactory(organization=org)
    c = as_user(member)
    monday = weeks_back(1)[0].isoformat()
    r = c.post(url("add_value", pk=mine.pk), {"period": monday, "value": "21.5"})
    assert r.status_code == 302
    assert DataPoint.objects.get(kpi=mine).value == 21.5
    r = c.post(url("add_value", pk=theirs.pk), {"period": monday, "value": "21.5"})
    assert r.status_code == 403
    assert not DataPoint.objects.filter(kpi=theirs).exists()


def test_team_member_adds_value_to_team_kpi(org, member, as_user):
    team = TeamFactory(organization=org)
    team.members.add(member)
    kpi = KpiFactory(organization=org, team=team)
    r = as_user(member).post(url("add_value", pk=kpi.pk),
                             {"period": weeks_back(1)[0].isoformat(), "value": "3"})
    assert r.status_code == 302


def test_viewer_cannot_add_values(org, viewer, as_user):
    kpi = KpiFactory(organization=org, owner=viewer)
    r = as_user(viewer).post(url("add_value", pk=kpi.pk), {"period": "2026-01-05", "value": "1"})
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("value", "period", "message"),
    [
        ("abc", None, "is not a number"),
        ("NaN", None, "not NaN or infinity"),
        ("inf", None, "not NaN or infinity"),
        ("1e20", None, "too large"),
        ("5", "1900-01-01", "too far in the past"),
        ("5", "2999-01-01", "in the future"),
        ("5", "31/12/2026", "is not a date"),
    ],
)
def test_bad_value_shows_error_and_keeps_data(org, admin_user, as_user, value, period, message):
    kpi = KpiFactory(organization=org)
    monday = weeks_back(1)[0]
    DataPoint.objects.create(kpi=kpi, period_start=monday, value=7)
    r = as_user(admin_user).post(url("add_value", pk=kpi.pk),
                                 {"period": period or monday.isoformat(), "value": value})
    assert r.status_code == 400
    assert message in r.content.decode()
    assert list(DataPoint.objects.filter(kpi=kpi).values_list("value", flat=True)) == [7]
    assert not DataPointRevision.objects.exists()


def test_correcting_a_value_keeps_a_revision(org, admin_user, as_user):
    kpi = KpiFactory(organization=org)
    monday = weeks_back(1)[0]
    DataPoint.objects.create(kpi=kpi, period_start=monday, value=7)
    r = as_user(admin_user).post(url("add_value", pk=kpi.pk),
                                 {"period": (monday + dt.timedelta(days=3)).isoformat(),
                                  "value": "9", "note": "fix"}, follow=True)
    assert "the old value is kept" in r.content.decode()
    assert DataPoint.objects.get(kpi=kpi).value == 9
    assert DataPointRevision.objects.get().old_value == 7
    assert "was 7" in r.content.decode()


def test_change_target_admin_only_with_reason(org, admin_user, leader, as_user):
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30)
    data = {"version": kpi.version, "target_rule": "at_most", "target_value": "25",
            "reason": "New SLA"}
    assert as_user(leader).post(url("target", pk=kpi.pk), data).status_code == 403
    r = as_user(admin_user).post(url("target", pk=kpi.pk), {**data, "reason": ""})
    assert r.status_code == 400 and not TargetChange.objects.exists()
    r = as_user(admin_user).post(url("target", pk=kpi.pk), data)
    assert r.status_code == 302
    kpi.refresh_from_db()
    assert kpi.target_value == 25 and TargetChange.objects.get().reason == "New SLA"
    # The same (now stale) form again: refused with a clear message, nothing overwritten.
    r = as_user(admin_user).post(url("target", pk=kpi.pk), {**data, "target_value": "5"})
    assert r.status_code == 409 and "Someone else changed" in r.content.decode()
    kpi.refresh_from_db()
    assert kpi.target_value == 25


def test_between_low_above_high_is_a_form_error(org, admin_user, as_user):
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30)
    r = as_user(admin_user).post(url("target", pk=kpi.pk), {
        "version": kpi.version, "target_rule": "between", "target_value": "9",
        "target_upper": "3", "reason": "x"})
    assert r.status_code == 400 and "must not be below the low end" in r.content.decode()
    kpi.refresh_from_db()
    assert kpi.target_rule == "at_most"


def test_rebase(org, admin_user, as_user, django_capture_on_commit_callbacks):
    (kpi,) = make_kpis(org, 1)
    with django_capture_on_commit_callbacks(execute=True):
        r = as_user(admin_user).post(url("rebase", pk=kpi.pk), {
            "version": kpi.version, "rebase_date": weeks_back(6)[0].isoformat(), "note": "n"})
    assert r.status_code == 302
    kpi.refresh_from_db()
    assert kpi.rebase_date == weeks_back(6)[0]
    assert HealthEvent.objects.filter(kpi=kpi, kind="rebase").exists()


def test_create_and_edit_kpi(org, admin_user, leader, as_user):
    data = {"name": "Churn", "unit": "%", "decimals": "1", "frequency": "monthly",
            "intent": "sustain", "target_rule": "at_most", "target_value": "2",
            "baseline_size": "20"}
    assert as_user(leader).post(url("create"), data).status_code == 403
    r = as_user(admin_user).post(url("create"), data)
    assert r.status_code == 302
    kpi = Kpi.objects.get(name="Churn")
    assert kpi.organization == org and kpi.target_value == 2
    r = as_user(admin_user).post(url("create"), data)
    assert r.status_code == 400 and "already exists" in r.content.decode()
    r = as_user(admin_user).post(url("create"), {**data, "name": "X", "target_rule": "between",
                                                 "target_value": "5", "target_upper": "1"})
    assert r.status_code == 400 and not Kpi.objects.filter(name="X").exists()
    r = as_user(admin_user).post(url("edit", pk=kpi.pk), {**data, "name": "Churn rate",
                                                          "version": kpi.version,
                                                          "active": "on"})
    assert r.status_code == 302
    kpi.refresh_from_db()
    assert kpi.name == "Churn rate" and kpi.version == 2
    r = as_user(admin_user).post(url("edit", pk=kpi.pk), {**data, "name": "Old",
                                                          "version": 1, "active": "on"})
    assert r.status_code == 409


def test_create_refuses_foreign_team(org, admin_user, as_user):
    foreign_team = TeamFactory(organization=OrganizationFactory(slug="other"))
    r = as_user(admin_user).post(url("create"), {
        "name": "T", "decimals": "0", "frequency": "weekly", "intent": "sustain",
        "target_rule": "none", "team": foreign_team.pk})
    assert r.status_code == 400 and not Kpi.objects.filter(name="T").exists()


# --- Candidates ----------------------------------------------------------------------------------


@pytest.fixture
def candidate(org):
    kpi = KpiFactory(organization=org, name="Reply time", decimals=0)
    DataPoint.objects.bulk_create([DataPoint(kpi=kpi, period_start=p, value=v) for p, v in
                                   zip(weeks_back(6), [25, 27, 26, 28, 52, 55], strict=True)])
    health.evaluate_kpi(kpi)
    assert KpiHealth.objects.get(kpi=kpi).candidate == "candidate"
    return kpi


def test_candidates_page(org, viewer, candidate, as_user):
    r = as_user(viewer).get(url("candidates"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "Reply time" in html and "Off target for 2 periods" in html
    assert "Promote" not in html  # viewer: no actions


@pytest.mark.parametrize("n", [2, 8])
def test_candidates_query_count_does_not_grow(org, viewer, as_user, django_assert_num_queries,
                                              n):
    for i in range(n):
        kpi = KpiFactory(organization=org, name=f"C{i}", decimals=0)
        DataPoint.objects.bulk_create([DataPoint(kpi=kpi, period_start=p, value=v) for p, v in
                                       zip(weeks_back(6), [25, 27, 26, 28, 52, 55], strict=True)])
    health.evaluate_all()
    c = as_user(viewer)
    # session, user, membership, switcher, candidate KPIs + health/team/owner, recent points
    with django_assert_num_queries(6):
        r = c.get(url("candidates"))
    assert r.content.decode().count("Off target for 2 periods") == n


def test_dismiss_from_candidates(org, leader, member, candidate, as_user):
    assert as_user(member).post(url("dismiss", pk=candidate.pk), {"note": "x"}).status_code == 403
    r = as_user(leader).post(url("dismiss", pk=candidate.pk), {"note": "", "next": "candidates"})
    assert r.status_code == 302
    assert KpiHealth.objects.get(kpi=candidate).candidate == "candidate"
    r = as_user(leader).post(url("dismiss", pk=candidate.pk),
                             {"note": "Seasonal", "next": "candidates"})
    assert r.status_code == 302
    h = KpiHealth.objects.get(kpi=candidate)
    assert h.candidate == "dismissed" and h.dismissed_note == "Seasonal"


def test_promote_from_the_page(org, leader, member, candidate, as_user):
    CycleFactory(organization=org)
    promote = reverse("okrs:promote_kpi", kwargs={"org_slug": "acme", "kpi_pk": candidate.pk})
    assert as_user(member).post(promote).status_code == 403
    r = as_user(leader).post(promote)
    objective = Objective.objects.get()
    assert r.status_code == 302 and str(objective.pk) in r["Location"]
    assert objective.state == "draft"
    assert KeyResult.objects.get().kpi == candidate
    r = as_user(leader).post(promote, follow=True)  # twice: a clear message, no second OKR
    assert "already targets" in r.content.decode()
    assert Objective.objects.count() == 1


def test_promote_foreign_kpi_is_404(org, leader, as_user):
    foreign = KpiFactory(organization=OrganizationFactory(slug="zzz"))
    promote = reverse("okrs:promote_kpi", kwargs={"org_slug": "acme", "kpi_pk": foreign.pk})
    assert as_user(leader).post(promote).status_code == 404


# --- CSV import --------------------------------------------------------------------------------


def csv_file(text):
    return SimpleUploadedFile("data.csv", text.encode(), content_type="text/csv")


def test_bulk_import_preview_names_every_bad_row_and_imports_nothing(org, admin_user, as_user):
    kpi = KpiFactory(organization=org, name="Reply time", frequency="weekly")
    DataPoint.objects.create(kpi=kpi, period_start=weeks_back(1)[0], value=5)
    KpiFactory(organization=OrganizationFactory(slug="other"), name="Secret")
    w = weeks_back(3)
    text = (
        "kpi,period,value,note\n"
        f"Reply time,{w[0]},30,ok\n"
        f"Nope,{w[0]},30\n"
        f"Secret,{w[0]},30\n"
        "Reply time,2026-13-01,30\n"
        f"Reply time,{w[1]},thirty\n"
        f"Reply time,{w[1]},nan\n"
        f"Reply time,{w[0] + dt.timedelta(days=2)},31\n"
        "Reply time,2999-01-04,1\n"
    )
    c = as_user(admin_user)
    r = c.post(url("import"), {"file": csv_file(text)})
    html = r.content.decode()
    assert r.status_code == 400
    assert "Unknown KPI “Nope”" in html and "Unknown KPI “Secret”" in html
    assert "is not a date" in html and "“thirty” is not a number" in html
    assert "not NaN or infinity" in html and "Duplicate period" in html
    assert "in the future" in html
    assert 'name="confirm"' not in html
    # Forcing the import anyway: nothing stored, nothing lost.
    r = c.post(url("import"), {"content": text, "confirm": "1"})
    assert r.status_code == 400
    assert list(DataPoint.objects.values_list("value", flat=True)) == [5]


def test_bulk_import_clean_file_all_or_nothing(org, admin_user, as_user,
                                              django_capture_on_commit_callbacks):
    a = KpiFactory(organization=org, name="A", frequency="weekly")
    b = KpiFactory(organization=org, name="B", frequency="monthly")
    w = weeks_back(2)
    DataPoint.objects.create(kpi=a, period_start=w[1], value=1)
    text = f"kpi,period,value\nA,{w[0]},10\nA,{w[1]},11\nb,2026-03,7,march\n"
    c = as_user(admin_user)
    r = c.post(url("import"), {"file": csv_file(text)})
    assert r.status_code == 200 and "3 rows ready" in r.content.decode()
    assert "replaces 1.0" in r.content.decode()
    assert DataPoint.objects.count() == 1  # preview stores nothing
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(url("import"), {"content": text, "confirm": "1"})
    assert r.status_code == 302
    assert DataPoint.objects.get(kpi=a, period_start=w[1]).value == 11
    assert DataPoint.objects.get(kpi=b).period_start == dt.date(2026, 3, 1)
    assert DataPoint.objects.get(kpi=b).source == "csv"
    assert DataPointRevision.objects.get().old_value == 1
    assert KpiHealth.objects.filter(kpi__in=[a, b]).count() == 2


def test_import_for_one_kpi(org, member, as_user):
    kpi = KpiFactory(organization=org, owner=member)
    other = KpiFactory(organization=org)
    w = weeks_back(2)
    c = as_user(member)
    assert c.get(url("import_one", pk=other.pk)).status_code == 403
    assert c.get(url("import", )).status_code == 403
    r = c.post(url("import_one", pk=kpi.pk), {"content": f"period,value\n{w[0]},4\n{w[1]},5\n",
                                              "confirm": "1"})
    assert r.status_code == 302
    assert DataPoint.objects.filter(kpi=kpi).count() == 2


def test_import_rejects_binary_and_empty(org, admin_user, as_user):
    c = as_user(admin_user)
    r = c.post(url("import"), {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00bad")})
    assert r.status_code == 400 and "not UTF-8" in r.content.decode()
    r = c.post(url("import"), {})
    assert r.status_code == 400 and "Choose a CSV file" in r.content.decode()
    r = c.post(url("import"), {"file": csv_file("kpi,period,value\n")})
    assert r.status_code == 400 and "no rows" in r.content.decode()


def test_role_matrix(org, member_of, as_user):
    (kpi,) = make_kpis(org, 1)
    viewer = member_of(Role.VIEWER)
    assert as_user(viewer).get(url("detail", pk=kpi.pk)).status_code == 200
    assert as_user(viewer).get(url("candidates")).status_code == 200
    assert as_user(viewer).get(url("create")).status_code == 403
    assert as_user(viewer).get(url("edit", pk=kpi.pk)).status_code == 403
