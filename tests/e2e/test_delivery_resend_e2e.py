"""In the browser: a Slack message whose send was cut by a worker's death shows "Outcome
unknown" in the connection's delivery log; the admin's Resend posts it once."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from accounts.models import Role
from activity import chat, dispatch
from activity.models import Delivery
from core.models import OutboxEvent
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("HEADWAY_SHOTS", "/tmp/reach2")


@pytest.fixture
def receiver(settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    r = Receiver()
    yield r
    r.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_an_unknown_chat_delivery_is_resent_by_hand(open_page, transactional_db, receiver,
                                                    width):
    org = OrganizationFactory(name="E2E Co", slug="e2e")
    olivia = UserFactory(name="Olivia Owner")
    MembershipFactory(user=olivia, organization=org, role=Role.ADMIN)
    conn = chat.connection_create(organization=org, actor=olivia, platform="slack",
                                  name="#support", url=receiver.url("/slack"),
                                  events=["checkins"])
    event = OutboxEvent.objects.create(organization_id=org.id, kind="checkin.created", data={
        "key_result_title": "Backlog under 50", "objective_id": 1, "value": 45.0,
        "author_name": "Mark", "team_id": None}, dispatched_at=timezone.now())
    delivery = Delivery.objects.create(event=event, organization_id=org.id,
                                       destination=conn.destination, chat=conn)
    # A worker claimed it and died mid-send; its lease has passed; the sweep found it.
    dispatch._claim(delivery.pk, timezone.now())
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now())
    assert dispatch.deliver(delivery.pk) == Delivery.UNKNOWN
    assert receiver.requests == []

    w = open_page(viewport={"width": width, "height": 900})
    w.enter_as(olivia)
    w.goto(f"/o/{org.slug}/integrations/chat/{conn.pk}/")
    page = w.page
    log = page.locator(".delivery-log")
    assert "Outcome unknown" in log.inner_text()
    if os.path.isdir(SHOTS):
        page.screenshot(path=f"{SHOTS}/delivery-unknown-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # The Resend button is on screen without scrolling anything sideways (phones: one card
    # per try below 760 px).
    button = log.get_by_role("button", name="Resend")
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.evaluate("[...document.querySelectorAll('.delivery-log')].every("
                         "t => t.parentElement.scrollWidth <= t.parentElement.clientWidth + 1)")
    button.click()
    page.get_by_text("Resent").first.wait_for()
    w.assert_clean()
    assert [r.path for r in receiver.requests] == ["/slack"]
    delivery.refresh_from_db()
    assert delivery.status == Delivery.SENT
    assert page.locator(".delivery-log").get_by_role("button", name="Resend").count() == 0
    if os.path.isdir(SHOTS):
        page.screenshot(path=f"{SHOTS}/delivery-resent-{width}.png", full_page=True)
