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


def test_check_in_all_and_a_single_row_on_one_kr_lose_nothing(kr):
    """Issue 19: Alice's "check in all" (three rows, one of them this KR) and Bob's single
    row on the same KR at the same moment: both check-ins are kept, the other rows too, the
    KR shows the one that committed last and its stored progress matches it; a page that
    saw neither (the stale guard) is refused, not written over."""
    from okrs.checkins.services import RowInput, StaleCheckIn, checkin_many

    others = [KeyResultFactory(objective=kr.objective, start_value=0, target_value=100,
                               current_value=0) for _ in range(2)]
    alice, bob = UserFactory(), UserFactory()
    alice_in = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []
    outcomes = []

    def alice_checks_in_all():
        try:
            with transaction.atomic():
                outcomes.extend(checkin_many(
                    [RowInput(key_result=k, status="on_track", value=v, seen=0)
                     for k, v in ((others[0], 10), (kr, 40), (others[1], 20))], alice))
                alice_in.set()
                release.wait(5)  # hold the locks while Bob tries
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
            alice_in.set()
        finally:
            connections.close_all()

    def bob_checks_in_one():
        try:
            alice_in.wait(5)
            # Bob's page was loaded before Alice's check-in: it is stale once she commits.
            try:
                checkin_create(key_result=kr, author=bob, status="off_track", value=55, seen=0)
            except StaleCheckIn as exc:
                outcomes.append(("stale", exc.latest.author_id))
                checkin_create(key_result=kr, author=bob, status="off_track", value=55,
                               seen=exc.latest.pk)  # he saw her value and confirmed
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    a = threading.Thread(target=alice_checks_in_all)
    b = threading.Thread(target=bob_checks_in_one)
    a.start()
    b.start()
    alice_in.wait(5)
    b.join(0.5)
    assert b.is_alive(), "Bob must wait for the lock Alice's check in all holds"
    release.set()
    a.join(10)
    b.join(10)
    assert not errors, errors

    assert all(o.saved for o in outcomes[:3])
    assert outcomes[3] == ("stale", alice.id)
    rows = list(CheckIn.objects.filter(key_result=kr).order_by("created_at", "id"))
    assert [(c.author_id, c.value) for c in rows] == [(alice.id, 40), (bob.id, 55)]
    kr.refresh_from_db()
    assert kr.current_value == 55 and kr.status == "off_track"
    assert kr.progress == pytest.approx(0.55)
    assert [CheckIn.objects.get(key_result=k).value for k in others] == [10, 20]


def test_a_single_row_first_then_check_in_all_sees_it_after_the_lock(kr):
    """The other order, through the batch: Bob's single row holds the KR's lock; Alice's
    "check in all" (loaded before Bob's check-in) waits for it, then reads the last
    check-ins after the lock (by a statement of its own: PostgreSQL's snapshot of a locking
    statement predates the wait), so her row on this KR is refused as stale and shows Bob's
    check-in, her other rows are saved, and nothing of Bob's is lost."""
    from okrs.checkins.services import RowInput, checkin_many

    others = [KeyResultFactory(objective=kr.objective, start_value=0, target_value=100,
                               current_value=0) for _ in range(2)]
    alice, bob = UserFactory(), UserFactory()
    bob_in = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []
    outcomes = []

    def bob_checks_in_one():
        try:
            with transaction.atomic():
                checkin_create(key_result=kr, author=bob, status="off_track", value=55, seen=0)
                bob_in.set()
                release.wait(5)  # hold the KR's lock while Alice tries
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
            bob_in.set()
        finally:
            connections.close_all()

    def alice_checks_in_all():
        try:
            bob_in.wait(5)
            outcomes.extend(checkin_many(
                [RowInput(key_result=k, status="on_track", value=v, seen=0)
                 for k, v in ((others[0], 10), (kr, 40), (others[1], 20))], alice))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    b = threading.Thread(target=bob_checks_in_one)
    a = threading.Thread(target=alice_checks_in_all)
    b.start()
    a.start()
    bob_in.wait(5)
    a.join(0.5)
    assert a.is_alive(), "Alice's check in all must wait for the lock Bob holds"
    release.set()
    b.join(10)
    a.join(10)
    assert not errors, errors

    first, on_kr, last = outcomes
    assert first.saved and last.saved and not on_kr.saved
    assert on_kr.stale_seen and on_kr.stale.author_id == bob.id
    assert [(c.author_id, c.value) for c in CheckIn.objects.filter(key_result=kr)] \
        == [(bob.id, 55)]
    kr.refresh_from_db()
    assert kr.current_value == 55 and kr.progress == pytest.approx(0.55)
    assert [CheckIn.objects.get(key_result=k).value for k in others] == [10, 20]
