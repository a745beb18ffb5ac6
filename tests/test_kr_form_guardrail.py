"""Issue 19 (checkin2): the guardrail key-result form asks its side and threshold as
required — neither reads "(optional)" — and a new form's model-default target (100) is
marked for kr-kind.js to empty for a guardrail (never prefilled as a threshold). An edit
form of an existing guardrail, submitted untouched as a browser would, changes nothing."""

from __future__ import annotations

import re

from django.forms.models import model_to_dict

from bench.client import parse_forms
from okrs.models import KeyResult
from tests.conftest import url
from tests.factories import CycleFactory, KeyResultFactory, ObjectiveFactory


def _label(html: str, field: str) -> str:
    return re.search(rf'<label for="id_{field}">(.*?)</label>', html, re.S).group(1)


def _objective(org, leader):
    return ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org), owner=leader)


def test_the_new_form_asks_side_and_threshold_without_optional(as_user, leader, org):
    objective = _objective(org, leader)
    html = as_user(leader).get(url("okrs:kr_create", org, pk=objective.pk)).content.decode()
    for field in ("target_value", "guard", "start_value"):
        assert "(optional)" not in _label(html, field), field
    assert "(optional)" in _label(html, "unit")  # a field that is optional still says so
    target = re.search(r'<input[^>]*id="id_target_value"[^>]*>', html).group(0)
    assert "data-guardrail-blank" in target and 'value="100"' in target


def test_an_untouched_guardrail_edit_changes_nothing(as_user, leader, org):
    objective = _objective(org, leader)
    kr = KeyResultFactory(objective=objective, title="CSAT", kind="guardrail",
                          guard="at_least", unit="%", start_value=85, target_value=85,
                          current_value=88, weight=2, owner=leader)
    before = model_to_dict(KeyResult.objects.get(pk=kr.pk))
    client = as_user(leader)
    page = client.get(url("okrs:kr_edit", org, pk=kr.pk)).content.decode()
    assert "(optional)" not in _label(page, "target_value")
    assert "(optional)" not in _label(page, "guard")
    assert "data-guardrail-blank" not in page  # an existing threshold is never emptied
    (form,) = [f for f in parse_forms(page) if "guard" in f["fields"]]
    assert float(form["fields"]["target_value"]) == 85 and form["fields"]["guard"] == "at_least"
    response = client.post(url("okrs:kr_edit", org, pk=kr.pk), form["fields"])
    assert response.status_code == 302
    after = model_to_dict(KeyResult.objects.get(pk=kr.pk))
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    # Only the optimistic-lock counter moves (okrs.services.key_result_update bumps it on
    # every save); kind, side, threshold, start, unit, weight, owner and value are kept.
    assert changed == {"version": (before["version"], before["version"] + 1)}, changed
