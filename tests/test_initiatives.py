"""Initiatives: members write and edit their own, leaders all; tenancy; versions."""

from __future__ import annotations

import pytest

from initiatives.models import Initiative
from okrs import services as okr_services
from tests.conftest import url
from tests.factories import InitiativeFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kr(org):
    return KeyResultFactory(objective=ObjectiveFactory(organization=org))


def _data(**kw):
    data = {"title": "Weekend rota", "description": "", "status": "in_progress",
            "due_date": "", "percent_complete": 20}
    data.update(kw)
    return data


def test_member_creates_an_initiative_owned_by_themselves(as_user, member, leader, org, kr):
    response = as_user(member).post(url("initiatives:create", org) + f"?key_result={kr.pk}",
                                    _data(owner=leader.pk))
    assert response.status_code == 302
    ini = Initiative.objects.get()
    assert ini.owner == member and ini.key_result == kr and ini.organization == org


def test_leader_assigns_the_owner(as_user, leader, member, org, kr):
    as_user(leader).post(url("initiatives:create", org),
                         {**_data(owner=member.pk), "key_result": kr.pk})
    assert Initiative.objects.get().owner == member


def test_initiative_on_objective(as_user, leader, org, kr):
    response = as_user(leader).post(url("initiatives:create", org),
                                    {**_data(), "objective": kr.objective_id})
    assert response.status_code == 302
    assert Initiative.objects.get().objective == kr.objective


def test_viewer_cannot_create(as_user, viewer, org, kr):
    response = as_user(viewer).post(url("initiatives:create", org) + f"?key_result={kr.pk}",
                                    _data())
    assert response.status_code == 403


def test_foreign_kr_is_404(as_user, owner, org, outsider):
    other = outsider.memberships.get().organization
    foreign = KeyResultFactory(objective=ObjectiveFactory(organization=other))
    response = as_user(owner).post(url("initiatives:create", org) + f"?key_result={foreign.pk}",
                                   _data())
    assert response.status_code == 404
    assert not Initiative.objects.exists()
    assert as_user(owner).get(url("initiatives:create", org) + "?key_result=abc"
                              ).status_code == 404


def test_member_edits_own_but_not_others(as_user, member, leader, org, kr):
    own = InitiativeFactory(key_result=kr, owner=member, title="Mine")
    theirs = InitiativeFactory(key_result=kr, owner=leader, title="Theirs")
    client = as_user(member)
    assert client.get(url("initiatives:edit", org, pk=theirs.pk)).status_code == 403
    assert client.post(url("initiatives:delete", org, pk=theirs.pk)).status_code == 403
    response = client.post(url("initiatives:edit", org, pk=own.pk),
                           _data(title="Mine, renamed", version=own.version, status="done"))
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.title == "Mine, renamed" and own.percent_complete == 100  # done means 100 %
    assert as_user(leader).get(url("initiatives:edit", org, pk=own.pk)).status_code == 200


def test_outsider_and_foreign_initiative_404(as_user, outsider, owner, org, kr):
    ini = InitiativeFactory(key_result=kr)
    other = outsider.memberships.get().organization
    foreign = InitiativeFactory(key_result=KeyResultFactory(
        objective=ObjectiveFactory(organization=other)))
    assert as_user(outsider).get(url("initiatives:edit", org, pk=ini.pk)).status_code == 404
    assert as_user(owner).get(url("initiatives:edit", org, pk=foreign.pk)).status_code == 404
    assert as_user(owner).post(url("initiatives:delete", org, pk=foreign.pk)).status_code == 404


def test_stale_version_is_refused(as_user, leader, org, kr):
    ini = InitiativeFactory(key_result=kr, title="Before")
    Initiative.objects.filter(pk=ini.pk).update(title="Theirs", version=2)
    response = as_user(leader).post(url("initiatives:edit", org, pk=ini.pk),
                                    _data(title="Mine", version=1))
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    # What was typed is listed beside the fresh form, the status as stored.
    assert "<dt>Title</dt><dd>Mine</dd>" in response.content.decode()
    assert "<dt>Status</dt><dd>in_progress</dd>" in response.content.decode()
    assert Initiative.objects.get(pk=ini.pk).title == "Theirs"


def test_percent_out_of_range_is_a_form_error(as_user, leader, org, kr):
    ini = InitiativeFactory(key_result=kr)
    response = as_user(leader).post(url("initiatives:edit", org, pk=ini.pk),
                                    _data(percent_complete=150, version=ini.version))
    assert response.status_code == 200
    assert Initiative.objects.get(pk=ini.pk).percent_complete == 0


def test_delete_initiative(as_user, leader, org, kr):
    ini = InitiativeFactory(key_result=kr)
    client = as_user(leader)
    assert client.get(url("initiatives:delete", org, pk=ini.pk)).status_code == 200
    assert client.post(url("initiatives:delete", org, pk=ini.pk)).status_code == 302
    assert not Initiative.objects.exists()


def test_closed_cycle_initiatives_are_read_only(as_user, leader, org, kr):
    ini = InitiativeFactory(key_result=kr, title="Kept")
    cycle = kr.objective.cycle
    okr_services.cycle_close(cycle=cycle, actor=leader, version=cycle.version)
    client = as_user(leader)
    response = client.post(url("initiatives:edit", org, pk=ini.pk),
                           _data(title="Changed", version=ini.version))
    assert response.status_code == 302
    assert Initiative.objects.get(pk=ini.pk).title == "Kept"
    client.post(url("initiatives:delete", org, pk=ini.pk))
    assert Initiative.objects.filter(pk=ini.pk).exists()
