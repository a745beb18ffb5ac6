"""Outgoing webhooks against a real receiver on 127.0.0.1 (tests/webhook_receiver.py): every
request's signature is verified with standardwebhooks.Webhook(secret).verify(...)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from activity import dispatch, webhooks
from activity.models import Delivery, WebhookSubscription
from core.events import PUBLIC_KINDS, emit
from core.models import OutboxEvent
from tests.factories import OrganizationFactory
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    r = Receiver()
    yield r
    r.close()


def subscribe(org, url, events=("checkin.created",)):
    return webhooks.subscription_create(organization=org, actor=None, url=url,
                                        events=list(events))


def verify(secret, request):
    return Webhook(secret).verify(request.body, request.headers)


def run_due(capture):
    """The sweep's work now, as if each retry's time had come."""
    Delivery.objects.filter(status=Delivery.PENDING).update(next_attempt_at=timezone.now())
    with capture(execute=True):
        dispatch.sweep()


def test_a_signed_event_arrives_and_verifies(receiver, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    sub, secret = subscribe(org, receiver.url())
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = emit(org.id, "checkin.created", {"key_result_id": 7, "value": 42.0})
        assert receiver.requests == []  # nothing leaves inside the write
    [request] = receiver.requests
    body = verify(secret, request)
    assert body["type"] == "checkin.created"
    assert body["data"] == {"key_result_id": 7, "value": 42.0}
    assert request.headers["webhook-id"] == str(event.id)
    assert request.headers["content-type"] == "application/json"
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 30
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == Delivery.SENT and delivery.destination == f"webhook:{sub.pk}"
    [attempt] = delivery.tries.all()
    assert attempt.status_code == 200 and attempt.response_head == "ok" and attempt.ok
    # A forged body or another secret does not verify.
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body.replace(b"42", b"43"), request.headers)


def test_only_chosen_public_events_of_the_own_organisation(
        receiver, django_capture_on_commit_callbacks):
    org, other = OrganizationFactory(), OrganizationFactory()
    subscribe(org, receiver.url("/mine"), events=["objective.created"])
    subscribe(other, receiver.url("/theirs"), events=list(PUBLIC_KINDS))
    with django_capture_on_commit_callbacks(execute=True):
        emit(org.id, "objective.created", {"objective_id": 1})
        emit(org.id, "checkin.created", {"key_result_id": 1})  # not chosen
        emit(org.id, "comment.mentioned", {"comment_id": 1})  # internal
    assert [r.path for r in receiver.requests] == ["/mine"]


def test_retries_keep_the_webhook_id_and_log_each_try(
        receiver, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    _sub, secret = subscribe(org, receiver.url())
    receiver.statuses = [500, 503]
    receiver.answer = b"busy \x00 " + b"x" * 2000
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(org.id, "checkin.created", {"key_result_id": 1})
    receiver.answer = b"thanks"
    run_due(django_capture_on_commit_callbacks)
    run_due(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 3
    assert {r.headers["webhook-id"] for r in receiver.requests} == {str(event.id)}
    for request in receiver.requests:
        verify(secret, request)
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == Delivery.SENT and delivery.attempts == 3
    tries = list(delivery.tries.order_by("number"))
    assert [(t.number, t.status_code, t.ok) for t in tries] == [
        (1, 500, False), (2, 503, False), (3, 200, True)]
    assert tries[0].response_head.startswith("busy") and len(tries[0].response_head) <= 500
    assert "\x00" not in tries[0].response_head
    assert tries[2].response_head == "thanks"


def test_an_unreachable_receiver_never_fails_the_write(django_capture_on_commit_callbacks,
                                                       settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    org = OrganizationFactory()
    closed = Receiver()
    url = closed.url()
    closed.close()
    subscribe(org, url)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = emit(org.id, "checkin.created", {})
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == Delivery.PENDING and delivery.attempts == 1
    assert "Could not reach" in delivery.last_error
    assert OutboxEvent.objects.filter(pk=event.pk).exists()


def test_rotation_signs_with_both_secrets_during_the_grace_period(
        receiver, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    sub, old = subscribe(org, receiver.url())
    sub, new = webhooks.subscription_rotate(subscription=sub)
    assert new != old and new.startswith("whsec_")
    with django_capture_on_commit_callbacks(execute=True):
        emit(org.id, "checkin.created", {})
    request = receiver.requests[-1]
    verify(old, request)
    verify(new, request)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    # After the grace period only the new secret signs.
    WebhookSubscription.objects.filter(pk=sub.pk).update(
        previous_secret_until=timezone.now() - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        emit(org.id, "checkin.created", {})
    request = receiver.requests[-1]
    verify(new, request)
    with pytest.raises(WebhookVerificationError):
        verify(old, request)


def test_two_rotations_in_a_row_both_verify_until_grace_ends(receiver):
    org = OrganizationFactory()
    sub, first = subscribe(org, receiver.url())
    _, second = webhooks.subscription_rotate(subscription=sub)
    _, third = webhooks.subscription_rotate(subscription=sub)
    sub.refresh_from_db()
    assert sub.secret() == third
    assert len(sub.signing_secrets()) == 2  # the latest and the one it replaced
    assert first not in sub.signing_secrets()
    assert second in sub.signing_secrets()


def test_a_run_of_failures_disables_the_subscription_and_tells_the_admins(
        receiver, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    sub, _ = subscribe(org, receiver.url())
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(org.id, "checkin.created", {})
    for _ in range(dispatch.max_tries() - 1):
        run_due(django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == Delivery.FAILED and delivery.attempts == dispatch.max_tries() == 6
    assert len(receiver.requests) == 6
    sub.refresh_from_db()
    assert not sub.enabled and "6 failed tries in a row" in sub.disabled_reason
    notice = OutboxEvent.objects.get(kind="webhook.disabled")
    assert notice.organization_id == org.id
    assert notice.data["id"] == sub.pk and notice.data["destination"] == "webhook"
    # Disabled: new events are not sent to it.
    with django_capture_on_commit_callbacks(execute=True):
        emit(org.id, "checkin.created", {})
    assert len(receiver.requests) == 6
    # Enabled again: the count starts over.
    webhooks.subscription_set_enabled(subscription=sub, enabled=True)
    sub.refresh_from_db()
    assert sub.enabled and sub.consecutive_failures == 0


def test_a_test_event_reaches_one_subscription(receiver, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    sub, secret = subscribe(org, receiver.url("/a"))
    subscribe(org, receiver.url("/b"))
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.send_test(subscription=sub)
    [request] = receiver.requests
    assert request.path == "/a"
    assert verify(secret, request)["type"] == "webhook.test"


@pytest.mark.parametrize("url, words", [
    ("ftp://example.com/x", "Only http:// and https://"),
    ("javascript:alert(1)", "Only http:// and https://"),
    ("file:///etc/passwd", "Only http:// and https://"),
    ("http://10.0.0.5/hook", "private"),
    ("http://169.254.169.254/latest/meta-data", "private"),
    ("http://[::1]:8080/", "private"),
    ("http://127.0.0.1:9/", "private"),
    ("http://user:pw@example.com/", "user name or password"),
    ("http://exa\x00mple.com/", "NUL"),
    ("https://example.com/" + "a" * 3000, "longer than"),
    ("", "Enter the URL"),
])
def test_bad_urls_are_refused_in_words(url, words):
    with pytest.raises(ValidationError) as info:
        webhooks.clean_url(url)
    assert words in " ".join(info.value.messages)


def test_bad_event_lists_are_refused():
    with pytest.raises(ValidationError):
        webhooks.clean_events([])
    with pytest.raises(ValidationError):
        webhooks.clean_events(["comment.mentioned"])
    assert webhooks.clean_events(["cycle.closed", "checkin.created"]) == [
        "checkin.created", "cycle.closed"]


def test_the_secret_is_stored_encrypted(receiver):
    org = OrganizationFactory()
    sub, secret = subscribe(org, receiver.url())
    stored = WebhookSubscription.objects.values_list("secret_encrypted", flat=True).get(pk=sub.pk)
    assert secret not in stored and secret[6:] not in stored
    assert json.dumps(sub.signing_secrets()) == json.dumps([secret])
