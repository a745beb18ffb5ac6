"""SCIM 2.0 at /scim/v2/: scim2-tester against the running server, tenancy, history kept."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import AuditEntry, Membership, Role, ScimToken, Team, User
from accounts.sso import services
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

SCIM = "application/scim+json"


def _token(org, actor=None) -> str:
    return services.scim_token_create(organization=org, actor=actor, name="t")[1]


@pytest.mark.django_db(transaction=True)
def test_scim2_tester_passes_every_check(live_server):
    import httpx2
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_tester import Status, check_server

    org = OrganizationFactory(slug="acme")
    raw = _token(org)
    http = httpx2.Client(base_url=f"{live_server.url}/scim/v2",
                         headers={"Authorization": f"Bearer {raw}"})
    client = SyncSCIMClient(http)
    client.discover()
    results = check_server(client)
    failed = [(r.title, r.status, r.reason) for r in results
              if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    summary = {s.name: sum(1 for r in results if r.status == s) for s in Status}
    print("scim2-tester:", summary)
    assert not failed, failed
    assert summary["SUCCESS"] > 20


@pytest.fixture
def acme(db):
    org = OrganizationFactory(name="Acme", slug="acme")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {_token(org)}")
    return org, client


def _post(client, path, data):
    return client.post(path, data=json.dumps(data), content_type=SCIM)


def test_create_deactivate_reactivate_keeps_history(acme):
    org, client = acme
    created = _post(client, "/scim/v2/Users", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "kim@acme.test",
        "displayName": "Kim", "emails": [{"value": "kim@acme.test", "primary": True}]})
    assert created.status_code == 201, created.content
    scim_id = created.json()["id"]
    user = User.objects.get(email="kim@acme.test")
    membership = Membership.objects.get(user=user, organization=org)
    from accounts.audit import audit_record
    audit_record(organization=org, actor=user, action="updated", obj=org)  # some history
    web = Client()
    web.force_login(user)
    assert web.get("/o/acme/").status_code == 200
    patch = client.patch(f"/scim/v2/Users/{scim_id}", data=json.dumps({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}]}), content_type=SCIM)
    assert patch.status_code in (200, 204), patch.content
    membership.refresh_from_db()
    assert membership.suspended_at is not None
    assert web.get("/o/acme/").status_code == 404  # access gone everywhere
    assert User.objects.filter(pk=user.pk).exists()
    assert AuditEntry.objects.filter(organization=org, actor=user).exists()
    client.patch(f"/scim/v2/Users/{scim_id}", data=json.dumps({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": True}]}), content_type=SCIM)
    assert web.get("/o/acme/").status_code == 200
    found = client.get('/scim/v2/Users?filter=userName eq "kim@acme.test"').json()
    assert found["totalResults"] == 1


def test_groups_are_teams(acme):
    org, client = acme
    uid = _post(client, "/scim/v2/Users", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "lee@acme.test"}).json()["id"]
    group = _post(client, "/scim/v2/Groups", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Sales",
        "members": [{"value": uid}]})
    assert group.status_code == 201, group.content
    team = Team.objects.get(organization=org, name="Sales")
    assert [u.email for u in team.members.all()] == ["lee@acme.test"]


def test_tenancy_and_errors(acme):
    org, client = acme
    uid = _post(client, "/scim/v2/Users", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "x@acme.test"}).json()["id"]
    other = OrganizationFactory(slug="globex")
    foreign = Client(HTTP_AUTHORIZATION=f"Bearer {_token(other)}")
    assert foreign.get(f"/scim/v2/Users/{uid}").status_code == 404
    r = foreign.patch(f"/scim/v2/Users/{uid}", data=json.dumps({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}]}), content_type=SCIM)
    assert r.status_code == 404 and "Error" in r.json()["schemas"][0]
    assert foreign.get("/scim/v2/Users").json()["totalResults"] == 0
    bad = client.post("/scim/v2/Users", data="{not json", content_type=SCIM)
    assert 400 <= bad.status_code < 500 and bad.json()["schemas"] == [
        "urn:ietf:params:scim:api:messages:2.0:Error"]
    assert Client().get("/scim/v2/Users").status_code == 401
    token = ScimToken.objects.filter(organization=org).first()
    services.scim_token_revoke(token=token, actor=None)
    assert client.get("/scim/v2/Users").status_code == 401


def test_existing_account_outside_is_not_claimed(acme):
    org, client = acme
    victim = UserFactory(email="victim@initech.test")
    MembershipFactory(user=victim, organization=OrganizationFactory(slug="initech"),
                      role=Role.OWNER)
    r = _post(client, "/scim/v2/Users", {"schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "victim@initech.test"})
    assert r.status_code == 409
    assert not Membership.objects.filter(user=victim, organization=org).exists()
