"""Issue 14, defect 10: the words people read (no codes, no double stops, true empty states,
readable admin labels)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse

from accounts.models import Organization
from kpis import services
from kpis.models import Kpi, KpiHealth
from tests.factories import KpiFactory


def test_target_change_history_reads_in_words(org, admin_user, as_user):
    kpi = KpiFactory(organization=org, owner=admin_user, unit="min", decimals=0,
                     target_rule="at_most", target_value=60)
    services.kpi_change_target(kpi=kpi, actor=admin_user, version=kpi.version,
                               target_rule="at_least", target_value=10, reason="New contract")
    page = as_user(admin_user).get(reverse("kpis:detail", kwargs={"org_slug": org.slug,
                                                                  "pk": kpi.pk})).content.decode()
    assert "at most 60 min → at least 10 min: New contract" in page
    history = page[page.index('id="targets-h"'):]
    history = history[:history.index("</section>")]
    assert "at_most" not in history and "60.0" not in history
    assert str(kpi.target_changes.get()) == "at most 60 min → at least 10 min"


def test_dismissed_note_ending_with_a_stop_gets_no_second_one(org, admin_user, as_user):
    kpi = KpiFactory(organization=org, owner=admin_user, target_rule="at_most", target_value=3)
    KpiHealth.objects.update_or_create(kpi=kpi, defaults={
        "candidate": "dismissed", "dismissed_note": "Seasonal; revisit in January."})
    page = as_user(admin_user).get(reverse("kpis:detail", kwargs={"org_slug": org.slug,
                                                                  "pk": kpi.pk})).content.decode()
    assert "revisit in January. It comes back" in page
    assert "January.." not in page
    KpiHealth.objects.filter(kpi=kpi).update(dismissed_note="Seasonal")
    page = as_user(admin_user).get(reverse("kpis:detail", kwargs={"org_slug": org.slug,
                                                                  "pk": kpi.pk})).content.decode()
    assert "Seasonal. It comes back" in page


def test_admin_labels_are_words():
    assert Kpi._meta.verbose_name_plural == "KPIs"
    assert Organization._meta.verbose_name_plural == "organisations"
    assert admin.site._registry  # the labels above are what the admin index shows


def test_health_reads_as_name_and_status(org, admin_user):
    kpi = KpiFactory(organization=org, owner=admin_user, name="Reply time")
    health, _ = KpiHealth.objects.update_or_create(kpi=kpi, defaults={"status": "on_target"})
    assert str(health) == "Reply time: On target"


def test_new_organisation_dashboard_says_what_is_true(org, owner, as_user):
    # Set up (the full dashboard shows once something exists), but nothing happened yet.
    KpiFactory(organization=org, owner=owner)
    page = as_user(owner).get(reverse("dashboards:home", kwargs={"org_slug": org.slug}))
    text = page.content.decode()
    assert "Nothing has changed yet" not in text
    assert "No check-ins, KPI changes or objective changes yet." in text


def test_pillars_numbered_from_one(org, owner, as_user):
    from goals.models import StrategicPillar as Pillar

    for i, name in enumerate(["Growth", "Quality"]):
        Pillar.objects.create(organization=org, name=name, order=i)
    page = as_user(owner).get(reverse("goals:pillars", kwargs={"org_slug": org.slug}))
    cells = page.content.decode().split('<td class="num">')[1:]  # the numbering column
    assert [c.split("<")[0] for c in cells] == ["1", "2"]


def _kpi_page(client, org, kpi) -> str:
    return client.get(reverse("kpis:detail", kwargs={"org_slug": org.slug,
                                                     "pk": kpi.pk})).content.decode()


def test_kpi_history_shows_numbers_in_the_kpis_unit_and_decimals(org, admin_user, as_user):
    whole = KpiFactory(organization=org, owner=admin_user, unit="pts", decimals=0,
                       target_rule="at_least", target_value=65)
    services.kpi_change_target(kpi=whole, actor=admin_user, version=whole.version,
                               target_rule="at_least", target_value=70, reason="Stable")
    history = _kpi_page(as_user(admin_user), org, whole)
    history = history[history.index('id="history-title"'):]
    assert "<del>65 pts</del></span> → <ins>70 pts</ins>" in history
    assert "65.0" not in history and "70.0" not in history
    fine = KpiFactory(organization=org, owner=admin_user, unit="%", decimals=2,
                      target_rule="between", target_value=12.3, target_upper=14)
    services.kpi_change_target(kpi=fine, actor=admin_user, version=fine.version,
                               target_rule="between", target_value=12.25, target_upper=14.5,
                               reason="Tighter")
    history = _kpi_page(as_user(admin_user), org, fine)
    history = history[history.index('id="history-title"'):]
    assert "<del>12.30%</del></span> → <ins>12.25%</ins>" in history
    assert "<del>14.00%</del></span> → <ins>14.50%</ins>" in history


def test_improvement_candidate_is_said_once_per_panel(org, admin_user, as_user):
    kpi = KpiFactory(organization=org, owner=admin_user, target_rule="at_most", target_value=3)
    KpiHealth.objects.update_or_create(kpi=kpi, defaults={
        "status": "off_target", "candidate": "candidate",
        "candidate_reason": "Off target for 2 periods"})
    page = _kpi_page(as_user(admin_user), org, kpi)
    main = page[page.index("<main"):page.index("</main>")]
    parts = main.split("<section")
    assert sum("Improvement candidate" in p for p in parts) >= 2  # header chip, its panel
    for part in parts:
        assert part.count("Improvement candidate") <= 1, part[:400]
