"""In the browser (issue 18, the outgoing half): an admin adds a webhook pointing at a
local receiver and connects Slack and Teams channels (local receivers too); Mark checks in;
the receiver gets a signed checkin.created and verifies it with standardwebhooks, Slack and
Teams get their own formats; the delivery log shows the try. Pages at 1280 and 390 px."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from standardwebhooks import Webhook

from accounts.models import Role
from activity.models import ChatConnection, WebhookSubscription
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
SHOTS = Path("/tmp/reach_out")


@pytest.fixture
def receiver(settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    r = Receiver()
    yield r
    r.close()


def test_a_signed_checkin_reaches_the_webhook_slack_and_teams(open_page, receiver):
    org = OrganizationFactory(slug="e2e", name="Acme")
    olivia = UserFactory(name="Olivia Owner")
    MembershipFactory(user=olivia, organization=org, role=Role.OWNER)
    mark = UserFactory(name="Mark Member")
    MembershipFactory(user=mark, organization=org, role=Role.MEMBER)
    team = TeamFactory(organization=org, slug="support", name="Support")
    team.members.add(mark)
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org),
                                 team=team, title="Faster support")
    kr = KeyResultFactory(objective=objective, start_value=0, target_value=100,
                          current_value=10, owner=mark, title="Reply within an hour")

    # Olivia adds the webhook and copies its secret.
    admin = open_page()
    admin.enter_as(olivia)
    admin.goto(f"/o/{org.slug}/integrations/")
    page = admin.page
    page.get_by_role("link", name="Add a webhook").click()
    page.get_by_label("Endpoint URL").fill(receiver.url("/hook"))
    page.get_by_label("Description").fill("Our CRM")
    page.get_by_label("checkin.created", exact=False).check()
    page.get_by_role("button", name="Add the webhook").click()
    secret = page.locator("code.secret").inner_text().strip()
    admin.assert_clean()
    assert secret.startswith("whsec_")

    # …and connects Slack for the team and Teams for the organisation.
    for platform, path, team_name in (("Slack", "/slack", "Support"),
                                      ("Microsoft Teams", "/teams", None)):
        admin.goto(f"/o/{org.slug}/integrations/chat/new/")
        page.get_by_label(platform, exact=True).check()
        page.get_by_label("Name").fill(f"#{path[1:]}")
        page.get_by_label("Incoming-webhook URL").fill(receiver.url(path))
        if team_name:
            page.locator("#id_team").select_option(label=team_name)
        page.get_by_label("Each check-in as it happens", exact=False).check()
        page.get_by_label("The team's weekly check-in summary").check()
        page.get_by_role("button", name="Connect").click()
        page.get_by_text(f"{platform} connected").wait_for()
        admin.assert_clean()
    assert WebhookSubscription.objects.get(organization=org).events == ["checkin.created"]
    assert ChatConnection.objects.filter(organization=org).count() == 2

    # Mark checks in.
    w = open_page()
    w.enter_as(mark)
    w.goto(f"/o/{org.slug}/teams/{team.slug}/check-in/")
    row = w.page.locator(f"#kr-row-{kr.pk}")
    row.locator(f"input[name=kr{kr.pk}-value]").fill("45")
    row.locator(f"select[name=kr{kr.pk}-status]").select_option("on_track")
    row.locator(f"#ci-go-{kr.pk}").click()
    w.page.locator(f"#kr-row-{kr.pk}.ci-row--saved").wait_for(timeout=10_000)
    w.assert_clean()

    by_path = {}
    for request in receiver.requests:
        by_path.setdefault(request.path, []).append(request)
    [hook] = by_path["/hook"]
    body = Webhook(secret).verify(hook.body, hook.headers)
    assert body["type"] == "checkin.created"
    assert body["data"]["key_result_id"] == kr.pk and body["data"]["value"] == 45
    assert body["data"]["author_name"] == "Mark Member"
    [slack] = by_path["/slack"]
    [teams] = by_path["/teams"]
    fmt = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.validate(slack.json(), json.loads(
        (SCHEMAS / "slack_incoming_webhook.json").read_text()), format_checker=fmt)
    jsonschema.validate(teams.json(), json.loads(
        (SCHEMAS / "teams_incoming_webhook.json").read_text()), format_checker=fmt)
    assert slack.json()["blocks"][0]["text"]["text"] == "Check-in: Reply within an hour"
    card = teams.json()["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Check-in: Reply within an hour"

    # The delivery log shows the try; the secret is not on the page any more.
    sub = WebhookSubscription.objects.get(organization=org)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        admin.goto(f"/o/{org.slug}/integrations/webhooks/{sub.pk}/")
        log = page.locator("table.delivery-log").inner_text()
        assert "checkin.created" in log and "200" in log
        assert secret not in page.content()
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        page.screenshot(path=str(SHOTS / f"webhook_{width}.png"), full_page=True)
        admin.goto(f"/o/{org.slug}/integrations/")
        page.screenshot(path=str(SHOTS / f"integrations_{width}.png"), full_page=True)
        assert not overflow, f"the webhook page scrolls sideways at {width} px"
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
