"""Each service that changes something others may care about writes its outbox event in
the same transaction (core.events.emit): the payload names ids and public fields, and a
receiver subscribed to the kind gets it signed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.models import OutboxEvent
from kpis.health import evaluate_kpi
from kpis.services import kpi_record_value
from okrs import services as okr_services
from okrs.checkins.services import checkin_create
from tests.factories import CycleFactory, KeyResultFactory, KpiFactory, TeamFactory

pytestmark = pytest.mark.django_db


def kinds(org):
    return list(OutboxEvent.objects.filter(organization_id=org.id).order_by("created_at")
                .values_list("kind", flat=True))


def test_a_checkin_emits_checkin_created(org, member):
    team = TeamFactory(organization=org)
    kr = KeyResultFactory(objective__organization=org, objective__team=team, title="NPS 40")
    checkin = checkin_create(key_result=kr, author=member, status="on_track", value=12,
                             comment="Up")
    event = OutboxEvent.objects.get(kind="checkin.created")
    assert event.organization_id == org.id
    assert event.data["checkin_id"] == checkin.pk and event.data["key_result_id"] == kr.pk
    assert event.data["objective_id"] == kr.objective_id and event.data["team_id"] == team.pk
    assert event.data["value"] == 12 and event.data["note"] == "Up"
    assert event.data["author_name"] == "Mia Member" and event.data["status"] == "on_track"


def test_a_refused_checkin_leaves_no_event(org, member):
    kr = KeyResultFactory(objective__organization=org)
    with pytest.raises(ValidationError), transaction.atomic():
        checkin_create(key_result=kr, author=member, status="nonsense", value=1)
    assert kinds(org) == []


def test_a_data_point_emits_point_recorded_and_health(org, owner):
    kpi = KpiFactory(organization=org, name="Reply time", target_value=30.0)
    kpi_record_value(kpi=kpi, period=timezone.localdate() - dt.timedelta(days=7), value=45,
                     author=owner)
    point = OutboxEvent.objects.get(kind="kpi.point_recorded")
    assert point.data["kpi_id"] == kpi.pk and point.data["value"] == 45
    assert point.data["previous_value"] is None and point.data["points"] == 1
    evaluate_kpi(kpi.pk)
    health = OutboxEvent.objects.get(kind="kpi.health_changed")
    assert health.data["kpi_id"] == kpi.pk and health.data["status"] == "off_target"
    assert health.data["previous_status"] == "no_data" and health.data["kpi_name"] == "Reply time"
    evaluate_kpi(kpi.pk)  # nothing changed: no second event
    assert OutboxEvent.objects.filter(kind="kpi.health_changed").count() == 1


def test_objectives_and_cycles_emit_their_events(org, owner):
    cycle = CycleFactory(organization=org)
    objective = okr_services.objective_create(organization=org, actor=owner, data={
        "title": "Delight", "cycle": cycle})
    objective.refresh_from_db()
    okr_services.objective_update(objective=objective, actor=owner, version=objective.version,
                                  data={"title": "Delight more"})
    objective.refresh_from_db()
    okr_services.objective_update(objective=objective, actor=owner, version=objective.version,
                                  data={"title": "Delight more"})  # unchanged: no event
    cycle.refresh_from_db()
    okr_services.cycle_close(cycle=cycle, actor=owner, version=cycle.version)
    assert kinds(org) == ["objective.created", "objective.updated", "objective.closed",
                          "cycle.closed"]
    updated = OutboxEvent.objects.get(kind="objective.updated")
    assert updated.data["title"] == "Delight more" and updated.data["changed"] == ["title"]
    closed = OutboxEvent.objects.get(kind="cycle.closed")
    assert closed.data["cycle_id"] == cycle.pk and closed.data["objectives"] == 1


def test_every_emitted_payload_matches_the_documented_webhook(org, owner, member, client):
    """The OpenAPI `webhooks` models (api/webhooks_doc.py) are the payloads: each event the
    services above write validates against its kind's model, no field missing or extra."""
    from api.webhooks_doc import DATA
    from kpis.recording import kpi_record_batch
    from kpis.services import Row

    kr = KeyResultFactory(objective__organization=org)
    checkin_create(key_result=kr, author=member, status="on_track", value=3)
    kpi = KpiFactory(organization=org, target_value=30.0)
    period = timezone.localdate() - dt.timedelta(days=14)
    kpi_record_value(kpi=kpi, period=period, value=45, author=owner)
    kpi_record_value(kpi=kpi, period=period, value=46, author=owner)  # a replacement
    kpi_record_batch(rows=[Row(kpi=kpi, period_start=period - dt.timedelta(days=7), value=1)],
                     source="sql")
    evaluate_kpi(kpi.pk)
    cycle = CycleFactory(organization=org)
    objective = okr_services.objective_create(organization=org, actor=owner, data={
        "title": "O", "cycle": cycle})
    objective.refresh_from_db()
    okr_services.objective_update(objective=objective, actor=owner, version=objective.version,
                                  data={"title": "O2"})
    cycle.refresh_from_db()
    okr_services.cycle_close(cycle=cycle, actor=owner, version=cycle.version)
    seen = set()
    for event in OutboxEvent.objects.filter(organization_id=org.id):
        DATA[event.kind].model_validate(event.data)
        seen.add(event.kind)
    assert seen >= {"checkin.created", "kpi.point_recorded", "kpi.health_changed",
                    "objective.created", "objective.updated", "objective.closed",
                    "cycle.closed"}
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert set(schema["webhooks"]) == set(DATA)
    post = schema["webhooks"]["checkin.created"]["post"]
    assert [p["name"] for p in post["parameters"]] == [
        "webhook-id", "webhook-timestamp", "webhook-signature"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[1] in schema["components"]["schemas"]


def test_a_new_candidate_emits_candidate_flagged_once(org, admin_user):
    """The loop's data (tests/test_kpi_loop.py's candidate): stable, then two points far
    above the limits make the KPI a candidate; its event validates against the docs."""
    from api.webhooks_doc import DATA
    from kpis import services as kpi_services
    from kpis.models import KpiHealth
    from tests.test_kpi_loop import weeks_back

    team = TeamFactory(organization=org)
    kpi = KpiFactory(organization=org, name="Reply time", team=team, frequency="weekly",
                     target_rule="at_most", target_value=30)
    CycleFactory(organization=org)
    periods = weeks_back(16)
    for chunk, values in ((periods[:10], [24, 26, 25, 27, 25, 24, 26, 25, 27, 26]),
                          (periods[10:12], [52, 55])):
        kpi_services.kpi_record_values(rows=[kpi_services.Row(kpi=kpi, period_start=p, value=v)
                                             for p, v in zip(chunk, values, strict=True)],
                                       source="manual", author=None)
        evaluate_kpi(kpi.pk)
    assert KpiHealth.objects.get(kpi=kpi).candidate == "candidate"
    evaluate_kpi(kpi.pk)  # still a candidate: no second event
    [event] = OutboxEvent.objects.filter(kind="kpi.candidate_flagged")
    DATA[event.kind].model_validate(event.data)
    assert event.data["kpi_id"] == kpi.pk and event.data["team_id"] == team.pk
    assert event.data["reason"]
