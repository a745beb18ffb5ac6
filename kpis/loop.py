"""The loop as one state machine: a KPI is in sustain, an improvement candidate, a
dismissed candidate, or in improvement — and nothing else says otherwise.

The state is stored once, in ``KpiHealth.candidate`` (values below). ``Kpi.intent`` is a
mirror kept for filters (improve exactly while in improvement) and is written only here.
Every change goes through :func:`transition` (checked against ``TRANSITIONS``) and leaves
a ``HealthEvent`` of kind ``loop`` in the KPI's history. Every page, export and API
response reads the state through :func:`label` (or ``KpiHealth.loop_label``).

Who moves the state:

- the health sweep (``kpis.health``), which decides with :func:`next_state` from the
  evaluation's reasons and from what okrs says through ``kpis.improvement``;
- a leader: promote (``okrs.promotion``) and dismiss (``kpis.services.candidate_dismiss``);
- okrs, when an improvement objective is cancelled, deleted, closed, carried over or its
  key result edited: it calls :func:`improvement_changed`, which re-evaluates those KPIs
  now, so the page shown after the action already says where the KPI went.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .evaluation import CANDIDATE, DISMISSED, IN_IMPROVEMENT, next_state
from .evaluation import NOT_CANDIDATE as SUSTAIN  # the stored value, older than the name

__all__ = ["CANDIDATE", "DISMISSED", "IN_IMPROVEMENT", "SUSTAIN", "label", "next_state",
           "transition", "improvement_changed"]

# In the reader's language on the pages (lazy); the history lines (event_message) are stored
# in the site's language.
LABELS = {
    SUSTAIN: gettext_lazy("Sustain"),
    CANDIDATE: gettext_lazy("Improvement candidate"),
    DISMISSED: gettext_lazy("Dismissed candidate"),
    IN_IMPROVEMENT: gettext_lazy("In improvement"),
}

# Which state may follow which. Sustain → in improvement: a leader linked a key result of
# a live objective to the KPI by hand (or carried one over). Dismissed → in improvement:
# a dismissed candidate may still be promoted.
TRANSITIONS: dict[str, frozenset[str]] = {
    SUSTAIN: frozenset({CANDIDATE, IN_IMPROVEMENT}),
    CANDIDATE: frozenset({SUSTAIN, DISMISSED, IN_IMPROVEMENT}),
    DISMISSED: frozenset({SUSTAIN, CANDIDATE, IN_IMPROVEMENT}),
    IN_IMPROVEMENT: frozenset({SUSTAIN, CANDIDATE}),
}


def label(state: str | None) -> str:
    """What the loop state reads as, everywhere (in the active language)."""
    return str(LABELS.get(state or SUSTAIN, LABELS[SUSTAIN]))


def intent_for(state: str) -> str:
    """The mirror ``Kpi.intent`` keeps: improve exactly while in improvement."""
    return "improve" if state == IN_IMPROVEMENT else "sustain"


def check(old: str, new: str) -> None:
    if new not in TRANSITIONS.get(old, ()):
        raise ValidationError(_("A KPI cannot go from “%(old)s” to “%(new)s”.")
                              % {"old": label(old), "new": label(new)})


def event_message(old: str, new: str, *, reason: str = "", why: str = "") -> str:
    """The history line of one transition (stored: in the site's language)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = f"{label(old)} → {label(new)}"
    if why:
        text += f": {why}"
    elif new == SUSTAIN and old == IN_IMPROVEMENT:
        text += (": the key result reached its target and the KPI is on target with no "
                 "unfavourable signal — back to business as usual")
    elif new == CANDIDATE and old == IN_IMPROVEMENT:
        text += ": no live objective improves it any more — back to the candidate queue"
    if reason and new in (CANDIDATE, IN_IMPROVEMENT) and not why:
        text += f" ({reason})" if ":" in text else f": {reason}"
    return text


def transition(*, kpi, to: str, actor=None, why: str = "", health=None, **fields):
    """Move one KPI's loop state (validated), mirror its intent, record the event.

    ``health`` is the KPI's locked KpiHealth row when the caller has it; ``fields`` are
    other health columns written with the state (a dismissal's note). Runs inside the
    caller's transaction.
    """
    from .models import HealthEvent, Kpi, KpiHealth

    if health is None:
        health, _ = KpiHealth.objects.select_for_update().get_or_create(kpi=kpi)
    old = health.candidate
    check(old, to)
    health.candidate = to
    for name, value in fields.items():
        setattr(health, name, value)
    health.save(update_fields=["candidate", *fields])
    intent = intent_for(to)
    Kpi.objects.filter(pk=kpi.pk).exclude(intent=intent).update(intent=intent,
                                                                 updated_at=timezone.now())
    kpi.intent = intent
    HealthEvent.objects.create(kpi=kpi, kind="loop", old=old, new=to, actor=actor,
                               message=event_message(old, to, reason=health.candidate_reason,
                                                     why=why))
    return health


def kpi_current_level(kpi, health=None) -> float | None:
    """The KPI's current level (kpis.evaluation.current_level) from its stored points and
    the centre line the health engine stored for its current limit period. One query
    (two without ``health``)."""
    from .evaluation import current_level
    from .models import KpiHealth

    if health is None:
        health = KpiHealth.objects.filter(kpi=kpi).first()
    values = list(kpi.points.order_by("period_start").values_list("value", flat=True))
    return current_level(values, health.center if health is not None else None)


def improvement_changed(*, kpi_ids: Iterable[int], actor=None, why: str = "") -> None:
    """okrs tells kpis that what improves these KPIs changed (an objective cancelled,
    deleted, closed or carried over, a key result edited, linked or unlinked): their loop
    state is decided again now, in the caller's transaction."""
    from .health import evaluate_kpis

    ids = sorted({i for i in kpi_ids if i is not None})
    if ids:
        evaluate_kpis(ids, actor=actor, why=why)
