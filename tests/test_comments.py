"""Comments with @mentions (issue 18): plain text escaped with links clickable, bad input
refused with a clear message, a foreign target 404, mentions of members only, the author's
15-minute edit/delete kept in the audit trail, viewers may comment, and the mention's inbox
entry and e-mail delivered through the outbox (exactly once per person)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from accounts.models import AuditEntry, Role
from activity import comments as svc
from activity.mentions import Member, find_mentions
from activity.models import Comment, Mention, Notification, NotificationPreference
from core.models import OutboxEvent
from tests.conftest import client_for, url
from tests.factories import (
    DataPointFactory,
    KeyResultFactory,
    KpiFactory,
    ObjectiveFactory,
    OrganizationFactory,
    UserFactory,
)


@pytest.fixture
def kr(org, member):
    return KeyResultFactory(objective=ObjectiveFactory(organization=org), owner=member,
                            title="Backlog under 50")


@pytest.fixture
def lena(member_of):
    return member_of(Role.LEADER, name="Lena Leader", email="lena@example.com")


@pytest.fixture
def mark(member_of):
    return member_of(Role.MEMBER, name="Mark Weber", email="mark@example.com")


def thread_url(kind, pk, org="acme"):
    return url("activity:thread", org, kind=kind, pk=pk)


def post(client, kind, pk, body, htmx=True):
    """POST a comment and run what its commit queues (the outbox dispatch and its handlers:
    the test's transaction never commits)."""
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(thread_url(kind, pk), {"body": body}, **extra)


# --- Mentions, pure ---------------------------------------------------------------------------

MEMBERS = [Member(1, "Mark Weber", "mark@example.com"), Member(2, "Mark", "m2@example.com"),
           Member(3, "Lena Leader", "lena@example.com")]


@pytest.mark.parametrize(("text", "ids"), [
    ("@Mark Weber please look", [1]),
    ("@mark weber, and @Mark.", [1, 2]),
    ("thanks @Lena Leader and @lena@example.com", [3]),
    ("mail me at lena@example.com", []),           # an address is no mention
    ("@Nobody Here", []),                           # a non-member: nobody
    ("@Markus", []),                                # a longer word is not Mark
    ("no at sign", []),
])
def test_find_mentions(text, ids):
    assert find_mentions(text, MEMBERS) == ids


# --- Rendering and bad input ------------------------------------------------------------------

def test_html_is_escaped_and_links_made_clickable(as_user, org, member, kr):
    body = '<script>alert(1)</script> see https://example.com/a?b=1&c=2 <b>bold</b>'
    response = post(as_user(member), "key_result", kr.pk, body)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow">' in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert Comment.objects.get().body == body  # stored as typed


@pytest.mark.parametrize(("body", "words"), [
    ("x" * 100_000, "at most 10,000 characters; this one has 100,000"),
    ("before\x00after", "NUL character"),
    ("   ", "the comment is empty"),
])
def test_bad_input_is_a_clear_message_and_nothing_is_stored(as_user, member, kr, body, words):
    client = as_user(member)
    htmx = post(client, "key_result", kr.pk, body)
    # NUL: refused before any view by core.middleware.UnstorableInputMiddleware (400, its page)
    # Too long or empty: the thread with its message, a 422 that mentions.js lets htmx swap
    assert htmx.status_code == (400 if "\x00" in body else 422)
    assert words in htmx.content.decode()
    plain = post(client, "key_result", kr.pk, body, htmx=False)
    assert plain.status_code == 400 and words in plain.content.decode()
    assert not Comment.objects.exists()
    if body.strip() and "\x00" not in body:
        assert body in plain.content.decode()  # what was typed comes back to be shortened


def test_a_foreign_target_is_404_and_nothing_is_stored(as_user, member, outsider):
    globex_kr = KeyResultFactory(objective=ObjectiveFactory(
        organization=OrganizationFactory(slug="initech")))
    client = as_user(member)
    for kind in ("key_result", "objective", "kpi", "data_point"):
        assert client.get(thread_url(kind, globex_kr.pk if kind == "key_result"
                                     else 999999)).status_code == 404
    assert post(client, "key_result", globex_kr.pk, "hello").status_code == 404
    assert client.get(url("activity:thread", kind="bogus", pk=1)).status_code == 404
    assert not Comment.objects.exists()


def test_every_target_kind_takes_comments(as_user, org, viewer, kr):
    """Viewers may comment (transparency): on an objective, a KR, a KPI and a data point."""
    kpi = KpiFactory(organization=org, name="First response time")
    point = DataPointFactory(kpi=kpi, value=42)
    client = as_user(viewer)
    for kind, pk in (("objective", kr.objective_id), ("key_result", kr.pk), ("kpi", kpi.pk),
                     ("data_point", point.pk)):
        response = post(client, kind, pk, f"On the {kind}")
        assert response.status_code == 200 and f"On the {kind}" in response.content.decode()
    assert Comment.objects.count() == 4
    kpi_thread = client.get(thread_url("kpi", kpi.pk), HTTP_HX_REQUEST="true").content.decode()
    assert thread_url("data_point", point.pk) in kpi_thread  # the value's own thread
    assert "1 comment" in kpi_thread


# --- Mentions end to end ------------------------------------------------------------------------

def test_mention_notifies_the_member_once_in_app_and_by_email(as_user, org, lena, mark, kr):
    response = post(as_user(lena), "key_result", kr.pk, "@Mark Weber can you check this?")
    assert response.status_code == 200
    comment = Comment.objects.get()
    assert list(Mention.objects.values_list("user_id", flat=True)) == [mark.pk]
    kinds = sorted(OutboxEvent.objects.values_list("kind", flat=True))
    assert kinds == ["comment.created", "comment.mentioned"]
    entry = Notification.objects.get(user=mark)
    assert entry.kind == "mention" and entry.comment == comment
    assert entry.text == "Lena Leader mentioned you on Backlog under 50"
    assert entry.url == url("checkins:kr", pk=kr.pk)
    assert [m.to for m in mail.outbox] == [["mark@example.com"]]
    message = mail.outbox[0]
    assert "Lena Leader mentioned you on Backlog under 50" in message.subject
    assert "@Mark Weber can you check this?" in message.body
    html = message.alternatives[0][0]
    assert "@Mark Weber can you check this?" in html and "/check-ins/kr/" in html
    # Mark's badge counts it
    badge = as_user(mark).get(url("activity:inbox_badge"))
    assert int(badge.content.decode().rsplit(">", 2)[-2].split("<")[0]) >= 1


def test_mentioning_a_non_member_notifies_nobody(as_user, org, lena, kr):
    stranger = UserFactory(name="Sam Stranger", email="sam@example.com")
    other = OrganizationFactory(slug="initech")
    from tests.factories import MembershipFactory
    MembershipFactory(user=stranger, organization=other, role=Role.OWNER)
    post(as_user(lena), "key_result", kr.pk, "@Sam Stranger @sam@example.com look")
    assert not Mention.objects.exists()
    assert not Notification.objects.exists() and not mail.outbox
    assert list(OutboxEvent.objects.values_list("kind", flat=True)) == ["comment.created"]


def test_preferences_decide_email_and_inbox(as_user, org, lena, mark, kr):
    NotificationPreference.objects.create(user=mark, organization=org, kind="mention",
                                          in_app=True, email=False)
    post(as_user(lena), "key_result", kr.pk, "@Mark Weber hi")
    assert Notification.objects.filter(user=mark).count() == 1 and not mail.outbox
    NotificationPreference.objects.filter(user=mark).update(in_app=False, email=True)
    post(as_user(lena), "key_result", kr.pk, "@Mark Weber again")
    assert Notification.objects.filter(user=mark).count() == 1 and len(mail.outbox) == 1


def test_replies_notify_earlier_participants(as_user, org, lena, mark, kr):
    post(as_user(mark), "key_result", kr.pk, "First")
    post(as_user(lena), "key_result", kr.pk, "A reply")
    entry = Notification.objects.get(user=mark)
    assert entry.kind == "reply" and entry.text == "Lena Leader replied on Backlog under 50"
    assert not mail.outbox  # replies: in-app only by default
    assert not Notification.objects.filter(user=lena).exists()


def test_handler_run_twice_adds_nothing(as_user, org, lena, mark, kr):
    from activity.notify import notify_mentioned

    post(as_user(lena), "key_result", kr.pk, "@Mark Weber once")
    event = OutboxEvent.objects.get(kind="comment.mentioned")
    notify_mentioned(event)  # a re-run after a crash
    assert Notification.objects.filter(user=mark).count() == 1


# --- Edit and delete --------------------------------------------------------------------------

def test_author_edits_within_15_minutes_and_the_audit_keeps_the_old_text(as_user, org, lena,
                                                                         mark, kr):
    client = as_user(lena)
    post(client, "key_result", kr.pk, "Frist draft")
    comment = Comment.objects.get()
    page = client.get(url("activity:comment_edit", pk=comment.pk))
    assert page.status_code == 200 and "Frist draft" in page.content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url("activity:comment_edit", pk=comment.pk),
                               {"body": "First draft @Mark Weber"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.body == "First draft @Mark Weber" and comment.edited_at is not None
    audit = AuditEntry.objects.get(action="comment edited")
    assert audit.changes == {"body": ["Frist draft", "First draft @Mark Weber"]}
    assert Notification.objects.filter(user=mark, kind="mention").count() == 1  # newly named


def test_untouched_edit_changes_nothing(as_user, org, lena, kr):
    client = as_user(lena)
    post(client, "key_result", kr.pk, "Same text")
    comment = Comment.objects.get()
    client.post(url("activity:comment_edit", pk=comment.pk), {"body": "Same text"})
    comment.refresh_from_db()
    assert comment.edited_at is None
    assert not AuditEntry.objects.filter(action="comment edited").exists()


def test_others_and_late_authors_cannot_change_a_comment(as_user, org, lena, mark, kr):
    post(as_user(lena), "key_result", kr.pk, "Mine")
    comment = Comment.objects.get()
    other = as_user(mark)
    assert other.get(url("activity:comment_edit", pk=comment.pk)).status_code == 403
    assert other.post(url("activity:comment_delete", pk=comment.pk)).status_code == 403
    Comment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=16))
    late = as_user(lena)
    assert late.post(url("activity:comment_edit", pk=comment.pk),
                     {"body": "changed"}).status_code == 403
    assert late.post(url("activity:comment_delete", pk=comment.pk)).status_code == 403
    comment.refresh_from_db()
    assert comment.body == "Mine" and comment.deleted_at is None


def test_author_deletes_and_the_thread_says_so(as_user, org, lena, kr):
    client = as_user(lena)
    post(client, "key_result", kr.pk, "Oops, wrong KR")
    comment = Comment.objects.get()
    response = client.post(url("activity:comment_delete", pk=comment.pk),
                           HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "This comment was deleted by its author." in html
    assert "Oops, wrong KR" not in html
    audit = AuditEntry.objects.get(action="comment deleted")
    assert audit.changes == {"body": ["Oops, wrong KR", None]}


def test_a_comment_of_another_organisation_is_404(as_user, org, lena, outsider):
    from tests.factories import OrganizationFactory as OF

    other = OF(slug="initech")
    foreign_kr = KeyResultFactory(objective=ObjectiveFactory(organization=other))
    foreign = Comment.objects.create(organization=other, target_kind="key_result",
                                     target_id=foreign_kr.pk, author=lena, body="x")
    client = as_user(lena)  # its author, but inside acme
    assert client.get(url("activity:comment_edit", pk=foreign.pk)).status_code == 404
    assert client.post(url("activity:comment_delete", pk=foreign.pk)).status_code == 404


def test_mention_autocomplete_lists_members_of_this_organisation_only(as_user, org, lena, mark,
                                                                      outsider):
    data = as_user(lena).get(url("activity:mention_search") + "?q=mar").json()
    assert [m["name"] for m in data["members"]] == ["Mark Weber"]
    assert as_user(lena).get(url("activity:mention_search") + "?q=otto").json() == {
        "members": []}


def test_thread_query_count_is_constant(as_user, org, lena, kr):
    from tests.conftest import count_queries

    client = as_user(lena)

    def queries():
        with count_queries() as q:
            assert client.get(thread_url("key_result", kr.pk),
                              HTTP_HX_REQUEST="true").status_code == 200
        return len(q)

    post(client, "key_result", kr.pk, "one")
    few = queries()
    for i in range(10):
        post(client, "key_result", kr.pk, f"more {i}")
    assert queries() == few


def test_service_refuses_a_target_of_another_organisation(org, lena):
    other = OrganizationFactory(slug="initech")
    target = svc.Target("objective", 1, "x", "/", other.pk)
    from django.http import Http404
    with pytest.raises(Http404):
        svc.comment_create(organization=org, target=target, author=lena, body="hi")
    assert client_for(None) is not None


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.LEADER, Role.ADMIN, Role.OWNER])
def test_the_mention_email_for_each_role(as_user, org, lena, member_of, kr, role):
    """Every role may read and answer a thread, so every role's e-mail and entry is the same:
    the text, the link to the thread and to the choices — nothing of another organisation."""
    person = member_of(role, name="Pat Person", email=f"pat-{role}@example.com")
    post(as_user(lena), "key_result", kr.pk, "@Pat Person over to you")
    [message] = mail.outbox
    html = message.alternatives[0][0]
    for text in (message.body, html):
        assert "Lena Leader mentioned you on Backlog under 50" in text
        assert "@Pat Person over to you" in text
        assert f"/o/acme/check-ins/kr/{kr.pk}/" in text and "/o/acme/preferences/" in text
    assert Notification.objects.get(user=person).url == url("checkins:kr", pk=kr.pk)
    page = as_user(person).get(url("activity:inbox")).content.decode()
    assert "Reply" in page
