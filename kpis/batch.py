"""Many ids in one SQL parameter (the health sweep's chunks of 500 KPIs).

``filter(kpi_id__in=ids)`` with a list writes one placeholder per id: for a chunk of 500,
Django prepares 500 lookup values and psycopg splits a 500-placeholder query (not cached),
which together cost more than the query itself. On PostgreSQL :func:`id_set` passes the
ids as one array instead (``IN (SELECT unnest(%s::bigint[]))``); elsewhere it is the list.
The array goes as its text (``{1,2,3}``, :func:`id_array`): psycopg's list dumper looks at
every element in Python, the text is one join.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models.expressions import RawSQL


def id_array(ids: Iterable[int]) -> str:
    """PostgreSQL's text of an array of these ids, for ``%s::bigint[]``."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"


def id_set(ids: Iterable[int]):
    """The right-hand side of an ``__in`` filter for these ids."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [id_array(ids)])
    return ids
