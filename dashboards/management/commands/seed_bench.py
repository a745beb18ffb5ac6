"""Seed the benchmark organisation "bench" (deterministic, bulk inserts).

    python manage.py seed_bench --scale large     # 50 teams, 500 people, 1,000 objectives,
                                                  # 4,000 KRs x 12 check-ins, 2,000 initiatives,
                                                  # 10,000 weekly KPIs x 104 points (1.04 M)
    python manage.py seed_bench --scale small     # a tenth of it
    python manage.py seed_bench --scale large --reset

Every random figure comes from one seeded RNG (``--seed``); dates are relative to today.
A second run with the same scale does nothing; a different scale needs ``--reset``.
On PostgreSQL the data points go in with COPY; elsewhere with bulk_create in batches.
The KPI health rows are computed at the end by the real engine (``kpis.health``), never
invented here. Log in as ``bench@bench.test`` / ``headway-bench`` (owner).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Membership, Organization, Role, Team, User
from goals.models import Cycle, StrategicPillar, UltimateGoal
from initiatives.models import Initiative
from kpis.models import DataPoint, Kpi
from okrs.models import CheckIn, KeyResult, Objective, Status

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


class Command(BaseCommand):
    help = "Seed the benchmark organisation 'bench' (see bench/README.md)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--reset", action="store_true",
                            help="Delete the bench organisation (and its users) first.")
        parser.add_argument("--no-health", action="store_true",
                            help="Do not run the KPI health evaluation at the end.")

    def handle(self, *args, scale: str, seed: int, reset: bool, no_health: bool, **options):
        size = SCALES[scale]
        name = f"Bench Corp ({scale})"
        existing = Organization.objects.filter(slug=BENCH_SLUG).first()
        if existing and reset:
            t = time.monotonic()
            delete_bench()
            self.stdout.write(f"Deleted the bench organisation in {time.monotonic() - t:.1f}s.")
            existing = None
        if existing:
            if existing.name != name:
                raise CommandError(f"The bench organisation is seeded as “{existing.name}”; "
                                   f"use --reset to seed the {scale} scale.")
            self.stdout.write(f"{existing.name} is already seeded (use --reset to reseed).")
            return
        t0 = time.monotonic()
        seeder = Seeder(size, name=name, seed=seed, log=self.stdout.write)
        with transaction.atomic():
            org = seeder.run()
        if connection.vendor == "postgresql":
            t = time.monotonic()
            analyse_tables()
            self.stdout.write(f"  vacuum analyse: {time.monotonic() - t:.1f}s")
        if not no_health:
            t = time.monotonic()
            from kpis import health

            outcome = health.evaluate_all(organization_id=org.pk, force=True)
            self.stdout.write(f"  KPI health (kpis.health.evaluate_all): "
                              f"{outcome.evaluated} KPIs in {time.monotonic() - t:.1f}s")
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {name} in {time.monotonic() - t0:.1f}s. "
            f"Log in as {BENCH_EMAIL} / {BENCH_PASSWORD}."))


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
            KeyResult.objects.filter(organization=org).delete()
            Objective.objects.filter(organization=org).delete()
            Kpi.objects.filter(organization=org).delete()
            org.delete()
        User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).delete()


class Seeder:
    def __init__(self, size: Scale, *, name: str, seed: int, log):
        self.s = size
        self.name = name
        self.rng = random.Random(seed)
        self.log = log
        self.today = timezone.localdate()
        self.now = timezone.now()
        self._t = time.monotonic()

    def step(self, what: str) -> None:
        now = time.monotonic()
        self.log(f"  {what}: {now - self._t:.1f}s")
        self._t = now

    # --- people -------------------------------------------------------------------------
    def run(self) -> Organization:
        s = self.s
        org = Organization.objects.create(name=self.name, slug=BENCH_SLUG, time_zone="UTC")
        self.org = org
        bench_user = User.objects.create_user(email=BENCH_EMAIL, password=BENCH_PASSWORD,
                                              name="Bench Owner")
        unusable = make_password(None)
        people = bulk(User, [
            User(email=f"p{i:04d}@{EMAIL_DOMAIN}", password=unusable,
                 name=f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]} {i}")
            for i in range(s.members)
        ])
        n_teams = s.teams
        roles = []
        for i in range(s.members):
            if i % max(1, s.members // n_teams) == 0:
                roles.append(Role.LEADER)  # one team lead per team
            elif i % 100 == 1:
                roles.append(Role.ADMIN)
            elif i % 10 == 7:
                roles.append(Role.VIEWER)
            else:
                roles.append(Role.MEMBER)
        bulk(Membership, [Membership(user=bench_user, organization=org, role=Role.OWNER)] + [
            Membership(user=u, organization=org, role=r) for u, r in zip(people, roles, strict=True)
        ])
        per_team = max(1, s.members // n_teams)
        teams = []
        for i in range(n_teams):
            dept = DEPARTMENTS[i % len(DEPARTMENTS)]
            teams.append(Team(organization=org, name=f"{dept} {i + 1:02d}", slug=f"team-{i + 1:02d}",
                              lead=people[(i * per_team) % len(people)]))
        teams = bulk(Team, teams)
        departments = teams[: min(len(DEPARTMENTS), n_teams)]
        for i, team in enumerate(teams):
            if i >= len(departments):
                team.parent = departments[i % len(departments)]
        Team.objects.bulk_update(teams[len(departments):], ["parent"], batch_size=BATCH)
        Through = Team.members.through
        links = [Through(team_id=teams[0].pk, user_id=bench_user.pk)]
        self.team_members: dict[int, list[User]] = {}
        for i, team in enumerate(teams):
            members = people[i * per_team:(i + 1) * per_team] or [people[i % len(people)]]
            self.team_members[team.pk] = members
            links += [Through(team_id=team.pk, user_id=u.pk) for u in members]
        bulk(Through, links)
        self.people, self.teams, self.bench_user = people, teams, bench_user
        self.step(f"{len(people) + 1} users, {len(teams)} teams")

        self.seed_strategy()
        self.seed_kpis()
        self.seed_okrs()
        self.seed_checkins()
        self.seed_initiatives()
        self.seed_points()
        return org

    # --- goal, pillars, cycles ----------------------------------------------------------
    def seed_strategy(self) -> None:
        org = self.org
        goal = UltimateGoal.objects.create(
            organization=org, title="Make work measurably better for every customer",
            mission="Help teams run their strategy.", vision="Every team closes the loop.")
        self.pillars = bulk(StrategicPillar, [
            StrategicPillar(organization=org, goal=goal, name=name, order=i)
            for i, name in enumerate(PILLARS)
        ])
        cur_start, cur_end = quarter_bounds(self.today)
        prev_start, prev_end = quarter_bounds(cur_start - dt.timedelta(days=1))
        self.previous = Cycle.objects.create(
            organization=org, name=quarter_name(prev_start), kind=Cycle.Kind.QUARTER,
            start=prev_start, end=prev_end, state=Cycle.State.CLOSED,
            closed_at=timezone.make_aware(dt.datetime.combine(prev_end, dt.time(18))),
            closed_by=self.bench_user)
        self.current = Cycle.objects.create(
            organization=org, name=quarter_name(cur_start), kind=Cycle.Kind.QUARTER,
            start=cur_start, end=cur_end)
        self.step("goal, pillars, cycles")

    # --- KPIs ---------------------------------------------------------------------------
    def seed_kpis(self) -> None:
        s, rng, org = self.s, self.rng, self.org
        rules = (["at_most"] * 7 + ["at_least"] * 7 + ["between"] * 3 + ["none"] * 3)
        kpis = []
        self.kpi_series: list[tuple[str, float, float, int]] = []  # shape, level, sigma, stale
        for i in range(s.kpis):
            team = self.teams[i % len(self.teams)]
            owner = self.team_members[team.pk][i % len(self.team_members[team.pk])]
            level = rng.choice([1, 10, 50, 100, 1000]) * rng.uniform(0.5, 2.0)
            sigma = level * rng.uniform(0.02, 0.12)
            rule = rng.choice(rules)
            margin = rng.choice([-1.0, 1.5, 3.5, 5.0])  # in sigmas: some KPIs miss, most meet
            value = upper = None
            if rule == "at_most":
                value = round(level + margin * sigma, 2)
            elif rule == "at_least":
                value = round(level - margin * sigma, 2)
            elif rule == "between":
                value = round(level - abs(margin) * sigma - sigma, 2)
                upper = round(level + abs(margin) * sigma + sigma, 2)
            shape = rng.choices(["stable", "shift", "drift", "spike"], [80, 7, 7, 6])[0]
            stale = 8 if rng.random() < 0.04 else 0
            self.kpi_series.append((shape, level, sigma, stale))
            kpis.append(Kpi(
                organization=org, name=f"{MEASURES[i % len(MEASURES)].capitalize()} #{i + 1:05d}",
                unit=rng.choice(["", "%", "min", "k€", "pts"]), decimals=1, owner=owner, team=team,
                frequency=Kpi.Frequency.WEEKLY, intent=Kpi.Intent.SUSTAIN, target_rule=rule,
                target_value=value, target_upper=upper, data_changed_at=self.now,
            ))
        self.kpis = bulk(Kpi, kpis, batch=2000)
        self.step(f"{len(self.kpis)} KPIs")

    def series(self, i: int) -> list[float]:
        shape, level, sigma, _ = self.kpi_series[i]
        rng, n = self.rng, self.s.points
        out = []
        change = rng.randrange(n // 2, n)
        for k in range(n):
            x = level + rng.gauss(0, sigma)
            if shape == "shift" and k >= change:
                x += 2.5 * sigma
            elif shape == "drift":
                x += 3 * sigma * k / n
            elif shape == "spike" and k == n - 2:
                x += 5 * sigma
            out.append(round(x, 2))
        return out

    def seed_points(self) -> None:
        s = self.s
        last = monday(self.today) - dt.timedelta(weeks=1)
        total = 0
        if connection.vendor == "postgresql":
            table = DataPoint._meta.db_table
            cols = "kpi_id, period_start, value, note, source, author_id, created_at, updated_at"
            with connection.cursor() as cur, cur.copy(
                    f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for i, kpi in enumerate(self.kpis):
                    end = last - dt.timedelta(weeks=self.kpi_series[i][3])
                    first = end - dt.timedelta(weeks=s.points - 1)
                    buf = io.StringIO()
                    for k, v in enumerate(self.series(i)):
                        day = first + dt.timedelta(weeks=k)
                        buf.write(f"{kpi.pk}\t{day.isoformat()}\t{v!r}\t\tmanual\t"
                                  f"{kpi.owner_id}\t{self.now.isoformat()}\t"
                                  f"{self.now.isoformat()}\n")
                        total += 1
                    copy.write(buf.getvalue())
        else:
            rows = []
            for i, kpi in enumerate(self.kpis):
                end = last - dt.timedelta(weeks=self.kpi_series[i][3])
                first = end - dt.timedelta(weeks=s.points - 1)
                for k, v in enumerate(self.series(i)):
                    rows.append(DataPoint(kpi_id=kpi.pk, period_start=first + dt.timedelta(weeks=k),
                                          value=v, author_id=kpi.owner_id))
                if len(rows) >= BATCH:
                    total += len(bulk(DataPoint, rows))
                    rows = []
            total += len(bulk(DataPoint, rows))
        self.step(f"{total} data points")

    # --- objectives, key results ----------------------------------------------------------
    def seed_okrs(self) -> None:
        s, rng, org = self.s, self.rng, self.org
        per_cycle = s.objectives // 2
        objectives: list[Objective] = []
        self.objective_cycle: list[Cycle] = []
        for cycle in (self.previous, self.current):
            closed = cycle.is_closed
            n_company = max(1, per_cycle // 10)
            company = []
            for j in range(n_company):
                pillar = self.pillars[j % len(self.pillars)]
                obj = Objective(
                    organization=org, cycle=cycle, order=j, owner=self.bench_user,
                    title=f"{VERBS[j % len(VERBS)]} {THINGS[(j // len(VERBS)) % len(THINGS)]} "
                          f"({cycle.name}, company {j + 1})",
                    pillar=pillar, kind=rng.choice(["committed", "aspirational"]),
                    state=Objective.State.CLOSED if closed else Objective.State.ACTIVE,
                    created_by=self.bench_user)
                company.append(obj)
            company = bulk(Objective, company)
            team_level = []
            for j in range(per_cycle - n_company):
                team = self.teams[j % len(self.teams)]
                parent = company[j % len(company)]
                team_level.append(Objective(
                    organization=org, cycle=cycle, order=j, owner=team.lead, team=team,
                    title=f"{VERBS[(j + 3) % len(VERBS)]} {THINGS[j % len(THINGS)]} "
                          f"for {team.name} ({cycle.name}, {j + 1})",
                    pillar_id=parent.pillar_id, parent=parent,
                    kind=rng.choice(["committed", "aspirational"]),
                    state=Objective.State.CLOSED if closed else Objective.State.ACTIVE,
                    created_by=team.lead))
            team_level = bulk(Objective, team_level)
            objectives += company + team_level
            self.objective_cycle += [cycle] * (len(company) + len(team_level))
        self.objectives = objectives

        per_obj = max(1, s.krs // len(objectives))
        krs = []
        linked = 0
        improve_ids = []
        for oi, obj in enumerate(objectives):
            members = self.team_members.get(obj.team_id) or self.people
            for k in range(per_obj):
                kind = rng.choices(["metric", "milestone", "guardrail"], [80, 10, 10])[0]
                start = float(rng.choice([0, 10, 50, 100]))
                target = start + rng.choice([-1, 1, 1, 1]) * rng.choice([10, 20, 50, 100])
                kr = KeyResult(
                    organization=org, objective=obj, order=k, kind=kind,
                    title=f"{MEASURES[(oi + k) % len(MEASURES)].capitalize()} from {start:g} "
                          f"to {target:g}",
                    start_value=start, target_value=target, owner=members[(oi + k) % len(members)],
                    guard="at_least" if kind == "guardrail" else "",
                )
                if (not self.objective_cycle[oi].is_closed and kind == "metric" and
                        linked < max(1, s.kpis // 50) and (oi + k) % 7 == 0):
                    kpi = self.kpis[(linked * 37) % len(self.kpis)]
                    if kpi.pk not in improve_ids:
                        kr.kpi = kpi
                        improve_ids.append(kpi.pk)
                        linked += 1
                krs.append(kr)
        self.krs = bulk(KeyResult, krs)
        Kpi.objects.filter(pk__in=improve_ids).update(intent=Kpi.Intent.IMPROVE)
        self.step(f"{len(objectives)} objectives, {len(self.krs)} key results "
                  f"({len(improve_ids)} linked to KPIs)")

    # --- check-ins --------------------------------------------------------------------------
    def seed_checkins(self) -> None:
        s, rng, org = self.s, self.rng, self.org
        this_week = monday(self.today)
        statuses = [Status.ON_TRACK, Status.NEEDS_ATTENTION, Status.OFF_TRACK]
        rows = []
        cycle_of = {o.pk: self.objective_cycle[i] for i, o in enumerate(self.objectives)}
        closed_objs = []
        for kr in self.krs:
            cycle = cycle_of[kr.objective_id]
            end = (monday(cycle.end) if cycle.is_closed
                   else this_week - dt.timedelta(weeks=1))
            pace = rng.uniform(0.3, 1.2)
            value = kr.start_value
            last = None
            for w in range(s.checkin_weeks):
                week = end - dt.timedelta(weeks=s.checkin_weeks - 1 - w)
                frac = (w + 1) / s.checkin_weeks
                done = kr.kind == "milestone" and frac * pace >= 0.9
                if kr.kind == "metric":
                    value = round(kr.start_value + (kr.target_value - kr.start_value)
                                  * min(1.2, frac * pace + rng.gauss(0, 0.03)), 2)
                elif kr.kind == "guardrail":
                    value = round(kr.target_value + rng.gauss(1, 2), 2)
                else:
                    value = None
                status = (Status.ACCOMPLISHED if done else
                          statuses[0] if pace > 0.9 else rng.choice(statuses))
                created = timezone.make_aware(dt.datetime.combine(
                    week, dt.time(9 + w % 8, (7 * w) % 60)), dt.UTC)
                last = CheckIn(organization=org, key_result=kr, value=value, done=done,
                               status=status, confidence=rng.randint(3, 10),
                               comment="" if w % 3 else "Steady progress this week.",
                               author_id=kr.owner_id, created_at=created, week_start=week)
                rows.append(last)
            kr.current_value = last.value
            kr.done = last.done
            kr.status = last.status
            kr.last_checkin_at = last.created_at
            if cycle.is_closed:
                kr.final_value = kr.current_value
                if kr.kind == "milestone":
                    score = 1.0 if kr.done else 0.0
                elif kr.kind == "guardrail":
                    score = 1.0 if (kr.current_value or 0) >= kr.target_value else 0.0
                else:
                    span = kr.target_value - kr.start_value
                    score = min(1.0, max(0.0, ((kr.current_value or 0) - kr.start_value) / span))
                kr.final_score = round(score, 2)
        with explicit_created_at(CheckIn):
            n = len(bulk(CheckIn, rows))
        KeyResult.objects.bulk_update(
            self.krs, ["current_value", "done", "status", "last_checkin_at", "final_value",
                       "final_score"], batch_size=1000)
        scores: dict[int, list[float]] = {}
        for kr in self.krs:
            if kr.final_score is not None:
                scores.setdefault(kr.objective_id, []).append(kr.final_score)
        for obj in self.objectives:
            if obj.pk in scores:
                obj.score = round(sum(scores[obj.pk]) / len(scores[obj.pk]), 2)
                obj.closing_status = ("achieved" if obj.score >= 0.7 else
                                      "partially" if obj.score >= 0.3 else "missed")
                closed_objs.append(obj)
        Objective.objects.bulk_update(closed_objs, ["score", "closing_status"], batch_size=1000)
        self.step(f"{n} check-ins")

    # --- initiatives --------------------------------------------------------------------------
    def seed_initiatives(self) -> None:
        s, rng, org = self.s, self.rng, self.org
        rows = []
        step = max(1, math.floor(len(self.krs) / max(1, s.initiatives)))
        for i in range(s.initiatives):
            kr = self.krs[(i * step) % len(self.krs)]
            status = rng.choice(list(Initiative.Status.values))
            rows.append(Initiative(
                organization=org, key_result=kr, title=f"Initiative {i + 1}: "
                f"{VERBS[i % len(VERBS)].lower()} {THINGS[(i * 3) % len(THINGS)]}",
                owner_id=kr.owner_id, status=status,
                due_date=self.today + dt.timedelta(days=rng.randint(-30, 90)),
                percent_complete=100 if status == "done" else rng.randint(0, 90), order=i))
        n = len(bulk(Initiative, rows))
        self.step(f"{n} initiatives")
