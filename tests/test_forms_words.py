"""Words that must say the rule the code applies, and the log of a refusal (issue 14,
defects 11 and 12)."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import url

pytestmark = pytest.mark.django_db


def test_the_members_page_says_members_check_in_on_their_teams_key_results(as_user, owner,
                                                                           org):
    html = as_user(owner).get(url("accounts:members", org)).content.decode()
    assert "check in on the key results they or their team own" in html
    assert "check in and add data to what they own" not in html


def test_a_403_is_one_log_line_without_a_traceback(as_user, viewer, org, capsys):
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    response = as_user(viewer).post(url("okrs:objective_create", org), {})
    assert response.status_code == 403
    err = capsys.readouterr().err
    assert "Forbidden" in err
    assert "Traceback" not in err
    logging.getLogger("django.request").handlers.clear()


def test_the_favicon_answers(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")
    assert client.get(response["Location"]).status_code == 200
