"""Per-person notification preferences (issue 18): the defaults (mentions by e-mail,
everything in the inbox), saving, an untouched save that changes nothing, and the kinds a role
does not see kept as they were."""

from __future__ import annotations

from activity.models import NotificationPreference
from activity.preferences import choices_for
from tests.conftest import url
from tests.html_forms import page_forms


def test_defaults(member, org):
    choices = choices_for(member, org.pk)
    assert (choices["mention"].in_app, choices["mention"].email) == (True, True)
    assert (choices["reply"].in_app, choices["reply"].email) == (True, False)
    assert (choices["digest"].in_app, choices["digest"].email) == (False, True)


def test_save_and_untouched_save(as_user, org, member):
    client = as_user(member)
    page = client.get(url("activity:preferences")).content.decode()
    assert "Someone mentions you" in page and "weekly leader digest" not in page  # leaders
    [form] = [f for f in page_forms(page) if "mention-in_app" in f.data]
    data = form.values()
    client.post(url("activity:preferences"), data)
    stored = {p.kind: (p.in_app, p.email) for p in NotificationPreference.objects.filter(
        user=member)}
    assert stored == {"mention": (True, True), "reply": (True, False),
                      "webhook_disabled": (True, False), "digest": (False, True)}
    data.pop("mention-email")
    client.post(url("activity:preferences"), data)
    assert choices_for(member, org.pk)["mention"].email is False
    assert choices_for(member, org.pk)["digest"].email is True  # hidden from members, kept


def test_leader_sees_the_digest_and_its_schedule(as_user, org, leader, admin_user):
    page = as_user(leader).get(url("activity:preferences")).content.decode()
    assert "The weekly leader digest" in page and "Preview this week" in page
    assert 'name="hour"' not in page  # admins choose when
    assert 'name="hour"' in as_user(admin_user).get(url("activity:preferences")).content.decode()
