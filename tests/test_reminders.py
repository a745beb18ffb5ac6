"""Weekly check-in reminders: the right people, exactly once per week, in the org's time.

The clock is frozen with time-machine; emails go to Django's locmem backend (conftest).
Europe/Paris is UTC+1 in November: Monday 09:00 there is 08:00 UTC.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import Membership, Role
from goals.models import Cycle
from okrs.checkins.reminders import checkin_reminders_send, reminder_week_due
from okrs.checkins.services import checkin_create
from okrs.models import KeyResult, Objective, ReminderLog, Status
from okrs.tasks import send_checkin_reminders
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)

UTC = dt.UTC
MONDAY = dt.date(2026, 11, 23)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def paris(org):
    org.time_zone = "Europe/Paris"
    org.reminder_weekday = 0
    org.reminder_hour = 9
    org.save()
    return org


@pytest.fixture
def setup(paris, member, leader, member_of):
    cycle = CycleFactory(organization=paris, name="Q4", start=dt.date(2026, 10, 1),
                         end=dt.date(2026, 12, 31))
    team = TeamFactory(organization=paris, name="Support")
    objective = ObjectiveFactory(organization=paris, cycle=cycle, team=team)
    done_member = member_of(Role.MEMBER, name="Dora Done")
    krs = {
        "m1": KeyResultFactory(objective=objective, owner=member, title="Backlog down"),
        "m2": KeyResultFactory(objective=objective, owner=member, title="Macros up"),
        "l1": KeyResultFactory(objective=objective, owner=leader, title="CSAT up"),
        "d1": KeyResultFactory(objective=objective, owner=done_member, title="Done already"),
    }
    return {"cycle": cycle, "team": team, "objective": objective, "krs": krs,
            "done_member": done_member}


def run(when: dt.datetime) -> int:
    """Run the beat task in-process (Celery's apply: no broker, no result backend)."""
    with time_machine.travel(when, tick=False):
        result = send_checkin_reminders.apply()
    assert result.successful(), result.traceback
    return result.result


def test_due_moment_is_the_orgs_local_weekday_and_hour(paris):
    assert reminder_week_due(paris, at(MONDAY, 7, 59)) is None   # 08:59 in Paris
    assert reminder_week_due(paris, at(MONDAY, 8, 0)) == MONDAY  # 09:00 in Paris
    assert reminder_week_due(paris, at(MONDAY + dt.timedelta(days=6), 22)) == MONDAY  # Sunday
    # Sunday 23:30 UTC is Monday 00:30 in Paris: a new week, not yet due.
    assert reminder_week_due(paris, at(MONDAY + dt.timedelta(days=6), 23, 30)) is None
    paris.reminder_weekday, paris.reminder_hour = 2, 14  # Wednesday 14:00
    assert reminder_week_due(paris, at(MONDAY + dt.timedelta(days=2), 12, 59)) is None
    assert reminder_week_due(paris, at(MONDAY + dt.timedelta(days=2), 13)) == MONDAY


def test_reminders_go_once_a_week_to_owners_who_have_not_checked_in(setup, member, leader):
    krs, done_member = setup["krs"], setup["done_member"]
    with time_machine.travel(at(MONDAY, 7), tick=False):  # Monday 08:00 Paris: this week
        checkin_create(key_result=krs["d1"], author=done_member, status="on_track", value=5)
    # Last week's check-in does not count for this week.
    CheckInFactory(key_result=krs["l1"], week_start=MONDAY - dt.timedelta(weeks=1))

    assert run(at(MONDAY, 7, 45)) == 0  # 08:45 in Paris: too early
    assert mail.outbox == [] and not ReminderLog.objects.exists()

    assert run(at(MONDAY, 8, 0)) == 2   # 09:00 in Paris
    by_to = {m.to[0]: m for m in mail.outbox}
    assert set(by_to) == {member.email, leader.email}
    body = by_to[member.email].body
    assert "Backlog down" in body and "Macros up" in body and "CSAT up" not in body
    assert "/o/acme/check-ins/mine/" in body
    assert "2 key results" in by_to[member.email].subject
    assert "CSAT up" in by_to[leader.email].body
    logs = ReminderLog.objects.filter(week_start=MONDAY)
    assert logs.count() == 2
    assert sorted(logs.get(user=member).key_results) == sorted([krs["m1"].pk, krs["m2"].pk])

    # Every later run that week (beat: every 15 minutes) sends nothing more.
    for when in (at(MONDAY, 8, 15), at(MONDAY, 8, 15), at(MONDAY + dt.timedelta(days=3), 10),
                 at(MONDAY + dt.timedelta(days=6), 22, 45)):
        assert run(when) == 0
    assert len(mail.outbox) == 2

    # Next Monday at 09:00 Paris: a new week, a new reminder.
    assert run(at(MONDAY + dt.timedelta(weeks=1), 8, 0)) == 3  # done_member too now
    assert len(mail.outbox) == 5
    assert ReminderLog.objects.count() == 5


def test_owner_who_checked_in_everything_gets_nothing(setup, member, leader):
    krs = setup["krs"]
    with time_machine.travel(at(MONDAY, 7), tick=False):
        for key in ("m1", "m2"):
            checkin_create(key_result=krs[key], author=member, status="on_track", value=9)
    run(at(MONDAY, 9))
    assert member.email not in [m.to[0] for m in mail.outbox]
    assert not ReminderLog.objects.filter(user=member).exists()


def test_only_people_who_can_check_in_current_krs_are_reminded(setup, paris, member_of,
                                                               member, leader):
    cycle, objective = setup["cycle"], setup["objective"]
    viewer = member_of(Role.VIEWER)
    KeyResultFactory(objective=objective, owner=viewer, title="Viewer's")
    gone = member_of(Role.MEMBER)
    KeyResultFactory(objective=objective, owner=gone, title="Gone's")
    Membership.objects.filter(user=gone).delete()
    inactive = member_of(Role.MEMBER, is_active=False)
    KeyResultFactory(objective=objective, owner=inactive)
    finished = member_of(Role.MEMBER)
    KeyResultFactory(objective=objective, owner=finished, status=Status.ACCOMPLISHED)
    deleted_owner = member_of(Role.MEMBER)
    KeyResultFactory(objective=objective, owner=deleted_owner, deleted_at=timezone.now())
    drafter = member_of(Role.MEMBER)
    KeyResultFactory(objective=ObjectiveFactory(organization=paris, cycle=cycle,
                                                state=Objective.State.DRAFT), owner=drafter)
    closed_owner = member_of(Role.MEMBER)
    closed = CycleFactory(organization=paris, name="Old", start=dt.date(2026, 7, 1),
                          end=dt.date(2026, 12, 31), state=Cycle.State.CLOSED)
    KeyResultFactory(objective=ObjectiveFactory(organization=paris, cycle=closed),
                     owner=closed_owner)
    run(at(MONDAY, 9))
    sent_to = {m.to[0] for m in mail.outbox}
    assert sent_to == {member.email, leader.email, setup["done_member"].email}
    for user in (viewer, gone, inactive, finished, deleted_owner, drafter, closed_owner):
        assert user.email not in sent_to


def test_each_org_uses_its_own_time_zone_and_schedule(setup, paris, member):
    tokyo = OrganizationFactory(slug="tokyo", time_zone="Asia/Tokyo", reminder_weekday=0,
                                reminder_hour=9)
    boss = UserFactory()
    MembershipFactory(user=boss, organization=tokyo, role=Role.OWNER)
    tcycle = CycleFactory(organization=tokyo, start=dt.date(2026, 10, 1),
                          end=dt.date(2026, 12, 31))
    KeyResultFactory(objective=ObjectiveFactory(organization=tokyo, cycle=tcycle), owner=boss)
    # Monday 00:00 UTC = 09:00 in Tokyo (due), 01:00 in Paris (not yet).
    run(at(MONDAY, 0))
    assert [m.to[0] for m in mail.outbox] == [boss.email]
    run(at(MONDAY, 8))
    assert len(mail.outbox) == 4  # Paris now too, Tokyo not again


def test_a_failed_send_is_not_recorded_and_is_retried(setup, monkeypatch, member):
    from okrs.checkins import reminders

    real = reminders.send_mail
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionRefusedError("SMTP down")
        return real(*args, **kwargs)

    monkeypatch.setattr(reminders, "send_mail", flaky)
    first = run(at(MONDAY, 8))
    assert first == 2 and ReminderLog.objects.count() == 2  # one of three failed
    assert run(at(MONDAY, 8, 15)) == 1                      # retried, and only that one
    assert ReminderLog.objects.count() == 3 and len(mail.outbox) == 3


def test_service_takes_an_org_id_and_refetches(setup, paris):
    assert checkin_reminders_send(organization_id=paris.pk, now=at(MONDAY, 8)) == 3
    assert checkin_reminders_send(organization_id=paris.pk, now=at(MONDAY, 8)) == 0


def test_accomplished_krs_do_not_nag(setup, member):
    KeyResult.objects.filter(owner=member).update(status=Status.ACCOMPLISHED)
    run(at(MONDAY, 8))
    assert member.email not in [m.to[0] for m in mail.outbox]
