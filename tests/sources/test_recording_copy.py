"""kpis.recording writes new points with COPY's text format on PostgreSQL: every value
comes back as it was given (a note with a tab, a newline and a backslash; tiny and large
floats), on SQLite through the ORM the same."""

from __future__ import annotations

import datetime as dt

import pytest

from kpis.models import DataPoint
from kpis.recording import _copy_text, kpi_record_batch
from kpis.services import Row
from tests.factories import KpiFactory

pytestmark = pytest.mark.django_db


def test_copy_text_escapes_what_the_format_reserves():
    assert _copy_text("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"
    assert _copy_text(None) == "\\N" and _copy_text(True) == "t"
    assert _copy_text(1e-7) == "1e-07" and _copy_text(dt.date(2026, 1, 5)) == "2026-01-05"


def test_a_batch_reads_back_as_written(org):
    kpi = KpiFactory(organization=org, frequency="weekly")
    monday = dt.date(2026, 1, 5)
    values = [1e-7, 123456789.125, -0.5]
    notes = ["tab\there", "line\nbreak", "back\\slash"]
    rows = [Row(kpi=kpi, period_start=monday + dt.timedelta(weeks=i), value=v, note=n)
            for i, (v, n) in enumerate(zip(values, notes, strict=True))]
    outcome = kpi_record_batch(rows=rows, source="sql", source_ref="source 1 run 2")
    assert outcome.created == 3
    stored = list(DataPoint.objects.filter(kpi=kpi).order_by("period_start"))
    assert [p.value for p in stored] == values
    assert [p.note for p in stored] == notes
    assert {p.source_ref for p in stored} == {"source 1 run 2"}
    assert {p.source for p in stored} == {"sql"} and all(p.created_at for p in stored)
