"""Page/size pagination for every list: a bounded size, a stable order, a `next` link.

A list answers ``{"items": [...], "count": N, "page": p, "size": s, "next": url|null,
"previous": url|null}``; the same URL with ``page=p+1`` is the next page, so a script
follows ``next`` until it is null. The caller's queryset must be ordered by a unique
key (its last term the primary key), so no row appears on two pages or on none while
nothing changes. Two queries per page: the count and the slice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Schema
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
             render: Callable[[Any], Any]) -> dict:
    count = qs.count()
    start = (paging.page - 1) * paging.size
    rows = list(qs[start:start + paging.size]) if start < count else []
    return {
        "items": [render(r) for r in rows], "count": count, "page": paging.page,
        "size": paging.size,
        "next": _link(request, paging.page + 1) if start + paging.size < count else None,
        "previous": _link(request, paging.page - 1) if paging.page > 1 else None,
    }
