"""Open initiatives go with their objective when it is carried over (issue 14, defect 12).

okrs may not import initiatives, so okrs.services.objectives_carry_over calls the handlers
registered in okrs.hooks; this one is registered in InitiativesConfig.ready(). An open
initiative (planned, in progress or blocked) is one piece of ongoing work: it moves to the
copy — under the copied key result when it hung under a key result, under the copied
objective otherwise — and keeps its owner, status, due date and progress. Done and
cancelled initiatives stay with the closed cycle's objective, as its record.
"""

from __future__ import annotations

from django.db.models import Q

from accounts.audit import audit_record
from initiatives.models import Initiative
from okrs.hooks import CarriedOver

OPEN = (Initiative.Status.PLANNED, Initiative.Status.IN_PROGRESS, Initiative.Status.BLOCKED)


def move_open_initiatives(*, carried: list[CarriedOver], actor) -> None:
    by_objective = {c.source.pk: c for c in carried}
    by_key_result = {old: c for c in carried for old in c.key_results}
    key_results = {old: new for c in carried for old, new in c.key_results.items()}
    rows = list(Initiative.objects.select_for_update()
                .filter(Q(objective_id__in=by_objective) | Q(key_result_id__in=key_results),
                        status__in=OPEN).order_by("id"))
    for initiative in rows:
        if initiative.key_result_id is not None:
            if initiative.key_result_id not in key_results:
                continue
            into = by_key_result[initiative.key_result_id]
            initiative.key_result_id = key_results[initiative.key_result_id]
        else:
            into = by_objective[initiative.objective_id]
            initiative.objective_id = into.copy.pk
        initiative.version += 1
        initiative.save(update_fields=["key_result", "objective", "version", "updated_at"])
        audit_record(organization=initiative.organization, actor=actor, action="updated",
                     obj=initiative, note=f"Carried over with “{into.copy.title}” into "
                                          f"{into.copy.cycle.name}")
