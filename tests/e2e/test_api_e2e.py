"""The API token page and the API docs in the browser (issue 21): an admin makes a
read-and-write token, sees it once, a script (httpx) uses it against the live server, the
admin revokes it and the script is refused; the docs page renders from our own static files
(no CDN) with a curl line per operation, at desktop and phone widths."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from accounts.models import ApiToken, Role
from kpis.models import DataPoint, Kpi
from tests.factories import KpiFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/api")


def _patient(w):
    """The shared 2-core machine answers a first page in tens of seconds under load."""
    w.page.set_default_navigation_timeout(120_000)
    w.page.set_default_timeout(60_000)
    return w


def test_a_token_made_shown_once_used_by_a_script_and_revoked(open_page):
    org = OrganizationFactory(name="Acme", slug="acme")
    admin = UserFactory(name="Ana Admin", email="ana@example.com")
    MembershipFactory(user=admin, organization=org, role=Role.ADMIN)
    kpi = KpiFactory(organization=org, name="Reply time", frequency=Kpi.Frequency.WEEKLY)
    w = _patient(open_page())
    w.enter_as(admin)
    w.goto("/o/acme/kpis/api-tokens/")
    w.page.fill("#id_name", "Nightly sync")
    w.page.check("input[name=scope][value=read_write]")
    w.page.click("button:has-text('Create token')")
    w.page.wait_for_load_state("load")
    w.assert_clean()
    token = w.page.locator(".flash--success code").inner_text().strip()
    assert "shown only once" in w.page.inner_text(".flash--success")
    SHOTS.mkdir(exist_ok=True)
    w.page.screenshot(path=str(SHOTS / "tokens-1280.png"), full_page=True)
    w.goto("/o/acme/kpis/api-tokens/")
    assert token not in w.page.content()
    row = w.page.locator("tr", has_text="Nightly sync")
    assert "Read and write" in row.inner_text() and "Active" in row.inner_text()

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=w.base + "/api/v1", headers=headers, timeout=30) as api:
        listed = api.get("/kpis")
        assert listed.status_code == 200
        assert [k["name"] for k in listed.json()["items"]] == ["Reply time"]
        pushed = api.post(f"/kpis/{kpi.pk}/points", json={"period": "2026-11-23", "value": 41})
        assert pushed.status_code == 200, pushed.text
        assert DataPoint.objects.filter(kpi=kpi, value=41).exists()

        w.page.once("dialog", lambda dialog: dialog.accept())
        row.locator("button:has-text('Revoke')").click()
        w.page.wait_for_load_state("load")
        w.assert_clean()
        assert "Revoked" in w.page.locator("tr", has_text="Nightly sync").inner_text()
        refused = api.get("/kpis")
        assert refused.status_code == 401 and refused.json()["detail"]
    assert ApiToken.objects.get(name="Nightly sync").revoked_at is not None


@pytest.mark.parametrize("width", [1280, 390])
def test_the_docs_page_is_ours_and_readable(open_page, width):
    w = _patient(open_page(viewport={"width": width, "height": 900}))
    requested: list[str] = []
    w.page.on("request", lambda r: requested.append(r.url))
    w.goto("/api/v1/docs")
    text = w.page.inner_text("main")
    for op in ("/api/v1/initiatives", "/api/v1/kpis", "/api/v1/key-results/{kr_id}/check-ins"):
        assert op in text, op
    assert "curl -X POST" in text and "Idempotency-Key" in text
    assert all(u.startswith(w.base) for u in requested), [
        u for u in requested if not u.startswith(w.base)]
    overflow = w.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    w.page.screenshot(path=str(SHOTS / f"docs-{width}.png"))
    assert overflow <= 0, f"{overflow}px of horizontal scroll at {width}px"
