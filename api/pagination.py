"""Page/size pagination for every list: a bounded size, a stable order, a `next` link.

A list answers ``{"items": [...], "count": N, "page": p, "size": s, "next": url|null,
"previous": url|null}``; the same URL with ``page=p+1`` is the next page, so a script
follows ``next`` until it is null. The caller's queryset must be ordered by a unique
key (its last term the primary key), so no row appears on two pages or on none while
nothing changes. Two queries per page: the count and the slice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import Field, create_model

MAX_SIZE = 500
DEFAULT_SIZE = 100
MAX_PAGE = 1_000_000


class PageIn(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="1-based page number")
    size: int = Field(DEFAULT_SIZE, ge=1, le=MAX_SIZE, description=f"At most {MAX_SIZE}")


PageQuery = Query(...)

_pages: dict[str, type[Schema]] = {}


def page_of(item: type[Schema]) -> type[Schema]:
    """The page schema of ``item`` (one per item type, named <Item>Page in the schema)."""
    name = item.__name__.removesuffix("Out") + "Page"
    if name not in _pages:
        _pages[name] = create_model(
            name, __base__=Schema,
            items=(list[item], ...), count=(int, ...), page=(int, ...), size=(int, ...),
            next=(str | None, None), previous=(str | None, None))
    return _pages[name]


def _link(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def paginate(request: HttpRequest, qs: QuerySet, paging: PageIn,
             render: Callable[[Any], Any], *, by_ids: bool = False) -> dict:
    """``by_ids``: the page's primary keys are found by a subquery (ordered by an index,
    without the joins), and only those rows are read with their joins: a deep page no
    longer joins and sorts every row before it (10,000 KPIs: bench/api_pages.py)."""
    count = qs.count()
    start = (paging.page - 1) * paging.size
    rows = []
    if start < count and by_ids:
        rows = list(qs.filter(pk__in=qs.values_list("pk", flat=True)[start:start + paging.size]))
    elif start < count:
        rows = list(qs[start:start + paging.size])
    return {
        "items": [render(r) for r in rows], "count": count, "page": paging.page,
        "size": paging.size,
        "next": _link(request, paging.page + 1) if start + paging.size < count else None,
        "previous": _link(request, paging.page - 1) if paging.page > 1 else None,
    }


def trusted_json(data: dict, status: int = 200) -> HttpResponse:
    """``data`` as the JSON django-ninja would answer (its encoder, its content type),
    without validating every field of every item against the response schema again.

    Only for answers built by one function from typed database columns, where the schema
    is already guaranteed: a test holds each such operation's answer to its schema, and
    Schemathesis checks it against the OpenAPI document. Validation cost as much as
    reading the rows (a page of 500 KPIs; bench/api_pages.py)."""
    return HttpResponse(json.dumps(data, cls=NinjaJSONEncoder), status=status,
                        content_type="application/json; charset=utf-8")
