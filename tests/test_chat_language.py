"""Slack and Teams messages in the organisation's language (accounts.locale.language_for):
the texts Headway writes are translated, what people wrote is kept, and every payload still
matches the documented shapes (tests/schemas/)."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from activity import chat
from activity.models import ChatConnection
from core.models import OutboxEvent
from tests.factories import OrganizationFactory
from tests.test_chat import EVENTS, SLACK, TEAMS, validate

pytestmark = pytest.mark.django_db

SUMMARY = ("checkins.summary", {
    "team_id": 1, "team_name": "Support", "week_start": "2026-11-23", "week_label": "x",
    "done": 1, "total": 3, "checked": [{"title": "NPS 40", "status": "on_track"}],
    "checked_more": 0, "missing": ["Backlog", "Churn"], "missing_more": 4,
    "url": "http://testserver/o/x/"})


def payloads(org, kind, data):
    event = OutboxEvent(organization_id=org.id, kind=kind, data=data)
    return {platform: chat.payload_for(ChatConnection(organization=org, platform=platform,
                                                      name="x"), event)
            for platform in (ChatConnection.SLACK, ChatConnection.TEAMS)}


@pytest.mark.parametrize("language", ["de", "fr", "es"])
@pytest.mark.parametrize("kind, data", [*EVENTS, SUMMARY])
def test_messages_keep_their_shape_in_every_language(language, kind, data):
    org = OrganizationFactory(language=language)
    sent = payloads(org, kind, data)
    validate(sent[ChatConnection.SLACK], SLACK)
    validate(sent[ChatConnection.TEAMS], TEAMS)


def test_a_german_organisation_gets_german_messages():
    org = OrganizationFactory(language="de", name="Acme")
    candidate = payloads(org, "kpi.candidate_flagged", {"kpi_id": 3, "kpi_name": "Churn"})
    slack = candidate[ChatConnection.SLACK]
    assert slack["blocks"][0]["text"]["text"] == "Neuer Verbesserungskandidat: Churn"
    assert slack["blocks"][-1]["elements"][0]["text"]["text"] == "KPI öffnen"
    teams = candidate[ChatConnection.TEAMS]["attachments"][0]["content"]
    assert teams["actions"][0]["title"] == "KPI öffnen"

    health = payloads(org, "kpi.health_changed", {"kpi_id": 3, "kpi_name": "Churn",
                                                  "status": "off_target",
                                                  "previous_status": "on_target"})
    text = json.dumps(health, ensure_ascii=False)
    assert "Churn: Außerhalb des Zielwerts" in text
    assert "Vorheriger Status" in text

    summary = json.dumps(payloads(org, *SUMMARY)[ChatConnection.SLACK], ensure_ascii=False)
    assert "Support: Check-ins der Woche vom" in summary
    assert "1 von 3 Schlüsselergebnissen eingecheckt." in summary
    assert "Nicht eingecheckt: Backlog; Churn und 4 weitere" in summary
    assert "Team öffnen" in summary
    # The request's language does not leak into the message, nor the message's out of it.
    assert translation.get_language() in ("en-gb", "en")


def test_an_organisation_without_a_language_gets_the_sites():
    org = OrganizationFactory(language="")
    slack = payloads(org, "kpi.candidate_flagged", {"kpi_id": 3, "kpi_name": "Churn"})
    assert slack[ChatConnection.SLACK]["blocks"][0]["text"]["text"] == (
        "New improvement candidate: Churn")


def test_the_event_choices_are_translated():
    with translation.override("fr"):
        labels = dict(ChatConnection.EVENT_CHOICES)
        assert str(labels["digest"]) == "Synthèse hebdomadaire"


def test_the_chat_form_is_in_the_readers_language(as_user, admin_user, org):
    admin_user.language = "es"
    admin_user.save(update_fields=["language"])
    page = as_user(admin_user).get(f"/o/{org.slug}/integrations/chat/new/").content.decode()
    for text in ("Plataforma", "Toda la organización", "Resumen semanal", "Mensajes"):
        assert text in page
    response = as_user(admin_user).post(f"/o/{org.slug}/integrations/chat/new/", {
        "platform": "slack", "name": "#x", "url": "", "events": []})
    assert response.status_code in (200, 400, 422)
    assert "Pegue la URL del webhook entrante del canal." in response.content.decode()
