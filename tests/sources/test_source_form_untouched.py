"""A data source's edit form submitted untouched, as a browser sends it, saves and changes
nothing (issue 14's round trip found it): the browser submits a form with its FIRST submit
button (Enter in a field, the round-trip test), which was "Test" — so an untouched save stayed
on the form, and on a webhook source showed "A webhook source is not read…". Secret fields
render empty and an empty secret keeps the stored one."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from core import secrets
from sources import services
from sources.models import DataSource
from tests.html_forms import page_forms

STORED = ["name", "kind", "query", "format", "json_path", "auth", "auth_user", "auth_header",
          "schedule", "run_at", "weekday", "timeout_seconds", "row_cap", "active",
          "url_encrypted", "url_display", "secret_encrypted", "hmac_secret_encrypted",
          "webhook_token_encrypted", "webhook_token_hash"]


def _default_button(html: str) -> tuple[str, str]:
    """The name and value of the first submit button of the source form (the browser's
    default button)."""
    form = html[html.index('id="source-form"'):]
    form = form[:form.index("</form>")]
    button = re.search(r"<button[^>]*type=\"submit\"[^>]*>", form).group(0)
    return re.search(r'name="([^"]+)"', button).group(1), re.search(r'value="([^"]+)"',
                                                                    button).group(1)


@pytest.mark.parametrize("fields", [
    {"kind": "sql", "url": "postgresql://reader:pw-123@127.0.0.1:5432/wh", "query": "select 1, 2",
     "schedule": "daily", "run_at": "06:30"},
    {"kind": "http", "url": "https://example.com/data.csv?key=abc", "auth": "bearer",
     "secret": "tok-456", "schedule": "weekly", "run_at": "07:00", "weekday": 2},
    {"kind": "webhook", "hmac_secret": "sign-789", "schedule": "manual"},
], ids=["sql", "http", "webhook"])
def test_edit_form_saved_untouched_keeps_everything(org, admin_user, as_user, fields):
    import datetime as dt

    if "run_at" in fields:
        fields["run_at"] = dt.time.fromisoformat(fields["run_at"])
    source = services.source_create(organization=org, actor=None, name="Warehouse",
                                    timeout_seconds=10, row_cap=10_000, active=True, **fields)
    before = DataSource.objects.filter(pk=source.pk).values(*STORED).get()
    client = as_user(admin_user)
    url = reverse("sources:edit", kwargs={"org_slug": org.slug, "pk": source.pk})
    html = client.get(url).content.decode()
    (form,) = [f for f in page_forms(html) if "csrfmiddlewaretoken" in f.data
               and "kind" in f.data]
    name, value = _default_button(html)
    response = client.post(url, {**form.values(), name: value})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"].endswith(f"/sources/{source.pk}/")
    after = DataSource.objects.filter(pk=source.pk).values(*STORED).get()
    assert after == before
    if fields.get("secret"):
        assert secrets.decrypt(after["secret_encrypted"]) == fields["secret"]
    if fields.get("hmac_secret"):
        assert secrets.decrypt(after["hmac_secret_encrypted"]) == fields["hmac_secret"]
