"""Links to other apps' pages that may not exist yet (built concurrently): an empty
string instead of an error, so a dashboard never breaks on a missing page."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse


def url_or_empty(name: str, org_slug: str, **kwargs) -> str:
    try:
        return reverse(name, kwargs={"org_slug": org_slug, **kwargs})
    except NoReverseMatch:
        return ""


def first_url(org_slug: str, *names: str) -> str:
    for name in names:
        url = url_or_empty(name, org_slug)
        if url:
            return url
    return ""


class Links:
    """Per-page cache of which URL names exist; builds object links cheaply."""

    def __init__(self, org_slug: str):
        self.slug = org_slug
        self._patterns: dict[tuple[str, str], str | None] = {}

    def obj(self, name: str, pk, kwarg: str = "pk") -> str:
        key = (name, kwarg)
        if key not in self._patterns:
            url = url_or_empty(name, self.slug, **{kwarg: 987654321})
            self._patterns[key] = url or None
        pattern = self._patterns[key]
        return pattern.replace("987654321", str(pk)) if pattern else ""

    def page(self, name: str) -> str:
        key = (name, "")
        if key not in self._patterns:
            self._patterns[key] = url_or_empty(name, self.slug) or None
        return self._patterns[key] or ""
