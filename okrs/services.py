"""Writes for objectives and key results, cycle close and carry-over.

Every function is keyword-only and atomic. Edits carry the `version` the form was
rendered with; a stale version raises `core.versioning.StaleVersion` (nothing is
written). A closed cycle is read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record, diff, snapshot
from accounts.models import Membership, Organization, User
from core.events import emit, emit_many
from core.versioning import locked_current, versioned_update
from goals.models import Cycle
from kpis.models import DataPoint
from okrs import figures, hooks
from okrs import progress as P
from okrs.models import CheckIn, KeyResult, Objective
from okrs.selectors import descendant_ids, kr_input

OBJECTIVE_FIELDS = ["title", "description", "cycle", "owner", "team", "pillar", "parent", "kind",
                    "state", "progress_from"]
KR_FIELDS = ["title", "kind", "unit", "start_value", "target_value", "current_value", "guard",
             "done", "weight", "owner", "kpi"]
CLOSE_FIELDS = ["closing_status", "score", "closing_note", "state"]


# ----------------------------------------------------------------- checks


def closed_cycle_message(cycle: Cycle) -> str:
    return _("The cycle %(name)s is closed: its OKRs are read-only.") % {"name": cycle.name}


def ensure_cycle_open(cycle: Cycle) -> None:
    if cycle.is_closed:
        raise ValidationError(closed_cycle_message(cycle))


def validate_alignment(*, organization: Organization, objective_id: int | None,
                       parent: Objective | None) -> None:
    """No foreign parent, no self-alignment, no loop through a descendant."""
    if parent is None:
        return
    if parent.organization_id != organization.id or parent.deleted_at is not None:
        raise ValidationError({"parent": _("Choose an objective of this organisation.")})
    if objective_id is None:
        return
    if parent.id == objective_id:
        raise ValidationError({"parent": _("An objective cannot be aligned to itself.")})
    if parent.id in descendant_ids(organization, objective_id):
        raise ValidationError({"parent": _("“%(title)s” is aligned below this objective; "
                                           "aligning to it would make a loop.") % {
                                             "title": parent.title}})


def _check_related(organization: Organization, data: Mapping[str, Any]) -> None:
    """Every related row must belong to the organisation (forms limit choices too)."""
    errors = {}
    for name in ("cycle", "team", "pillar", "kpi"):
        obj = data.get(name)
        if obj is not None and obj.organization_id != organization.id:
            errors[name] = "Choose one of this organisation's."
    owner = data.get("owner")
    if owner is not None and not Membership.objects.filter(
            organization=organization, user=owner).exists():
        errors["owner"] = "The owner must be a member of this organisation."
    if errors:
        raise ValidationError(errors)


def _clean_kr_data(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    kind = data.get("kind") or KeyResult.Kind.METRIC
    if kind == KeyResult.Kind.MILESTONE:
        data["start_value"], data["target_value"] = 0.0, 1.0
        data["guard"] = ""
        if "current_value" in data:
            data["current_value"] = 1.0 if data.get("done") else 0.0
    elif kind == KeyResult.Kind.GUARDRAIL:
        # The side is asked, never guessed from start and target (issue 14); the
        # database refuses a guardrail without one (kr_guardrail_has_side).
        if data.get("guard") not in KeyResult.Guard.values:
            raise ValidationError({"guard": _("Choose the side that must hold: at or above, or "
                                              "at or below the threshold.")})
    else:
        data["guard"] = ""
    if data.get("weight") is None:
        data["weight"] = 1.0
    if not 0 <= data["weight"] <= 1000:
        raise ValidationError({"weight": _("A weight lies between 0 and 1000.")})
    return data


def _kpi_ids(**filters) -> list[int]:
    """The KPIs that these objectives' key results track (what the loop must hear of)."""
    return list(KeyResult.objects.filter(kpi__isnull=False, **filters)
                .values_list("kpi_id", flat=True).distinct())


def _tell_kpis(kpi_ids: Iterable[int | None], actor: User | None, why: str) -> None:
    """What improves these KPIs changed: kpis decides their loop state again now
    (kpis.loop.improvement_changed, the interface kpis defines)."""
    from kpis.loop import improvement_changed

    improvement_changed(kpi_ids=kpi_ids, actor=actor, why=why)


def _audit(obj, actor, action, changes=None, note=""):
    audit_record(organization=obj.organization, actor=actor, action=action, obj=obj,
                 changes=changes, note=note)


# --------------------------------------------------------------- objectives


def _objective_event(o: Objective) -> dict:
    """An objective's public fields in an outbox event (core.events)."""
    return {"objective_id": o.pk, "title": o.title, "cycle_id": o.cycle_id, "team_id": o.team_id,
            "owner_id": o.owner_id, "parent_id": o.parent_id, "pillar_id": o.pillar_id,
            "kind": o.kind, "state": o.state, "closing_status": o.closing_status,
            "score": o.score}


@transaction.atomic
def objective_create(*, organization: Organization, actor: User, data: Mapping[str, Any],
                     key_results: Iterable[Mapping[str, Any]] = ()) -> Objective:
    data = {k: v for k, v in data.items() if k in OBJECTIVE_FIELDS}
    _check_related(organization, data)
    ensure_cycle_open(data["cycle"])
    validate_alignment(organization=organization, objective_id=None, parent=data.get("parent"))
    last = (Objective.objects.filter(organization=organization, cycle=data["cycle"])
            .aggregate(m=Max("order"))["m"])
    objective = Objective.objects.create(organization=organization, created_by=actor,
                                         order=(last or 0) + 1, **data)
    _audit(objective, actor, "created")
    for kr_data in key_results:
        key_result_create(objective=objective, actor=actor, data=kr_data)
    emit(organization.id, "objective.created", _objective_event(objective))
    return objective


@transaction.atomic
def objective_update(*, objective: Objective, actor: User, version: int,
                     data: Mapping[str, Any]) -> Objective:
    organization = objective.organization
    fresh = locked_current(objective, version=version,
                           queryset=Objective.objects.select_related("cycle"))
    ensure_cycle_open(fresh.cycle)
    data = {k: v for k, v in data.items() if k in OBJECTIVE_FIELDS}
    _check_related(organization, data)
    if "cycle" in data:
        ensure_cycle_open(data["cycle"])
    if "parent" in data:
        validate_alignment(organization=organization, objective_id=fresh.id,
                           parent=data["parent"])
    before = snapshot(fresh, OBJECTIVE_FIELDS)
    old_parent_id = fresh.parent_id
    versioned_update(fresh, version=version, **data, updated_at=timezone.now())
    figures.refresh([fresh.id, old_parent_id])  # an UPDATE: no post_save
    changes = diff(before, fresh)
    _audit(fresh, actor, "updated", changes)
    if changes:  # the outbox (activity: webhooks, Slack, Teams)
        emit(organization.id, "objective.closed" if "state" in changes and fresh.state == Objective.State.CLOSED else "objective.updated", {**_objective_event(fresh), "changed": sorted(changes)})
    if changes and ("state" in changes or "cycle" in changes):
        _tell_kpis(_kpi_ids(objective=fresh), actor,
                   f"the objective “{fresh.title}” is now {fresh.get_state_display().lower()}"
                   f" ({fresh.cycle.name})")
    return fresh


def objective_history_reason(objective: Objective) -> str:
    """Why an objective cannot be deleted ('' when it can)."""
    if CheckIn.objects.filter(key_result__objective=objective).exists():
        return _("its key results have check-ins")
    if KeyResult.objects.filter(objective=objective, initiatives__isnull=False).exists() or \
            objective.initiatives.exists():
        return _("it has initiatives")
    if Objective.objects.alive().filter(parent=objective).exists():
        return _("other objectives are aligned under it")
    return ""


@transaction.atomic
def objective_delete(*, objective: Objective, actor: User) -> None:
    ensure_cycle_open(objective.cycle)
    reason = objective_history_reason(objective)
    if reason:
        raise ValidationError(_("“%(title)s” cannot be deleted because %(reason)s. Close it "
                                "with a closing status (e.g. cancelled) instead.") % {
                                  "title": objective.title, "reason": reason})
    _audit(objective, actor, "deleted")
    kpi_ids = _kpi_ids(objective=objective)
    objective.delete()
    _tell_kpis(kpi_ids, actor, f"the objective “{objective.title}” was deleted")


def _copy_key_results(source: Objective, target: Objective, *, carry: bool) -> dict[int, int]:
    """Copy the alive key results of ``source`` into ``target``; returns {source KR id:
    copy's id} (bulk_create sets the primary keys on PostgreSQL and SQLite)."""
    rows, sources = [], []
    for kr in KeyResult.objects.alive().filter(objective=source).order_by("order", "id"):
        sources.append(kr.pk)
        if carry and kr.kind != KeyResult.Kind.MILESTONE:
            start = kr.current_value if kr.current_value is not None else kr.start_value
        else:
            start = kr.start_value
        if kr.kind == KeyResult.Kind.MILESTONE:
            start = 0.0
        rows.append(KeyResult(
            organization=source.organization, objective=target, title=kr.title, kind=kr.kind,
            unit=kr.unit, start_value=start, target_value=kr.target_value,
            current_value=start, guard=kr.guard, done=False, weight=kr.weight,
            owner=kr.owner, kpi=kr.kpi, order=kr.order))
    KeyResult.objects.bulk_create(rows)
    figures.refresh([target.id])
    return {old: row.pk for old, row in zip(sources, rows, strict=True)}


@transaction.atomic
def objective_duplicate(*, objective: Objective, actor: User,
                        cycle: Cycle | None = None) -> Objective:
    """A draft copy (same cycle unless given), with its KRs back at their start values."""
    cycle = cycle or objective.cycle
    if cycle.organization_id != objective.organization_id:
        raise ValidationError(_("Choose one of this organisation's cycles."))
    ensure_cycle_open(cycle)
    copy = Objective.objects.create(
        organization=objective.organization, cycle=cycle,
        title=f"Copy of {objective.title}"[:200], description=objective.description,
        owner=objective.owner, team=objective.team, pillar=objective.pillar,
        parent=objective.parent if objective.parent and not objective.parent.deleted_at else None,
        kind=objective.kind, state=Objective.State.DRAFT,
        progress_from=objective.progress_from, order=objective.order, created_by=actor)
    _copy_key_results(objective, copy, carry=False)
    _audit(copy, actor, "created", note=f"Duplicated from #{objective.pk}")
    return copy


# --------------------------------------------------------------- key results


def _kpi_latest(kpi) -> float | None:
    """The KPI's newest data point, which a linked KR tracks."""
    if kpi is None:
        return None
    return (DataPoint.objects.filter(kpi=kpi).order_by("-period_start")
            .values_list("value", flat=True).first())


@transaction.atomic
def key_result_create(*, objective: Objective, actor: User,
                      data: Mapping[str, Any]) -> KeyResult:
    ensure_cycle_open(objective.cycle)
    data = _clean_kr_data({k: v for k, v in data.items() if k in KR_FIELDS})
    _check_related(objective.organization, data)
    if data.get("current_value") is None and data.get("kind") != KeyResult.Kind.MILESTONE:
        data["current_value"] = _kpi_latest(data.get("kpi"))
        if data["current_value"] is None:
            data["current_value"] = data.get("start_value")
    last = KeyResult.objects.filter(objective=objective).aggregate(m=Max("order"))["m"]
    kr = KeyResult.objects.create(organization=objective.organization, objective=objective,
                                  order=(last if last is not None else -1) + 1, **data)
    _audit(kr, actor, "created")
    if kr.kpi_id:
        _tell_kpis([kr.kpi_id], actor, f"the key result “{kr.title}” now tracks it")
    return kr


@transaction.atomic
def key_result_update(*, key_result: KeyResult, actor: User, version: int,
                      data: Mapping[str, Any]) -> KeyResult:
    fresh = locked_current(key_result, version=version)
    ensure_cycle_open(key_result.objective.cycle)
    data = {k: v for k, v in data.items() if k in KR_FIELDS and k != "current_value"}
    for name in KR_FIELDS:  # a partial update keeps the other definitions as they are
        if name not in data and name not in ("current_value", "done"):
            data[name] = getattr(fresh, name)
    data = _clean_kr_data(data)
    _check_related(fresh.organization, data)
    kpi = data.get("kpi")
    if kpi is not None and kpi.pk != fresh.kpi_id and data["kind"] != KeyResult.Kind.MILESTONE:
        latest = _kpi_latest(kpi)  # a newly linked KPI gives the KR its value
        if latest is not None:
            data["current_value"] = latest
    before = snapshot(fresh, KR_FIELDS)
    old_kpi_id = fresh.kpi_id
    versioned_update(fresh, version=version, **data, updated_at=timezone.now())
    figures.refresh([fresh.objective_id])  # an UPDATE: no post_save
    changes = diff(before, fresh)
    _audit(fresh, actor, "updated", changes)
    if changes and (old_kpi_id or fresh.kpi_id):
        _tell_kpis([old_kpi_id, fresh.kpi_id], actor,
                   f"the key result “{fresh.title}” was edited")
    return fresh


@transaction.atomic
def key_result_delete(*, key_result: KeyResult, actor: User) -> None:
    ensure_cycle_open(key_result.objective.cycle)
    if key_result.checkins.exists():
        raise ValidationError(_("“%(title)s” has check-ins and cannot be deleted: its history "
                                "would be lost. Set its weight to 0 instead.") % {
                                  "title": key_result.title})
    if key_result.initiatives.exists():
        raise ValidationError(_("“%(title)s” has initiatives; move or delete them first.") % {
            "title": key_result.title})
    _audit(key_result, actor, "deleted")
    kpi_id = key_result.kpi_id
    key_result.delete()
    _tell_kpis([kpi_id], actor, f"the key result “{key_result.title}” was deleted")


@transaction.atomic
def key_result_move(*, key_result: KeyResult, actor: User, direction: str) -> None:
    """Move a KR one place up or down among its objective's KRs (orders renumbered)."""
    ensure_cycle_open(key_result.objective.cycle)
    siblings = list(KeyResult.objects.alive().select_for_update()
                    .filter(objective_id=key_result.objective_id).order_by("order", "id"))
    index = next(i for i, k in enumerate(siblings) if k.pk == key_result.pk)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for i, kr in enumerate(siblings):
        kr.order = i
    KeyResult.objects.bulk_update(siblings, ["order"])


# --------------------------------------------------------------- cycle close


@transaction.atomic
def cycle_close(*, cycle: Cycle, actor: User, version: int,
                decisions: Mapping[int, Mapping[str, Any]] | None = None) -> Cycle:
    """Freeze every KR's final value and score; give each objective its closing status,
    score and note; make the cycle read-only.

    `decisions[objective_id]` may hold `closing_status`, `score` (0..1) and `note`;
    missing values are computed (score: weighted mean of the KR scores; status:
    suggested from the score and the objective's kind).
    """
    decisions = decisions or {}
    fresh = locked_current(cycle, version=version)
    ensure_cycle_open(fresh)
    objectives = list(Objective.objects.alive().filter(organization=fresh.organization,
                                                       cycle=fresh))
    krs_by_obj: dict[int, list[KeyResult]] = {}
    for kr in KeyResult.objects.alive().filter(objective__in=objectives):
        krs_by_obj.setdefault(kr.objective_id, []).append(kr)
    all_krs = []
    for o in objectives:
        krs = krs_by_obj.get(o.id, [])
        for kr in krs:
            kr.final_value = (1.0 if kr.done else 0.0) if kr.kind == KeyResult.Kind.MILESTONE \
                else kr.current_value
            kr.final_score = P.kr_score(kr_input(kr))
            all_krs.append(kr)
        decision = decisions.get(o.id, {})
        computed = P.objective_score([kr_input(k) for k in krs])
        score = decision.get("score")
        o.score = round(P.clamp(float(score)), 2) if score is not None else computed
        if o.state == Objective.State.DRAFT and not decision.get("closing_status"):
            o.closing_status = Objective.ClosingStatus.CANCELLED
        else:
            o.closing_status = (decision.get("closing_status")
                                or P.suggested_closing_status(o.score, o.kind))
        o.closing_note = decision.get("note", o.closing_note) or ""
        o.state = Objective.State.CLOSED
    KeyResult.objects.bulk_update(all_krs, ["final_value", "final_score"])
    Objective.objects.bulk_update(objectives, CLOSE_FIELDS)
    now = timezone.now()
    versioned_update(fresh, version=version, state=Cycle.State.CLOSED, closed_at=now,
                     closed_by=actor)
    figures.refresh_cycles(fresh.organization, [fresh])  # every score froze
    audit_record(organization=fresh.organization, actor=actor, action="closed", obj=fresh,
                 note=f"{len(objectives)} objectives closed")
    emit_many([(fresh.organization_id, "objective.closed", _objective_event(o)) for o in objectives] + [(fresh.organization_id, "cycle.closed", {"cycle_id": fresh.pk, "name": fresh.name, "closed_at": now, "objectives": len(objectives)})])
    for o in objectives:  # an improvement closed unfinished sends its KPI back to the queue
        kpi_ids = {kr.kpi_id for kr in krs_by_obj.get(o.id, []) if kr.kpi_id}
        if kpi_ids:
            _tell_kpis(kpi_ids, actor, f"the objective “{o.title}” was closed "
                       f"({o.get_closing_status_display().lower()}) with {fresh.name}")
    return fresh


CARRYABLE_STATUSES = {"", Objective.ClosingStatus.PARTIALLY, Objective.ClosingStatus.MISSED,
                      Objective.ClosingStatus.POSTPONED}


def carryable(objectives: Iterable[Objective]) -> list[Objective]:
    """Objectives that are not finished: not achieved nor cancelled, and not drafts."""
    return [o for o in objectives if o.closing_status in CARRYABLE_STATUSES
            and not (o.state == Objective.State.DRAFT and not o.closing_status)]


@transaction.atomic
def objectives_carry_over(*, source: Cycle, target: Cycle, actor: User,
                          objective_ids: Iterable[int] | None = None) -> list[Objective]:
    """Copy unfinished objectives (with their KRs) into the next cycle.

    Each KR starts at the old current value. Objectives already carried into `target`
    are skipped, so running it twice copies nothing twice. Alignment follows: a parent
    carried in the same action becomes the copy's parent; a parent in an open cycle is
    kept; otherwise the copy has no parent.
    """
    if source.organization_id != target.organization_id:
        raise ValidationError(_("Choose one of this organisation's cycles."))
    if source.pk == target.pk:
        raise ValidationError(_("Choose another cycle to carry objectives into."))
    ensure_cycle_open(target)
    qs = Objective.objects.alive().filter(organization=source.organization,
                                          cycle=source).select_related("parent__cycle")
    if objective_ids is not None:
        qs = qs.filter(pk__in=list(objective_ids))
    already = set(Objective.objects.filter(cycle=target, carried_from__isnull=False)
                  .values_list("carried_from_id", flat=True))
    todo = [o for o in carryable(qs.order_by("order", "id")) if o.pk not in already]
    copies: dict[int, Objective] = {}
    kr_maps: dict[int, dict[int, int]] = {}
    for o in todo:
        copies[o.pk] = Objective.objects.create(
            organization=o.organization, cycle=target, title=o.title,
            description=o.description, owner=o.owner, team=o.team, pillar=o.pillar,
            kind=o.kind, state=Objective.State.ACTIVE, progress_from=o.progress_from,
            carried_from=o, order=o.order, created_by=actor)
        kr_maps[o.pk] = _copy_key_results(o, copies[o.pk], carry=True)
    for o in todo:
        copy = copies[o.pk]
        if o.parent_id in copies:
            copy.parent = copies[o.parent_id]
        elif o.parent is not None and not o.parent.cycle.is_closed \
                and o.parent.deleted_at is None:
            copy.parent = o.parent
        else:
            continue
        copy.save(update_fields=["parent"])
    for copy in copies.values():
        _audit(copy, actor, "created", note=f"Carried over from {source.name}")
        _tell_kpis(_kpi_ids(objective=copy), actor,
                   f"the objective “{copy.title}” was carried over into {target.name}")
    # The apps to the right (initiatives) move what goes with an objective (okrs.hooks).
    hooks.carried_over(carried=[hooks.CarriedOver(source=o, copy=copies[o.pk],
                                                  key_results=kr_maps[o.pk]) for o in todo],
                       actor=actor)
    return list(copies.values())
