"""In the browser: an admin defines a KPI, adds values until it becomes an improvement
candidate, promotes it from the dashboard, and finds the objective on the strategic review."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Role
from kpis.models import DataPoint, Kpi, KpiHealth
from okrs.models import Objective
from tests.factories import CycleFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_kpi_becomes_a_candidate_is_promoted_and_reviewed(open_page):
    org = OrganizationFactory(name="Acme", slug="acme")
    admin = UserFactory(name="Ana Admin", email="ana@example.com")
    MembershipFactory(user=admin, organization=org, role=Role.ADMIN)
    CycleFactory(organization=org, name="This quarter")

    w = open_page()
    w.enter_as(admin)
    w.goto("/o/acme/kpis/new/")
    w.page.fill("#id_name", "First reply time")
    w.page.fill("#id_unit", "min")
    w.page.select_option("#id_owner", str(admin.pk))
    w.page.select_option("#id_frequency", Kpi.Frequency.WEEKLY)
    w.page.select_option("#id_target_rule", Kpi.TargetRule.AT_MOST)
    w.page.fill("#id_target_value", "30")
    w.page.locator("main form button[type=submit]").last.click()
    w.page.wait_for_url(re.compile(r"/o/acme/kpis/\d+/$"))
    w.assert_clean()
    kpi = Kpi.objects.get(organization=org, name="First reply time")
    detail = w.path()

    # Three weekly values, the last two above the target: off target two periods running.
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    for weeks_ago, value in ((3, "25"), (2, "36"), (1, "41")):
        day = monday - dt.timedelta(weeks=weeks_ago)
        form = w.page.locator(f"form[action$='/kpis/{kpi.pk}/value/']")
        form.locator("input[name=period]").fill(day.isoformat())
        form.locator("input[name=value]").fill(value)
        form.locator("button[type=submit]").click()
        w.page.wait_for_url(re.compile(re.escape(detail) + "$"))
        w.assert_clean()
    assert DataPoint.objects.filter(kpi=kpi).count() == 3
    health = KpiHealth.objects.get(kpi=kpi)
    assert health.candidate == "candidate", health.candidate_reason
    assert "Improvement candidate" in w.page.inner_text("main")

    # Promote it from the leader dashboard, in place (htmx).
    w.goto("/o/acme/")
    w.page.evaluate("window.__notReloaded = true")
    card = w.page.locator(f"#candidate-{kpi.pk}")
    card.locator("button", has_text="Promote").click()
    w.page.locator(f"#candidate-{kpi.pk} .candidate-done").wait_for()
    assert w.page.evaluate("window.__notReloaded === true")
    w.assert_clean()
    objective = Objective.objects.get(organization=org, key_results__kpi=kpi)
    assert objective.state == Objective.State.DRAFT
    health.refresh_from_db()
    assert health.candidate == "in_improvement"

    # The promoted objective and its KPI are on the strategic review.
    try:
        review = reverse("dashboards:review", kwargs={"org_slug": org.slug})
    except NoReverseMatch:
        pytest.fail("the strategic review page (dashboards:review) does not exist yet")
    w.goto(review)
    text = w.page.inner_text("main")
    assert objective.title in text
    assert "First reply time" in text
    w.goto(f"/o/acme/okrs/{objective.pk}/")
    assert "First reply time" in w.page.inner_text("main")
