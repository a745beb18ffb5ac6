"""The Django admin under our Content Security Policy: its pages work in the browser with
no console error and no CSP violation (staff who are organisation admins use it)."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.conftest import make_world

pytestmark = pytest.mark.e2e


def test_admin_pages_are_clean_in_the_browser(open_page):
    world = make_world()
    owner = world["users"][Role.OWNER]
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    w = open_page()
    w.enter_as(owner)
    paths = ["/admin/", "/admin/accounts/team/", "/admin/accounts/team/add/",
             f"/admin/okrs/objective/{world['objective']}/change/", "/admin/okrs/objective/",
             f"/admin/kpis/kpi/{world['kpi']}/change/", "/admin/kpis/kpi/",
             "/admin/accounts/auditentry/"]
    failures = []
    for path in paths:
        response = w.page.goto(w.base + path)
        w.page.wait_for_load_state("load")
        if response is None or response.status != 200:
            failures.append(f"{path}: HTTP {response.status if response else '?'}")
        failures.extend(f"{path}: {p}" for p in w.problems)
        w.problems.clear()
    assert not failures, "\n".join(failures)
