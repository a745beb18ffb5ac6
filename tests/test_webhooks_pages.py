"""The integrations pages: admins add, edit, rotate, test, disable and delete webhooks and
Slack/Teams connections; the secret is shown once; bad input is a message, never a 500."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from accounts.models import AuditEntry, Role
from activity import chat, webhooks
from activity.models import ChatConnection, WebhookSubscription
from tests.conftest import count_queries
from tests.factories import OrganizationFactory, TeamFactory
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    r = Receiver()
    yield r
    r.close()


def url(org, tail=""):
    return f"/o/{org.slug}/integrations/{tail}"


def test_an_admin_adds_a_webhook_and_sees_the_secret_once(org, admin_user, as_user, receiver,
                                                          django_capture_on_commit_callbacks):
    client = as_user(admin_user)
    assert "No webhooks yet" in client.get(url(org)).content.decode()
    response = client.post(url(org, "webhooks/new/"), {
        "url": receiver.url(), "description": "CRM", "events": ["checkin.created",
                                                               "cycle.closed"]})
    assert response.status_code == 201
    sub = WebhookSubscription.objects.get(organization=org)
    secret = sub.secret()
    html = response.content.decode()
    assert secret in html and "shown only once" in html
    assert sub.events == ["checkin.created", "cycle.closed"] and sub.description == "CRM"
    page = client.get(url(org, f"webhooks/{sub.pk}/")).content.decode()
    assert secret not in page and "Nothing sent yet" in page
    # A test event: signed, logged.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(org, f"webhooks/{sub.pk}/test/"), follow=True)
    assert "Test event sent" in response.content.decode()
    [request] = receiver.requests
    assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"
    page = client.get(url(org, f"webhooks/{sub.pk}/")).content.decode()
    assert "webhook.test" in page and ">200<" in page
    assert AuditEntry.objects.filter(organization=org, action="webhook created").exists()


def test_rotation_shows_the_new_secret_and_keeps_the_old_one_signing(org, owner, as_user,
                                                                      receiver):
    sub, old = webhooks.subscription_create(organization=org, actor=owner, url=receiver.url(),
                                            events=["checkin.created"])
    response = as_user(owner).post(url(org, f"webhooks/{sub.pk}/rotate/"))
    sub.refresh_from_db()
    html = response.content.decode()
    assert response.status_code == 200 and sub.secret() in html and old not in html
    assert "previous secret also signs until" in html


@pytest.mark.parametrize("data, words", [
    ({"url": "ftp://example.com/", "events": ["checkin.created"]}, "Only http:// and https://"),
    ({"url": "http://10.1.2.3/hook", "events": ["checkin.created"]}, "private"),
    ({"url": "https://example.com/" + "a" * 100_000, "events": ["checkin.created"]},
     "Ensure this value has at most"),
    ({"url": "https://example.com/", "events": ["comment.mentioned"]}, "not one of the available"),
    ({"url": "https://example.com/", "events": []}, "This field is required"),
    ({"url": "https://example.com/", "events": ["checkin.created"],
      "description": "d" * 5000}, "at most"),
])
def test_bad_input_is_a_message_on_the_page(org, admin_user, as_user, data, words):
    response = as_user(admin_user).post(url(org, "webhooks/new/"), data)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_a_nul_byte_is_refused_before_the_view(org, admin_user, as_user):
    response = as_user(admin_user).post(url(org, "webhooks/new/"), {
        "url": "https://exa\x00mple.com/", "events": ["checkin.created"]})
    assert response.status_code == 400
    assert not WebhookSubscription.objects.exists()


def test_an_untouched_save_changes_nothing(org, admin_user, as_user, receiver):
    sub, _ = webhooks.subscription_create(organization=org, actor=admin_user, url=receiver.url(),
                                          events=["checkin.created", "kpi.point_recorded"],
                                          description="BI")
    client = as_user(admin_user)
    before = WebhookSubscription.objects.values().get(pk=sub.pk)
    audits = AuditEntry.objects.count()
    response = client.post(url(org, f"webhooks/{sub.pk}/"), {
        "url": sub.url, "description": "BI", "events": ["checkin.created", "kpi.point_recorded"]})
    assert response.status_code == 302
    assert WebhookSubscription.objects.values().get(pk=sub.pk) == before
    assert AuditEntry.objects.count() == audits
    # A real change is saved and audited.
    client.post(url(org, f"webhooks/{sub.pk}/"), {"url": sub.url, "description": "BI",
                                                  "events": ["cycle.closed"]})
    sub.refresh_from_db()
    assert sub.events == ["cycle.closed"]
    assert AuditEntry.objects.filter(action="webhook updated").count() == 1


def test_disable_enable_delete(org, admin_user, as_user, receiver):
    sub, _ = webhooks.subscription_create(organization=org, actor=admin_user, url=receiver.url(),
                                          events=["checkin.created"])
    client = as_user(admin_user)
    client.post(url(org, f"webhooks/{sub.pk}/enabled/"), {"enabled": "0"})
    sub.refresh_from_db()
    assert not sub.enabled
    response = client.post(url(org, f"webhooks/{sub.pk}/test/"), follow=True)
    assert "Enable the webhook before" in response.content.decode()
    client.post(url(org, f"webhooks/{sub.pk}/enabled/"), {"enabled": "1"})
    sub.refresh_from_db()
    assert sub.enabled
    client.post(url(org, f"webhooks/{sub.pk}/delete/"))
    assert not WebhookSubscription.objects.exists()


def test_another_organisations_integrations_are_404(org, admin_user, as_user, receiver):
    other = OrganizationFactory()
    sub, _ = webhooks.subscription_create(organization=other, actor=None, url=receiver.url(),
                                          events=["checkin.created"])
    conn = chat.connection_create(organization=other, actor=None, platform="slack", name="x",
                                  url=receiver.url(), events=["candidate"])
    client = as_user(admin_user)
    for tail in (f"webhooks/{sub.pk}/", f"chat/{conn.pk}/"):
        assert client.get(url(org, tail)).status_code == 404
    for tail in (f"webhooks/{sub.pk}/rotate/", f"webhooks/{sub.pk}/delete/",
                 f"chat/{conn.pk}/delete/", f"chat/{conn.pk}/test/"):
        assert client.post(url(org, tail)).status_code == 404
    assert WebhookSubscription.objects.filter(pk=sub.pk).exists()
    assert ChatConnection.objects.filter(pk=conn.pk).exists()


def test_members_and_leaders_may_not_open_them(org, member_of, as_user):
    for role in (Role.VIEWER, Role.MEMBER, Role.LEADER):
        assert as_user(member_of(role)).get(url(org)).status_code == 403


def test_an_admin_connects_slack_for_a_team(org, admin_user, as_user, receiver,
                                            django_capture_on_commit_callbacks):
    team = TeamFactory(organization=org, name="Support")
    client = as_user(admin_user)
    response = client.post(url(org, "chat/new/"), {
        "platform": "slack", "name": "#support", "url": receiver.url("/services/T/B/X"),
        "team": team.pk, "events": ["checkins", "kpi_off"]}, follow=True)
    conn = ChatConnection.objects.get(organization=org)
    html = response.content.decode()
    assert "Slack connected" in html and "not a usual Slack address" in html
    assert "/services/T/B/X" not in html  # the URL is a credential: never shown again
    assert conn.team == team and conn.events == ["kpi_off", "checkins"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(org, f"chat/{conn.pk}/test/"))
    assert receiver.requests[0].json()["blocks"][0]["text"]["text"] == "Headway is connected"
    # Saved untouched (the URL left empty keeps the stored one): nothing changes.
    before = ChatConnection.objects.values().get(pk=conn.pk)
    response = client.post(url(org, f"chat/{conn.pk}/"), {
        "name": "#support", "url": "", "team": team.pk, "events": ["checkins", "kpi_off"]})
    assert response.status_code == 302
    assert ChatConnection.objects.values().get(pk=conn.pk) == before
    # Bad input: a message, nothing stored.
    response = client.post(url(org, "chat/new/"), {
        "platform": "teams", "name": "x", "url": "http://192.168.0.10/x", "events": ["digest"]})
    assert response.status_code == 400 and "private" in response.content.decode()
    response = client.post(url(org, "chat/new/"), {
        "platform": "teams", "name": "x", "url": "", "events": ["digest"]})
    assert response.status_code == 400 and "Paste the channel" in response.content.decode()
    assert ChatConnection.objects.count() == 1


def _add_log(org, sub, n):
    from activity.models import Delivery, DeliveryAttempt
    from core.models import OutboxEvent

    for _ in range(n):
        event = OutboxEvent.objects.create(organization_id=org.id, kind="checkin.created")
        d = Delivery.objects.create(event=event, organization_id=org.id,
                                    destination=sub.destination, subscription=sub)
        DeliveryAttempt.objects.create(delivery=d, number=1, status_code=500, error="x")


def test_the_pages_read_a_constant_number_of_queries(org, admin_user, as_user, receiver):
    client = as_user(admin_user)
    sub, _ = webhooks.subscription_create(organization=org, actor=admin_user, url=receiver.url(),
                                          events=["checkin.created"])
    counts = []
    for n in (2, 20):
        _add_log(org, sub, n)
        webhooks.subscription_create(organization=org, actor=admin_user, url=receiver.url(),
                                     events=["cycle.closed"])
        chat.connection_create(organization=org, actor=None, platform="teams", name="t",
                               url=receiver.url(), events=["digest"])
        with count_queries() as listing:
            assert client.get(url(org)).status_code == 200
        with count_queries() as detail:
            assert client.get(url(org, f"webhooks/{sub.pk}/")).status_code == 200
        counts.append((len(listing), len(detail)))
    print("integrations page, webhook page queries", counts)
    assert counts[0] == counts[1]
