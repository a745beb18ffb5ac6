"""Admin changelists run a fixed number of queries, whatever the number of rows.

Parametrised over every registered tenant model: an admin of two organisations, then of
four (each with one row of every model), sees twice the rows for the same query count.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.test_admin_scoping import TENANT_MODELS, build_org, label, url


def changelist_queries(client, model) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    return len(ctx.captured_queries), response.context["cl"].result_count


@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_changelist_query_count_does_not_grow(db, model):
    user = UserFactory(is_staff=True)
    client = Client()
    client.force_login(user)
    counts = []
    for size in (2, 4):
        while len(user.memberships.all()) < size:
            built = build_org(f"org{len(user.memberships.all())}")
            MembershipFactory(user=user, organization=built["org"], role=Role.ADMIN)
        counts.append(changelist_queries(client, model))
    (small_q, small_rows), (large_q, large_rows) = counts
    assert large_rows > small_rows
    assert large_q == small_q, f"{label(model)}: {small_q} queries for {small_rows} rows, " \
                               f"{large_q} for {large_rows}"
