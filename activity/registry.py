"""In-process consumers of outbox events.

    from activity.registry import consumer

    @consumer("comment.mentioned")
    def notify_mentioned(event: OutboxEvent) -> None: ...

The dispatcher (``activity.dispatch``) runs each consumer registered for an event's kind once
per event: a ``Delivery`` row with destination ``handler:<module>.<name>`` and the unique
(event, destination) key make it exactly-once; a handler that raises is retried with the same
backoff as the other deliveries (``activity.dispatch.RETRY_DELAYS``). A handler must be safe to
run again after a crash between its work and the delivery's "sent" mark (the one window no
key can close): write its rows with a unique key of its own, e.g. (event id, person).

Register handlers from a module imported in ``ActivityConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[["object"], None]

_handlers: dict[str, dict[str, Handler]] = {}


def handler_name(func: Handler) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def consumer(*kinds: str) -> Callable[[Handler], Handler]:
    """Register ``func`` for each of ``kinds`` ("*" for every kind)."""
    if not kinds:
        raise TypeError("consumer() needs at least one event kind")

    def register(func: Handler) -> Handler:
        for kind in kinds:
            _handlers.setdefault(kind, {})[handler_name(func)] = func
        return func

    return register


def handlers_for(kind: str) -> dict[str, Handler]:
    """{"<dotted name>": handler} of the consumers of ``kind`` (and of "*")."""
    found = dict(_handlers.get("*", {}))
    found.update(_handlers.get(kind, {}))
    return found


def handler(name: str) -> Handler | None:
    for by_name in _handlers.values():
        if name in by_name:
            return by_name[name]
    return None
