"""Every <input> a page renders carries a value valid for its HTML type, in every language.

A browser drops a value that is not valid for its input type: `<input type="date"
value="01/10/2026">` shows an empty field and submits nothing, so saving an edit form
untouched deleted its date (issue 14, defect 1). This test crawls the demo organisation
as its owner — every page reachable by links from the dashboard, the admin's index and
its change lists — and checks each date, datetime-local, time, number, email and url
input by the HTML standard's grammar, once per language (en-gb today; de, fr and es so it
keeps holding when they are added). A page nobody links to is not crawled; the second test
holds every form class of the project to the ISO widgets of core.widgets, so a new form
whose page the crawl misses cannot regress either.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import re
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from accounts.models import User
from core import widgets as core_widgets

LANGUAGES = ["en-gb", "de", "fr", "es"]
MAX_PER_ROUTE = 6  # instances of one URL pattern (objective 1, 2, ...) worth opening
SKIP = re.compile(r"(logout|/switch/|\.csv$|/delete/|/revoke/|/remove/|/move/|/api/)")

DATE = re.compile(r"^(\d{4,})-(\d{2})-(\d{2})$")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?$")
FLOAT = re.compile(r"^-?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$")
EMAIL = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}"
                   r"[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")


def _valid_date(value: str) -> bool:
    m = DATE.match(value)
    if not m:
        return False
    try:
        dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return False
    return True


def _number_problem(value: str, attrs: dict) -> str | None:
    """Why the browser would refuse this number (not a valid float, below min, above max,
    off the step): a form the person saves untouched must submit."""
    if not FLOAT.match(value):
        return "not a valid floating-point number"
    x = Decimal(value)
    try:
        lo = Decimal(attrs["min"]) if attrs.get("min") not in (None, "") else None
        hi = Decimal(attrs["max"]) if attrs.get("max") not in (None, "") else None
        step = attrs.get("step") or "1"
        step = None if step == "any" else Decimal(step)
    except InvalidOperation:
        return f"min/max/step not numbers: {attrs}"
    if lo is not None and x < lo:
        return f"below min {lo}"
    if hi is not None and x > hi:
        return f"above max {hi}"
    if step is not None and ((x - (lo or 0)) % step) != 0:
        return f"not a multiple of step {step}"
    return None


def input_problem(attrs: dict) -> str | None:
    """What is wrong with one <input>'s value for its type, or None."""
    kind = (attrs.get("type") or "text").lower()
    value = attrs.get("value")
    if value in (None, ""):
        return None
    if kind == "date":
        return None if _valid_date(value) else "not an ISO date (YYYY-MM-DD)"
    if kind == "datetime-local":
        date, sep, time = value.replace(" ", "T").partition("T")
        return None if sep and _valid_date(date) and TIME.match(time) else \
            "not a local date and time (YYYY-MM-DDTHH:MM)"
    if kind == "time":
        return None if TIME.match(value) else "not a time (HH:MM)"
    if kind == "number":
        return _number_problem(value, attrs)
    if kind == "email":
        bad = [v for v in value.split(",") if not EMAIL.match(v.strip())] \
            if "multiple" in attrs else ([] if EMAIL.match(value) else [value])
        return f"not a valid e-mail address: {bad}" if bad else None
    if kind == "url":
        parts = urlparse(value)
        return None if parts.scheme and (parts.netloc or parts.scheme == "mailto") else \
            "not an absolute URL"
    return None


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.inputs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "input":
            self.inputs.append(attrs)


def _route_of(path: str) -> str:
    """The URL pattern a path belongs to (numbers folded), to cap instances per route."""
    return re.sub(r"/\d+/", "/N/", path)


def crawl(client: Client, starts: list[str]) -> dict[str, list[dict]]:
    """{path: its <input>s} for every page reachable from ``starts`` by same-site links."""
    seen: dict[str, list[dict]] = {}
    per_route: dict[str, int] = {}
    queue = list(starts)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        route = _route_of(urlparse(path).path)
        if per_route.get(route, 0) >= MAX_PER_ROUTE:
            continue
        per_route[route] = per_route.get(route, 0) + 1
        response = client.get(path)
        assert response.status_code < 500, f"{path}: {response.status_code}"
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            seen[path] = []
            continue
        page = _Page()
        page.feed(response.content.decode())
        seen[path] = page.inputs
        for href in page.links:
            target = urldefrag(urljoin(path, href))[0]
            parts = urlparse(target)
            if parts.netloc and parts.netloc != "testserver":
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if (local.startswith(("/o/acme/", "/admin/")) and not SKIP.search(local)
                    and local not in seen):
                queue.append(local)
    return seen


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0, stdout=StringIO())
    return User.objects.get(email="olivia@acme.test")


def test_the_checker_refuses_what_a_browser_refuses():
    assert input_problem({"type": "date", "value": "01/10/2026"})
    assert input_problem({"type": "date", "value": "2026-02-30"})
    assert input_problem({"type": "date", "value": "2026-10-01"}) is None
    assert input_problem({"type": "number", "value": "1,5"})
    assert input_problem({"type": "number", "value": "0.667", "step": "0.01"})
    assert input_problem({"type": "number", "value": "120", "max": "100"})
    assert input_problem({"type": "number", "value": "0.67", "step": "0.01", "min": "0"}) is None
    assert input_problem({"type": "number", "value": "1e-05", "step": "any"}) is None
    assert input_problem({"type": "email", "value": "olivia at acme"})
    assert input_problem({"type": "url", "value": "/relative"})
    assert input_problem({"type": "time", "value": "9:30"})
    assert input_problem({"type": "datetime-local", "value": "2026-10-01T09:30"}) is None


TYPED = {"date", "datetime-local", "time", "number", "email", "url"}


def _problems(pages: dict[str, list[dict]], language: str) -> list[str]:
    return [f"[{language}] {path}: <input name={a.get('name')} type={a.get('type')} "
            f"value={a.get('value')!r}> {input_problem(a)}"
            for path, inputs in pages.items() for a in inputs if input_problem(a)]


def test_every_input_on_every_demo_page_is_valid_for_its_type(demo, settings):
    """The crawl runs in the first language; the pages it found with typed inputs are read
    again in each other one (their links do not depend on the language)."""
    client = Client()
    client.force_login(demo)
    problems, typed_pages = [], []
    for language in LANGUAGES:
        settings.LANGUAGE_CODE = language
        with translation.override(language):
            # The language is really in force: Django's own date widget would render this
            # language's format, which no browser takes for type=date.
            plain = forms.DateInput(attrs={"type": "date"}).format_value(dt.date(2026, 10, 1))
            assert input_problem({"type": "date", "value": plain}), (language, plain)
            if not typed_pages:
                pages = crawl(client, ["/o/acme/", "/admin/"])
                assert len(pages) > 60, len(pages)
                typed_pages = [p for p, inputs in pages.items()
                               if any(a.get("type") in TYPED for a in inputs)]
                typed = {a.get("type") for p in typed_pages for a in pages[p]
                         if a.get("value")}
                # The crawl reached pages with such inputs (else it proved nothing).
                assert {"date", "number"} <= typed, typed
            else:
                pages = {}
                for path in typed_pages:
                    parser = _Page()
                    parser.feed(client.get(path).content.decode())
                    pages[path] = parser.inputs
            problems += _problems(pages, language)
    assert not problems, "\n".join(problems)


def _form_classes() -> list[type[forms.BaseForm]]:
    """Every form class defined in this project's apps (their forms and admin modules
    imported first, so a form nobody imported yet is found too)."""
    ours = {c.name for c in apps.get_app_configs()
            if c.path.startswith(str(settings.BASE_DIR))}
    for name in ours:
        for module in ("forms", "checkins.forms", "admin"):
            with contextlib.suppress(ModuleNotFoundError):
                importlib.import_module(f"{name}.{module}")
    out, todo = [], [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.split(".")[0] in ours:
                out.append(sub)
    return out


def test_every_form_of_ours_uses_the_iso_widgets_for_dates_and_times():
    found = _form_classes()
    assert len(found) > 15, found
    bad = [f"{cls.__module__}.{cls.__name__}.{name}: {type(field.widget).__name__}"
           for cls in found for name, field in getattr(cls, "base_fields", {}).items()
           if (getattr(field.widget, "input_type", "") in ("date", "datetime-local", "time")
               or field.widget.attrs.get("type") in ("date", "datetime-local", "time"))
           and not isinstance(field.widget, core_widgets.ISO_WIDGETS)]
    assert not bad, "use core.widgets for these fields:\n" + "\n".join(bad)
