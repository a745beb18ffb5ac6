"""Issue 23: the goal, OKR and dashboard pages (engineer i18n1's part) read in German for a
person who chose German, with German dates and decimal commas; English stays as it was."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation

from accounts.models import Role
from tests.conftest import client_for, url


@pytest.fixture
def world(db):
    from tests.conftest import make_world

    return make_world()


PAGES = [  # (URL name, its arguments from the world, German words the page must show)
    ("dashboards:home", {}, ["KPI-Zustand", "Letzte Änderungen", "Check-ins diese Woche"]),
    ("okrs:list", {}, ["Neues Objective", "Alle Teams", "Beliebige Verantwortliche"]),
    ("okrs:objective", {"pk": "objective"}, ["Ausgerichtete Objectives", "Duplizieren",
                                              "Key Result hinzufügen"]),
    ("okrs:goal", {}, ["Strategische Säulen", "Leitziel", "Alle OKRs"]),
    ("goals:cycles", {}, ["Zyklen", "Neuer Zyklus", "Zeitraum"]),
    ("goals:pillars", {}, ["Säule hinzufügen", "Strategische Säulen"]),
    ("dashboards:strategy_map", {}, ["Strategiekarte", "CSV herunterladen"]),
    ("dashboards:review", {}, ["Strategischer Rückblick", "Gefährdete Key Results"]),
    ("dashboards:operations", {}, ["Regelbetrieb", "Jeder Status"]),
    ("dashboards:team", {"team": "team_slug"}, ["Wöchentlicher Check-in", "Check-in-Quote"]),
]


@pytest.mark.parametrize("name,args,words", PAGES, ids=[p[0] for p in PAGES])
def test_page_reads_in_german(world, name, args, words):
    owner = world["users"][Role.OWNER]
    owner.language = "de"
    owner.save()
    path = url(name, world["org"], **{k: world[v] for k, v in args.items()})
    response = client_for(owner).get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="de">' in html
    missing = [w for w in words if w not in html]
    assert not missing, f"{path}: not in German: {missing}"


def test_dates_and_decimals_follow_the_reader(world):
    from goals.models import Cycle

    cycle = Cycle.objects.get(pk=world["cycle"])
    template = Template('{% load okrs_tags %}{{ d|date:"DATE_FORMAT" }}|{{ x|num }}')
    context = Context({"d": dt.date(2026, 12, 1), "x": 12.5})
    with translation.override("de"):
        assert template.render(context) == "1. Dezember 2026|12,5"
    with translation.override("fr"):
        assert template.render(context) == "1 décembre 2026|12,5"
    with translation.override("en-gb"):
        assert template.render(context) == "1 Dec 2026|12.5"
    owner = world["users"][Role.OWNER]
    owner.language = "de"
    owner.save()
    html = client_for(owner).get(url("goals:cycles", world["org"])).content.decode()
    from django.utils.formats import date_format

    with translation.override("de"):
        assert date_format(cycle.start, "DATE_FORMAT") in html  # "1. Oktober 2026" style


def test_feed_time_in_german(world):
    from django.utils import timezone

    from dashboards.home.feed import FeedItem

    with translation.override("de"):
        item = FeedItem(at=timezone.now() - dt.timedelta(days=3), kind="kpi", actor="", text="")
        assert item.ago.startswith("vor 3")  # "vor 3 Tagen": Django's own words
    with translation.override("en-gb"):
        assert item.ago.endswith(" ago")
