"""The answer sources gives kpis.feeds: how a KPI is fed and whether its source fails."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from core import secrets
from kpis.feeds import FeedStatus

from .models import DataSource, Feed


def webhook_url(source: DataSource) -> str:
    token = secrets.decrypt(source.webhook_token_encrypted)
    return settings.SITE_URL + reverse("source_webhook", kwargs={"token": token})


def curl_line(source: DataSource, feed_count: int = 1) -> str:
    body = ('{"period": "2026-01-05", "value": 42}' if feed_count <= 1
            else '{"points": [{"kpi": "KEY", "period": "2026-01-05", "value": 42}]}')
    return (f"curl -X POST -H 'Content-Type: application/json' -d '{body}' "
            f"{webhook_url(source)}")


def _status(feed: Feed, *, admin: bool) -> FeedStatus:
    source = feed.source
    out = FeedStatus(source_name=source.name, kind=source.get_kind_display(),
                     failing_since=source.failing_since, error=source.last_error)
    if admin:
        out.source_url = reverse("sources:detail", kwargs={
            "org_slug": source.organization.slug, "pk": source.pk})
        if source.kind == DataSource.Kind.WEBHOOK:
            try:
                out.webhook_curl = curl_line(source, source.feeds.count())
            except secrets.SecretError:
                out.webhook_curl = ""
    return out


class _Provider:
    def status(self, kpi, *, admin: bool):
        feed = (Feed.objects.select_related("source__organization")
                .filter(kpi_id=kpi.pk, source__organization_id=kpi.organization_id).first())
        return None if feed is None else _status(feed, admin=admin)

    def failing(self, kpi_ids):
        feeds = (Feed.objects.select_related("source")
                 .filter(kpi_id__in=kpi_ids, source__failing_since__isnull=False))
        return {f.kpi_id: FeedStatus(source_name=f.source.name, kind=f.source.kind,
                                     failing_since=f.source.failing_since,
                                     error=f.source.last_error) for f in feeds}


provider = _Provider()
