"""The reminder's one-click "no change this week" (issue 18): a signed link per key result in
the e-mail (HTML and text), a GET that only shows a confirmation, a POST that records the
check-in through okrs.checkins.services.record_no_change, and a forged, altered, expired or
reused link refused in words (400 / 410), never a 500."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail, signing

from accounts.models import Role
from activity.models import NoChangeUse
from okrs.checkins import reminders
from okrs.checkins.reminders import checkin_reminders_send, no_change_token
from okrs.models import CheckIn, Status
from tests.factories import CycleFactory, KeyResultFactory, ObjectiveFactory, TeamFactory

UTC = dt.UTC
MONDAY = dt.date(2026, 11, 23)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def setup(org, member, leader, viewer):
    org.time_zone = "Europe/Paris"
    org.reminder_weekday, org.reminder_hour = 0, 9
    org.save()
    cycle = CycleFactory(organization=org, name="Q4", start=dt.date(2026, 10, 1),
                         end=dt.date(2026, 12, 31))
    objective = ObjectiveFactory(organization=org, cycle=cycle, team=TeamFactory(organization=org))
    kr = KeyResultFactory(objective=objective, owner=member, title="Backlog down",
                          current_value=42.0, status=Status.NEEDS_ATTENTION)
    other = KeyResultFactory(objective=objective, owner=member, title="Macros up",
                             current_value=3.0, status=Status.ON_TRACK)
    return {"org": org, "kr": kr, "other": other}


def link_path(full: str) -> str:
    return "/" + full.split("/", 3)[3]


def send_reminders(org) -> list:
    with time_machine.travel(at(MONDAY, 8, 5), tick=False):
        assert checkin_reminders_send(organization_id=org.pk, now=at(MONDAY, 8, 5)) == 1
    return mail.outbox


def test_the_reminder_carries_one_link_per_key_result_in_text_and_html(setup):
    [message] = send_reminders(setup["org"])
    text_links = re.findall(r"https?://\S+/check-ins/no-change/[^/\s]+/", message.body)
    html = message.alternatives[0][0]
    html_links = re.findall(r'href="(https?://[^"]+/check-ins/no-change/[^"]+/)"', html)
    assert len(text_links) == 2 and sorted(text_links) == sorted(html_links)
    assert "Backlog down" in html and "No change this week" in html


def test_get_confirms_post_records_and_a_second_use_is_refused(client, setup, member):
    [message] = send_reminders(setup["org"])
    path = link_path(re.findall(r"https?://\S+/check-ins/no-change/[^/\s]+/", message.body)[0])
    kr = setup["kr"]
    with time_machine.travel(at(MONDAY, 10), tick=False):
        page = client.get(path)  # not logged in: the signed link is the key
        assert page.status_code == 200
        html = page.content.decode()
        assert "No change this week?" in html and "Backlog down" in html and "42" in html
        assert not CheckIn.objects.exists()  # a GET never writes
        done = client.post(path)
        assert done.status_code == 200 and "Recorded" in done.content.decode()
        checkin = CheckIn.objects.get()
        assert (checkin.key_result_id, checkin.author_id) == (kr.pk, member.pk)
        assert checkin.value == 42.0 and checkin.status == Status.NEEDS_ATTENTION
        assert NoChangeUse.objects.count() == 1
        again = client.post(path)
        assert again.status_code == 410 and "already used" in again.content.decode()
        assert client.get(path).status_code == 410
    assert CheckIn.objects.count() == 1


def test_an_expired_link_says_so(client, setup, member):
    token = no_change_token(organization_id=setup["org"].pk, key_result_id=setup["kr"].pk,
                            user_id=member.pk, week_start=MONDAY)
    path = f"/check-ins/no-change/{token}/"
    # Sunday 23:59 in Paris is still that week; Monday 00:00 Paris (Sunday 23:00 UTC) is not
    with time_machine.travel(at(MONDAY + dt.timedelta(days=6), 22, 59), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(at(MONDAY + dt.timedelta(days=6), 23, 0), tick=False):
        for response in (client.get(path), client.post(path)):
            assert response.status_code == 410
            assert "This link has expired" in response.content.decode()
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-3] + ("aaa" if not t.endswith("aaa") else "bbb"),  # altered signature
    lambda t: "garbage",
    lambda t: signing.dumps({"o": 1, "k": 1, "u": 1, "w": "2026-11-23"}, salt="other"),
    lambda t: signing.dumps({"o": 1, "k": 1}, salt=reminders.NO_CHANGE_SALT),  # wrong shape
    lambda t: signing.dumps({"o": 1, "k": 1, "u": 1, "w": "not-a-date"},
                            salt=reminders.NO_CHANGE_SALT),
])
def test_forged_links_are_refused(client, setup, member, mangle):
    token = no_change_token(organization_id=setup["org"].pk, key_result_id=setup["kr"].pk,
                            user_id=member.pk, week_start=MONDAY)
    with time_machine.travel(at(MONDAY, 10), tick=False):
        for response in (client.get(f"/check-ins/no-change/{mangle(token)}/"),
                         client.post(f"/check-ins/no-change/{mangle(token)}/")):
            assert response.status_code == 400
            assert "This link is not valid" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_a_link_for_another_organisations_kr_is_refused(client, setup, member, outsider):
    from tests.factories import OrganizationFactory

    globex = OrganizationFactory(slug="initech")
    foreign = KeyResultFactory(objective=ObjectiveFactory(organization=globex))
    # signed for acme but naming initech's KR: not found inside acme
    token = no_change_token(organization_id=setup["org"].pk, key_result_id=foreign.pk,
                            user_id=member.pk, week_start=MONDAY)
    with time_machine.travel(at(MONDAY, 10), tick=False):
        response = client.post(f"/check-ins/no-change/{token}/")
    assert response.status_code == 410 and not CheckIn.objects.exists()


def test_a_person_who_lost_the_right_to_check_in_is_refused(client, setup, member):
    member.memberships.filter(organization=setup["org"]).update(role=Role.VIEWER)
    token = no_change_token(organization_id=setup["org"].pk, key_result_id=setup["kr"].pk,
                            user_id=member.pk, week_start=MONDAY)
    with time_machine.travel(at(MONDAY, 10), tick=False):
        response = client.post(f"/check-ins/no-change/{token}/")
    assert response.status_code == 403 and not CheckIn.objects.exists()


def test_already_checked_in_this_week_records_nothing_more(client, setup, member):
    from okrs.checkins.services import checkin_create

    with time_machine.travel(at(MONDAY, 10), tick=False):
        checkin_create(key_result=setup["kr"], author=member, status=Status.ON_TRACK, value=50)
        token = no_change_token(organization_id=setup["org"].pk, key_result_id=setup["kr"].pk,
                                user_id=member.pk, week_start=MONDAY)
        response = client.post(f"/check-ins/no-change/{token}/")
    assert response.status_code == 200 and "Already checked in" in response.content.decode()
    assert CheckIn.objects.count() == 1
