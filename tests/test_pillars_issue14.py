"""Issue 14: the pillars page counts objectives by the goal page's rule (defect 10), and a
pillar can be deleted after a confirmation that says what happens to its objectives
(defect 12)."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from goals import selectors as goal_selectors
from goals.models import Cycle, PillarFigure, StrategicPillar
from okrs import services as S
from okrs.models import Objective
from tests.conftest import page_queries
from tests.factories import CycleFactory, PillarFactory
from tests.test_figures import assert_figures_match


def _world(org, admin_user):
    today = timezone.localdate()
    year = CycleFactory(organization=org, name="Year", kind=Cycle.Kind.YEAR,
                        start=today - dt.timedelta(days=100), end=today + dt.timedelta(days=265))
    quarter = CycleFactory(organization=org, name="This quarter", parent=year,
                           start=today - dt.timedelta(days=40), end=today + dt.timedelta(days=50))
    last = CycleFactory(organization=org, name="Last quarter", parent=year,
                        start=today - dt.timedelta(days=100), end=today - dt.timedelta(days=41))
    growth, people = (PillarFactory(organization=org, name="Growth"),
                      PillarFactory(organization=org, name="People"))

    def objective(title, cycle, pillar=None, parent=None, state="active"):
        return S.objective_create(organization=org, actor=admin_user, data={
            "title": title, "cycle": cycle, "pillar": pillar, "parent": parent,
            "state": state}, key_results=[{"title": "K", "start_value": 0,
                                           "target_value": 100, "current_value": 50}])

    company = objective("Company", quarter, growth)
    objective("Team, aligned under Company", quarter, parent=company)  # supports growth too
    objective("Draft", quarter, growth, state="draft")  # drafts do not count
    objective("Last quarter's", last, growth)  # another cycle
    objective("People", quarter, people)
    return {"quarter": quarter, "last": last, "growth": growth, "people": people,
            "company": company}


def _counts(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'class="num pillar-count">(\d+)<', html)]


def test_pillars_page_counts_like_the_goal_page(org, admin_user, as_user):
    w = _world(org, admin_user)
    client = as_user(admin_user)
    pillars_page = client.get(reverse("goals:pillars", kwargs={"org_slug": org.slug}))
    goal_page = client.get(reverse("okrs:goal", kwargs={"org_slug": org.slug}))
    # Growth: Company + the objective aligned under it (not the draft, not last quarter's).
    assert _counts(pillars_page.content.decode()) == [2, 1]
    assert "Objectives in This quarter" in pillars_page.content.decode()
    goal_html = goal_page.content.decode()
    assert re.findall(r'<span class="muted">(\d+) objectives?</span>', goal_html) == ["2", "1"]
    # Another cycle, asked for: the same rule there.
    other = client.get(reverse("goals:pillars", kwargs={"org_slug": org.slug})
                       + f"?cycle={w['last'].pk}").content.decode()
    assert _counts(other) == [1, 0]
    figures = goal_selectors.pillar_figures(w["quarter"])
    assert figures[w["growth"].pk].objective_count == 2


def test_pillars_page_query_count_does_not_grow(org, admin_user, as_user):
    _world(org, admin_user)
    client = as_user(admin_user)
    path = reverse("goals:pillars", kwargs={"org_slug": org.slug})
    small = page_queries(client, path)
    for i in range(6):
        PillarFactory(organization=org, name=f"More {i}")
    assert page_queries(client, path) == small


def test_delete_confirmation_says_what_happens(org, admin_user, as_user):
    w = _world(org, admin_user)
    client = as_user(admin_user)
    path = reverse("goals:pillar_delete", kwargs={"org_slug": org.slug, "pk": w["growth"].pk})
    html = client.get(path).content.decode()
    # Company, the draft and last quarter's are aligned directly; the aligned-under one is not.
    assert "3 objectives</strong> are aligned to this pillar (3 in open cycles)" in html
    assert "without a pillar" in html and "archive it instead" in html
    # A bare POST (no confirmation field) deletes nothing.
    assert client.post(path).status_code == 200
    assert StrategicPillar.objects.filter(pk=w["growth"].pk).exists()


def test_delete_keeps_objectives_and_figures_true(org, admin_user, as_user):
    w = _world(org, admin_user)
    client = as_user(admin_user)
    path = reverse("goals:pillar_delete", kwargs={"org_slug": org.slug, "pk": w["growth"].pk})
    response = client.post(path, {"confirm": "delete"}, follow=True)
    assert "Pillar “Growth” deleted." in response.content.decode()
    assert not StrategicPillar.objects.filter(pk=w["growth"].pk).exists()
    assert Objective.objects.filter(organization=org).count() == 5  # all kept
    company = Objective.objects.get(pk=w["company"].pk)
    assert company.pillar_id is None and company.pillar_ids == []
    assert not any(w["growth"].pk in (o.figure_pillars or []) or w["growth"].pk in
                   (o.pillar_ids or []) for o in Objective.objects.filter(organization=org))
    assert not PillarFigure.objects.filter(pillar_id=w["growth"].pk).exists()
    assert_figures_match(org)
    # Later writes to what supported it work (no figure row for a missing pillar).
    S.objective_update(objective=company, actor=admin_user, version=company.version,
                       data={"pillar": w["people"]})
    assert_figures_match(org)
    assert goal_selectors.pillar_figures(w["quarter"])[w["people"].pk].objective_count == 3
    entry = AuditEntry.objects.get(action="deleted", object_type="goals.strategicpillar")
    assert "3 aligned objective(s) kept without a pillar" in entry.note


def test_only_admins_delete_pillars(org, leader, as_user, admin_user):
    w = _world(org, admin_user)
    path = reverse("goals:pillar_delete", kwargs={"org_slug": org.slug, "pk": w["growth"].pk})
    assert as_user(leader).post(path, {"confirm": "delete"}).status_code == 403
    assert StrategicPillar.objects.filter(pk=w["growth"].pk).exists()
