"""Owner choices and carry-over defaults (issue 14, defect 12)."""

from __future__ import annotations

import pytest

from accounts.models import Role
from okrs.forms import CarryOverForm, KeyResultForm, ObjectiveForm
from tests.factories import CycleFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def test_a_viewer_is_not_offered_as_an_owner(org, member_of):
    viewer = member_of(Role.VIEWER)
    member = member_of(Role.MEMBER)
    for form in (ObjectiveForm(organization=org), KeyResultForm(organization=org)):
        people = set(form.fields["owner"].queryset)
        assert member in people and viewer not in people


def test_a_viewer_who_already_owns_stays_choosable(org, member_of):
    viewer = member_of(Role.VIEWER)
    objective = ObjectiveFactory(organization=org, owner=viewer)
    form = ObjectiveForm(organization=org, instance=objective)
    assert viewer in set(form.fields["owner"].queryset)


def test_carry_over_ticks_nothing_and_says_why(org):
    q1 = CycleFactory(organization=org, name="Q1")
    o = ObjectiveFactory(organization=org, cycle=q1)
    form = CarryOverForm(organization=org, source=q1, candidates=[o])
    assert not form.fields["objectives"].initial
    assert "None is ticked for you" in form.fields["objectives"].help_text
    bound = CarryOverForm({"target": ""}, organization=org, source=q1, candidates=[o])
    assert "Tick at least one objective" in str(bound.errors)
