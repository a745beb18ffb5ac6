"""The key result forms (issue 14, defect 2): a guardrail's side is asked, never guessed;
each kind's fields are marked for static/js/kr-kind.js; the database backs the rule."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from okrs import services
from okrs.forms import KIND_FIELDS, KeyResultForm
from okrs.models import KeyResult, Objective
from tests.conftest import url
from tests.factories import CycleFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(org):
    return CycleFactory(organization=org, name="2026 Q4")


def _objective_post(cycle, leader, **kr):
    data = {"title": "Happy customers", "description": "", "cycle": cycle.pk,
            "owner": leader.pk, "team": "", "pillar": "", "parent": "", "kind": "committed",
            "state": "active", "progress_from": "krs",
            "kr-TOTAL_FORMS": 1, "kr-INITIAL_FORMS": 0, "kr-MIN_NUM_FORMS": 0,
            "kr-MAX_NUM_FORMS": 10}
    row = {"title": "Keep CSAT at or above 85 %", "kind": "guardrail", "unit": "%",
           "start_value": "", "target_value": "85", "current_value": "88", "guard": "",
           "weight": "1", "owner": leader.pk, "kpi": ""}
    row.update(kr)
    data.update({f"kr-0-{k}": v for k, v in row.items()})
    return data


def test_a_guardrail_without_a_side_is_refused_on_the_page(as_user, leader, org, cycle):
    """The issue's example: side left empty was saved as "at or below 85 · not held"."""
    response = as_user(leader).post(url("okrs:objective_create", org),
                                    _objective_post(cycle, leader))
    assert response.status_code == 200
    assert "Choose the side that must hold" in response.content.decode()
    assert not Objective.objects.filter(title="Happy customers").exists()


def test_a_guardrail_with_its_side_is_saved_as_typed_and_held(as_user, leader, org, cycle):
    response = as_user(leader).post(url("okrs:objective_create", org),
                                    _objective_post(cycle, leader, guard="at_least"))
    assert response.status_code == 302, response.content.decode()[:2000]
    kr = KeyResult.objects.get(title="Keep CSAT at or above 85 %")
    assert (kr.guard, kr.target_value, kr.current_value) == ("at_least", 85, 88)
    assert kr.start_value == 85  # not asked for a guardrail: the threshold
    page = as_user(leader).get(url("okrs:objective", org, pk=kr.objective_id)).content.decode()
    assert "Stay at or below" not in page


def test_the_service_refuses_a_guardrail_without_a_side(org, cycle, leader):
    objective = ObjectiveFactory(organization=org, cycle=cycle)
    with pytest.raises(ValidationError) as err:
        services.key_result_create(objective=objective, actor=leader, data={
            "title": "Keep it", "kind": "guardrail", "start_value": 85, "target_value": 85,
            "guard": ""})
    assert "guard" in err.value.message_dict


def test_the_database_refuses_a_guardrail_without_a_side(org, cycle):
    objective = ObjectiveFactory(organization=org, cycle=cycle)
    with pytest.raises(IntegrityError), transaction.atomic():
        KeyResultFactory(objective=objective, kind="guardrail", guard="")
    KeyResultFactory(objective=objective, kind="metric", guard="")  # others need none


def test_a_metric_or_milestone_keeps_no_side(as_user, leader, org, cycle):
    response = as_user(leader).post(url("okrs:objective_create", org), _objective_post(
        cycle, leader, title="Reply time", kind="metric", start_value="52",
        target_value="30", guard="at_most"))
    assert response.status_code == 302
    assert KeyResult.objects.get(title="Reply time").guard == ""


def test_each_field_says_which_kinds_ask_for_it(org):
    form = KeyResultForm(organization=org)
    html = str(form)
    assert 'data-kr-kind=""' in html
    for name, kinds in KIND_FIELDS.items():
        assert form.fields[name].widget.attrs["data-kr-kinds"] == " ".join(kinds)
    assert KIND_FIELDS["guard"] == ("guardrail",)
    assert "guardrail" not in KIND_FIELDS["start_value"]
    assert KIND_FIELDS["done"] == ("milestone",)
