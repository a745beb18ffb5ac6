"""Links from the dashboards to other pages: one reverse() per URL name and page, however
many rows link there."""

from __future__ import annotations

import copy

from django.urls import reverse

_SLOT = "987654321"  # stands for an object's id (or slug) in a reversed URL


class Links:
    """The URLs of one organisation's pages, each URL name reversed once."""

    def __init__(self, org_slug: str):
        self.slug = org_slug
        self._patterns: dict[tuple[str, str], str] = {}

    def obj(self, name: str, pk, kwarg: str = "pk") -> str:
        key = (name, kwarg)
        if key not in self._patterns:
            self._patterns[key] = reverse(name, kwargs={"org_slug": self.slug, kwarg: _SLOT})
        return self._patterns[key].replace(_SLOT, str(pk))

    def page(self, name: str) -> str:
        key = (name, "")
        if key not in self._patterns:
            self._patterns[key] = reverse(name, kwargs={"org_slug": self.slug})
        return self._patterns[key]


def linked(row, url: str):
    """A copy of a shared okrs.selectors row (cycle_progress results are shared between
    requests and never modified) carrying its page's URL."""
    row = copy.copy(row)
    row.url = url
    return row
