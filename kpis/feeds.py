"""Which KPIs are fed by a data source, and whether that source is failing: the question
the KPI pages ask of the app to their right.

``kpis`` never imports ``sources`` (shared/DESIGN.md); sources registers a provider here
in its AppConfig.ready() (sources.feeds). With none registered, no KPI is fed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass
class FeedStatus:
    source_name: str
    kind: str
    failing_since: object | None  # a datetime, when the source's last run failed
    error: str
    source_url: str = ""  # the source's page, for admins ("" for others)
    webhook_curl: str = ""  # the curl line for a webhook source (admins only)


class FeedProvider(Protocol):
    def status(self, kpi, *, admin: bool) -> FeedStatus | None: ...

    def failing(self, kpi_ids: Sequence[int]) -> dict[int, FeedStatus]: ...


_provider: FeedProvider | None = None


def register_feed_provider(provider: FeedProvider | None) -> None:
    global _provider
    _provider = provider


def status(kpi, *, admin: bool = False) -> FeedStatus | None:
    """How this KPI is fed (one query), or None."""
    return _provider.status(kpi, admin=admin) if _provider is not None else None


def failing(kpi_ids: Sequence[int]) -> dict[int, FeedStatus]:
    """The failing sources among these KPIs' feeds (one query), by KPI id."""
    return _provider.failing(list(kpi_ids)) if _provider is not None and kpi_ids else {}
