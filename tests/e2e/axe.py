"""axe-core in the browser tests (issue 23): WCAG 2.2 AA, checked on the page as it is.

    from tests.e2e.axe import assert_accessible
    assert_accessible(w.page)            # fails with every violation, its rule and elements

or the `axe` fixture (registered in tests/e2e/conftest.py): `axe(w.page)`. With
HEADWAY_AXE=1, tests/e2e/conftest.py's Watched also runs it on every page a test opens
(`goto`, `assert_clean`). axe-core is vendored as tests/assets/axe.min.js (never served to
users) and evaluated by Playwright in the page, which the page's CSP does not block.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

AXE_JS = Path(__file__).resolve().parents[1] / "assets" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUN = """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                     resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                summary: (n.failureSummary || '').split('\\n').slice(1, 3)
                                         .join(' ').trim()}))})))"""


@functools.cache
def _source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def violations(page) -> list[dict]:
    """axe's violations on the page now: [{id, impact, help, nodes: [{target, summary}]}]."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_source())  # evaluated by DevTools, not a <script>: the CSP allows it
    return page.evaluate(_RUN, TAGS)


def describe(found: list[dict], where: str = "") -> str:
    lines = []
    for v in found:
        lines.append(f"{where}{v['id']} ({v['impact']}, {len(v['nodes'])}): {v['help']}")
        lines.extend(f"    {n['target']}: {n['summary']}" for n in v["nodes"][:5])
    return "\n".join(lines)


def count(found: list[dict]) -> int:
    return sum(len(v["nodes"]) for v in found)


def assert_accessible(page, where: str = "") -> None:
    found = violations(page)
    assert not found, "axe: " + describe(found, f"{where or page.url}: ")


def check_every_page(watched) -> None:
    """Called by Watched.assert_clean: with HEADWAY_AXE=1, a violation is one of the page's
    problems (so every e2e test that opens a page fails on it)."""
    if os.environ.get("HEADWAY_AXE") == "1":
        found = violations(watched.page)
        if found:
            watched.problems.append("axe: " + describe(found, f"{watched.page.url}: "))


@pytest.fixture
def axe():
    """axe(page) asserts no WCAG 2.2 AA violation on the page as it is now."""
    return assert_accessible
