"""Languages (issue 23), the KPI side: the JavaScript catalogue, the charts and the signal words.

- /jsi18n/<lang>.js is Django's JavaScriptCatalog (domain djangojs) served from our origin; every
  page loads the one of its own language before our scripts, and it answers German to a German
  reader; every gettext() string of static/js is in each catalogue.
- The KPI page in German: its words, its chart's trace names, its signal sentences and numbers in
  German, while the stored signal words stay in the site's language.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.utils import translation

from accounts.models import Role
from tests.conftest import client_for, url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _site_language_afterwards():
    """A German reader's request leaves German active in this thread (the middleware activates
    it, nothing deactivates): put the site's language back so later tests are not German."""
    yield
    from django.conf import settings

    translation.activate(settings.LANGUAGE_CODE)


def test_every_page_loads_its_languages_catalogue_before_our_scripts(org, member_of):
    user = member_of(Role.MEMBER, name="Pat Person", language="de")
    html = client_for(user).get(url("kpis:list", org)).content.decode()
    catalogue = html.index('src="/jsi18n/de.js"')
    assert catalogue < html.index("js/app.js") and catalogue < html.index("js/a11y.js")
    # The organisation's default reaches the catalogue too (the URL names the page's language).
    other = member_of(Role.MEMBER, name="Kim Other")
    org.language = "fr"
    org.save()
    html = client_for(other).get(url("kpis:list", org)).content.decode()
    assert 'src="/jsi18n/fr.js"' in html


def test_the_javascript_catalogue_serves_german_to_a_german_reader(org, member_of):
    user = member_of(Role.MEMBER, name="Pat Person", language="de")
    response = client_for(user).get("/jsi18n/de.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Content-Language"] == "de"
    body = response.content.decode()
    # The catalogue is JSON inside the script: read it back and look words up.
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});", body, re.S).group(1))
    assert catalog["Saved"] == "Gespeichert"
    assert catalog["Could not reach the server. Check your connection."].startswith(
        "Der Server war nicht erreichbar")
    assert "%(person)s" in catalog["Change the role of %(person)s from “%(current)s” to “%(role)s”?"]
    # English has no catalogue of its own: the msgids are the words.
    english = client_for(None).get("/jsi18n/en-gb.js").content.decode()
    assert "Gespeichert" not in english
    assert client_for(None).get("/jsi18n/xx.js").status_code == 404


def _js_strings() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "static" / "js").glob("*.js"):
        text = path.read_text()
        found |= set(re.findall(r'\b(?:_|gettext)\("((?:[^"\\]|\\.)*)"\)', text))
    return found


@pytest.mark.parametrize("lang", ["de", "fr", "es"])
def test_every_javascript_string_is_translated(lang):
    polib = pytest.importorskip("polib")
    catalogue = polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "djangojs.po"))
    translated = {e.msgid for e in catalogue if e.translated()}
    strings = _js_strings()
    assert len(strings) >= 14
    assert sorted(strings - translated) == []


def test_chart_traces_are_named_in_the_readers_language():
    from kpis import charts
    from kpis.xmr import analyse

    periods = [dt.date(2026, 1, 5) + dt.timedelta(weeks=i) for i in range(10)]
    values = [10, 11, 9, 10, 12, 10, 11, 9, 10, 11]
    with translation.override("de"):
        figure = charts.xmr_data(periods, values, analyse(values), unit="min")
    names = {trace.get("name") for trace in figure["data"]}
    assert "Wert" in names and "Mittellinie" in names
    assert "Value" not in names


def test_signal_words_stored_in_english_shown_in_german():
    from kpis import words as W

    with translation.override("de"):
        # What the evaluation stores: the site's language, whoever's request runs it.
        stored = W.signal(rule=2, chart="x", side="above", frequency="weekly", length=8,
                          since=dt.date(2026, 6, 15))
        entry = {"rule": 1, "chart": "x", "side": "above", "length": 1,
                 "since": "2026-08-03", "period": "2026-08-03"}
        shown = W.signal_text(entry, frequency="weekly", unit="min", decimals=1, value=1234.5)
        run = W.signal_text({"rule": 2, "chart": "x", "side": "below", "length": 8,
                             "since": "2026-06-15", "period": "2026-08-03"}, frequency="monthly")
        label = str(W.VARIATION_LABELS[W.COMMON])
    assert stored == "8 weeks in a row above the usual level, since 15 Jun 2026"
    assert shown == "Eine Woche über dem üblichen Bereich: 1.234,5 min (Woche vom 3. August 2026)"
    assert run == "8 Monate in Folge unter dem üblichen Niveau, seit 15. Juni 2026"
    assert label == "Nur gewöhnliche Ursachen"


def test_the_kpi_pages_read_in_german(org, member_of):
    from kpis import health
    from kpis.models import DataPoint
    from tests.factories import KpiFactory

    user = member_of(Role.ADMIN, name="Pat Person", language="de")
    kpi = KpiFactory(organization=org, name="Reply time", unit="min", decimals=1)
    start = dt.date(2026, 1, 5)
    DataPoint.objects.bulk_create([
        DataPoint(kpi=kpi, period_start=start + dt.timedelta(weeks=i), value=v)
        for i, v in enumerate([20, 21, 19, 20, 22, 20, 21, 19, 20, 21, 20, 45.5])])
    health.evaluate_all()
    client = client_for(user)
    html = client.get(url("kpis:detail", org, pk=kpi.pk)).content.decode()
    assert "Prozessverhaltensdiagramm" in html and "Wert hinzufügen oder korrigieren" in html
    assert "Process behaviour chart" not in html
    # The stored signal (site's language) shown in German, with German number and date.
    assert "Eine Woche über dem üblichen Bereich: 45,5 min" in html
    html = client.get(url("kpis:list", org)).content.decode()
    assert "Verbesserungskandidaten" in html and "Neuer KPI" in html
    html = client.get(url("sources:list", org)).content.decode()
    assert "Datenquellen" in html
