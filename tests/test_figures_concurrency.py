"""Concurrent check-ins on key results of sibling objectives both reach their common parent
and the pillar (okrs.figures locks the parent row before it reads the children's figures),
and eight concurrent writers on one tree finish without a deadlock and lose nothing.
Needs PostgreSQL (real row locks, real concurrency)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from goals.models import PillarFigure
from okrs import services as S
from okrs.checkins.services import checkin_create
from okrs.models import KeyResult, Objective
from tests.test_figures import _world, assert_figures_match

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tree():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises whole-database writes")
    w = _world()
    org, user, year = w["org"], w["user"], w["cycles"][0]
    parent = S.objective_create(organization=org, actor=user, data={
        "title": "Parent", "cycle": year, "pillar": w["pillars"][0],
        "progress_from": "children"})
    kids = [S.objective_create(organization=org, actor=user, data={
        "title": f"Kid {i}", "cycle": year, "parent": parent},
        key_results=[{"title": f"K{i}.{j}", "start_value": 0, "target_value": 100}
                     for j in range(2)]) for i in range(4)]
    return {**w, "parent": parent, "kids": kids}


def _run(threads):
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a writer is stuck (deadlock?)"


def test_two_sibling_check_ins_at_once_both_reach_the_parent_and_the_pillar(tree):
    user, kids = tree["user"], tree["kids"][:2]
    first_in, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with transaction.atomic():
                checkin_create(key_result=kids[0].key_results.first(), author=user,
                               status="on_track", value=100)
                first_in.set()
                release.wait(3)  # hold the parent's lock while the second one tries
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            first_in.set()
        finally:
            connections.close_all()

    def second():
        try:
            first_in.wait(5)
            threading.Timer(0.5, release.set).start()
            checkin_create(key_result=kids[1].key_results.first(), author=user,
                           status="on_track", value=100)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    _run([threading.Thread(target=first), threading.Thread(target=second)])
    assert not errors, errors
    parent = Objective.objects.get(pk=tree["parent"].pk)
    # Kids 0 and 1 at 0.5 (one KR of two at 100 %), kids 2 and 3 at 0: the parent is 0.25.
    assert parent.progress == pytest.approx(0.25)
    figure = PillarFigure.objects.get(pillar=tree["pillars"][0], cycle=tree["cycles"][0])
    assert figure.objective_count == 5
    assert figure.progress_sum == pytest.approx(0.25 + 0.5 + 0.5)
    assert_figures_match(tree["org"])


def test_eight_concurrent_writers_finish_and_lose_nothing(tree):
    user = tree["user"]
    krs = list(KeyResult.objects.filter(objective__in=tree["kids"]).order_by("id"))
    assert len(krs) == 8
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def writer(kr, value):
        try:
            start.wait(10)
            for step in range(3):
                checkin_create(key_result=kr, author=user, status="on_track",
                               value=value - 10 * (2 - step))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    _run([threading.Thread(target=writer, args=(kr, 30 + 10 * i)) for i, kr in enumerate(krs)])
    assert not errors, errors
    assert_figures_match(tree["org"])
    parent = Objective.objects.get(pk=tree["parent"].pk)
    assert parent.progress == pytest.approx(sum(30 + 10 * i for i in range(8)) / 800)
