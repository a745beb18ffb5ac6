"""OKR admin: key results inline under their objective, in the objective's organisation."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from okrs.models import KeyResult
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    KpiFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    UserFactory,
)


@pytest.fixture
def staff_client(org):
    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, organization=org, role=Role.ADMIN)
    client = Client()
    client.force_login(user)
    return client


def form_data(html: str) -> dict:
    """Management forms of the page, to post inline rows."""
    return dict(re.findall(
        r'<input type="hidden" name="([^"]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"'
        r'[^>]*value="([^"]*)"', html))


def objective_payload(objective) -> dict:
    return {"cycle": objective.cycle_id, "title": objective.title, "kind": objective.kind,
            "state": objective.state, "progress_from": objective.progress_from,
            "order": objective.order}


def kr_row(prefix: str, i: int, **values) -> dict:
    row = {"title": "Cut reply time", "kind": "metric", "unit": "h", "start_value": 10,
           "target_value": 5, "current_value": 10, "guard": "", "weight": 1, "order": 0}
    row.update(values)
    return {f"{prefix}-{i}-{k}": v for k, v in row.items()}


@pytest.fixture
def setup(org, member):
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org))
    other = OrganizationFactory(name="Other zqxb", slug="other")
    foreign_kpi = KpiFactory(organization=other, name="Foreign zqxb")
    stranger = UserFactory()
    MembershipFactory(user=stranger, organization=other, role=Role.MEMBER)
    return objective, foreign_kpi, stranger


def post_with_row(client, objective, **row):
    url = reverse("admin:okrs_objective_change", args=[objective.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = {**form_data(page.content.decode()), **objective_payload(objective)}
    prefix = next(k for k in data if k.endswith("-TOTAL_FORMS")).rsplit("-", 1)[0]
    data[f"{prefix}-TOTAL_FORMS"] = "1"
    data.update(kr_row(prefix, 0, **row))
    return client.post(url, data)


def test_key_result_added_inline_takes_the_objectives_organisation(
        staff_client, org, setup, member):
    objective, kpi, _ = setup
    own_kpi = KpiFactory(organization=org)
    response = post_with_row(staff_client, objective, owner=member.pk, kpi=own_kpi.pk)
    assert response.status_code == 302
    kr = KeyResult.objects.get(objective=objective)
    assert kr.organization_id == org.pk and kr.kpi == own_kpi and kr.owner == member


@pytest.mark.parametrize("field", ["kpi", "owner"])
def test_inline_key_result_refuses_foreign_rows(staff_client, setup, field):
    objective, kpi, stranger = setup
    value = kpi.pk if field == "kpi" else stranger.pk
    response = post_with_row(staff_client, objective, **{field: value})
    assert response.status_code == 200
    errors = [f.errors for f in response.context["inline_admin_formsets"][0].formset.forms]
    assert any(field in e for e in errors)
    assert not KeyResult.objects.filter(objective=objective).exists()


def test_key_result_cannot_move_to_a_foreign_objective(staff_client, org):
    kr = KeyResultFactory(objective=ObjectiveFactory(organization=org))
    other = OrganizationFactory(slug="else")
    foreign = ObjectiveFactory(organization=other)
    url = reverse("admin:okrs_keyresult_change", args=[kr.pk])
    response = staff_client.post(url, {
        "objective": foreign.pk, "title": kr.title, "kind": "metric", "start_value": 0,
        "target_value": 100, "current_value": 0, "weight": 1, "order": 0})
    assert response.status_code in (200, 302)  # the objective is read-only once created
    kr.refresh_from_db()
    assert kr.objective.organization_id == org.pk


def test_checkins_are_read_only(staff_client, org):
    from tests.factories import CheckInFactory

    checkin = CheckInFactory(key_result=KeyResultFactory(objective=ObjectiveFactory(
        organization=org)))
    assert staff_client.get(reverse("admin:okrs_checkin_add")).status_code == 403
    page = staff_client.get(reverse("admin:okrs_checkin_change", args=[checkin.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content


def test_a_stale_objective_form_is_refused(staff_client, org):
    from okrs.models import Objective

    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org),
                                 title="Mine")
    url = reverse("admin:okrs_objective_change", args=[objective.pk])
    page = staff_client.get(url).content.decode()
    loaded = re.search(r'name="headway_version" value="(\d+)"', page)[1]
    Objective.objects.filter(pk=objective.pk).update(title="Theirs", version=objective.version + 1)
    data = {**form_data(page), **objective_payload(objective), "title": "Mine again",
            "headway_version": loaded}
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "Someone else changed this" in str(response.context["adminform"].form.errors)
    objective.refresh_from_db()
    assert objective.title == "Theirs"
    # With the current version it saves, and bumps the version for the app's forms.
    page = staff_client.get(url).content.decode()
    data = {**form_data(page), **objective_payload(objective), "title": "Mine again",
            "headway_version": re.search(r'name="headway_version" value="(\d+)"', page)[1]}
    assert staff_client.post(url, data).status_code == 302
    objective.refresh_from_db()
    assert (objective.title, objective.version) == ("Mine again", 3)


# --- Writes go through okrs.services ------------------------------------------------------------


def test_a_closed_cycle_is_read_only_in_the_admin(staff_client, org):
    from goals.models import Cycle

    cycle = CycleFactory(organization=org, state=Cycle.State.CLOSED)
    objective = ObjectiveFactory(organization=org, cycle=cycle)
    kr = KeyResultFactory(objective=objective)
    for name, pk in (("objective", objective.pk), ("keyresult", kr.pk)):
        page = staff_client.get(reverse(f"admin:okrs_{name}_change", args=[pk]))
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert staff_client.post(reverse(f"admin:okrs_{name}_delete", args=[pk]),
                                 {"post": "yes"}).status_code == 403
    # Nothing new can be hung under it either.
    response = staff_client.post(reverse("admin:okrs_keyresult_add"), {
        "objective": objective.pk, "title": "Late", "kind": "metric", "start_value": 0,
        "target_value": 1, "weight": 1})
    assert response.status_code == 200
    assert "is closed" in str(response.context["adminform"].form.errors)


def test_key_result_with_check_ins_is_not_deleted(staff_client, org):
    from tests.factories import CheckInFactory

    kr = KeyResultFactory(objective=ObjectiveFactory(organization=org))
    CheckInFactory(key_result=kr)
    assert staff_client.post(reverse("admin:okrs_keyresult_delete", args=[kr.pk]),
                             {"post": "yes"}).status_code == 403
    # Nor through the objective's inline.
    url = reverse("admin:okrs_objective_change", args=[kr.objective_id])
    page = staff_client.get(url).content.decode()
    data = {**form_data(page), **objective_payload(kr.objective)}
    prefix = next(k for k in data if k.endswith("-TOTAL_FORMS")).rsplit("-", 1)[0]
    data.update({f"{prefix}-0-id": kr.pk, f"{prefix}-0-objective": kr.objective_id,
                 f"{prefix}-0-DELETE": "on"})
    data.update(kr_row(prefix, 0, title=kr.title))
    response = staff_client.post(url, data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "cannot be deleted" in str(formset.non_form_errors())
    assert KeyResult.objects.filter(pk=kr.pk).exists()


def test_milestone_is_normalised_and_audited_by_the_service(staff_client, org):
    from accounts.models import AuditEntry

    objective = ObjectiveFactory(organization=org)
    response = staff_client.post(reverse("admin:okrs_keyresult_add"), {
        "objective": objective.pk, "title": "Launch", "kind": "milestone", "start_value": 5,
        "target_value": 50, "weight": 1})
    assert response.status_code == 302, response.context["adminform"].form.errors
    kr = KeyResult.objects.get(title="Launch")
    assert (kr.start_value, kr.target_value, kr.organization_id) == (0.0, 1.0, org.pk)
    assert AuditEntry.objects.filter(object_type="okrs.keyresult", object_id=str(kr.pk),
                                     action="created").exists()


def test_alignment_loop_is_refused(staff_client, org):
    cycle = CycleFactory(organization=org)
    top = ObjectiveFactory(organization=org, cycle=cycle, title="Top")
    child = ObjectiveFactory(organization=org, cycle=cycle, title="Child", parent=top)
    url = reverse("admin:okrs_objective_change", args=[top.pk])
    page = staff_client.get(url).content.decode()
    response = staff_client.post(url, {**form_data(page), **objective_payload(top),
                                       "parent": child.pk})
    assert response.status_code == 200
    assert "loop" in str(response.context["adminform"].form.errors)
    top.refresh_from_db()
    assert top.parent_id is None


def test_initiative_under_both_parents_is_refused(staff_client, org):
    from initiatives.models import Initiative

    kr = KeyResultFactory(objective=ObjectiveFactory(organization=org))
    response = staff_client.post(reverse("admin:initiatives_initiative_add"), {
        "key_result": kr.pk, "objective": kr.objective_id, "title": "Both",
        "status": "planned", "percent_complete": 0})
    assert response.status_code == 200
    assert "not both" in str(response.context["adminform"].form.errors)
    response = staff_client.post(reverse("admin:initiatives_initiative_add"), {
        "key_result": kr.pk, "title": "One", "status": "done", "percent_complete": 10})
    assert response.status_code == 302
    initiative = Initiative.objects.get(title="One")
    assert initiative.percent_complete == 100  # the service's rule for done
