"""The comment endpoints (issue 21 over issue 18's comments): every role comments (viewers
too, as on the pages), @mentions notify through the same service, only the author edits or
deletes within 15 minutes (403 another's, 409 too late), a foreign target is 404, bad text
is a 4xx JSON error, the list's query count is constant in the thread's length."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from accounts.models import AuditEntry
from activity.models import Comment, Mention, Notification
from tests.conftest import count_queries
from tests.factories import CycleFactory, KeyResultFactory, ObjectiveFactory, OrganizationFactory
from tests.test_api import make_token
from tests.test_api_okrs import JApi

pytestmark = pytest.mark.django_db


@pytest.fixture
def objective(org):
    return ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org),
                            title="Grow")


@pytest.fixture
def kr(objective):
    return KeyResultFactory(objective=objective, title="Revenue")


@pytest.fixture
def viewer_api(org, viewer):
    return JApi(make_token(org, viewer))


@pytest.fixture
def member_api(org, member):
    return JApi(make_token(org, member))


def test_a_viewer_comments_and_a_mention_notifies(org, viewer, member, viewer_api, kr,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = viewer_api.send("post", "/comments", {
            "target": "key_result", "target_id": kr.pk, "text": "@Mia Member can you look?"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["author_id"] == viewer.pk and body["target"] == "key_result"
    assert body["target_id"] == kr.pk and body["mentioned_user_ids"] == [member.pk]
    assert body["can_change"] is True and body["edited_at"] is None
    comment = Comment.objects.get()
    assert comment.organization == org and comment.target_kind == "key_result"
    assert Mention.objects.get().user == member
    assert Notification.objects.filter(user=member, kind="mention").count() == 1
    assert AuditEntry.objects.filter(action="commented", object_id=str(comment.pk)).exists()
    # The thread lists it; the comment reads back alone.
    r = viewer_api.client.get(f"/api/v1/comments?key_result={kr.pk}", **viewer_api.headers)
    assert r.status_code == 200 and [c["id"] for c in r.json()["items"]] == [comment.pk]
    r = viewer_api.client.get(f"/api/v1/comments/{comment.pk}", **viewer_api.headers)
    assert r.json()["text"] == "@Mia Member can you look?"


def test_every_target_kind_and_one_target_required(org, member_api, objective, kr):
    from kpis.models import DataPoint
    from tests.factories import KpiFactory
    kpi = KpiFactory(organization=org)
    point = DataPoint.objects.create(kpi=kpi, period_start=dt.date(2026, 11, 2), value=3)
    for target, pk in (("objective", objective.pk), ("key_result", kr.pk), ("kpi", kpi.pk),
                       ("point", point.pk)):
        r = member_api.send("post", "/comments", {"target": target, "target_id": pk,
                                                  "text": f"On the {target}"})
        assert r.status_code == 201, (target, r.content)
        r = member_api.client.get(f"/api/v1/comments?{target}={pk}", **member_api.headers)
        assert [c["text"] for c in r.json()["items"]] == [f"On the {target}"]
    for query in ("", f"?objective={objective.pk}&kpi={kpi.pk}"):
        r = member_api.client.get(f"/api/v1/comments{query}", **member_api.headers)
        assert r.status_code == 400 and "one target" in r.json()["errors"]["objective"][0]


def test_a_foreign_or_missing_target_is_404_and_nothing_is_stored(org, member_api):
    other = OrganizationFactory(slug="globex")
    foreign = ObjectiveFactory(organization=other, cycle=CycleFactory(organization=other))
    for pk in (foreign.pk, 999_999):
        r = member_api.send("post", "/comments", {"target": "objective", "target_id": pk,
                                                  "text": "Hello"})
        assert r.status_code == 404 and r.json() == {"detail": "Not found."}
        r = member_api.client.get(f"/api/v1/comments?objective={pk}", **member_api.headers)
        assert r.status_code == 404
    foreign_comment = Comment.objects.create(organization=other, target_kind="objective",
                                             target_id=foreign.pk, body="Theirs")
    r = member_api.client.get(f"/api/v1/comments/{foreign_comment.pk}", **member_api.headers)
    assert r.status_code == 404
    r = member_api.send("patch", f"/comments/{foreign_comment.pk}", {"text": "Mine now"})
    assert r.status_code == 404
    assert Comment.objects.filter(organization=org).count() == 0


@pytest.mark.parametrize(("text", "code"), [
    ("x" * 100_000, {422}), ("a\x00b", {400, 422}), ("   ", {400}), ("", {422})])
def test_bad_text_is_a_json_error(member_api, objective, text, code):
    r = member_api.send("post", "/comments", {"target": "objective", "target_id": objective.pk,
                                              "text": text})
    assert r.status_code in code and r.json()["errors"]["text"], r.content
    assert not Comment.objects.exists()


def test_only_the_author_edits_and_deletes_within_15_minutes(org, member, viewer, member_api,
                                                             viewer_api, objective):
    r = member_api.send("post", "/comments", {"target": "objective",
                                              "target_id": objective.pk, "text": "Draft"})
    pk = r.json()["id"]
    # Another person: 403 for both, nothing changes.
    r = viewer_api.send("patch", f"/comments/{pk}", {"text": "Hijacked"})
    assert r.status_code == 403 and r.json()["detail"]
    assert viewer_api.send("delete", f"/comments/{pk}").status_code == 403
    assert Comment.objects.get(pk=pk).body == "Draft"
    # The author edits (audited, the old text kept there).
    r = member_api.send("patch", f"/comments/{pk}", {"text": "Final"})
    assert r.status_code == 200 and r.json()["text"] == "Final" and r.json()["edited_at"]
    assert AuditEntry.objects.filter(action="comment edited", object_id=str(pk)).exists()
    r = member_api.send("patch", f"/comments/{pk}", {"text": "\x00"})
    assert r.status_code in (400, 422) and Comment.objects.get(pk=pk).body == "Final"
    # Too late: 409 with a message.
    Comment.objects.filter(pk=pk).update(
        created_at=Comment.objects.get(pk=pk).created_at - dt.timedelta(minutes=16))
    r = member_api.send("patch", f"/comments/{pk}", {"text": "Later"})
    assert r.status_code == 409 and "15 minutes" in r.json()["detail"]
    assert member_api.send("delete", f"/comments/{pk}").status_code == 409
    assert Comment.objects.get(pk=pk).body == "Final"


def test_the_author_deletes_and_it_leaves_the_thread(member_api, objective):
    pk = member_api.send("post", "/comments", {"target": "objective",
                                               "target_id": objective.pk,
                                               "text": "Oops"}).json()["id"]
    r = member_api.send("delete", f"/comments/{pk}")
    assert r.status_code == 204
    assert Comment.objects.get(pk=pk).deleted_at is not None
    r = member_api.client.get(f"/api/v1/comments?objective={objective.pk}",
                              **member_api.headers)
    assert r.json()["items"] == [] and r.json()["count"] == 0
    assert member_api.send("delete", f"/comments/{pk}").status_code == 404
    assert AuditEntry.objects.filter(action="comment deleted", object_id=str(pk)).exists()


def test_read_only_token_cannot_comment(org, viewer, objective):
    from accounts.models import ApiToken
    raw, prefix, hashed = ApiToken.new_token()
    ApiToken.objects.create(organization=org, user=viewer, name="ro", prefix=prefix,
                            token_hash=hashed, scope=ApiToken.Scope.READ)
    r = JApi(raw).send("post", "/comments", {"target": "objective",
                                             "target_id": objective.pk, "text": "Hi"})
    assert r.status_code == 403 and not Comment.objects.exists()


def test_idempotency_key_writes_one_comment(member_api, objective):
    headers = {**member_api.headers, "HTTP_IDEMPOTENCY_KEY": "c-1"}
    body = json.dumps({"target": "objective", "target_id": objective.pk, "text": "Once"})
    first = member_api.client.post("/api/v1/comments", body, content_type="application/json",
                                   **headers)
    again = member_api.client.post("/api/v1/comments", body, content_type="application/json",
                                   **headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and Comment.objects.count() == 1


@pytest.mark.parametrize("n", [3, 30])
def test_thread_query_count_is_constant(org, member, member_api, objective, n):
    for i in range(n):
        c = Comment.objects.create(organization=org, target_kind="objective",
                                   target_id=objective.pk, author=member, body=f"#{i} @x")
        Mention.objects.create(comment=c, user=member)
    with count_queries() as q:
        r = member_api.client.get(f"/api/v1/comments?objective={objective.pk}&size=50",
                                  **member_api.headers)
    assert r.status_code == 200 and r.json()["count"] == n
    assert [c["text"] for c in r.json()["items"]][:2] == ["#0 @x", "#1 @x"]  # newest last
    # token (+ its membership, last-used update) + target + count + page + mentions
    assert len(q) == 7, q.listing()


def test_an_untouched_edit_changes_nothing(member_api, objective):
    pk = member_api.send("post", "/comments", {"target": "objective",
                                               "target_id": objective.pk,
                                               "text": "Same"}).json()["id"]
    before = AuditEntry.objects.count()
    r = member_api.send("patch", f"/comments/{pk}", {"text": "Same"})
    assert r.status_code == 200 and r.json()["edited_at"] is None
    assert AuditEntry.objects.count() == before
