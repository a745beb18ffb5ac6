"""Browser end-to-end tests: Playwright drives Debian's chromium against the live server.

Skipped when /usr/bin/chromium is missing (`.ci/install-browser.sh` installs it). Never
`playwright install`: we use the system browser. Every page a test visits is watched
for console errors, uncaught exceptions, CSP violations and 5xx responses.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest
from django.core import mail

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def _free_port() -> int:
    """8108 or 8109 (this project's e2e ports) when free, else any free port: two test
    runs at once (CI and a developer, or two developers) must not collide."""
    for port in (8108, 8109, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", f"127.0.0.1:{_free_port()}")

# Reported to the console by the page itself, so CSP violations cannot pass unnoticed.
WATCH_CSP = """
document.addEventListener('securitypolicyviolation', function (e) {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')
                + ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("needs /usr/bin/chromium (run .ci/install-browser.sh)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test code's ORM calls
    # are still synchronous, so Django's async guard must be told — only while the
    # browser runs (module scope: the tests of other modules never see the variable).
    old = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield browser
            browser.close()
    finally:
        if old is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = old


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
    contexts = []

    def make(viewport: dict | None = None) -> Watched:
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
        contexts.append(context)
        return Watched(context.new_page(), live_server.url)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def outbox():
    return mail.outbox
