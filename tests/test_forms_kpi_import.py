"""The CSV import pages say the columns they take (issue 14, defect 3): the heading, the
file field's help and the parser agree, and the one field is not "(optional)"."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kpis.models import DataPoint
from tests.conftest import url
from tests.factories import KpiFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kpi(org, admin_user):
    return KpiFactory(organization=org, name="Reply time", frequency="monthly",
                      owner=admin_user)


def _help(html: str) -> str:
    return re.search(r'<span class="help">(.*?)</span>', html, re.S)[1]


def test_one_kpis_import_page_says_period_value_everywhere(as_user, admin_user, org, kpi):
    html = as_user(admin_user).get(url("kpis:import_one", org, pk=kpi.pk)).content.decode()
    assert "<code>period,value[,note]</code>" in html
    assert _help(html).startswith("Columns: period, value and an optional note")
    assert "kpi" not in _help(html).lower()
    label = re.search(r'<label for="id_file">(.*?)</label>', html, re.S)[1]
    assert "optional" not in label


def test_a_file_made_as_the_help_says_is_taken(as_user, admin_user, org, kpi):
    client = as_user(admin_user)
    path = url("kpis:import_one", org, pk=kpi.pk)
    upload = SimpleUploadedFile("values.csv", b"period,value,note\n2026-09,41,\n2026-10,38,ok\n")
    response = client.post(path, {"file": upload})
    assert response.status_code == 200, response.content.decode()[:2000]
    assert "2 rows ready" in response.content.decode()
    response = client.post(path, {"content": response.context["form"].initial["content"],
                                  "confirm": "1"})
    assert response.status_code == 302
    assert sorted(DataPoint.objects.filter(kpi=kpi).values_list("value", flat=True)) == [38, 41]


def test_the_bulk_page_names_the_kpi_column(as_user, admin_user, org, kpi):
    html = as_user(admin_user).get(url("kpis:import", org)).content.decode()
    assert "<code>kpi,period,value[,note]</code>" in html
    assert _help(html).startswith("Columns: kpi (its name), period, value")


def test_no_file_is_a_clear_message(as_user, admin_user, org, kpi):
    response = as_user(admin_user).post(url("kpis:import_one", org, pk=kpi.pk), {})
    assert response.status_code == 400
    assert "Choose a CSV file." in response.content.decode()
