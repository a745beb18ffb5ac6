"""Derived KPIs (issue 20): a formula of other KPIs, parsed safely (never eval), computed
per period in the writing transaction, with its own points, health and history; unknown
names, another frequency and cycles refused with a message; a missing input leaves the
period empty (and the page says so); an input cannot be deleted while it is used."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db.models import RestrictedError
from django.utils import timezone

from accounts.models import Organization
from kpis import derived, health, services
from kpis import formula as F
from kpis.models import DataPoint, DataPointRevision, HealthEvent, Kpi, KpiHealth, KpiInput
from tests.conftest import url
from tests.factories import KpiFactory


def _weeks(n):
    last = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday() + 7)
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


# --- the language ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, values, expected", [
    ("[A] / [B] * 100", {"a": 45, "b": 60}, 75.0),
    ("([A] - [B]) / [b]", {"a": 9, "b": 3}, 2.0),
    ("-[A] + 2 × [B] ÷ 4", {"a": 1, "b": 8}, 3.0),
    ("[Complaints] / [Orders] * 1000", {"complaints": 3, "orders": 1500}, 2.0),
    ("[A] / [B]", {"a": 1, "b": 0}, None),  # a division by zero: empty, not infinity
    ("[A] / [B]", {"a": 1}, None),  # an input missing: empty, not zero
    ("[A] * 1e15 * 1e15", {"a": 1e300}, None),  # too large: empty, not infinity
])
def test_formula_values(text, values, expected):
    assert F.parse_named(text).evaluate(values) == expected


@pytest.mark.parametrize("text, words", [
    ("", "Enter a formula"),
    ("3 + 4", "at least one KPI"),
    ("[A] ** 2", "Only numbers"),
    ("__import__('os').system('true')", "at least one KPI"),
    ("[A].__class__", "Only numbers"),
    ("[A] + (lambda: 1)()", "Only numbers"),
    ("[A] + abs(-1)", "Only numbers"),
    ("[A] // 2", "Only numbers"),
    ("[A] % 2", "Only numbers"),
    ("[A] + True", "Only numbers"),
    ("[A] + 'x'", "Only numbers"),
    ("[A] + [ ]", "empty"),
    ("[A] + {3}", "square brackets"),
    ("[A] +", "not a formula"),
    ("[A] + " + "-" * 30 + "1", "nested too deeply"),
    ("[A] * 1e400", "too large"),
])
def test_formula_refuses(text, words):
    with pytest.raises(F.FormulaError, match=words):
        F.parse_named(text)


def test_stored_form_round_trip():
    stored = F.to_stored("[Resolved first time] / [tickets] * 100",
                         {"resolved first time": 7, "tickets": 12})
    assert stored == "{7} / {12} * 100"
    assert F.parse_stored(stored).refs == ("7", "12")
    assert F.to_named(stored, {7: "Resolved first time", 12: "Tickets"}) == (
        "[Resolved first time] / [Tickets] * 100")


# --- the services ---------------------------------------------------------------------------


@pytest.fixture
def fcr(org, admin_user):
    tickets = KpiFactory(organization=org, name="Tickets", unit="", target_rule="none",
                         target_value=None)
    resolved = KpiFactory(organization=org, name="Resolved first time", unit="",
                          target_rule="none", target_value=None)
    kpi = services.kpi_create(
        organization=org, actor=admin_user, name="First-contact resolution", unit="%",
        frequency=Kpi.Frequency.WEEKLY, target_rule="at_least", target_value=70,
        formula="[Resolved first time] / [Tickets] * 100")
    return kpi, tickets, resolved


def _values(kpi):
    return dict(DataPoint.objects.filter(kpi=kpi).values_list("period_start", "value"))


def test_a_derived_kpi_is_computed_per_period_in_the_same_transaction(fcr, admin_user):
    kpi, tickets, resolved = fcr
    assert kpi.formula == f"{{{resolved.pk}}} / {{{tickets.pk}}} * 100"
    assert set(KpiInput.objects.filter(derived=kpi).values_list("input_id", flat=True)) == {
        tickets.pk, resolved.pk}
    weeks = _weeks(8)
    for i, week in enumerate(weeks):
        services.kpi_record_value(kpi=tickets, period=week, value=200 + i, author=admin_user)
        assert _values(kpi) == {w: pytest.approx(v) for w, v in
                                ((w, r / (200 + j) * 100) for j, (w, r) in enumerate(
                                    zip(weeks[:i], [150 + k for k in range(i)], strict=True)))}
        services.kpi_record_value(kpi=resolved, period=week, value=150 + i, author=admin_user)
    values = _values(kpi)
    assert values == {w: pytest.approx((150 + i) / (200 + i) * 100) for i, w in enumerate(weeks)}
    assert {p.source for p in DataPoint.objects.filter(kpi=kpi)} == {"formula"}
    # its own health, from its own points
    health.evaluate_kpi(kpi)
    h = KpiHealth.objects.get(kpi=kpi)
    assert h.points_count == 8 and h.status == "on_target"
    assert h.center == pytest.approx(sum(values.values()) / 8)
    # a revised input: the derived value changes, the old one kept as a revision
    old = values[weeks[3]]
    services.kpi_record_value(kpi=tickets, period=weeks[3], value=406, author=admin_user)
    assert _values(kpi)[weeks[3]] == pytest.approx(153 / 406 * 100)
    rev = DataPointRevision.objects.get(point__kpi=kpi)
    assert rev.old_value == pytest.approx(old) and rev.new_source == "formula"
    # recording the same value again writes nothing
    services.kpi_record_value(kpi=tickets, period=weeks[3], value=406, author=admin_user)
    assert DataPointRevision.objects.filter(point__kpi=kpi).count() == 1


def test_a_missing_input_or_division_by_zero_leaves_the_period_empty(fcr, admin_user):
    kpi, tickets, resolved = fcr
    w = _weeks(3)
    services.kpi_record_value(kpi=tickets, period=w[0], value=100)
    services.kpi_record_value(kpi=resolved, period=w[0], value=80)
    services.kpi_record_value(kpi=tickets, period=w[1], value=0)
    services.kpi_record_value(kpi=resolved, period=w[1], value=0)
    services.kpi_record_value(kpi=resolved, period=w[2], value=50)
    assert _values(kpi) == {w[0]: 80.0}
    text, gaps = derived.gaps(kpi)
    assert text == "[Resolved first time] / [Tickets] * 100"
    assert gaps == [derived.Gap(w[2], ("Tickets",)), derived.Gap(w[1], ())]
    # a value that was computed goes when its input goes to zero
    services.kpi_record_value(kpi=tickets, period=w[0], value=0)
    assert _values(kpi) == {}


def test_values_of_a_derived_kpi_cannot_be_entered(fcr):
    kpi, _, _ = fcr
    with pytest.raises(ValidationError, match="computed from its formula"):
        services.kpi_record_value(kpi=kpi, period=_weeks(1)[0], value=5)
    with pytest.raises(ValidationError, match="computed from its formula"):
        services.kpi_record_values(rows=[services.Row(kpi=kpi, period_start=_weeks(1)[0],
                                                      value=5)], source="csv", author=None)
    assert not DataPoint.objects.filter(kpi=kpi).exists()


def test_a_chain_of_derived_kpis_is_computed_in_order(org, admin_user, fcr):
    kpi, tickets, resolved = fcr
    miss = services.kpi_create(organization=org, actor=admin_user, name="Missed first time",
                               frequency="weekly", formula="100 - [First-contact resolution]")
    w = _weeks(1)[0]
    services.kpi_record_values(rows=[services.Row(kpi=tickets, period_start=w, value=50),
                                     services.Row(kpi=resolved, period_start=w, value=40)],
                               source="csv", author=admin_user)
    assert _values(miss) == {w: pytest.approx(20.0)}


@pytest.mark.parametrize("text, words", [
    ("[Nope] / [Tickets]", "No KPI is named “nope”"),
    ("[Monthly one] / [Tickets]", "“Monthly one” is monthly: a weekly KPI can only use weekly"),
])
def test_bad_references_are_refused(org, admin_user, fcr, text, words):
    KpiFactory(organization=org, name="Monthly one", frequency="monthly")
    with pytest.raises(ValidationError, match=words):
        services.kpi_create(organization=org, actor=admin_user, name="X", frequency="weekly",
                            formula=text)
    assert not Kpi.objects.filter(name="X").exists()


def test_a_cycle_is_refused(org, admin_user, fcr):
    kpi, tickets, _ = fcr
    ratio = services.kpi_create(organization=org, actor=admin_user, name="Ratio",
                                frequency="weekly", formula="[First-contact resolution] / 2")
    with pytest.raises(ValidationError, match="a circle: “First-contact resolution” uses "
                                              "“Tickets”"):
        services.kpi_update(kpi=tickets, actor=admin_user, version=tickets.version,
                            formula="[First-contact resolution] * 2")
    with pytest.raises(ValidationError, match="“Ratio” uses “First-contact resolution” uses "
                                              "“Tickets”"):
        services.kpi_update(kpi=tickets, actor=admin_user, version=tickets.version,
                            formula="[Ratio] + 1")
    with pytest.raises(ValidationError, match="from itself"):
        services.kpi_update(kpi=ratio, actor=admin_user, version=ratio.version,
                            formula="[Ratio] + 1")
    tickets.refresh_from_db()
    assert tickets.formula == "" and not KpiInput.objects.filter(derived=tickets).exists()


def test_changing_the_formula_recomputes_and_is_in_the_history(org, admin_user, fcr):
    kpi, tickets, resolved = fcr
    w = _weeks(1)[0]
    services.kpi_record_value(kpi=tickets, period=w, value=50)
    services.kpi_record_value(kpi=resolved, period=w, value=40)
    services.kpi_update(kpi=kpi, actor=admin_user, version=kpi.version,
                        formula="[Resolved first time] / [Tickets]")
    assert _values(kpi) == {w: pytest.approx(0.8)}
    messages = list(HealthEvent.objects.filter(kpi=kpi, kind="formula")
                    .values_list("message", flat=True))
    assert messages == ["Computed as [Resolved first time] / [Tickets]",
                        "Computed as [Resolved first time] / [Tickets] * 100"]
    # the same formula again: no new version, no event
    version = Kpi.objects.get(pk=kpi.pk).version
    services.kpi_update(kpi=kpi, actor=admin_user, version=version,
                        formula="[resolved first time] / [tickets]")
    assert HealthEvent.objects.filter(kpi=kpi, kind="formula").count() == 2
    # an input's frequency cannot change under a formula
    with pytest.raises(ValidationError, match="change the formula first"):
        services.kpi_update(kpi=tickets, actor=admin_user, version=tickets.version,
                            frequency="monthly")


def test_an_input_cannot_be_deleted_while_used(org, fcr):
    kpi, tickets, _ = fcr
    with pytest.raises(RestrictedError):
        tickets.delete()
    assert Kpi.objects.filter(pk=tickets.pk).exists()
    kpi.delete()  # the derived KPI itself can go, and then its inputs
    tickets.delete()
    # a whole organisation still goes
    Organization.objects.filter(pk=org.pk).delete()
    assert not Kpi.objects.filter(organization_id=org.pk).exists()


def test_no_extra_query_for_a_kpi_nothing_derives_from(org, django_assert_num_queries):
    plain = KpiFactory(organization=org)
    with django_assert_num_queries(1):
        assert derived.recompute([plain.pk]) == []


# --- the pages ------------------------------------------------------------------------------


def test_the_form_defines_it_and_the_page_says_what_is_empty(org, admin_user, as_user, fcr):
    kpi, tickets, resolved = fcr
    c = as_user(admin_user)
    r = c.post(url("kpis:create"), {
        "name": "Complaints per 1000", "frequency": "weekly", "decimals": 1,
        "target_rule": "none", "baseline_size": 20, "formula": "[Tickets] / [Nobody]"})
    assert r.status_code == 400
    assert "No KPI is named “nobody”" in r.content.decode()
    r = c.post(url("kpis:create"), {
        "name": "Complaints per 1000", "frequency": "weekly", "decimals": 1,
        "target_rule": "none", "baseline_size": 20,
        "formula": "[Resolved first time] / [Tickets] × 1000"})
    assert r.status_code == 302
    made = Kpi.objects.get(name="Complaints per 1000")
    w = _weeks(2)
    services.kpi_record_value(kpi=tickets, period=w[0], value=50)
    services.kpi_record_value(kpi=resolved, period=w[0], value=40)
    services.kpi_record_value(kpi=resolved, period=w[1], value=45)
    html = c.get(url("kpis:detail", pk=made.pk)).content.decode()
    assert "<code>[Resolved first time] / [Tickets] × 1000</code>" in html
    assert f"{w[1]:%-d %b %Y}: no value of “Tickets” yet." in html
    assert 'id="value-h"' not in html  # no value form on a derived KPI
    assert f'<time datetime="{w[0].isoformat()}">{w[0]:%-d %b %Y}</time>' in html
    html = c.get(url("kpis:detail", pk=tickets.pk)).content.decode()
    assert 'id="kpi-used-by"' in html and "Complaints per 1000" in html
    # the edit form shows the names, and saved untouched changes nothing
    edit = c.get(url("kpis:edit", pk=made.pk)).content.decode()
    assert 'value="[Resolved first time] / [Tickets] × 1000"' in edit
    made.refresh_from_db()
    version, formula = made.version, made.formula
    r = c.post(url("kpis:edit", pk=made.pk), {
        "name": made.name, "frequency": "weekly", "decimals": 1, "baseline_size": 20,
        "active": "on", "version": version, "formula": "[Resolved first time] / [Tickets] × 1000"})
    assert r.status_code == 302
    made.refresh_from_db()
    assert made.formula == formula
    assert HealthEvent.objects.filter(kpi=made, kind="formula").count() == 1


def test_the_admin_refuses_to_delete_an_input(org, fcr, client):
    from accounts.models import Role
    from tests.factories import MembershipFactory, UserFactory

    kpi, tickets, _ = fcr
    staff = UserFactory(name="Ada Admin", is_staff=True)
    MembershipFactory(user=staff, organization=org, role=Role.ADMIN)
    client.force_login(staff)
    path = f"/admin/kpis/kpi/{tickets.pk}/delete/"
    page = client.get(path)
    assert page.status_code == 200
    assert "would require deleting the following protected related objects" in (
        page.content.decode())
    r = client.post(path, {"post": "yes"})
    assert r.status_code in (200, 403)
    assert Kpi.objects.filter(pk=tickets.pk).exists()
