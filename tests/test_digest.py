"""The weekly leader digest (issue 18): sent at the organisation's chosen weekday and hour
(local time) to leaders, admins and owners — not members or viewers — once per week, HTML and
plain text with goal and pillar progress, objectives behind pace, KPI signals and new
candidates and check-in completion by team; nothing of another organisation."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from accounts.models import Role
from activity.digest import build, digests_send
from activity.mail_tasks import send_digests
from activity.models import DigestLog, DigestSchedule, NotificationPreference
from kpis.models import HealthEvent, KpiHealth
from tests.conftest import url
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    KpiFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PillarFactory,
    TeamFactory,
    UltimateGoalFactory,
    UserFactory,
)

UTC = dt.UTC
MONDAY = dt.date(2026, 11, 23)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def world(org, owner, admin_user, leader, member, viewer):
    org.time_zone = "Europe/Paris"
    org.save()
    DigestSchedule.objects.create(organization=org, weekday=1, hour=7)  # Tuesday 07:00 Paris
    goal = UltimateGoalFactory(organization=org, title="Best support in Europe")
    pillar = PillarFactory(organization=org, goal=goal, name="Delight customers")
    cycle = CycleFactory(organization=org, name="Q4 2026", start=dt.date(2026, 10, 1),
                         end=dt.date(2026, 12, 31))
    team = TeamFactory(organization=org, name="Support")
    behind = ObjectiveFactory(organization=org, cycle=cycle, team=team, pillar=pillar,
                              title="Answer faster")
    KeyResultFactory(objective=behind, owner=member, start_value=0, target_value=100,
                     current_value=5)
    kpi = KpiFactory(organization=org, name="First response time")
    KpiHealth.objects.create(kpi=kpi, status=KpiHealth.Status.OFF_TARGET,
                             has_unfavourable_signal=True,
                             candidate=KpiHealth.Candidate.CANDIDATE,
                             candidate_reason="Off target for 2 weeks")
    HealthEvent.objects.create(kpi=kpi, kind="loop", old="none", new="candidate")
    # Another organisation with its own secrets: never in acme's digest
    globex = OrganizationFactory(name="Globex", slug="globex")
    boss = UserFactory(name="Gus Globex")
    MembershipFactory(user=boss, organization=globex, role=Role.OWNER)
    ObjectiveFactory(organization=globex, title="Globex secret objective",
                     cycle=CycleFactory(organization=globex))
    KpiHealth.objects.create(kpi=KpiFactory(organization=globex, name="Globex secret KPI"),
                             status=KpiHealth.Status.OFF_TARGET,
                             candidate=KpiHealth.Candidate.CANDIDATE)
    from okrs import figures
    figures.rebuild(org)
    return {"org": org, "globex": globex, "people": {
        Role.OWNER: owner, Role.ADMIN: admin_user, Role.LEADER: leader, Role.MEMBER: member,
        Role.VIEWER: viewer}}


def send(org, when):
    with time_machine.travel(when, tick=False):
        return digests_send(organization_id=org.pk, now=when)


def test_sent_at_the_chosen_hour_to_leaders_admins_and_owners_once(world):
    org = world["org"]
    assert send(org, at(MONDAY + dt.timedelta(days=1), 5, 59)) == 0  # 06:59 in Paris
    assert send(org, at(MONDAY + dt.timedelta(days=1), 6, 0)) == 3   # 07:00 in Paris
    people = world["people"]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        people[r].email for r in (Role.OWNER, Role.ADMIN, Role.LEADER))
    assert send(org, at(MONDAY + dt.timedelta(days=1), 9)) == 0  # not twice
    assert DigestLog.objects.count() == 3


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.LEADER])
def test_each_role_gets_the_same_content_in_html_and_text(world, role):
    send(world["org"], at(MONDAY + dt.timedelta(days=1), 6))
    person = world["people"][role]
    [message] = [m for m in mail.outbox if m.to == [person.email]]
    html = message.alternatives[0][0]
    assert message.subject == "Weekly digest, week of 23 November 2026 (Acme)"
    for text in (message.body, html):
        assert "Best support in Europe" in text and "Delight customers" in text
        assert "Answer faster" in text                      # behind pace
        assert "First response time" in text
        assert "off target and an unfavourable signal" in text.lower()
        assert "No KPI is off target" not in text
        assert "Off target for 2 weeks" in text and "new this week" in text
        assert "Support" in text and "0 of 1" in text       # check-ins by team
        assert "Globex" not in text                         # nothing of another org
    assert "<script" not in html
    assert "http://" in message.body and url("dashboards:home", "acme") in message.body


def test_a_leader_who_turns_it_off_gets_none(world):
    leader = world["people"][Role.LEADER]
    NotificationPreference.objects.create(user=leader, organization=world["org"],
                                          kind="digest", in_app=False, email=False)
    send(world["org"], at(MONDAY + dt.timedelta(days=1), 6))
    assert leader.email not in [m.to[0] for m in mail.outbox] and len(mail.outbox) == 2


def test_the_beat_task_sends_each_organisation(world):
    when = at(MONDAY + dt.timedelta(days=1), 6)
    with time_machine.travel(when, tick=False):
        assert send_digests() == 4  # acme's three; globex's owner at its default (Monday 08:00)


def test_an_empty_organisation_has_a_digest_that_says_so(db):
    org = OrganizationFactory(slug="empty")
    d = build(org)
    assert d.behind == [] and d.signals == [] and d.candidates == [] and d.teams == []
    from activity.digest import render
    html, text = render(org, UserFactory(), d)
    assert "No objective is behind pace." in text and "No goal or pillars" in html


def test_preview_for_leaders_only(as_user, world):
    people = world["people"]
    page = as_user(people[Role.LEADER]).get(url("activity:digest_preview"))
    assert page.status_code == 200 and b"Answer faster" in page.content
    assert "default-src 'none'" in page["Content-Security-Policy"]
    text = as_user(people[Role.LEADER]).get(url("activity:digest_preview") + "?format=text")
    assert text["Content-Type"].startswith("text/plain") and b"OBJECTIVES BEHIND PACE" in \
        text.content
    assert as_user(people[Role.MEMBER]).get(url("activity:digest_preview")).status_code == 403


def test_admin_chooses_the_schedule(as_user, world):
    people = world["people"]
    client = as_user(people[Role.ADMIN])
    assert client.post(url("activity:digest_schedule"), {"weekday": 4, "hour": 16}
                       ).status_code == 302
    schedule = DigestSchedule.objects.get(organization=world["org"])
    assert (schedule.weekday, schedule.hour) == (4, 16)
    page = client.post(url("activity:digest_schedule"), {"weekday": 9, "hour": "x"},
                       follow=True)
    assert "Choose a weekday and an hour from 0 to 23." in page.content.decode()
    schedule.refresh_from_db()
    assert (schedule.weekday, schedule.hour) == (4, 16)
    assert as_user(people[Role.LEADER]).post(url("activity:digest_schedule"),
                                             {"weekday": 1, "hour": 1}).status_code == 403
