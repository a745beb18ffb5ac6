"""Who may use the scoped admin: one rule for the demo and for a new organisation (issue
14, defect 4) — an active admin or owner membership (or a superuser), staff or not; the
layout's "Admin site" link follows the same rule."""

from __future__ import annotations

import pytest

from accounts.models import Membership, Organization, Role, User

pytestmark = pytest.mark.django_db

SIGNUP = {"name": "Nora New", "email": "nora@newco.test", "password": "a long pass phrase 42",
          "org_name": "Newco", "org_slug": ""}


def test_a_new_organisations_owner_opens_the_admin(client):
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    nora = User.objects.get(email="nora@newco.test")
    assert not nora.is_staff  # the rule does not need it
    org = Organization.objects.get(name="Newco")
    home = client.get(f"/o/{org.slug}/").content.decode()
    assert ">Admin site</a>" in home
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "not authorized" not in index.content.decode()
    assert any(app["app_label"] == "goals" for app in index.context["app_list"])
    # ... and a second organisation made from the menu is theirs to administer too.
    response = client.post("/accounts/new-organisation/", {"name": "Newco Labs", "slug": ""})
    labs = Organization.objects.get(name="Newco Labs")
    assert client.get(f"/admin/accounts/organization/{labs.pk}/change/").status_code == 200


@pytest.mark.parametrize(("role", "shown"), [(Role.VIEWER, False), (Role.MEMBER, False),
                                             (Role.LEADER, False), (Role.ADMIN, True),
                                             (Role.OWNER, True)])
def test_the_admin_site_link_and_the_admin_agree(as_user, org, member_of, role, shown):
    user = member_of(role)
    if role == Role.LEADER:
        user.is_staff = True  # staff below admin: neither the link nor the site
        user.save(update_fields=["is_staff"])
    client = as_user(user)
    assert (">Admin site</a>" in client.get(f"/o/{org.slug}/").content.decode()) is shown
    assert (client.get("/admin/").status_code == 200) is shown


def test_a_superuser_sees_the_link(as_user, org, member_of):
    user = member_of(Role.VIEWER)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    assert ">Admin site</a>" in as_user(user).get(f"/o/{org.slug}/").content.decode()


def test_the_demo_owner_and_a_new_owner_are_treated_alike(as_user, org, member_of):
    demo_like = member_of(Role.OWNER)
    demo_like.is_staff = True
    demo_like.save(update_fields=["is_staff"])
    new_like = member_of(Role.OWNER)
    assert not new_like.is_staff
    assert Membership.objects.filter(organization=org, role=Role.OWNER).count() == 2
    for user in (demo_like, new_like):
        index = as_user(user).get("/admin/")
        assert index.status_code == 200
        assert [a["app_label"] for a in index.context["app_list"]]
