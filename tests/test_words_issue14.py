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
    cells = page.content.decode().split('<td class="num">')[1:]
    assert [c.split("<")[0] for c in cells][::2] == ["1", "2"]
