"""Reading a source: the SQL query or the URL, into checked rows per KPI. Writes nothing.

Used by a run (sources.services.source_run) and by "Test" on the form (``preview``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core import secrets
from core.outbound import fetch
from kpis.models import DataPoint

from . import rows as R
from . import sql
from .models import DataSource

HTTP_MAX_BYTES = 5 * 1024 * 1024


@dataclass
class Collected:
    checked: R.Checked
    columns: list[str] = field(default_factory=list)
    truncated: bool = False


def _http_rows(source: DataSource) -> list[R.RawRow]:
    headers: dict[str, str] = {}
    auth = None
    secret = secrets.decrypt(source.secret_encrypted)
    if source.auth == DataSource.Auth.BEARER and secret:
        headers["Authorization"] = f"Bearer {secret}"
    elif source.auth == DataSource.Auth.BASIC:
        auth = (source.auth_user, secret)
    elif source.auth == DataSource.Auth.HEADER and source.auth_header:
        headers[source.auth_header] = secret
    response = fetch(secrets.decrypt(source.url_encrypted), headers=headers,
                     timeout=float(source.timeout_seconds), max_bytes=HTTP_MAX_BYTES, auth=auth)
    return parse_body(source, response.body, response.content_type)


def parse_body(source: DataSource, body: bytes, content_type: str = "") -> list[R.RawRow]:
    as_json = source.format == DataSource.Format.JSON or "json" in content_type
    if as_json:
        return R.from_json(body, path=source.json_path, row_cap=source.row_cap)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise R.ParseError("The CSV is not UTF-8 text.")
    return R.from_csv(text, row_cap=source.row_cap)


def collect(source: DataSource, feeds, *, today: dt.date | None = None,
            sample_size: int = 0) -> Collected:
    """Read everything the source gives its feeds and check it (SqlError, OutboundError,
    ParseError for a source that cannot be read at all)."""
    feeds = list(feeds)
    single = feeds[0] if len(feeds) == 1 else None
    groups: list[tuple[list[R.RawRow], object]] = []
    columns: list[str] = []
    truncated = False
    if source.kind == DataSource.Kind.SQL:
        url = secrets.decrypt(source.url_encrypted)
        queries = ([(source.query, single)] if source.query.strip() else []) + [
            (f.query, f) for f in feeds if f.query.strip()]
        if not queries:
            raise R.ParseError("Write a query for the source or for one of its KPIs.")
        for query, feed in queries:
            result = sql.run_query(url, query, timeout=float(source.timeout_seconds),
                                   row_cap=source.row_cap)
            columns = columns or result.columns
            truncated = truncated or result.truncated
            groups.append((R.from_sql(result), feed))
    elif source.kind == DataSource.Kind.HTTP:
        groups.append((_http_rows(source), single))
    else:
        raise R.ParseError("A webhook source is not read: other tools post to it.")
    total = R.Checked()
    for raw, feed in groups:
        part = R.check(raw, feeds=feeds, single=feed, today=today,
                       sample_size=max(0, sample_size - len(total.sample)))
        total.rows.extend(part.rows)
        total.errors.extend(part.errors)
        total.read += part.read
        total.sample.extend(part.sample)
    if truncated:
        total.errors.insert(0, f"The query returned more than {source.row_cap} rows (the "
                               "source's row cap): nothing was recorded.")
    seen = set()
    for row in total.rows:
        key = (row.kpi.pk, row.period_start)
        if key in seen:
            total.errors.append(f"Two values for {row.kpi.name} in the period starting "
                                f"{row.period_start.isoformat()} (from two queries).")
        seen.add(key)
    return Collected(checked=total, columns=columns, truncated=truncated)


@dataclass
class Preview:
    collected: Collected
    would_create: int = 0
    would_replace: int = 0
    unchanged: int = 0


def preview(source: DataSource, feeds, *, today: dt.date | None = None) -> Preview:
    """What a run would record (one query for the existing points); writes nothing."""
    collected = collect(source, feeds, today=today, sample_size=20)
    out = Preview(collected=collected)
    rows = collected.checked.rows
    if rows:
        existing = {(k, p): v for k, p, v in DataPoint.objects.filter(
            kpi_id__in={r.kpi.pk for r in rows},
            period_start__in={r.period_start for r in rows}).values_list(
                "kpi_id", "period_start", "value")}
        for r in rows:
            old = existing.get((r.kpi.pk, r.period_start))
            if old is None:
                out.would_create += 1
            elif old == r.value:
                out.unchanged += 1
            else:
                out.would_replace += 1
    return out

