"""The webhook subscription endpoints (issue 21 over issue 18's webhooks): admins' tokens only;
the secret is in the create and rotate answers only (and signs a real delivery to a receiver
on 127.0.0.1); the page's validation and SSRF guard; audited writes; the delivery log paged;
another organisation's subscription is 404."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from accounts.models import AuditEntry
from activity import dispatch, webhooks
from activity.models import WebhookSubscription
from tests.conftest import count_queries
from tests.test_api import make_token
from tests.test_api_okrs import JApi
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def admin_api(org, admin_user):
    return JApi(make_token(org, admin_user))


def get(api, path):
    return api.client.get(f"/api/v1{path}", **api.headers)


def test_an_admin_subscribes_and_the_secret_is_shown_once_and_signs(
        org, admin_api, receiver, django_capture_on_commit_callbacks):
    r = admin_api.send("post", "/webhook-subscriptions", {
        "url": receiver.url(), "events": ["cycle.closed", "checkin.created"],
        "description": "CRM"})
    assert r.status_code == 201, r.content
    body = r.json()
    sub = WebhookSubscription.objects.get(organization=org)
    assert body["secret"] == sub.secret() and body["secret"].startswith("whsec_")
    assert body["events"] == ["checkin.created", "cycle.closed"]  # the service's order
    assert AuditEntry.objects.filter(action="webhook created", object_id=str(sub.pk)).exists()
    # Never read back.
    for answer in (get(admin_api, f"/webhook-subscriptions/{sub.pk}"),
                   get(admin_api, "/webhook-subscriptions")):
        assert answer.status_code == 200 and sub.secret() not in answer.content.decode()
        assert "secret" not in answer.content.decode().replace("previous_secret_until", "")
    # The secret signs a real delivery, which the delivery log then lists.
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.send_test(subscription=sub)
    [request] = receiver.requests
    assert Webhook(body["secret"]).verify(request.body, request.headers)["type"] == "webhook.test"
    log = get(admin_api, f"/webhook-subscriptions/{sub.pk}/deliveries").json()
    assert log["count"] == 1
    [entry] = log["items"]
    assert entry["event"] == "webhook.test" and entry["ok"] and entry["status_code"] == 200


def test_rotation_returns_the_new_secret_once_and_the_old_one_keeps_signing(
        org, owner, admin_api, receiver):
    sub, old = webhooks.subscription_create(organization=org, actor=owner, url=receiver.url(),
                                            events=["checkin.created"])
    r = admin_api.send("post", f"/webhook-subscriptions/{sub.pk}/rotate-secret")
    assert r.status_code == 200, r.content
    new = r.json()["secret"]
    sub.refresh_from_db()
    assert new != old and sub.secret() == new and sub.signing_secrets() == [new, old]
    assert r.json()["previous_secret_until"]
    assert new not in get(admin_api, f"/webhook-subscriptions/{sub.pk}").content.decode()
    assert AuditEntry.objects.filter(action="webhook secret rotated").exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "http://127.0.0.1:9/hook", "events": ["checkin.created"]}, "url"),  # SSRF guard
    ({"url": "http://10.0.0.5/hook", "events": ["checkin.created"]}, "url"),
    ({"url": "ftp://example.com/x", "events": ["checkin.created"]}, "url"),
    ({"url": "https://u:p@example.com/x", "events": ["checkin.created"]}, "url"),
    ({"url": "http://127.0.0.1/x", "events": ["comment.created"]}, "events"),  # internal kind
    ({"url": "http://127.0.0.1/x", "events": []}, "events"),
    ({"url": "x" * 3000, "events": ["checkin.created"]}, "url"),
    ({"url": "http://127.0.0.1/x", "events": ["checkin.created"], "description": "d" * 201},
     "description"),
])
def test_bad_input_is_a_json_error_naming_the_field(admin_api, body, field):
    r = admin_api.send("post", "/webhook-subscriptions", body)
    assert r.status_code in (400, 422), r.content
    assert any(k.startswith(field) for k in r.json()["errors"]), r.json()
    assert not WebhookSubscription.objects.exists()


def test_update_enable_and_delete(org, owner, admin_api, receiver):
    sub, _ = webhooks.subscription_create(organization=org, actor=owner, url=receiver.url(),
                                          events=["checkin.created"])
    r = admin_api.send("patch", f"/webhook-subscriptions/{sub.pk}", {
        "events": ["objective.created"], "description": "New", "enabled": False})
    assert r.status_code == 200, r.content
    assert r.json()["events"] == ["objective.created"] and r.json()["enabled"] is False
    sub.refresh_from_db()
    assert sub.url == receiver.url() and sub.description == "New" and not sub.enabled
    assert AuditEntry.objects.filter(action="webhook updated").count() == 1
    assert AuditEntry.objects.filter(action="webhook disabled").count() == 1
    # An untouched update changes and audits nothing.
    before = AuditEntry.objects.count()
    r = admin_api.send("patch", f"/webhook-subscriptions/{sub.pk}", {
        "url": receiver.url(), "events": ["objective.created"], "description": "New",
        "enabled": False})
    assert r.status_code == 200 and AuditEntry.objects.count() == before
    # The guard on update too; nothing changes.
    r = admin_api.send("patch", f"/webhook-subscriptions/{sub.pk}", {"url": "http://10.1.1.1/"})
    assert r.status_code == 400 and "url" in r.json()["errors"]
    assert WebhookSubscription.objects.get(pk=sub.pk).url == receiver.url()
    r = admin_api.send("delete", f"/webhook-subscriptions/{sub.pk}")
    assert r.status_code == 204 and not WebhookSubscription.objects.exists()
    assert AuditEntry.objects.filter(action="webhook deleted").exists()


def test_roles_below_admin_are_403_and_other_organisations_404(org, owner, member, leader,
                                                               admin_api, outsider):
    sub, _ = webhooks.subscription_create(organization=org, actor=owner,
                                          url="http://127.0.0.1:1/", events=["cycle.closed"])
    paths = ["/webhook-subscriptions", f"/webhook-subscriptions/{sub.pk}",
             f"/webhook-subscriptions/{sub.pk}/deliveries"]
    writes = [("post", "/webhook-subscriptions"), ("patch", f"/webhook-subscriptions/{sub.pk}"),
              ("delete", f"/webhook-subscriptions/{sub.pk}"),
              ("post", f"/webhook-subscriptions/{sub.pk}/rotate-secret")]
    valid = {"url": "http://127.0.0.1:1/", "events": ["checkin.created"], "enabled": False}
    for user in (member, leader):
        api = JApi(make_token(org, user))
        for path in paths:
            assert get(api, path).status_code == 403, path
        for method, path in writes:
            r = api.send(method, path, valid)
            assert r.status_code == 403 and r.json()["detail"], (method, path)
    foreign = JApi(make_token(outsider.memberships.get().organization, outsider))
    for path in paths[1:]:
        assert get(foreign, path).status_code == 404, path
    for method, path in writes[1:]:
        assert foreign.send(method, path, valid).status_code == 404
    assert get(foreign, "/webhook-subscriptions").json()["items"] == []
    sub.refresh_from_db()
    assert sub.enabled and WebhookSubscription.objects.count() == 1
    assert get(admin_api, f"/webhook-subscriptions/{sub.pk}").status_code == 200
    assert get(JApi(make_token(org, owner)), "/webhook-subscriptions").json()["count"] == 1


@pytest.mark.parametrize("n", [2, 20])
def test_list_query_count_is_constant(org, owner, admin_api, n):
    for i in range(n):
        webhooks.subscription_create(organization=org, actor=owner,
                                     url=f"http://127.0.0.1:1/{i}", events=["cycle.closed"])
    with count_queries() as q:
        r = get(admin_api, "/webhook-subscriptions?size=50")
    assert r.status_code == 200 and r.json()["count"] == n
    assert len(q) == 5, q.listing()  # token, membership, last-used, count, page
