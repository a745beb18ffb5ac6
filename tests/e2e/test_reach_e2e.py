"""In the browser (issue 18, the inward half): Lena mentions Mark on a key result with the @
autocomplete, Mark's "Needs you" badge shows it and the e-mail arrives; a reminder's "no
change" link opens a confirmation page and records the check-in only after its button; the
leader digest renders at 1280 and 390 px without sideways scrolling."""

from __future__ import annotations

import os
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from activity.models import Comment, Notification
from okrs.checkins.reminders import checkin_reminders_send
from okrs.models import CheckIn, Status
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    KpiFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PillarFactory,
    TeamFactory,
    UltimateGoalFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e
SHOTS = "/tmp/reachin"


def shot(page, name: str) -> None:
    """A screenshot to look at, when /tmp/reachin exists (a developer's run)."""
    if os.path.isdir(SHOTS):
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.fixture
def world(transactional_db):
    org = OrganizationFactory(name="E2E Co", slug="e2e", reminder_weekday=0, reminder_hour=0)
    lena = UserFactory(name="Lena Leader", email="lena@example.com")
    mark = UserFactory(name="Mark Weber", email="mark@example.com")
    MembershipFactory(user=lena, organization=org, role=Role.LEADER)
    MembershipFactory(user=mark, organization=org, role=Role.MEMBER)
    team = TeamFactory(organization=org, name="Support", slug="support")
    team.members.add(mark)
    goal = UltimateGoalFactory(organization=org, title="Best support in Europe")
    pillar = PillarFactory(organization=org, goal=goal, name="Delight customers")
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org),
                                 team=team, pillar=pillar, title="Answer faster")
    kr = KeyResultFactory(objective=objective, owner=mark, title="Backlog under 50",
                          start_value=0, target_value=100, current_value=30,
                          status=Status.ON_TRACK)
    KpiFactory(organization=org, name="First response time", team=team)
    return {"org": org, "lena": lena, "mark": mark, "kr": kr}


def test_lena_mentions_mark_his_badge_and_email(open_page, world):
    org, kr, mark = world["org"], world["kr"], world["mark"]
    w = open_page()
    w.enter_as(world["lena"])
    w.goto(f"/o/{org.slug}/check-ins/kr/{kr.pk}/")
    page = w.page
    box = page.locator(f"#comment-body-key_result-{kr.pk}")
    box.wait_for(timeout=10_000)  # the thread came by htmx
    box.click()
    box.press_sequentially("Can you look at this, @Mar", delay=20)
    option = page.locator(".mention-list li", has_text="Mark Weber")
    option.wait_for(timeout=10_000)
    option.click()
    assert box.input_value() == "Can you look at this, @Mark Weber "
    box.press_sequentially("? Thanks", delay=10)
    page.get_by_role("button", name="Comment").click()
    page.locator(".comment-body", has_text="@Mark Weber ? Thanks").wait_for(timeout=10_000)
    w.assert_clean()
    shot(page, "kr-thread-1280")
    assert Comment.objects.get().author == world["lena"]
    # The e-mail (locmem here; the console backend in development) and Mark's inbox
    assert [m.to for m in mail.outbox] == [["mark@example.com"]]
    assert "Lena Leader mentioned you on Backlog under 50" in mail.outbox[0].subject
    assert Notification.objects.filter(user=mark, kind="mention").count() == 1

    m = open_page(viewport={"width": 390, "height": 844})
    m.enter_as(mark)
    m.goto(f"/o/{org.slug}/")
    badge = m.page.locator("#inbox-badge")
    expect(badge).to_have_text("2", timeout=10_000)  # the mention, his KR's check-in this week
    m.page.locator(".menu-toggle").click()  # on a phone the navigation is behind the menu button
    expect(badge).to_be_visible()
    m.goto(f"/o/{org.slug}/inbox/")
    text = m.page.locator("main").inner_text()
    assert "Lena Leader mentioned you on Backlog under 50" in text
    assert "Check in on “Backlog under 50” this week" in text
    shot(m.page, "inbox-390")
    m.page.get_by_role("button", name="Mark read").click()
    m.page.wait_for_url(re.compile(r"/inbox/$"))
    m.assert_clean()
    assert Notification.objects.get(user=mark).read_at is not None
    expect(m.page.locator("#inbox-badge")).to_have_text("1", timeout=10_000)
    assert m.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_reminder_no_change_link_records_after_confirmation(open_page, world):
    org, kr = world["org"], world["kr"]
    assert checkin_reminders_send(organization_id=org.pk, now=timezone.now()) == 1
    [message] = mail.outbox
    link = re.search(r"https?://\S+(/check-ins/no-change/[^/\s]+/)", message.body).group(1)
    w = open_page(viewport={"width": 390, "height": 844})  # from the phone, not logged in
    w.goto(link)
    page = w.page
    assert "No change this week?" in page.locator("main").inner_text()
    assert not CheckIn.objects.exists()  # opening the link writes nothing
    shot(page, "no-change-390")
    page.get_by_role("button", name="Record “no change”").click()
    page.locator("h1", has_text="Recorded").wait_for(timeout=10_000)
    w.assert_clean()
    checkin = CheckIn.objects.get()
    assert (checkin.key_result_id, checkin.value, checkin.status) == (kr.pk, 30.0,
                                                                      Status.ON_TRACK)
    again = page.goto(w.base + link)  # used: a 410 page that says so
    assert again.status == 410
    assert "This link was already used" in page.locator("main").inner_text()
    w.problems = [p for p in w.problems if "410 (Gone)" not in p]
    w.assert_clean()
    assert CheckIn.objects.count() == 1


def test_the_leader_digest_renders_at_both_widths(open_page, world):
    org = world["org"]
    for width, height in ((1280, 900), (390, 844)):
        w = open_page(viewport={"width": width, "height": height})
        w.enter_as(world["lena"])
        w.goto(f"/o/{org.slug}/digest/preview/")
        text = w.page.locator("body").inner_text()
        assert "Weekly digest · E2E Co" in text and "Delight customers" in text
        assert "Support" in text and "0 of 1" in text
        assert w.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(w.page, f"digest-{width}")
