"""Every edit form, saved untouched in a real browser, changes nothing (issue 14).

The unit tests post what their author typed; this one posts what Chromium sends. On the
demo organisation, as its owner (who may edit everything), it finds the edit pages by
crawling the demo's links with the test client and keeping every link whose route in the
URLconf ends in ``edit/`` (plus the settings page) — so a new edit page is covered without
being listed, and the test fails if an ``edit/`` route of the URLconf is never reached.
Each page is opened, its form submitted as it is, and then: no error is shown, and no
stored field of any row changed (a version number and the modification time excepted).
Before the fix, saving an initiative untouched deleted its due date and a cycle's form
refused to save ("This field is required." twice).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urljoin, urlparse

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.urls import Resolver404, resolve

from accounts.models import User
from tests.conftest import url_routes

pytestmark = pytest.mark.e2e

PER_ROUTE = 3  # instances of one edit route opened (objective 1, 2, 3)
# Pages of one (non-edit) route the crawl reads for links: the links to edit pages are the
# same on every KPI's or objective's page, so reading all 30 of them only costs time (the
# crawl read ~400 pages, ~45 s of the test under load, before this cap).
CRAWL_PER_ROUTE = 4
EXTRA = ("o/<slug:org_slug>/settings/",)  # edit pages whose path does not end in edit/
# Routes ending in edit/ that are not pages: POST-only actions whose form lives on another
# page (a check-in row's "Change mine" on the check-in page: tests/e2e/test_checkins_e2e.py).
NOT_PAGES = {"o/<slug:org_slug>/check-ins/kr/<int:pk>/edit/"}
# Rows a save may add or touch without changing what was stored: the audit trail, the
# log-in records, sessions, and the caches of computed figures (health is recomputed).
IGNORED_MODELS = {"accounts.auditentry", "sessions.session", "admin.logentry"}
# data_changed_at: the KPI's "evaluate me again" mark for the health sweep (bookkeeping, not
# something a person stored; kpis.services sets it on every KPI save).
IGNORED_FIELDS = {"version", "updated_at", "computed_at", "evaluated_at", "last_login",
                  "data_changed_at"}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def _route(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.route


def edit_pages(client: Client) -> dict[str, list[str]]:
    """{route: [paths]} of the edit pages reachable from the dashboard by links."""
    wanted = {r for r, _ in url_routes()
              if r.startswith("o/") and r.endswith("edit/") and r not in NOT_PAGES}
    wanted |= set(EXTRA)
    found: dict[str, list[str]] = {}
    seen, queue = set(), ["/o/acme/"]
    read: dict[str | None, int] = {}  # pages read per route
    while queue and len(seen) < 400:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        route = _route(path)
        if route not in wanted:
            if read.get(route, 0) >= CRAWL_PER_ROUTE:
                continue
            read[route] = read.get(route, 0) + 1
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(response.content.decode())
        for href in parser.links:
            parts = urlparse(urljoin(path, href))
            if parts.netloc not in ("", "testserver") or not parts.path.startswith("/o/acme/"):
                continue
            target = parts.path
            if re.search(r"(logout|/switch/|\.csv$|/delete/|/revoke/|/remove/|/move/)", target):
                continue
            route = _route(target)
            if route in wanted:
                paths = found.setdefault(route, [])
                if target not in paths and len(paths) < PER_ROUTE:
                    paths.append(target)
            if target not in seen:
                queue.append(target)
    missing = wanted - set(found)
    assert not missing, f"edit routes no link of the demo reaches: {sorted(missing)}"
    return found


def snapshot() -> dict[str, dict]:
    """Every stored field of every row of the project's models (and auth's users)."""
    ours = [m for m in apps.get_models()
            if m._meta.label_lower not in IGNORED_MODELS
            and (str(apps.get_app_config(m._meta.app_label).path).startswith(
                str(settings.BASE_DIR)) or m._meta.label_lower == "accounts.user")]
    out = {}
    for model in ours:
        names = [f.attname for f in model._meta.concrete_fields
                 if f.name not in IGNORED_FIELDS
                 and not (isinstance(f, models.DateTimeField) and f.auto_now)]
        out[model._meta.label_lower] = {row["pk"]: row for row in
                                        model.objects.values("pk", *names)}
    return out


def differences(before: dict, after: dict) -> list[str]:
    out = []
    for label, rows in before.items():
        now = after[label]
        for pk in rows.keys() - now.keys():
            out.append(f"{label} {pk} deleted")
        for pk in now.keys() - rows.keys():
            out.append(f"{label} {pk} added")
        for pk in rows.keys() & now.keys():
            for name, value in rows[pk].items():
                if now[pk][name] != value:
                    out.append(f"{label} {pk}.{name}: {value!r} → {now[pk][name]!r}")
    return out


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", verbosity=0, stdout=StringIO())
    return User.objects.get(email="olivia@acme.test")


# The main form of an edit page: the one in <main> with a submit button, most fields first.
SUBMIT = """() => {
  const forms = [...document.querySelectorAll('main form')].filter(f =>
      (f.method || '').toLowerCase() === 'post' && f.querySelector('button[type=submit], button:not([type])'));
  // A versioned edit form first (it carries the row's version), then the largest.
  const score = f => (f.querySelector('input[name$=version]') ? 1000 : 0) + f.elements.length;
  forms.sort((a, b) => score(b) - score(a));
  const form = forms[0];
  if (!form) return 'no form';
  form.querySelector('button[type=submit], button:not([type])').setAttribute('data-roundtrip', '1');
  return 'ok';
}"""


def test_every_edit_form_saved_untouched_changes_nothing(open_page, demo):
    client = Client()
    client.force_login(demo)
    pages = edit_pages(client)
    w = open_page()
    w.enter_as(demo)
    failures = []
    for _, paths in sorted(pages.items()):
        for path in paths:
            before = snapshot()
            w.goto(path)
            assert w.page.evaluate(SUBMIT) == "ok", f"{path}: no form to submit"
            with w.page.expect_navigation():
                w.page.click("[data-roundtrip]")
            w.page.wait_for_load_state("load")
            errors = w.page.locator(".errorlist li, .form-errors").all_inner_texts()
            if errors:
                failures.append(f"{path}: shows {errors}")
            if "/edit/" in w.path() and w.path().split("?")[0] == path:
                failures.append(f"{path}: stayed on the form (refused?)")
            failures += [f"{path}: {d}" for d in differences(before, snapshot())]
            failures += [f"{path}: {p}" for p in w.problems]
            w.problems.clear()
    assert sum(len(p) for p in pages.values()) >= 10, pages
    assert not failures, "\n".join(failures)
