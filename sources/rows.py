"""From what a source returned (SQL rows, CSV text, JSON) to checked points per KPI.

Every row is read as ``(period, value)`` (a source or feed for one KPI) or ``(kpi key,
period, value)`` (one result feeding many KPIs, matched by each feed's key, else the KPI's
name). A bad row is reported with its line (1 = the first row) and its values; the run then
writes nothing (``Checked.errors``), so no KPI is ever half-written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from core.validators import MAX_ABS_VALUE
from kpis import services as kpi_services

MAX_ERRORS = 50
HEADER_WORDS = {"kpi", "key", "period", "value", "date", "week", "month", "name"}


class ParseError(Exception):
    pass


@dataclass
class RawRow:
    line: int
    cells: tuple


@dataclass
class Checked:
    rows: list[kpi_services.Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    read: int = 0
    sample: list[dict] = field(default_factory=list)  # the first rows, for "Test"


def from_sql(result) -> list[RawRow]:
    return [RawRow(line=i + 1, cells=tuple(r)) for i, r in enumerate(result.rows)]


def from_csv(text: str, *, row_cap: int) -> list[RawRow]:
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ParseError(f"This is not readable CSV ({exc}).")
    out = []
    for number, cells in enumerate(lines, start=1):
        if not any(c.strip() for c in cells):
            continue
        if not out and cells[0].strip().lower() in HEADER_WORDS:
            continue  # the header
        out.append(RawRow(line=number, cells=tuple(c.strip() for c in cells)))
        if len(out) > row_cap:
            raise ParseError(f"More than {row_cap} rows (the source's row cap).")
    return out


def from_json(body: bytes | str, *, path: str, row_cap: int) -> list[RawRow]:
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"This is not valid JSON ({exc}).")
    if path:
        try:
            data = jmespath.search(path, data)
        except JMESPathError as exc:
            raise ParseError(f"The JMESPath expression does not work: {exc}.")
    if isinstance(data, dict) and "points" in data:
        data = data["points"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ParseError("The JSON (after the JMESPath expression) is not a list of rows.")
    if len(data) > row_cap:
        raise ParseError(f"More than {row_cap} rows (the source's row cap).")
    out = []
    for number, item in enumerate(data, start=1):
        if isinstance(item, dict):
            if "period" not in item or "value" not in item:
                raise ParseError(f"Row {number}: expected keys period and value, found "
                                 f"{', '.join(sorted(map(str, item))) or 'none'}.")
            cells = ((item["kpi"],) if "kpi" in item else ()) + (item["period"], item["value"])
        elif isinstance(item, list):
            cells = tuple(item)
        else:
            raise ParseError(f"Row {number}: {item!r} is not an object or a list.")
        out.append(RawRow(line=number, cells=cells))
    return out


def _show(cells: tuple) -> str:
    return ", ".join("NULL" if c is None else str(c) for c in cells)[:200]


def _number(raw) -> float:
    """A value from a row: numbers from a database skip the text parsing (100,000 rows a
    run, bench/sources_run.py) but get the same checks as kpis.services.clean_value."""
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
        number = float(raw)
        if math.isfinite(number) and abs(number) < MAX_ABS_VALUE:
            return number
    return kpi_services.clean_value(raw)


def check(raw: list[RawRow], *, feeds, single=None, today: dt.date | None = None,
          sample_size: int = 0) -> Checked:
    """Match rows to KPIs and validate them like the API does.

    ``feeds``: the source's feeds (``kpi`` loaded); ``single``: the feed the rows belong to
    when they carry no key (a feed's own query, or a source with one feed)."""
    checked = Checked(read=len(raw))
    by_key = {}
    for feed in feeds:
        by_key[(feed.key or feed.kpi.name).strip().lower()] = feed
        by_key.setdefault(str(feed.kpi.id), feed)
    # Each feed's KPI read once, not through its relation on each of 100,000 rows.
    kpi_of = {id(feed): feed.kpi for feed in (*feeds, *([single] if single else []))}
    seen: dict[tuple[int, dt.date], int] = {}
    periods: dict[tuple, dt.date] = {}
    for row in raw:
        cells = row.cells
        problem = None
        feed = single
        if len(cells) == 1 and single is not None:
            cells = (timezone.localdate() if today is None else today, cells[0])
        if len(cells) == 3:
            key = "" if cells[0] is None else str(cells[0]).strip()
            feed = by_key.get(key.lower())
            if feed is None:
                problem = f"no KPI is fed by the key “{key}”"
            cells = cells[1:]
        elif len(cells) != 2:
            problem = f"expected (period, value) or (kpi, period, value), found {len(cells)} columns"
        elif feed is None:
            problem = "two columns, but this source feeds several KPIs: add the kpi key column"
        period = value = None
        if problem is None and kpi_of[id(feed)].formula:  # a derived KPI (issue 20)
            problem = (f"{kpi_of[id(feed)].name} is computed from its formula: feed the KPIs "
                       "it uses instead")
        if problem is None:
            kpi = kpi_of[id(feed)]
            kpi_id = kpi.id
            try:
                raw_period = cells[0].date() if isinstance(cells[0], dt.datetime) else cells[0]
                # The same period text for every KPI of a frequency: checked once.
                cache_key = (raw_period, kpi.frequency)
                period = periods.get(cache_key)
                if period is None:
                    period = kpi_services.clean_period(kpi, raw_period, today=today)
                    periods[cache_key] = period
                value = _number(cells[1])
                if (kpi_id, period) in seen:
                    problem = (f"a second value for {kpi.name} in the period starting "
                               f"{period.isoformat()} (also on row {seen[(kpi_id, period)]})")
                seen[(kpi_id, period)] = row.line
            except ValidationError as exc:
                problem = "; ".join(m.rstrip(".") for ms in exc.message_dict.values() for m in ms)
        if len(checked.sample) < sample_size:
            checked.sample.append({"line": row.line, "cells": _show(row.cells),
                                   "kpi": feed.kpi.name if feed is not None else "",
                                   "period": period, "value": value, "problem": problem or ""})
        if problem is not None:
            if len(checked.errors) < MAX_ERRORS:
                checked.errors.append(f"Row {row.line} ({_show(row.cells)}): {problem}.")
            continue
        checked.rows.append(kpi_services.Row(kpi=kpi_of[id(feed)], period_start=period,
                                             value=value))
    return checked
