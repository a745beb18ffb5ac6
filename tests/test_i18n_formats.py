"""Locale-correct formats (issue 23): figures read in the reader's language, inputs keep the
HTML standard's formats and take what a person of that language types."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from accounts.models import Role
from core.formatting import NARROW_NBSP, NBSP, format_number, format_value
from core.numbers import parse_for_reader
from tests.conftest import client_for, url
from tests.factories import DataPointFactory, KpiFactory

KPI_STYLE = {  # format_value(1234.5, unit, 1) and 97.5 %, per language
    "en-gb": ("1,234.5", "97.5%"),
    "de": ("1.234,5", f"97,5{NBSP}%"),
    "fr": None,  # Django's French thousands separator is a (narrow) no-break space
    "es": None,
}


@pytest.mark.parametrize("lang", ["en-gb", "de", "fr", "es"])
def test_kpi_figures_in_the_readers_language(lang):
    with translation.override(lang):
        number, percent = format_value(1234.5, "", 1), format_value(97.5, "%", 1)
        assert format_value(None, "%") == "—"
        assert format_value(-0.0001, "", 1).lstrip("-") == format_value(0, "", 1)
        assert format_value(52, "min", 0) == "52 min"
    if KPI_STYLE[lang]:
        assert (number, percent) == KPI_STYLE[lang]
    else:  # 1 234,5 with the language's no-break space between thousands
        assert re.fullmatch(r"1[\u00a0\u202f]234,5", number), number
        assert percent == f"97,5{NBSP}%"


@pytest.mark.parametrize("lang,expected", [("en-gb", f"1{NARROW_NBSP}234.5 EUR"),
                                           ("de", f"1{NARROW_NBSP}234,5 EUR"),
                                           ("fr", f"1{NARROW_NBSP}234,5 EUR"),
                                           ("es", f"1{NARROW_NBSP}234,5 EUR")])
def test_checkin_style_keeps_its_thin_space_and_takes_the_decimal_mark(lang, expected):
    with translation.override(lang):
        assert format_value(1234.5, "EUR", None, grouping=NARROW_NBSP, percent_gap=" ") == expected
        assert format_value(50, "%", None, grouping=NARROW_NBSP, percent_gap=" ") == "50 %"


def test_english_is_unchanged():
    with translation.override("en-gb"):
        assert format_number(1234567, 0) == "1,234,567"
        assert format_number(2.5, None) == "2.5"


@pytest.mark.parametrize("lang,typed,value", [
    ("de", "23,5", 23.5), ("de", "1.234,5", 1234.5), ("de", "23.5", 23.5),
    ("fr", "23,5", 23.5), ("es", "23,5", 23.5), ("en-gb", "1,234.5", 1234.5)])
def test_a_person_types_numbers_the_way_of_their_language(lang, typed, value):
    with translation.override(lang):
        assert parse_for_reader(typed) == value


def test_kpi_page_in_german_reads_german_numbers_and_inputs_stay_standard(org, member_of):
    admin = member_of(Role.ADMIN, name="Ada Admin", language="de")
    kpi = KpiFactory(organization=org, owner=admin, name="Backlog", unit="", decimals=1)
    DataPointFactory(kpi=kpi, value=1234.5)
    html = client_for(admin).get(url("kpis:detail", org, pk=kpi.pk)).content.decode()
    assert '<html lang="de">' in html
    assert "1234,5" in html  # the data table: the decimal comma (no grouping in a table)
    assert "1234.5" not in html.split('data-target="xmr-chart"')[0]  # the chart's JSON keeps dots
    # every number input of the page carries a dot decimal (the HTML standard's format)
    for value in re.findall(r'<input[^>]*type="number"[^>]*value="([^"]*)"', html):
        assert "," not in value, value
    for value in re.findall(r'<input[^>]*type="date"[^>]*value="([^"]*)"', html):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), value
