"""Slack (Block Kit) and Teams (Adaptive Card in the incoming-webhook envelope) messages:
their shape checked against the JSON Schemas in tests/schemas/ (written from the platforms'
documentation, cited in each schema), delivered to real receivers on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from django.core.exceptions import ValidationError

from activity import chat, dispatch
from activity.models import ChatConnection, Delivery
from core.events import emit
from core.models import OutboxEvent
from tests.factories import OrganizationFactory, TeamFactory
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "schemas"
SLACK = json.loads((SCHEMAS / "slack_incoming_webhook.json").read_text())
TEAMS = json.loads((SCHEMAS / "teams_incoming_webhook.json").read_text())
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER

EVENTS = [
    ("kpi.candidate_flagged", {"kpi_id": 3, "kpi_name": "Churn", "reason": "Eight points above"}),
    ("kpi.health_changed", {"kpi_id": 3, "kpi_name": "Churn", "status": "off_target",
                            "previous_status": "on_target", "latest_value": 4.25}),
    ("checkin.created", {"key_result_id": 9, "objective_id": 2, "key_result_title": "NPS 40",
                         "value": 38.0, "author_name": "Mark", "note": "Up two", "team_id": None}),
    ("digest.weekly", {"title": "Acme: the week", "lines": ["3 objectives behind pace"]}),
    ("webhook.test", {}),
    ("something.else", {}),
]


def validate(payload, schema):
    jsonschema.validate(payload, schema, format_checker=FORMATS)


@pytest.fixture
def receiver(settings):
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    r = Receiver()
    yield r
    r.close()


def connect(org, platform, url, events=("candidate", "kpi_off", "checkins", "digest"), team=None):
    return chat.connection_create(organization=org, actor=None, platform=platform,
                                  name=f"{platform} channel", url=url, events=list(events),
                                  team=team)


@pytest.mark.parametrize("kind, data", EVENTS)
def test_every_message_matches_the_documented_shapes(kind, data):
    org = OrganizationFactory()
    event = OutboxEvent(organization_id=org.id, kind=kind, data=data)
    for platform, schema in ((ChatConnection.SLACK, SLACK), (ChatConnection.TEAMS, TEAMS)):
        conn = ChatConnection(organization=org, platform=platform, name="x")
        validate(chat.payload_for(conn, event), schema)


def test_long_and_hostile_text_stays_within_the_limits():
    org = OrganizationFactory()
    name = "<!channel> & " + "K" * 100_000 + "\x00"
    event = OutboxEvent(organization_id=org.id, kind="kpi.candidate_flagged",
                        data={"kpi_id": 1, "kpi_name": name, "reason": "<@U123> " * 20_000})
    slack = chat.payload_for(ChatConnection(organization=org, platform="slack", name="x"), event)
    validate(slack, SLACK)
    text = json.dumps(slack)
    assert "<!channel>" not in text and "<@U123>" not in text and "\\u0000" not in text
    assert "&lt;!channel&gt;" in slack["blocks"][1]["text"]["text"] or "&lt;@U123&gt;" in text
    teams = chat.payload_for(ChatConnection(organization=org, platform="teams", name="x"), event)
    validate(teams, TEAMS)
    assert len(json.dumps(teams)) < 20_000


def test_the_schemas_refuse_what_slack_and_teams_refuse():
    with pytest.raises(jsonschema.ValidationError):  # header over 150 characters
        validate({"text": "x", "blocks": [{"type": "header", "text": {
            "type": "plain_text", "text": "x" * 151}}]}, SLACK)
    with pytest.raises(jsonschema.ValidationError):  # a card posted without the envelope
        validate({"type": "AdaptiveCard", "version": "1.4", "body": []}, TEAMS)


def test_slack_and_teams_receive_their_formats(receiver, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    connect(org, "slack", receiver.url("/slack"))
    connect(org, "teams", receiver.url("/teams"))
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(org.id, "kpi.candidate_flagged",
                     {"kpi_id": 5, "kpi_name": "Lead time", "reason": "Above the upper limit"})
    by_path = {r.path: r.json() for r in receiver.requests}
    assert set(by_path) == {"/slack", "/teams"}
    validate(by_path["/slack"], SLACK)
    validate(by_path["/teams"], TEAMS)
    assert by_path["/slack"]["blocks"][0]["text"]["text"] == \
        "New improvement candidate: Lead time"
    button = by_path["/slack"]["blocks"][-1]["elements"][0]
    assert button["url"].endswith(f"/o/{org.slug}/kpis/5/")
    card = by_path["/teams"]["attachments"][0]["content"]
    assert card["actions"][0]["url"].endswith(f"/o/{org.slug}/kpis/5/")
    # Dispatched again (a redelivered task): no second message.
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.dispatch(event.id)
        dispatch.sweep()
    assert len(receiver.requests) == 2
    assert Delivery.objects.filter(event=event, status=Delivery.SENT).count() == 2


def test_chosen_events_team_scope_and_unfavourable_only(receiver,
                                                        django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    team, other_team = TeamFactory(organization=org), TeamFactory(organization=org)
    connect(org, "slack", receiver.url("/team"), events=["checkins", "kpi_off"], team=team)
    connect(org, "slack", receiver.url("/org"), events=["candidate"])
    with django_capture_on_commit_callbacks(execute=True):
        emit(org.id, "checkin.created", {"key_result_id": 1, "team_id": team.id})
        emit(org.id, "checkin.created", {"key_result_id": 2, "team_id": other_team.id})
        emit(org.id, "kpi.health_changed", {"kpi_id": 1, "status": "on_target",
                                            "team_id": team.id})
        emit(org.id, "kpi.health_changed", {"kpi_id": 1, "status": "off_target",
                                            "team_id": team.id})
        emit(org.id, "kpi.candidate_flagged", {"kpi_id": 1})
    assert [r.path for r in receiver.requests] == ["/team", "/team", "/org"]


def test_the_url_is_a_secret_and_bad_urls_are_refused(receiver):
    org = OrganizationFactory()
    url = receiver.url("/T000/B000/XXXX")
    conn = connect(org, "slack", url)
    stored = ChatConnection.objects.values_list("url_encrypted", flat=True).get(pk=conn.pk)
    assert "XXXX" not in stored and conn.url() == url and conn.url_host == "127.0.0.1"
    for bad in ("ftp://hooks.slack.com/x", "http://192.168.1.1/x", "https://a\x00b/", ""):
        with pytest.raises(ValidationError):
            chat.clean_url(bad, "slack")
    with pytest.raises(ValidationError):
        chat.clean_events(["everything"])
    assert chat.expected_host("https://hooks.slack.com/services/x", "slack")
    assert chat.expected_host("https://acme.webhook.office.com/webhookb2/x", "teams")
    assert not chat.expected_host("https://hooks.slack.com.evil.test/x", "slack")


def test_the_weekly_digest_reaches_the_channels_that_chose_it_once_a_week(
        receiver, django_capture_on_commit_callbacks):
    import datetime as dt

    from activity.tasks import post_chat_digests

    org = OrganizationFactory(name="Acme")
    connect(org, "slack", receiver.url("/slack"), events=["digest"])
    connect(org, "teams", receiver.url("/teams"), events=["digest"])
    connect(org, "slack", receiver.url("/other"), events=["candidate"])
    monday = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)  # before the default 08:00
    assert chat.chat_digest_emit(organization_id=org.id, now=monday) is False
    later = monday + dt.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert chat.chat_digest_emit(organization_id=org.id, now=later) is True
        assert chat.chat_digest_emit(organization_id=org.id, now=later) is False  # once a week
        post_chat_digests()  # beat's run in the same week: nothing more
    paths = sorted(r.path for r in receiver.requests)
    assert paths == ["/slack", "/teams"]
    slack = next(r.json() for r in receiver.requests if r.path == "/slack")
    validate(slack, SLACK)
    assert slack["blocks"][0]["text"]["text"].startswith("Acme: the week of")
    validate(next(r.json() for r in receiver.requests if r.path == "/teams"), TEAMS)


def test_a_failing_channel_is_disabled_and_the_admins_told(
        receiver, django_capture_on_commit_callbacks):
    from django.utils import timezone

    org = OrganizationFactory()
    conn = connect(org, "teams", receiver.url("/teams"), events=["candidate"])
    receiver.status = 400
    receiver.answer = b"Bad payload"
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(org.id, "kpi.candidate_flagged", {"kpi_id": 1, "kpi_name": "X"})
    for _ in range(dispatch.max_tries() - 1):
        Delivery.objects.filter(status=Delivery.PENDING).update(next_attempt_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            dispatch.sweep()
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == Delivery.FAILED and len(receiver.requests) == 6
    assert delivery.tries.first().response_head == "Bad payload"
    conn.refresh_from_db()
    assert not conn.enabled
    notice = OutboxEvent.objects.get(kind="webhook.disabled")
    assert notice.data["destination"] == "teams" and notice.data["name"] == "teams channel"
