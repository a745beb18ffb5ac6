"""Writes the benchmark organisation: deterministic (one seeded RNG), bulk inserts, dates
relative to today. On PostgreSQL the data points go in with COPY; elsewhere with
bulk_create in batches."""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import time

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from accounts.models import Membership, Organization, Role, Team, User
from bench.seeding import (
    BATCH,
    BENCH_EMAIL,
    BENCH_PASSWORD,
    BENCH_SLUG,
    DEPARTMENTS,
    EMAIL_DOMAIN,
    FIRST,
    LAST,
    MEASURES,
    PILLARS,
    THINGS,
    VERBS,
    Scale,
    bulk,
    explicit_created_at,
    monday,
    quarter_bounds,
    quarter_name,
)
from goals.models import Cycle, StrategicPillar, UltimateGoal
from initiatives.models import Initiative
from kpis.models import DataPoint, Kpi
from okrs.models import CheckIn, KeyResult, Objective, Status


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
        self.seed_limit_periods()
        from okrs.figures import rebuild

        rebuild(org)  # bulk writes send no signals: the stored figures, once, from scratch
        self.step("stored figures rebuilt")
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
            cols = ("kpi_id, period_start, value, note, source, source_ref, author_id, created_at, "
                    "updated_at")
            with connection.cursor() as cur, cur.copy(
                    f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for i, kpi in enumerate(self.kpis):
                    end = last - dt.timedelta(weeks=self.kpi_series[i][3])
                    first = end - dt.timedelta(weeks=s.points - 1)
                    buf = io.StringIO()
                    for k, v in enumerate(self.series(i)):
                        day = first + dt.timedelta(weeks=k)
                        buf.write(f"{kpi.pk}\t{day.isoformat()}\t{v!r}\t\tmanual\t\t"
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

    def seed_limit_periods(self) -> None:
        """A limit period half-way through the series of every fifth KPI (issue 20: the sweep
        is measured with periods in use on 20 % of the KPIs)."""
        from kpis.models import LimitPeriod

        last = monday(self.today) - dt.timedelta(weeks=1)
        rows = []
        for i, kpi in enumerate(self.kpis):
            if i % 5:
                continue
            end = last - dt.timedelta(weeks=self.kpi_series[i][3])
            start = end - dt.timedelta(weeks=self.s.points // 2)
            rows.append(LimitPeriod(kpi_id=kpi.pk, start=start, reason="bench: a known change"))
        self.step(f"{len(bulk(LimitPeriod, rows))} limit periods")

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
        # The key results are inserted by seed_checkins, with their last check-in's values
        # (one INSERT each, no UPDATE of every row afterwards).
        self.krs = krs
        Kpi.objects.filter(pk__in=improve_ids).update(intent=Kpi.Intent.IMPROVE)
        self.step(f"{len(objectives)} objectives, {len(self.krs)} key results to insert "
                  f"({len(improve_ids)} linked to KPIs)")

    # --- check-ins --------------------------------------------------------------------------
    def seed_checkins(self) -> None:
        s, rng, org = self.s, self.rng, self.org
        this_week = monday(self.today)
        statuses = [Status.ON_TRACK, Status.NEEDS_ATTENTION, Status.OFF_TRACK]
        rows: list[tuple[KeyResult, dict]] = []
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
                last = {"value": value, "done": done, "status": status,
                        "confidence": rng.randint(3, 10),
                        "comment": "" if w % 3 else "Steady progress this week.",
                        "author_id": kr.owner_id, "created_at": created, "week_start": week}
                rows.append((kr, last))
            kr.current_value = last["value"]
            kr.done = last["done"]
            kr.status = last["status"]
            kr.last_checkin_at = last["created_at"]
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
        self.krs = bulk(KeyResult, self.krs)  # with their last check-in's figures
        self.step(f"{len(self.krs)} key results")
        with explicit_created_at(CheckIn):
            n = len(bulk(CheckIn, [CheckIn(organization=org, key_result_id=kr.pk, **fields)
                                   for kr, fields in rows]))
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
