"""Browser end-to-end tests: Playwright drives Debian's chromium against the live server.

Skipped when /usr/bin/chromium is missing (`.ci/install-browser.sh` installs it). Never
`playwright install`: we use the system browser. Every page a test visits is watched
for console errors, uncaught exceptions, CSP violations and 5xx responses.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.core import mail

from tests.e2e.axe import axe, check_every_page  # noqa: F401 (the axe fixture; on every page)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def _live_server_address() -> str:
    """Each test process its own port: the operating system's choice (port 0), so two runs
    at once (CI and a developer) and the workers of ``pytest -n`` (pytest-xdist: each has
    its own live server, and pytest-django gives each its own database,
    test_<name>_gw0, _gw1, ...) never collide. DJANGO_LIVE_TEST_SERVER_ADDRESS, when set,
    wins (a fixed port to watch the server from outside)."""
    return os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "127.0.0.1:0"


os.environ["DJANGO_LIVE_TEST_SERVER_ADDRESS"] = _live_server_address()

# Reported to the console by the page itself, so CSP violations cannot pass unnoticed.
WATCH_CSP = """
document.addEventListener('securitypolicyviolation', function (e) {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')
                + ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""


E2E_DIR = Path(__file__).resolve().parent
_running: dict = {}  # the one Chromium of this process while browser tests run


def _launch():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test code's ORM calls
    # are still synchronous, so Django's async guard must be told — only while the
    # browser runs (closed before any test outside tests/e2e/, which never sees it).
    _running["old_env"] = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    _running["pw"] = sync_playwright().start()
    _running["browser"] = _running["pw"].chromium.launch(executable_path=CHROMIUM, args=ARGS)


def _close() -> None:
    browser, pw, old = _running.pop("browser"), _running.pop("pw"), _running.pop("old_env")
    try:
        browser.close()
        pw.stop()
    finally:
        if old is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = old


@pytest.fixture
def browser():
    """One Chromium for the run of browser tests (per xdist worker), launched by the first
    one and closed after the last one before a test of another directory: every test gets
    a fresh context (its own cookies and storage) from it — milliseconds, not a launch."""
    if not Path(CHROMIUM).exists():
        pytest.skip("needs /usr/bin/chromium (run .ci/install-browser.sh)")
    if "browser" not in _running:
        _launch()
    return _running["browser"]


def _flush_by_delete() -> list:
    """Empty the tables after a browser test with DELETE rather than TRUNCATE (PostgreSQL).

    pytest-django flushes after every transactional test (the live server needs them).
    PostgreSQL's TRUNCATE of the ~60 tables rewrites every table's files and takes an
    exclusive lock on each: measured here at 2.0–2.8 s per flush (machine under load),
    against 0.01–0.05 s for DELETE of the same few rows. Django's foreign keys are
    DEFERRABLE (none is not: checked in pg_constraint), so one transaction deleting in any
    order is consistent. Sequences are reset only when asked, by the original."""
    from django.db import connections

    patched = []
    for conn in connections.all(initialized_only=True):
        if conn.vendor != "postgresql":
            continue
        ops, original = conn.ops, conn.ops.sql_flush

        def sql_flush(style, tables, *, reset_sequences=False, allow_cascade=False,
                      _original=original, _ops=ops):
            if reset_sequences or not tables:
                return _original(style, tables, reset_sequences=reset_sequences,
                                 allow_cascade=allow_cascade)
            return ["SET CONSTRAINTS ALL DEFERRED",
                    *(f"DELETE FROM {_ops.quote_name(t)}" for t in tables)]

        ops.sql_flush = sql_flush
        patched.append((ops, original))
    return patched


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Around a browser test's teardown: the flush by DELETE while its fixtures are torn
    down (only for the tests of this directory); then, when the next test is not a browser
    test (or there is none), the browser closes."""
    patched = _flush_by_delete()
    try:
        yield
    finally:
        for ops, original in patched:
            ops.sql_flush = original
        if "browser" in _running and (nextitem is None or E2E_DIR not in
                                      Path(nextitem.path).resolve().parents):
            _close()


class Watched:
    """A page that records everything that went wrong in the browser."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base = base_url.rstrip("/")
        self.problems: list[str] = []
        self.visited: list[str] = []
        page.add_init_script(WATCH_CSP)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught: {exc}"))
        page.on("response", self._response)
        page.on("framenavigated", self._navigated)
        page.set_default_timeout(20000)

    def _console(self, msg) -> None:
        where = (msg.location or {}).get("url", "")
        if where.endswith("/favicon.ico"):
            return  # the browser's own guess on pages without an icon link (the admin)
        if getattr(self, "axe_running", False) and not where and "inline" in msg.text:
            return  # axe's own measuring <style>, refused by the CSP (tests/e2e/axe.py)
        if msg.type == "error" or "Content Security Policy" in msg.text:
            self.problems.append(f"console {msg.type} on {self.page.url}: {msg.text}"
                                 f"{' (' + where + ')' if where else ''}")

    def _response(self, response) -> None:
        if response.status >= 500:
            self.problems.append(f"{response.status} from {response.url}")
        elif response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.status} for {response.request.resource_type} "
                                 f"{response.url}")

    def _navigated(self, frame) -> None:
        if frame == self.page.main_frame:
            self.visited.append(frame.url)

    def goto(self, path: str):
        response = self.page.goto(self.base + path)
        self.assert_clean()
        return response

    def path(self) -> str:
        return re.sub(r"^https?://[^/]+", "", self.page.url)

    def assert_clean(self) -> None:
        self.page.wait_for_load_state("load")
        check_every_page(self)
        assert not self.problems, "\n".join(self.problems)

    def enter_as(self, user) -> None:
        """Log in without the form (faster): a session cookie from the test client."""
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        self.page.context.add_cookies([{
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": self.base}])

    def login(self, email: str, password: str) -> None:
        self.goto("/accounts/login/")
        self.page.fill("#id_username", email)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(re.compile(r"/o/"))
        self.assert_clean()


@pytest.fixture
def open_page(browser, live_server):
    """open_page() -> a Watched page in a fresh browser context (its own cookies);
    open_page(viewport={"width": 390, "height": 844}) for a phone-sized one."""
    contexts, pages = [], []

    def make(viewport: dict | None = None) -> Watched:
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
        contexts.append(context)
        pages.append(Watched(context.new_page(), live_server.url))
        return pages[-1]

    yield make
    for watched in pages:  # axe on the page each test leaves open (issue 23)
        before = len(watched.problems)
        check_every_page(watched)
        assert len(watched.problems) == before, "\n".join(watched.problems[before:])
    for context in contexts:
        context.close()


@pytest.fixture
def outbox():
    return mail.outbox


def pytest_terminal_summary(terminalreporter):
    """How long axe took in this process (issue 23: it runs on every page by default)."""
    from tests.e2e.axe import _STATS

    if _STATS["pages"]:
        terminalreporter.write_line(f"axe: {_STATS['pages']} runs, {_STATS['seconds']:.1f} s; "
                                    f"{_STATS['skipped']} pages skipped as already checked")
