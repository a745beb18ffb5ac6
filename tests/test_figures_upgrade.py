"""An installation upgraded past the stored-figures migration has its figures filled by the
migrate run itself (okrs.apps.fill_figures_after_upgrade)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from okrs.apps import FIGURES_MIGRATION, fill_figures_after_upgrade
from okrs.models import KeyResult, Objective
from tests.factories import KeyResultFactory

pytestmark = pytest.mark.django_db


def _plan():
    executor = MigrationExecutor(connection)
    return [(executor.loader.get_migration(*FIGURES_MIGRATION), False)]


def test_figures_are_filled_when_the_figures_migration_was_just_applied():
    kr = KeyResultFactory(start_value=0, target_value=100, current_value=50)
    Objective.objects.filter(pk=kr.objective_id).update(progress=0)
    KeyResult.objects.filter(pk=kr.pk).update(progress=0)
    fill_figures_after_upgrade(sender=None, plan=_plan())
    assert KeyResult.objects.get(pk=kr.pk).progress == pytest.approx(0.5)
    assert Objective.objects.get(pk=kr.objective_id).progress == pytest.approx(0.5)


def test_other_migrate_runs_leave_the_figures_alone():
    kr = KeyResultFactory(start_value=0, target_value=100, current_value=50)
    KeyResult.objects.filter(pk=kr.pk).update(progress=0)
    fill_figures_after_upgrade(sender=None, plan=[])
    assert KeyResult.objects.get(pk=kr.pk).progress == 0
