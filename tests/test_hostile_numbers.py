"""Numbers that are not what the person meant (issue 15, defect 5), on the key result form
and in the Django admin: read by core.numbers (core.fields.NumberField and
WholeNumberField), not by Django's float()/int(), which take "1_000" as 1000, "٣" as 3 and
"１２" as 12. The reader's locale form ("23,5" in German) is accepted where a person types."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import models
from django.test import RequestFactory
from django.utils import translation

from core.fields import NumberField, WholeNumberField
from okrs.forms import KeyResultForm
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MEANT_OTHERWISE = ["1_000", "٣", "１２", "NaN", "-inf", "1e309"]


def _kr_form(org, **values):
    data = {"title": "Revenue", "kind": "metric", "unit": "", "start_value": "0",
            "target_value": "100", "current_value": "", "weight": "1", **values}
    return KeyResultForm(data, organization=org)


@pytest.mark.parametrize("field", ["start_value", "target_value", "current_value", "weight"])
@pytest.mark.parametrize("typed", MEANT_OTHERWISE)
def test_the_kr_form_refuses_numbers_not_meant_with_the_reason(org, field, typed):
    form = _kr_form(org, **{field: typed})
    assert not form.is_valid()
    assert form.errors[field] and form.errors[field][0] != "Enter a number." or typed in (
        "NaN", "-inf", "1e309"), form.errors[field]


def test_the_kr_form_reads_the_readers_decimal_comma(org):
    with translation.override("de"):
        form = _kr_form(org, start_value="23,5", target_value="1.234,5", weight="0,5")
        assert form.is_valid(), form.errors
    assert form.cleaned_data["start_value"] == 23.5
    assert form.cleaned_data["target_value"] == 1234.5
    assert form.cleaned_data["weight"] == 0.5
    form = _kr_form(org, start_value="23.5", target_value="80")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["start_value"] == 23.5


def _admin_forms():
    superuser = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_add_permission(request):
            continue
        yield model, model_admin.get_form(request)
        for inline in model_admin.get_inline_instances(request):
            yield inline.model, inline.get_formset(request).form


def test_every_number_field_of_the_admin_reads_numbers_by_our_rules():
    walked, wrong = 0, []
    for model, form_class in _admin_forms():
        for name, field in form_class.base_fields.items():
            try:
                db_field = model._meta.get_field(name)
            except Exception:  # a form-only field (version, confirmations)
                continue
            if getattr(db_field, "choices", None):
                continue
            if isinstance(db_field, models.FloatField):
                walked += 1
                if not isinstance(field, NumberField):
                    wrong.append(f"{model.__name__}.{name}: {type(field).__name__}")
            elif isinstance(db_field, models.IntegerField) and not db_field.primary_key:
                walked += 1
                if not isinstance(field, WholeNumberField):
                    wrong.append(f"{model.__name__}.{name}: {type(field).__name__}")
    assert walked >= 5
    assert not wrong, wrong


@pytest.mark.parametrize("typed, expected", [("12", 12), ("12,0", 12), ("1 000", 1000)])
def test_a_whole_number_typed_as_a_person_types_it(typed, expected):
    with translation.override("fr"):
        assert WholeNumberField().clean(typed) == expected


@pytest.mark.parametrize("typed", ["1_000", "٣", "12,5", "NaN"])
def test_a_whole_number_refuses_the_rest(typed):
    from django.core.exceptions import ValidationError

    with translation.override("fr"), pytest.raises(ValidationError):
        WholeNumberField().clean(typed)
