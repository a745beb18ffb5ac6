"""Every organisation page, opened in the browser by the owner: no console error, no CSP
violation, no uncaught exception, no 5xx. The pages come from the URL-access table, so a
new page is visited as soon as it is in the table."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.conftest import make_world
from tests.url_table import ORG_ROUTES, TABLE, build

pytestmark = pytest.mark.e2e

PAGES = [r for r in ORG_ROUTES if TABLE[r].get == 200 and not r.endswith(".csv")]


def test_every_page_is_clean_in_the_browser(open_page):
    world = make_world()
    w = open_page()
    w.enter_as(world["users"][Role.OWNER])
    failures = []
    for route in PAGES:
        path = build(route, TABLE[route].args, world, TABLE[route].query)
        response = w.page.goto(w.base + path)
        w.page.wait_for_load_state("load")
        if response is None or response.status != 200:
            failures.append(f"{path}: HTTP {response.status if response else '?'}")
        if w.problems:
            failures.extend(f"{path}: {p}" for p in w.problems)
            w.problems.clear()
    assert len(PAGES) >= 20
    assert not failures, "\n".join(failures)
