"""Two people check in the same KR at the same moment: both are recorded, none is lost,
and the KR shows the later one. Needs PostgreSQL (real row locks, real concurrency)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from okrs.checkins.services import checkin_create
from okrs.models import CheckIn, KeyResult
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kr():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises whole-database writes")
    org = OrganizationFactory()
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org))
    return KeyResultFactory(objective=objective, start_value=0, target_value=100,
                            current_value=0)


def test_two_simultaneous_checkins_are_both_kept_and_the_later_one_wins(kr):
    alice, bob = UserFactory(), UserFactory()
    first_in = threading.Event()
    release_first = threading.Event()
    errors: list[BaseException] = []

    def alice_checks_in():
        try:
            with transaction.atomic():
                checkin_create(key_result=kr, author=alice, status="on_track", value=40)
                first_in.set()
                # Hold the transaction open while Bob tries: he must wait, not overwrite.
                release_first.wait(5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            first_in.set()
        finally:
            connections.close_all()

    def bob_checks_in():
        try:
            first_in.wait(5)
            checkin_create(key_result=kr, author=bob, status="needs_attention", value=55)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    a = threading.Thread(target=alice_checks_in)
    b = threading.Thread(target=bob_checks_in)
    a.start()
    b.start()
    first_in.wait(5)
    b.join(0.5)
    assert b.is_alive(), "Bob's check-in must wait for Alice's lock, not run past it"
    release_first.set()
    a.join(10)
    b.join(10)
    assert not errors, errors

    rows = list(CheckIn.objects.filter(key_result=kr).order_by("created_at", "id"))
    assert [(c.author_id, c.value) for c in rows] == [(alice.id, 40), (bob.id, 55)]
    kr.refresh_from_db()
    assert kr.current_value == 55 and kr.status == "needs_attention"
    assert kr.last_checkin_at == rows[-1].created_at


def test_many_parallel_checkins_lose_nothing(kr):
    users = [UserFactory() for _ in range(8)]
    barrier = threading.Barrier(len(users))
    errors: list[BaseException] = []

    def check_in(user, value):
        try:
            barrier.wait(5)
            checkin_create(key_result=kr, author=user, status="on_track", value=value)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=check_in, args=(u, 10 + i)) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    rows = list(CheckIn.objects.filter(key_result=kr).order_by("created_at", "id"))
    assert len(rows) == len(users)
    kr.refresh_from_db()
    # The KR mirrors the check-in that committed last (the newest row).
    assert kr.current_value == rows[-1].value
    assert kr.last_checkin_at == rows[-1].created_at
    assert KeyResult.objects.get(pk=kr.pk).current_value == rows[-1].value
