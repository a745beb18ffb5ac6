"""What okrs tells the apps to its right (okrs never imports them, shared/DESIGN.md).

When objectives are carried over into the next cycle, initiatives moves the open
initiatives along with their objective: it registers a handler (``on_carried_over``, in
InitiativesConfig.ready()) that okrs.services.objectives_carry_over calls in its
transaction. With none registered, carry-over copies the objectives and key results only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from okrs.models import Objective


@dataclass(frozen=True)
class CarriedOver:
    """One objective carried over: the closed cycle's ``source``, its ``copy`` in the next
    cycle, and ``key_results``: {source key result id: copy's key result id}."""

    source: Objective
    copy: Objective
    key_results: dict[int, int]


CarryHandler = Callable[..., None]  # handler(carried=[CarriedOver, ...], actor=User)
_carry_handlers: list[CarryHandler] = []


def on_carried_over(handler: CarryHandler) -> None:
    if handler not in _carry_handlers:
        _carry_handlers.append(handler)


def carried_over(*, carried: list[CarriedOver], actor) -> None:
    """Called by okrs.services.objectives_carry_over inside its transaction."""
    if carried:
        for handler in list(_carry_handlers):
            handler(carried=carried, actor=actor)
