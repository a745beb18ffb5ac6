"""axe as each role (issue 23): every page kind of the URL-access table that the admin, the
leader, the member and the viewer may open, at 1280 px and at 390 px, has no WCAG 2.2 AA
violation (rules tagged wcag2a, wcag2aa, wcag21a, wcag21aa, wcag22aa). The owner's walk and
the logged-out pages are in test_a11y_e2e.py.

A role sees what its rights give it (a leader's edit buttons, a viewer's read-only rows), so
each role's pages are checked; a page whose structure (tags, classes, roles, attributes —
tests/e2e/axe.py `structure`) was already checked at the same width under another role of
this file is not checked twice, which keeps the file within a minute or two."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.conftest import make_world
from tests.e2e.axe import walk
from tests.url_table import ORG_ROUTES, RANK, TABLE, build

pytestmark = pytest.mark.e2e

PAGES = [r for r in ORG_ROUTES if TABLE[r].get == 200 and not r.endswith(".csv")]
WIDTHS = {"1280": None, "390": {"width": 390, "height": 844}}
SEEN: set = set()  # (width, structure) checked by this file's tests in this process
STATS: dict = {}


def pages_for(role) -> list[str]:
    return [r for r in PAGES if RANK[role] >= RANK[TABLE[r].role]
            and TABLE[r].overrides.get(role, 200) == 200]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.LEADER, Role.ADMIN])
def test_each_role_sees_no_axe_violation(open_page, role, width):
    world = make_world()
    w = open_page(WIDTHS[width])
    w.enter_as(world["users"][role])
    routes = pages_for(role)
    assert len(routes) >= 20 if role == Role.VIEWER else len(routes) > 25
    stats = STATS.setdefault((role, width), {})
    failures = walk(w, [build(r, TABLE[r].args, world, TABLE[r].query) for r in routes],
                    SEEN, stats)
    print(f"axe as {role} at {width} px: {stats}")
    assert not failures, "\n".join(failures)
