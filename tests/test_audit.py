"""The audit trail: memberships, roles and invitations are recorded with who, when and
what changed; the history partial shows them; the trail is never editable."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from accounts.audit import audit_record, history_for
from accounts.models import AuditEntry, Invitation, Membership, Role
from accounts.services import invitation_create
from accounts.templatetags.audit import history_rows
from tests.factories import MembershipFactory, OrganizationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def entries(obj):
    return list(history_for(obj))


def test_role_change_is_audited(org, owner, member, as_user):
    membership = Membership.objects.get(user=member, organization=org)
    url = reverse("accounts:member_role", kwargs={"org_slug": org.slug, "pk": membership.pk})
    response = as_user(owner).post(url, {"role": Role.LEADER})
    assert response.status_code == 302
    [entry] = entries(membership)
    assert entry.organization == org
    assert entry.actor == owner
    assert entry.action == "role_changed"
    assert entry.changes == {"role": [Role.MEMBER, Role.LEADER]}
    assert entry.object_type == "accounts.membership"


def test_refused_role_change_is_not_audited(org, admin_user, owner, as_user):
    """An admin may not touch an owner: nothing changes and nothing is recorded."""
    membership = Membership.objects.get(user=owner, organization=org)
    url = reverse("accounts:member_role", kwargs={"org_slug": org.slug, "pk": membership.pk})
    as_user(admin_user).post(url, {"role": Role.MEMBER})
    membership.refresh_from_db()
    assert membership.role == Role.OWNER
    assert entries(membership) == []


def test_invitation_and_joining_are_audited(client, org, owner, as_user):
    url = reverse("accounts:members", kwargs={"org_slug": org.slug})
    response = as_user(owner).post(url, {"email": "New@Example.com", "role": Role.MEMBER})
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="new@example.com")
    [entry] = entries(invitation)
    assert (entry.actor, entry.action, entry.changes) == (owner, "invited",
                                                          {"role": [None, Role.MEMBER]})
    # accepting records a "joined" entry on the new membership, by the new member
    _, raw = invitation_create(organization=org, email="second@example.com", role=Role.VIEWER,
                               invited_by=owner)
    response = client.post(reverse("accounts:invitation", kwargs={"token": raw}),
                           {"name": "Sam Second", "password": "a-long-pass-phrase-9"})
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="second@example.com")
    [joined] = entries(membership)
    assert joined.action == "joined"
    assert joined.actor == membership.user
    assert joined.changes == {"role": [None, Role.VIEWER]}


def test_member_removal_is_audited_and_outlives_the_membership(org, owner, member, as_user):
    membership = Membership.objects.get(user=member, organization=org)
    pk = membership.pk
    url = reverse("accounts:member_remove", kwargs={"org_slug": org.slug, "pk": pk})
    assert as_user(owner).post(url).status_code == 302
    assert not Membership.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.get(object_type="accounts.membership", object_id=str(pk))
    assert (entry.action, entry.actor, entry.changes) == ("removed", owner,
                                                          {"role": [Role.MEMBER, None]})


def test_audit_entries_are_kept_when_the_actor_is_deleted(org, owner, member):
    membership = Membership.objects.get(user=member, organization=org)
    audit_record(organization=org, actor=owner, action="role_changed", obj=membership,
                 changes={"role": ["member", "leader"]})
    owner.delete()
    [entry] = entries(membership)
    assert entry.actor is None
    rows = history_rows(membership)
    assert rows[0]["actor"] == "Headway"


# --- The history partial ------------------------------------------------------------------

def render_history(obj, **ctx):
    request = RequestFactory().get("/")
    return Template("{% load audit %}{% history obj %}").render(
        Context({"obj": obj, "request": request, **ctx}))


def test_history_partial_shows_who_when_and_old_to_new(org, owner, member):
    membership = Membership.objects.get(user=member, organization=org)
    audit_record(organization=org, actor=owner, action="role_changed", obj=membership,
                 changes={"role": [Role.MEMBER, Role.LEADER]})
    html = render_history(membership)
    assert "Olive Owner" in html
    assert "role changed" in html
    assert "Role:" in html
    assert "<del>Member</del>" in html and "<ins>Leader</ins>" in html  # choice labels
    assert "<time" in html


def test_history_partial_names_foreign_keys_and_empties(org, owner):
    team = TeamFactory(organization=org, name="Support")
    lead = UserFactory(name="Lou Lead")
    audit_record(organization=org, actor=owner, action="updated", obj=team,
                 changes={"lead": [None, lead.pk], "name": ["Help", "Support"]})
    html = render_history(team)
    assert "<del>—</del>" in html and "<ins>Lou Lead</ins>" in html
    assert "<del>Help</del>" in html


def test_history_partial_escapes_what_users_typed(org, owner):
    team = TeamFactory(organization=org, name="Support")
    audit_record(organization=org, actor=owner, action="updated", obj=team,
                 changes={"name": ["<script>alert(1)</script>", "ok"]},
                 note="<img src=x onerror=alert(1)>")
    html = render_history(team)
    assert "<script>alert" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_history_partial_empty_state(org):
    team = TeamFactory(organization=org)
    assert "No recorded changes yet." in render_history(team)


def test_history_shows_only_this_objects_entries(org, owner):
    team, other_team = TeamFactory(organization=org), TeamFactory(organization=org)
    other_org = OrganizationFactory()
    foreign = TeamFactory(organization=other_org)
    audit_record(organization=org, actor=owner, action="updated", obj=other_team,
                 changes={"name": ["A", "B-other"]})
    audit_record(organization=other_org, actor=None, action="updated", obj=foreign,
                 changes={"name": ["A", "C-foreign"]})
    html = render_history(team)
    assert "B-other" not in html and "C-foreign" not in html


@pytest.mark.parametrize("n", [1, 15])
def test_history_query_count_does_not_grow(org, owner, django_assert_num_queries, n):
    team = TeamFactory(organization=org)
    users = UserFactory.create_batch(3)
    for i in range(n):
        audit_record(organization=org, actor=owner, action="updated", obj=team,
                     changes={"lead": [users[i % 3].pk, users[(i + 1) % 3].pk],
                              "parent": [None, None]})
    with django_assert_num_queries(2):  # 1: entries with actors; 2: the users named in "lead"
        rows = history_rows(team)
    assert len(rows) == n


# --- Never editable from the app ------------------------------------------------------------

def test_no_app_url_writes_audit_entries():
    """No view outside the admin is about audit entries (they are written by services)."""
    from tests.conftest import url_routes

    for route, pattern in url_routes():
        if route.startswith("admin/"):
            continue
        assert "audit" not in route.lower(), route
        assert "audit" not in (pattern.name or "").lower(), route


def test_admin_shows_the_trail_read_only(org, owner, rf):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    model_admin = site._registry.get(AuditEntry)
    assert model_admin is not None, "AuditEntry must be registered in the admin (read-only)"
    request = rf.get("/admin/")
    request.user = owner
    assert not model_admin.has_add_permission(request)
    entry = audit_record(organization=org, actor=owner, action="x", obj=org)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)


def test_memberships_of_other_orgs_cannot_be_changed_or_audited(org, owner, as_user):
    other = OrganizationFactory()
    stranger = MembershipFactory(organization=other, role=Role.MEMBER)
    url = reverse("accounts:member_role", kwargs={"org_slug": org.slug, "pk": stranger.pk})
    assert as_user(owner).post(url, {"role": Role.ADMIN}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.role == Role.MEMBER
    assert entries(stranger) == []


# --- The objects the issue names: objectives, KRs, KPIs and targets, API tokens ------------

def test_objective_and_key_result_changes_are_audited_with_old_and_new(org, leader):
    from okrs import services as okr_services
    from tests.factories import CycleFactory

    cycle = CycleFactory(organization=org)
    objective = okr_services.objective_create(
        organization=org, actor=leader, data={"title": "Grow", "cycle": cycle},
        key_results=[{"title": "Revenue", "kind": "metric", "start_value": 1.0,
                      "target_value": 2.0}])
    kr = objective.key_results.get()
    okr_services.objective_update(objective=objective, actor=leader, version=objective.version,
                                  data={"title": "Grow faster", "cycle": cycle})
    kr.refresh_from_db()
    okr_services.key_result_update(key_result=kr, actor=leader, version=kr.version,
                                   data={"title": "Revenue", "kind": "metric",
                                         "start_value": 1.0, "target_value": 3.0})
    actions = [(e.action, e.changes) for e in entries(objective)]
    assert actions[-1][0] == "created"
    assert ("updated", {"title": ["Grow", "Grow faster"]}) in actions
    kr_entries = entries(kr)
    assert [e.action for e in kr_entries] == ["updated", "created"]
    assert kr_entries[0].changes == {"target_value": [2.0, 3.0]}
    assert all(e.actor == leader for e in kr_entries)
    html = render_history(kr)
    assert "<del>2.0</del>" in html and "<ins>3.0</ins>" in html


def test_kpi_target_change_is_audited_with_the_reason(org, admin_user):
    from kpis import services as kpi_services
    from tests.factories import KpiFactory

    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=30.0)
    kpi_services.kpi_change_target(kpi=kpi, actor=admin_user, version=kpi.version,
                                   target_rule="at_most", target_value=25.0,
                                   reason="New service level")
    [entry] = [e for e in entries(kpi) if e.action == "target changed"]
    assert entry.actor == admin_user
    assert entry.changes["target_value"] == [30.0, 25.0]
    assert entry.note == "New service level"
    assert "New service level" in render_history(kpi)


def test_api_tokens_created_and_revoked_are_audited(org, admin_user, as_user):
    c = as_user(admin_user)
    url = reverse("api_tokens:list", kwargs={"org_slug": org.slug})
    assert c.post(url, {"name": "Warehouse sync", "scope": "read"}).status_code == 200
    from accounts.models import ApiToken

    token = ApiToken.objects.get(organization=org, name="Warehouse sync")
    revoke = reverse("api_tokens:revoke", kwargs={"org_slug": org.slug, "pk": token.pk})
    assert c.post(revoke).status_code == 302
    assert [(e.action, e.actor) for e in entries(token)] == [
        ("token revoked", admin_user), ("token created", admin_user)]
    assert token.token_hash not in str([e.changes for e in entries(token)])
