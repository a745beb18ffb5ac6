"""The reminder task on a real Celery worker (Redis broker, PostgreSQL), as in CI.

The worker is another process, so its emails are out of reach: the test watches the
ReminderLog rows it writes (one per owner and week), and runs the task twice to see the
second run add nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Role
from okrs.models import ReminderLog
from okrs.tasks import send_checkin_reminders
from tests.conftest import wait_for
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    UserFactory,
)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_sends_each_reminder_once(celery_worker_process):
    # Due from Monday 00:00 in UTC+14: whatever "now" is, this week's reminder has come.
    org = OrganizationFactory(time_zone="Pacific/Kiritimati", reminder_weekday=0,
                              reminder_hour=0)
    owner = UserFactory()
    MembershipFactory(user=owner, organization=org, role=Role.MEMBER)
    today = dt.date.today()
    cycle = CycleFactory(organization=org, start=today - dt.timedelta(days=30),
                         end=today + dt.timedelta(days=30))
    kr = KeyResultFactory(objective=ObjectiveFactory(organization=org, cycle=cycle),
                          owner=owner)

    send_checkin_reminders.delay()
    log = wait_for(lambda: ReminderLog.objects.filter(organization=org, user=owner).first())
    assert log.key_results == [kr.pk]

    # A second run (beat fires every 15 minutes) must not send again.
    send_checkin_reminders.delay()
    from okrs.tasks import send_org_checkin_reminders

    send_org_checkin_reminders.delay(org.pk)
    marker_org = OrganizationFactory(time_zone="Pacific/Kiritimati", reminder_weekday=0,
                                     reminder_hour=0)
    other = UserFactory()
    MembershipFactory(user=other, organization=marker_org, role=Role.MEMBER)
    KeyResultFactory(objective=ObjectiveFactory(
        organization=marker_org, cycle=CycleFactory(organization=marker_org,
                                                    start=cycle.start, end=cycle.end)),
        owner=other)
    send_checkin_reminders.delay()  # processed after the two above (one solo worker)
    wait_for(lambda: ReminderLog.objects.filter(organization=marker_org).exists())
    assert ReminderLog.objects.filter(organization=org).count() == 1
