"""The benchmark organisation "bench": its scales, the words its rows are made of, and how it
is analysed and deleted. The rows themselves are written by bench.seeder.Seeder; the
command is ``manage.py seed_bench`` (bench/management/commands/seed_bench.py).

Log in as ``bench@bench.test`` / ``headway-bench`` (owner).
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction

from accounts.models import Membership, Organization, Team, User
from initiatives.models import Initiative
from kpis.models import DataPoint, Kpi
from okrs.models import CheckIn, KeyResult, Objective

BENCH_SLUG = "bench"
BENCH_EMAIL = "bench@bench.test"
BENCH_PASSWORD = "headway-bench"
EMAIL_DOMAIN = "bench.test"
BATCH = 5000


@dataclass(frozen=True)
class Scale:
    teams: int
    members: int
    objectives: int  # over two cycles
    krs: int
    checkin_weeks: int
    initiatives: int
    kpis: int
    points: int  # weekly points per KPI


SCALES = {
    # Five times large (issue 16): is a page's cost independent of the organisation's size?
    "xlarge": Scale(teams=250, members=2500, objectives=5000, krs=20000, checkin_weeks=12,
                    initiatives=10000, kpis=50000, points=104),
    "large": Scale(teams=50, members=500, objectives=1000, krs=4000, checkin_weeks=12,
                   initiatives=2000, kpis=10000, points=104),
    "small": Scale(teams=5, members=50, objectives=100, krs=400, checkin_weeks=12,
                   initiatives=200, kpis=1000, points=104),
    # For the test suite only: every kind of row, in seconds on SQLite.
    "tiny": Scale(teams=2, members=8, objectives=8, krs=16, checkin_weeks=3,
                  initiatives=8, kpis=12, points=30),
}

DEPARTMENTS = ["Sales", "Marketing", "Product", "Engineering", "Operations",
               "Customer Support", "Finance", "People", "Legal", "Data"]
FIRST = ["Ada", "Ben", "Chloé", "Dev", "Emma", "Femi", "Gus", "Hana", "Ivo", "Jia", "Kofi",
         "Lena", "Mark", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara"]
LAST = ["Abbott", "Berg", "Costa", "Dubois", "Eze", "Fischer", "García", "Haddad", "Ito",
        "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov"]
PILLARS = ["Delight customers", "Grow efficiently", "Build a great place to work",
           "Operate reliably", "Lead the market"]
VERBS = ["Improve", "Reduce", "Grow", "Launch", "Simplify", "Automate", "Expand", "Stabilise"]
THINGS = ["onboarding", "churn", "pipeline", "release cadence", "support backlog",
          "unit economics", "hiring funnel", "data quality", "activation", "uptime"]
MEASURES = ["reply time", "conversion rate", "tickets", "defects", "revenue", "NPS",
            "lead time", "cost per order", "availability", "backlog size", "signups",
            "renewal rate"]


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def quarter_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    nxt = dt.date(start.year + (start.month + 3 > 12), (start.month + 2) % 12 + 1, 1)
    return start, nxt - dt.timedelta(days=1)


def quarter_name(start: dt.date) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


@contextmanager
def explicit_created_at(model):
    """bulk_create normally stamps auto_now_add fields with now(); keep the given values."""
    field = model._meta.get_field("created_at")
    old = field.auto_now_add
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = old


def bulk(model, rows, batch=BATCH):
    return model.objects.bulk_create(rows, batch_size=batch)


def analyse_tables() -> None:
    models = [User, Membership, Team, Objective, KeyResult, CheckIn, Initiative, Kpi,
              DataPoint, Team.members.through]
    from kpis.models import KpiHealth

    models.append(KpiHealth)
    # VACUUM (visibility map, for index-only scans) cannot run inside a transaction.
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cur:
        for model in models:
            cur.execute(f'{command} "{model._meta.db_table}"')


def delete_bench() -> None:
    """Remove the bench organisation and its users; the big tables with plain DELETEs."""
    org = Organization.objects.filter(slug=BENCH_SLUG).first()
    with transaction.atomic():
        if org is not None:
            from kpis.models import DataPointRevision, HealthEvent, KpiHealth

            # Table names come from the models, the id is a parameter.
            kpi_ids = f'SELECT id FROM "{Kpi._meta.db_table}" WHERE organization_id = %s'  # noqa: S608
            rev, dp = DataPointRevision._meta.db_table, DataPoint._meta.db_table
            statements = [
                f'DELETE FROM "{rev}" WHERE point_id IN (SELECT id FROM "{dp}" WHERE kpi_id IN ({kpi_ids}))',  # noqa: S608
                *(f'DELETE FROM "{m._meta.db_table}" WHERE kpi_id IN ({kpi_ids})'  # noqa: S608
                  for m in (DataPoint, HealthEvent, KpiHealth)),
                f'DELETE FROM "{CheckIn._meta.db_table}" WHERE organization_id = %s',  # noqa: S608
            ]
            with connection.cursor() as cur:
                for sql in statements:
                    cur.execute(sql, [org.pk])
            Initiative.objects.filter(organization=org).delete()
            KeyResult.objects.filter(organization=org).update(kpi=None)
            Objective.objects.filter(organization=org).update(parent=None, carried_from=None)
            # Key results and objectives with plain DELETEs: the ORM's delete sends each row's
            # signals (stored figures, stored weeks), which made deleting the large
            # organisation take minutes. The rows pointing at them go first.
            for model in (KeyResult, Objective):
                for rel in model._meta.related_objects:
                    if rel.related_model in (KeyResult, Objective, CheckIn) or rel.many_to_many:
                        continue
                    rel.related_model._base_manager.filter(
                        **{f"{rel.field.name}__organization": org}).delete()
            with connection.cursor() as cur:
                for model in (KeyResult, Objective):
                    cur.execute(f'DELETE FROM "{model._meta.db_table}" '  # noqa: S608
                                "WHERE organization_id = %s", [org.pk])
            Kpi.objects.filter(organization=org).delete()
            org.delete()
        User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).delete()
