"""axe-core in the browser tests (issue 23): WCAG 2.2 AA, checked on the page as it is.

    from tests.e2e.axe import assert_accessible
    assert_accessible(w.page)            # fails with every violation, its rule and elements

or the `axe` fixture (registered in tests/e2e/conftest.py): `axe(w.page)`. By
default tests/e2e/conftest.py's Watched also runs it on every page a test opens
(`goto`, `assert_clean`, and the page a test leaves open); HEADWAY_AXE=0 turns that off.
axe-core is vendored as tests/assets/axe.min.js (never served to
users) and evaluated by Playwright in the page, which the page's CSP does not block.
"""

from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path

import pytest

_STATS = {"pages": 0, "seconds": 0.0, "skipped": 0}  # axe's cost here (conftest's summary line)
_CHECKED: set = set()  # (width, structure) of the pages check_every_page has checked
AXE_JS = Path(__file__).resolve().parents[1] / "assets" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUN = """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                     resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                summary: (n.failureSummary || '').split('\\n').slice(1, 3)
                                         .join(' ').trim()}))})))
  // a macrotask before answering, so the page's reports of what axe did arrive first (below)
  .then(found => new Promise(done => setTimeout(() => done(found), 0)))"""


# axe judges the page at rest: not while an htmx request is in flight (htmx dims the
# requesting element to opacity .75 meanwhile, which would count as low contrast).
_SETTLED = """() => new Promise(done => {
  const until = Date.now() + 3000;
  (function poll() {
    if (!document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping') || Date.now() > until) done();
    else setTimeout(poll, 50);
  })();
})"""


@functools.cache
def _source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def violations(page, watched=None) -> list[dict]:
    """axe's violations on the page now: [{id, impact, help, nodes: [{target, summary}]}].

    axe itself adds a <style> element while it measures some pages (the admin's select2
    widgets), which our CSP refuses and reports; with `watched` (a conftest Watched) those
    reports made during the run are not counted as the page's problems."""
    if watched is not None:
        watched.axe_running = True
    started = time.monotonic()
    try:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(_source())  # evaluated by DevTools, not a <script>: the CSP allows it
        page.evaluate(_SETTLED)
        return page.evaluate(_RUN, TAGS)
    finally:
        _STATS["pages"] += 1
        _STATS["seconds"] += time.monotonic() - started
        if watched is not None:
            watched.axe_running = False


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


def mode() -> str:
    """HEADWAY_AXE: unset or "1" = on (the default: a violation fails the test), "0" = off,
    "log" = record every violation as a JSON line in HEADWAY_AXE_LOG without failing (to
    survey a whole run)."""
    return os.environ.get("HEADWAY_AXE", "1")


def check_every_page(watched) -> None:
    """Called by Watched.assert_clean and when a test's page closes: a violation is one of
    the page's problems, so every e2e test that opens a page fails on it. A page whose
    structure at this width (`structure` below: tags, classes, roles, attributes, which
    elements have text) was already checked in this process is not checked again: axe would
    judge the same things (no inline style can differ: the CSP forbids it), and the suite's
    dashboards and lists are opened by many tests."""
    if mode() == "0":
        return
    page = watched.page
    try:
        if not page.url.startswith(watched.base) or page.evaluate(
                "document.contentType") != "text/html":
            return
        key = (page.viewport_size["width"], structure(page))
    except Exception:  # noqa: BLE001 (a page closing or navigating: nothing to check)
        return
    if key in _CHECKED:
        _STATS["skipped"] += 1
        return
    _CHECKED.add(key)
    found = violations(page, watched)
    if not found:
        return
    if mode() == "log":
        with open(os.environ.get("HEADWAY_AXE_LOG", "/tmp/axe-log.jsonl"), "a") as log:
            log.write(json.dumps({"url": page.url, "width": page.viewport_size["width"],
                                  "test": os.environ.get("PYTEST_CURRENT_TEST", ""),
                                  "violations": found}) + "\n")
        return
    watched.problems.append("axe: " + describe(found, f"{page.url}: "))


# The page's structure without its words: every element's tag, classes, role, type and the
# names of its attributes, and whether it has text of its own. Two pages with the same
# structure at the same width give axe the same things to judge (contrast comes from the
# classes, names from whether there is text), so a walk checks each structure once.
_STRUCTURE = """() => {
  let h = 2166136261;
  for (const el of document.querySelectorAll('body *')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    const attrs = Array.from(el.attributes).map(a => a.name)
      .filter(n => n !== 'id' && !n.startsWith('data-') && n !== 'href' && n !== 'value').sort();
    const s = el.tagName + '.' + el.className + '|' + (el.getAttribute('role') || '') + '|'
              + (el.getAttribute('type') || '') + '|' + attrs.join(',') + (own ? '|t' : '');
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  }
  return (h >>> 0).toString(16) + ':' + document.querySelectorAll('body *').length;
}"""


def structure(page) -> str:
    return page.evaluate(_STRUCTURE)


def walk(w, paths, seen: set | None = None, stats: dict | None = None) -> list[str]:
    """Open each path in the Watched page `w` and run axe on it: the failures, one string per
    page. With `seen` (a set shared between walks), a page whose structure at this width was
    already checked is not checked again; `stats` counts "pages", "checked", "elements"."""
    failures = []
    stats = stats if stats is not None else {}
    width = w.page.viewport_size["width"]
    for path in paths:
        response = w.page.goto(w.base + path, timeout=60000)
        w.page.wait_for_load_state("load")
        if response is None or response.status != 200:
            failures.append(f"{path}: HTTP {response.status if response else '?'}")
            continue
        if not response.text().lstrip().lower().startswith("<!doctype html"):
            continue  # an htmx fragment (a badge, a list of names), not a page
        stats["pages"] = stats.get("pages", 0) + 1
        if seen is not None:
            key = (width, structure(w.page))
            if key in seen:
                continue
            seen.add(key)
        stats["checked"] = stats.get("checked", 0) + 1
        found = violations(w.page, w)
        if found:
            stats["elements"] = stats.get("elements", 0) + count(found)
            failures.append(f"{path} ({width} px): {count(found)} elements\n" + describe(found))
    return failures


@pytest.fixture
def axe():
    """axe(page) asserts no WCAG 2.2 AA violation on the page as it is now."""
    return assert_accessible
