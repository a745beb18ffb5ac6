"""A per-organisation data generation, for caches of figures computed from many rows.

Readers put `org_generation(org_id)` in their cache key; every write that changes what
they compute calls `bump_org(org_id)`. The generation lives in Django's cache (Redis when
REDIS_URL is set, so every web process sees the same one).

- A missing generation (never set, evicted, Redis flushed) is created from the clock,
  never from 0, so it can never come back to a value a stale entry was stored under.
- `bump_org` changes it at once (so the writer's own later reads, and tests, see the
  new data) and again when the transaction commits (so a reader that computed from the
  old rows between the two cannot leave its result under the current generation).
- The cache being down never fails a request: readers then get None and do not cache;
  a bump that cannot reach the cache is dropped (entries then expire with their time
  bucket, see okrs.selectors.cycle_progress).

Every app may call this (accounts is the lowest app). Writes through QuerySet.update()
or bulk_update() send no model signals: those paths call `bump_org` themselves.

`remembered(org_id, key, compute)` is the per-process store built on it: the value of
`compute()` is kept in this process (no pickling: a large organisation's cycle progress
is thousands of rows) under the key, the organisation's generation and a 15-minute time
bucket (figures that move with the clock — overdue statuses, expected progress, the
current week — are never older than that). Stored values are shared between requests:
callers read them and never modify them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)
T = TypeVar("T")

BUCKET_SECONDS = 15 * 60
ENTRIES = 16  # per process; the largest (a 500-objective cycle's progress) hold ~7 MB

_store: OrderedDict[tuple, object] = OrderedDict()
_store_lock = threading.Lock()


def _key(org_id: int) -> str:
    return f"org-gen:{org_id}"


def org_generation(org_id: int) -> int | None:
    """The organisation's current generation, or None when the cache cannot be reached."""
    key = _key(org_id)
    try:
        value = cache.get(key)
        if value is None:
            cache.add(key, time.time_ns(), timeout=None)
            value = cache.get(key)
    except Exception:  # noqa: BLE001 — a cache outage must not fail the page
        log.warning("cache unavailable: organisation generation not read", exc_info=True)
        return None
    return value


def _bump_now(org_id: int) -> None:
    key = _key(org_id)
    try:
        try:
            cache.incr(key)
        except ValueError:  # not there (evicted, or never read): start from the clock
            cache.set(key, time.time_ns(), timeout=None)
    except Exception:  # noqa: BLE001
        log.warning("cache unavailable: organisation generation not bumped", exc_info=True)
    forget(org_id)


def bump_org(*org_ids: int | None) -> None:
    """Invalidate cached figures of these organisations, now and on commit."""
    ids = {i for i in org_ids if i is not None}
    for org_id in ids:
        _bump_now(org_id)
        transaction.on_commit(lambda o=org_id: _bump_now(o))


def remembered(org_id: int, key: tuple, compute: Callable[[], T]) -> T:
    """`compute()`, or the value this process kept for (organisation, key) since the
    organisation's last bump and within this time bucket."""
    generation = org_generation(org_id)
    if generation is None:  # the shared cache is down: compute, keep nothing
        return compute()
    full_key = (org_id, *key, generation, int(time.time() // BUCKET_SECONDS))
    with _store_lock:
        if full_key in _store:
            _store.move_to_end(full_key)
            return _store[full_key]  # type: ignore[return-value]
    value = compute()
    with _store_lock:
        _store[full_key] = value
        while len(_store) > ENTRIES:
            _store.popitem(last=False)
    return value


def forget(org_id: int) -> None:
    """Drop this process's values of one organisation (done on every bump: nothing stale
    stays even when the shared cache could not be reached)."""
    with _store_lock:
        for key in [k for k in _store if k[0] == org_id]:
            del _store[key]


def clear() -> None:
    with _store_lock:
        _store.clear()
