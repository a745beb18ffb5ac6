"""The inbox ("Needs you", issue 18): what it lists for each role, the count in the
navigation, mark read / mark all read, a viewer is never offered an action they cannot take,
nothing of another organisation, and a query count that does not grow with the organisation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Invitation, Role
from activity.inbox import inbox_for
from activity.models import Notification
from kpis.models import KpiHealth
from sources.models import DataSource, Feed
from tests.conftest import build_org, count_queries, page_queries, url
from tests.factories import (
    CheckInFactory,
    KeyResultFactory,
    KpiFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
)


def texts(client, path=None):
    response = client.get(path or url("activity:inbox"))
    assert response.status_code == 200
    return response.content.decode()


def badge(client) -> int:
    html = client.get(url("activity:inbox_badge")).content.decode()
    return int(html.rsplit("</span>", 1)[0].rsplit(">", 1)[1])


@pytest.fixture
def setup(org, member, viewer, leader, admin_user):
    objective = ObjectiveFactory(organization=org)
    due = KeyResultFactory(objective=objective, owner=member, title="Backlog down")
    done = KeyResultFactory(objective=objective, owner=member, title="Macros up")
    CheckInFactory(key_result=done, author=member,
                   week_start=timezone.localdate() - dt.timedelta(
                       days=timezone.localdate().weekday()))
    KeyResultFactory(objective=objective, owner=viewer, title="Viewer's KR")
    stale = KpiFactory(organization=org, owner=member, name="Churn")
    KpiHealth.objects.create(kpi=stale, status=KpiHealth.Status.ON_TARGET, is_stale=True)
    fed = KpiFactory(organization=org, owner=member, name="Signups")
    KpiHealth.objects.create(kpi=fed, status=KpiHealth.Status.ON_TARGET)
    source = DataSource.objects.create(organization=org, name="Warehouse", kind="sql",
                                       query="select 1", failing_since=timezone.now(),
                                       last_error="timeout")
    Feed.objects.create(source=source, kpi=fed)
    viewer_kpi = KpiFactory(organization=org, owner=viewer, name="Viewer's KPI")
    KpiHealth.objects.create(kpi=viewer_kpi, status=KpiHealth.Status.ON_TARGET, is_stale=True)
    cand = KpiFactory(organization=org, name="First response time")
    KpiHealth.objects.create(kpi=cand, status=KpiHealth.Status.OFF_TARGET,
                             candidate=KpiHealth.Candidate.CANDIDATE)
    raw, hashed = Invitation.new_token()
    Invitation.objects.create(organization=org, email="late@example.com", token_hash=hashed,
                              expires_at=timezone.now() - dt.timedelta(days=1))
    return {"due": due, "done": done, "source": source, "stale": stale, "fed": fed}


def test_member_sees_due_checkins_and_their_kpis(as_user, setup, member):
    html = texts(as_user(member))
    assert "Check in on “Backlog down” this week" in html
    assert "Macros up" not in html  # checked in this week
    assert "“Churn” has no value for its last period" in html and "Add the value" in html
    assert "The data source of “Signups” fails: an admin can fix it" in html
    assert url("sources:detail", pk=setup["source"].pk) not in html  # admins' page
    assert "improvement candidate" not in html  # leaders decide
    assert "late@example.com" not in html
    assert badge(as_user(member)) == 3


def test_viewer_is_offered_no_action_they_cannot_take(as_user, setup, viewer):
    html = texts(as_user(viewer))
    assert "Viewer's KR" not in html      # viewers never check in
    assert "Viewer's KPI" not in html     # nor add data
    assert "improvement candidate" not in html
    assert "Nothing to do right now." in html
    assert badge(as_user(viewer)) == 0


def test_leader_decides_candidates(as_user, setup, leader):
    html = texts(as_user(leader))
    assert "“First response time” is an improvement candidate" in html and "Decide" in html


def test_admin_sees_expired_invitations(as_user, setup, admin_user):
    html = texts(as_user(admin_user))
    assert "The invitation of late@example.com expired unaccepted" in html
    assert url("accounts:members") in html


def test_admin_owner_of_a_failing_source_gets_the_source_page(as_user, org, setup, admin_user):
    setup["fed"].owner = admin_user
    setup["fed"].save()
    html = texts(as_user(admin_user))
    assert "The data source “Warehouse” of “Signups” fails" in html
    assert url("sources:detail", pk=setup["source"].pk) in html


def test_mark_read_and_mark_all_read(as_user, org, member):
    entries = [Notification.objects.create(organization=org, user=member, kind="mention",
                                           text=f"Lena mentioned you on KR {i}", url="/x/")
               for i in range(3)]
    client = as_user(member)
    assert badge(client) == 3
    response = client.post(url("activity:notification_read", pk=entries[0].pk),
                           {"next": "open"})
    assert response.status_code == 302 and response["Location"] == "/x/"
    assert badge(client) == 2
    client.post(url("activity:notification_read_all"))
    assert badge(client) == 0
    html = texts(client)
    assert "Lena mentioned you on KR 1" in html and "· read" in html


def test_another_persons_or_organisations_entries_are_404(as_user, org, member, leader, outsider):
    mine = Notification.objects.create(organization=org, user=leader, kind="mention",
                                       text="For the leader", url="/x/")
    assert as_user(member).post(url("activity:notification_read", pk=mine.pk)).status_code == 404
    mine.refresh_from_db()
    assert mine.read_at is None
    other = OrganizationFactory(slug="initech")
    MembershipFactory(user=member, organization=other, role=Role.MEMBER)
    Notification.objects.create(organization=other, user=member, kind="mention",
                                text="Initech secret", url="/o/initech/")
    assert "Initech secret" not in texts(as_user(member))
    assert badge(as_user(member)) == 0


def test_the_nav_shows_the_badge_loader(as_user, setup, member):
    html = as_user(member).get(url("dashboards:home")).content.decode()
    assert url("activity:inbox_badge") in html and "Needs you" in html


def _invite(person, n):
    for _i in range(n):
        other = OrganizationFactory()
        Invitation.objects.create(organization=other, email=person.email.upper(),
                                  token_hash=Invitation.new_token()[1],
                                  expires_at=timezone.now() + dt.timedelta(days=7))


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ADMIN])
def test_inbox_query_count_is_constant_in_the_organisations_size(as_user, org, owner, member_of,
                                                                 role):
    person = member_of(role)
    build_org(org, person, 2)
    _invite(person, 1)
    client = as_user(person)
    small_page = page_queries(client, url("activity:inbox"))
    small_badge = page_queries(client, url("activity:inbox_badge"))
    build_org(org, person, 8)
    _invite(person, 6)  # invitations to the person, from other organisations
    for i in range(20):
        Notification.objects.create(organization=org, user=person, kind="mention",
                                    text=f"n{i}", url="/x/")
    assert page_queries(client, url("activity:inbox")) == small_page
    assert page_queries(client, url("activity:inbox_badge")) == small_badge
    membership = person.memberships.get(organization=org)
    with count_queries() as q:
        inbox_for(org, person, membership)
    # due check-ins, my KPIs, invitations to me, stored entries; + candidates (leaders),
    # this organisation's expired invitations (admins)
    assert len(q) == (6 if role == Role.ADMIN else 4)
    assert sum(e.kind == "invitation_to_me" for e in inbox_for(org, person, membership).todo) == 7
    print(f"inbox page {len(small_page)} queries, badge {len(small_badge)} queries ({role})")


def test_a_disabled_webhook_is_a_notice_for_admins_only(as_user, org, owner, admin_user,
                                                        member):
    from django.core import mail
    from django.db import transaction
    from django.test import TestCase

    from core.events import emit

    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        emit(org.pk, "webhook.disabled", {"destination": "webhook", "id": 7,
                                          "name": "https://hooks.example.com/x",
                                          "reason": "6 failed tries"})
    entries = Notification.objects.filter(kind="webhook_disabled")
    assert sorted(e.user_id for e in entries) == sorted([owner.pk, admin_user.pk])
    assert entries[0].text == ("The webhook https://hooks.example.com/x was disabled after "
                               "repeated failures: 6 failed tries")
    assert entries[0].url == url("activity:webhook", pk=7)  # its log and the switch
    assert not mail.outbox  # notices: in the inbox by default
    assert "was disabled after repeated failures" in texts(as_user(admin_user))
    assert "was disabled" not in texts(as_user(member))
