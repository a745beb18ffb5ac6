"""Nothing doubled, in process (SQLite): a chat delivery found claimed-but-unfinished is left
"outcome unknown" and resent only by hand; a webhook's is resent with the same webhook-id;
an e-mail of a consumer is claimed before its send and never sent twice; the weekly check-in
summary per team; pruning; eager-mode sends that never slow the write."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.models import AuditEntry, Role
from activity import chat, dispatch, notify, prune, webhooks
from activity.models import ChatSummaryLog, Delivery, DeliveryAttempt, MailSend
from core.events import emit
from core.models import OutboxEvent
from tests.conftest import wait_for
from tests.factories import OrganizationFactory, TeamFactory
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

CHECKIN = {"key_result_title": "KR 1", "objective_id": 1, "value": 3.0, "author_name": "Mark",
           "team_id": None}


@pytest.fixture
def receiver(settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    r = Receiver()
    yield r
    r.close()


def _cut_send(delivery: Delivery) -> None:
    """What a worker killed mid-send leaves: claimed (SENDING, a try written), lease passed."""
    dispatch._claim(delivery.pk, timezone.now())
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now())


def _one(org, receiver, kind):
    if kind == "webhook":
        target, secret = webhooks.subscription_create(organization=org, actor=None,
                                                      url=receiver.url(), events=["checkin.created"])
    else:
        target, secret = chat.connection_create(organization=org, actor=None, platform=kind,
                                                name=kind, url=receiver.url(),
                                                events=["checkins"]), None
    event = OutboxEvent.objects.create(organization_id=org.id, kind="checkin.created",
                                       data=CHECKIN)
    dispatch.dispatch(event.pk)
    delivery = Delivery.objects.get(event=event)
    dispatch.deliver(delivery.pk)
    return target, secret, delivery


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_a_cut_chat_send_is_not_resent_by_itself(org, receiver, platform, admin_user, as_user,
                                                 django_capture_on_commit_callbacks):
    Delivery.objects.all().delete()
    conn, _secret, delivery = _one(org, receiver, platform)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.PENDING, attempts=0)
    DeliveryAttempt.objects.all().delete()
    receiver.requests.clear()
    _cut_send(delivery)
    # The sweep finds it and the task runs: it is marked unknown, nothing is posted.
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.sweep()["resumed"] == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.UNKNOWN and receiver.requests == []
    assert "Outcome unknown" in DeliveryAttempt.objects.get(delivery=delivery).error
    assert dispatch.deliver(delivery.pk) == Delivery.UNKNOWN  # a redelivered task: nothing
    assert dispatch.sweep()["resumed"] == 0 and receiver.requests == []
    # The log shows it with a resend button; the admin resends: one message, then no more.
    client = as_user(admin_user)
    page = client.get(f"/o/{org.slug}/integrations/chat/{conn.pk}/").content.decode()
    assert "Outcome unknown" in page and "Resend" in page
    resend = f"/o/{org.slug}/integrations/deliveries/{delivery.pk}/resend/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(resend, follow=True)
    assert "Resent" in response.content.decode()
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.SENT
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(resend, follow=True)
    assert "not waiting for a resend" in again.content.decode() and len(receiver.requests) == 1
    assert AuditEntry.objects.filter(organization=org, action="delivery resent").count() == 1


def test_a_cut_webhook_send_is_resent_with_the_same_id(org, receiver,
                                                       django_capture_on_commit_callbacks):
    sub, secret, delivery = _one(org, receiver, "webhook")
    first = receiver.requests[0].headers["webhook-id"]
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.PENDING)
    _cut_send(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.sweep()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.SENT
    ids = {Webhook(secret).verify(r.body, r.headers) and r.headers["webhook-id"]
           for r in receiver.requests}
    assert ids == {first} == {str(delivery.event_id)}


def test_resend_is_for_this_organisation_and_these_states_only(org, receiver, admin_user,
                                                               as_user, member_of):
    _conn, _s, delivery = _one(org, receiver, "slack")
    client = as_user(admin_user)
    path = f"/o/{org.slug}/integrations/deliveries/{delivery.pk}/resend/"
    assert client.get(path).status_code == 405
    response = client.post(path, follow=True)  # it was sent: nothing happens
    assert "not waiting for a resend" in response.content.decode()
    assert len(receiver.requests) == 1
    other = OrganizationFactory()
    outsider = member_of(Role.ADMIN, organization=other)
    assert as_user(outsider).post(f"/o/{other.slug}/integrations/deliveries/{delivery.pk}/resend/"
                                  ).status_code == 404
    assert as_user(member_of(Role.LEADER)).post(path).status_code == 403


# --- E-mail at most once ---------------------------------------------------------------------

def test_an_email_is_claimed_before_its_send_and_never_sent_twice(org, admin_user):
    event = OutboxEvent.objects.create(organization_id=org.id, kind="comment.mentioned")
    sends = []
    assert notify.send_once(event_id=event.id, user=admin_user, kind="mention",
                            send=sends.append)
    assert not notify.send_once(event_id=event.id, user=admin_user, kind="mention",
                                send=sends.append)  # a retry of the handler
    assert sends == [admin_user]
    assert MailSend.objects.get().sent_at is not None
    # A worker killed between the claim and the mark: the claim stays, nothing is resent.
    other = OutboxEvent.objects.create(organization_id=org.id, kind="comment.mentioned")
    MailSend.objects.create(event_id=other.id, user=admin_user, kind="mention")
    assert not notify.send_once(event_id=other.id, user=admin_user, kind="mention",
                                send=sends.append)
    assert sends == [admin_user]


def test_a_send_that_raised_is_released_for_the_retry(org, admin_user):
    event = OutboxEvent.objects.create(organization_id=org.id, kind="comment.mentioned")

    def broken(user):
        raise ConnectionRefusedError("SMTP down")

    with pytest.raises(ConnectionRefusedError):
        notify.send_once(event_id=event.id, user=admin_user, kind="mention", send=broken)
    assert not MailSend.objects.exists()
    assert notify.send_once(event_id=event.id, user=admin_user, kind="mention",
                            send=lambda u: None)


def test_a_mention_handler_run_twice_sends_one_email(org, admin_user, member_of,
                                                     django_capture_on_commit_callbacks):
    from activity.comments import comment_create, find_target
    from tests.factories import ObjectiveFactory

    mark = member_of(Role.MEMBER, name="Mark Member")
    objective = ObjectiveFactory(organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        comment_create(organization=org, author=admin_user,
                       target=find_target(org, "objective", objective.pk),
                       body="@Mark Member look")
    assert [m.to for m in mail.outbox] == [[mark.email]]
    event = OutboxEvent.objects.get(kind="comment.mentioned")
    notify.notify_mentioned(event)  # a retry after a crash before the "sent" mark
    assert len(mail.outbox) == 1


# --- The weekly check-in summary -------------------------------------------------------------

def test_a_teams_summary_is_weekly_not_per_checkin(org, receiver, django_capture_on_commit_callbacks):
    from tests.factories import CheckInFactory, CycleFactory, KeyResultFactory, ObjectiveFactory

    team = TeamFactory(organization=org, name="Support")
    now = timezone.now()
    local = now.astimezone(org.tz)
    this_monday = local.date() - dt.timedelta(days=local.weekday())
    last_monday = this_monday - dt.timedelta(weeks=1)
    cycle = CycleFactory(organization=org, start=last_monday - dt.timedelta(days=30),
                         end=this_monday + dt.timedelta(days=60))
    objective = ObjectiveFactory(organization=org, team=team, cycle=cycle)
    krs = [KeyResultFactory(objective=objective, title=f"KR {i}") for i in range(3)]
    CheckInFactory(key_result=krs[0], week_start=last_monday)
    conn = chat.connection_create(organization=org, actor=None, platform="slack", name="s",
                                  url=receiver.url(), events=["checkin_summary"], team=team)
    moment = dt.datetime.combine(this_monday, dt.time(9), tzinfo=org.tz)  # after 08:00 Monday
    with django_capture_on_commit_callbacks(execute=True):
        written = chat.chat_summaries_emit(organization_id=org.id, now=moment)
    assert written == 1
    event = OutboxEvent.objects.get(kind="checkins.summary")
    assert event.data["done"] == 1 and event.data["total"] == 3
    assert event.data["team_id"] == team.pk
    [request] = receiver.requests
    text = str(request.json())
    assert "Support" in text and "1 of 3" in text and "KR 1" in text
    # Once per team and week, whatever the runs.
    with django_capture_on_commit_callbacks(execute=True):
        assert chat.chat_summaries_emit(organization_id=org.id,
                                        now=moment + dt.timedelta(hours=3)) == 0
    assert ChatSummaryLog.objects.count() == 1 and len(receiver.requests) == 1
    # A check-in itself posts nothing to a connection that chose only the summary.
    assert conn not in chat.connections_for(OutboxEvent(organization_id=org.id,
                                                        kind="checkin.created",
                                                        data={"team_id": team.pk}))
    # Before the digest moment nothing is written.
    assert chat.chat_summaries_emit(organization_id=org.id,
                                    now=moment + dt.timedelta(weeks=1, hours=-2)) == 0


# --- Pruning ---------------------------------------------------------------------------------

def test_prune_keeps_what_is_open_and_the_last_n_per_subscription(org, receiver, settings):
    settings.HEADWAY_OUTBOX_RETENTION_DAYS = 30
    settings.HEADWAY_DELIVERY_LOG_KEEP = 3
    sub, _ = webhooks.subscription_create(organization=org, actor=None, url=receiver.url(),
                                          events=["checkin.created"])
    old = timezone.now() - dt.timedelta(days=40)
    events = []
    for i in range(6):
        event = OutboxEvent.objects.create(organization_id=org.id, kind="checkin.created",
                                           created_at=old + dt.timedelta(minutes=i),
                                           dispatched_at=old)
        d = Delivery.objects.create(event=event, organization_id=org.id, created_at=event.created_at,
                                    destination=sub.destination, subscription=sub,
                                    status=Delivery.SENT)
        DeliveryAttempt.objects.create(delivery=d, number=1, ok=True, status_code=200)
        events.append(event)
    handler_only = OutboxEvent.objects.create(organization_id=org.id, kind="comment.created",
                                              created_at=old, dispatched_at=old)
    waiting = OutboxEvent.objects.create(organization_id=org.id, kind="checkin.created",
                                         created_at=old, dispatched_at=old)
    Delivery.objects.create(event=waiting, organization_id=org.id, destination="webhook:0",
                            status=Delivery.PENDING, created_at=old - dt.timedelta(days=1))
    undispatched = OutboxEvent.objects.create(organization_id=org.id, kind="checkin.created",
                                              created_at=old)
    recent = emit(org.id, "test.nothing", {})
    counts = prune.prune()
    left = set(OutboxEvent.objects.values_list("id", flat=True))
    assert left == {e.id for e in events[3:]} | {waiting.id, undispatched.id, recent.id}
    assert handler_only.id not in left
    assert counts["events"] == 4 and counts["deliveries"] == 3 and counts["tries"] == 3
    assert prune.prune()["events"] == 0
    settings.HEADWAY_OUTBOX_RETENTION_DAYS = 1  # never below 8 days
    assert prune.retention_days() == 8


# --- Eager mode: the write never waits on a receiver ------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_eager_mode_sends_in_the_background(settings):
    settings.HEADWAY_EAGER_DELIVERY = "thread"
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    receiver = Receiver()
    receiver.delay = 3.0
    try:
        org = OrganizationFactory()
        chat.connection_create(organization=org, actor=None, platform="slack", name="s",
                               url=receiver.url(), events=["checkins"])
        started = time.monotonic()
        with transaction.atomic():
            emit(org.id, "checkin.created", CHECKIN)
        took = time.monotonic() - started
        assert took < 1.5, took  # the receiver takes 3 s
        # Wait without touching the database (SQLite's shared in-memory cache locks tables
        # between threads): the receiver has it, then the thread records it.
        wait_for(lambda: len(receiver.requests) == 1, timeout=30, interval=0.1)
        dispatch._background().submit(time.sleep, 0).result()
        time.sleep(receiver.delay + 1.0)
        assert Delivery.objects.get().status == Delivery.SENT
        print(f"write with a 3 s receiver: {took * 1000:.0f} ms (under load)")
    finally:
        receiver.close()
