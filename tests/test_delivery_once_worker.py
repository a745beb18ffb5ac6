"""Nothing doubled, with a real Celery worker (PostgreSQL + Redis), for all three kinds of
destination at once: each event goes to a webhook, a Slack and a Teams connection on a real
receiver on 127.0.0.1 that answers slowly. The worker is SIGKILLed while a chat message is in
flight (the receiver has the request, the worker has not recorded the answer) and a new worker
is started.

- Webhooks are at least once with one id: every event arrives, under its own webhook-id on
  every request, each signature verifying; only a send the kill cut may arrive twice (same id,
  which receivers de-duplicate on).
- Slack and Teams take no idempotency key, so they are at most once: no event is ever posted
  twice to a channel; the cut send is left "unknown" (not resent by itself) and shown in the
  log with a resend button.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections import Counter, defaultdict

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from activity import chat, dispatch, webhooks
from activity.models import Delivery
from core.events import emit
from tests.conftest import ROOT, wait_for
from tests.test_faults_worker import worker_env
from tests.webhook_receiver import Receiver

N = 20
CHAT_PATHS = ("/slack", "/teams")


@pytest.fixture
def allow_local(monkeypatch, settings):
    monkeypatch.setenv("HEADWAY_SOURCE_ALLOWED_HOSTS", "127.0.0.1")
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]


def _chat_event_number(request) -> int:
    """Which event a Slack or Teams message is about (its title says "Check-in: KR <n>")."""
    body = request.json()
    if request.path == "/slack":
        title = body["blocks"][0]["text"]["text"]
    else:
        title = body["attachments"][0]["content"]["body"][0]["text"]
    return int(re.search(r"KR (\d+)", title).group(1))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_chat_send_posts_nothing_twice(org, allow_local,
                                                           celery_worker_process):
    receiver = Receiver()
    receiver.delay = 0.3  # each answer takes a moment: the kill lands inside a send
    try:
        _run(org, receiver, celery_worker_process)
    finally:
        receiver.close()


def _run(org, receiver, first_worker):
    sub, secret = webhooks.subscription_create(organization=org, actor=None,
                                               url=receiver.url("/hook"),
                                               events=["checkin.created"])
    for platform in ("slack", "teams"):
        chat.connection_create(organization=org, actor=None, platform=platform,
                               name=platform, url=receiver.url(f"/{platform}"),
                               events=["checkins"])
    started = time.monotonic()
    ids = []
    for i in range(N):
        with transaction.atomic():
            ids.append(str(emit(org.id, "checkin.created", {
                "n": i, "key_result_title": f"KR {i}", "objective_id": 1, "value": float(i),
                "author_name": "Mark", "team_id": None}).id))

    def chat_in_flight():
        with receiver.lock:
            return (len(receiver.requests) >= N
                    and receiver.requests[-1].path in CHAT_PATHS)

    wait_for(chat_in_flight, timeout=120, interval=0.005)
    first_worker.send_signal(signal.SIGKILL)  # inside the receiver's 0.3 s: mid-send
    first_worker.wait(timeout=10)
    killed_at = len(receiver.requests)
    cut = list(Delivery.objects.filter(status=Delivery.SENDING)
               .values_list("id", "destination"))
    assert any(not dest.startswith("webhook:") for _id, dest in cut), cut

    worker = subprocess.Popen(first_worker.args, cwd=ROOT, env=worker_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        back = time.monotonic()
        # The killed send's lease (120 s) is moved to now; beat's minutely sweep is run here.
        Delivery.objects.filter(pk__in=[c[0] for c in cut]).update(lease_until=timezone.now())
        wait_for(lambda: (dispatch.sweep() and False) or not Delivery.objects.filter(
            status__in=[Delivery.PENDING, Delivery.SENDING]).exists(),
            timeout=180, interval=1.0)
        caught_up = time.monotonic() - back
    finally:
        worker.terminate()
        worker.wait(10)

    statuses = Counter(Delivery.objects.values_list("status", flat=True))
    # Webhooks: at least once, one id per event.
    by_id: dict[str, list] = defaultdict(list)
    chat_posts: dict[str, Counter] = {p: Counter() for p in CHAT_PATHS}
    for request in receiver.requests:
        if request.path == "/hook":
            body = Webhook(secret).verify(request.body, request.headers)
            by_id[request.headers["webhook-id"]].append(body["data"]["n"])
        else:
            chat_posts[request.path][_chat_event_number(request)] += 1
    assert set(by_id) == set(ids)
    assert all(len(set(v)) == 1 for v in by_id.values())
    webhook_repeats = {k: len(v) for k, v in by_id.items() if len(v) > 1}
    assert len(webhook_repeats) <= sum(1 for _i, d in cut if d.startswith("webhook:"))
    assert set(Delivery.objects.filter(subscription=sub).values_list("status", flat=True)) \
        == {Delivery.SENT}
    # Slack and Teams: at most once. Never two messages for one event in one channel.
    for path, counts in chat_posts.items():
        assert not [n for n, c in counts.items() if c > 1], (path, counts)
    unknown = list(Delivery.objects.filter(status=Delivery.UNKNOWN)
                   .values_list("id", "destination"))
    assert sorted(unknown) == sorted(c for c in cut if not c[1].startswith("webhook:"))
    sent_chat = Delivery.objects.filter(chat__isnull=False, status=Delivery.SENT).count()
    posted = sum(sum(c.values()) for c in chat_posts.values())
    # Every chat delivery recorded sent was posted once; the unknown one was posted at most
    # once (the receiver had its request when the worker died: here it was).
    assert sent_chat <= posted <= sent_chat + len(unknown)
    assert sent_chat + len(unknown) == 2 * N
    print(f"\n{N} events x 3 destinations = {3 * N} deliveries; killed after {killed_at} "
          f"requests received, {len(cut)} cut mid-send {cut}; afterwards {dict(statuses)}; "
          f"{len(receiver.requests)} requests in all: webhooks {sum(map(len, by_id.values()))} "
          f"with {len(by_id)} distinct webhook-ids (repeated, same id: "
          f"{webhook_repeats or 'none'}); chat {posted} messages, the most for one event in "
          f"one channel {max(max(c.values(), default=0) for c in chat_posts.values())}; "
          f"all settled {caught_up:.1f}s after the new worker, {time.monotonic() - started:.1f}s "
          f"in all (loaded shared machine)")
