"""The demo organisation shows the whole KPI story once its health is evaluated."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from kpis.models import DataPointRevision, Kpi, KpiHealth, TargetChange

pytestmark = pytest.mark.django_db


def test_demo_kpis_tell_the_story(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", verbosity=0, stdout=StringIO())
    h = {k.name: k.health for k in Kpi.objects.filter(organization__slug="acme")
         .select_related("health")}
    reply = h["Average support reply time"]
    assert reply.candidate == KpiHealth.Candidate.CANDIDATE
    assert reply.candidate_reason.startswith("Off target for ")
    assert "against at most 30 min" in reply.candidate_reason
    onboarding = h["Onboarding completion rate"]
    assert any(s["rule"] == 2 and s["current"] and s["side"] == "below"
               for s in onboarding.signals)
    nps = h["Net Promoter Score"]
    assert nps.status == "on_target" and nps.candidate == "none"
    assert not nps.has_unfavourable_signal and nps.capability == "met"
    assert h["Monthly recurring revenue"].is_stale
    downtime = h["Weekly system downtime"]
    assert downtime.candidate == KpiHealth.Candidate.IN_IMPROVEMENT
    from okrs.models import KeyResult

    kr = KeyResult.objects.get(kpi__name="Weekly system downtime")
    assert kr.current_value == downtime.latest_value  # the linked KR follows the KPI
    assert h["Customer complaints per month"].capability == "missed"
    assert DataPointRevision.objects.exists() and TargetChange.objects.exists()
