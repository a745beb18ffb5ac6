"""Journey: the loop, as a leader sees it (issue 14): a KPI drifts → "Improvement
candidate" → promoted from its page → "In improvement" on its page and the board → the
quarter is closed early (the close form warns) with the draft objective cancelled → the KPI
is a candidate again, back in the dashboard's queue, and the dashboard still shows the
quarter."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.models import Role
from kpis import health, services
from kpis.models import Kpi
from kpis.periods import period_start
from tests.factories import (
    CycleFactory,
    KpiFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e


def _weeks(n):
    last = period_start(timezone.localdate(), "weekly") - dt.timedelta(weeks=1)
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


def test_candidate_promoted_cancelled_back_in_the_queue(open_page):
    org = OrganizationFactory(name="Acme", slug="acme")
    leader = UserFactory(name="Lena Leader", email="lena@example.com")
    MembershipFactory(user=leader, organization=org, role=Role.ADMIN)
    quarter = CycleFactory(organization=org, name="This quarter")
    kpi = KpiFactory(organization=org, name="Reply time", unit="min", decimals=0,
                     frequency=Kpi.Frequency.WEEKLY, target_rule="at_most", target_value=30)
    services.kpi_record_values(rows=[services.Row(kpi=kpi, period_start=p, value=v) for p, v in
                                     zip(_weeks(6), [25, 26, 24, 27, 52, 55], strict=True)],
                               source="manual", author=None)
    health.evaluate_kpi(kpi)

    w = open_page()
    w.enter_as(leader)
    w.goto(f"/o/acme/kpis/{kpi.pk}/")
    head = w.page.locator(".page-head [data-loop-state]")
    assert head.inner_text() == "Improvement candidate"
    w.page.once("dialog", lambda d: d.accept())
    w.page.locator("button", has_text="Promote to an improvement OKR").click()
    w.page.wait_for_url(re.compile(r"/o/acme/okrs/\d+/$"))
    w.assert_clean()

    w.goto(f"/o/acme/kpis/{kpi.pk}/")
    assert w.page.locator(".page-head [data-loop-state]").inner_text() == "In improvement"
    assert w.page.locator("#cand-h").inner_text() == "In improvement"
    assert "intent:" not in w.page.inner_text(".page-head")
    w.goto("/o/acme/kpis/")
    assert "In improvement" in w.page.inner_text("main")

    # Close the quarter early: the form says it has not ended; closed with the proposed
    # statuses, the draft improvement objective is cancelled.
    w.goto(f"/o/acme/okrs/cycles/{quarter.pk}/close/")
    assert "has not ended yet" in w.page.inner_text("#close-early")
    w.page.check("#id_confirm")
    w.page.locator("button", has_text="Close This quarter").click()
    w.page.wait_for_url(re.compile(r"/carry-over/|/carry_over/|/carry"))
    w.assert_clean()
    quarter.refresh_from_db()
    assert quarter.is_closed

    w.goto(f"/o/acme/kpis/{kpi.pk}/")
    assert w.page.locator(".page-head [data-loop-state]").inner_text() == "Improvement candidate"
    history = w.page.inner_text("main")
    assert "In improvement → Improvement candidate" in history
    w.goto("/o/acme/")
    assert "This quarter" in w.page.inner_text("main")  # not an empty year
    assert w.page.locator(f"#candidate-{kpi.pk}").count() == 1  # back in the queue
