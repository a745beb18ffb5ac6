"""CSV import of KPI values: parse, check every row, then import all or nothing.

Bulk format: ``kpi,period,value[,note]`` (kpi = the KPI's name or id in this
organisation). Per-KPI format: ``period,value[,note]``. A header row is allowed. The
preview lists every row with its problem (unknown KPI, bad date, not a number, duplicate
period in the file, …); the import runs only when every row is clean, in one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from core.text import problem as text_problem

from . import services
from .models import DataPoint, Kpi

MAX_ROWS = 5000
HEADER_WORDS = {"kpi", "period", "value", "note", "date", "name"}


@dataclass
class ParsedRow:
    line: int
    cells: list[str]
    kpi: Kpi | None = None
    period: dt.date | None = None
    value: float | None = None
    note: str = ""
    errors: list[str] = field(default_factory=list)
    replaces: float | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Preview:
    rows: list[ParsedRow]
    errors: list[str] = field(default_factory=list)  # file-level

    @property
    def clean(self) -> bool:
        return not self.errors and bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def bad_rows(self) -> list[ParsedRow]:
        return [r for r in self.rows if not r.ok]

    def to_rows(self) -> list[services.Row]:
        return [services.Row(kpi=r.kpi, period_start=r.period, value=r.value, note=r.note)
                for r in self.rows]


def _is_header(cells: list[str]) -> bool:
    return bool(cells) and cells[0].strip().lower() in HEADER_WORDS


def parse(text: str, *, organization, kpi: Kpi | None = None,
          today: dt.date | None = None) -> Preview:
    """Check a CSV text. With ``kpi`` the rows are ``period,value[,note]`` for that KPI."""
    try:
        reader = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        return Preview(rows=[], errors=[f"This is not a readable CSV file ({exc})."])
    lines = [(i + 1, cells) for i, cells in enumerate(reader) if any(c.strip() for c in cells)]
    if lines and _is_header(lines[0][1]):
        lines = lines[1:]
    if not lines:
        return Preview(rows=[], errors=["The file has no rows to import."])
    if len(lines) > MAX_ROWS:
        return Preview(rows=[], errors=[f"Too many rows ({len(lines)}); at most {MAX_ROWS}."])

    by_name, by_id = {}, {}
    if kpi is None:
        for k in Kpi.objects.filter(organization=organization):
            by_name[k.name.strip().lower()] = k
            by_id[str(k.pk)] = k

    rows: list[ParsedRow] = []
    seen: dict[tuple[int, dt.date], int] = {}
    width = 2 if kpi is not None else 3
    for line, cells in lines:
        cells = [c.strip() for c in cells]
        row = ParsedRow(line=line, cells=cells)
        rows.append(row)
        bad = [(i, reason) for i, c in enumerate(cells, 1) if (reason := text_problem(c))]
        if bad:  # a cell PostgreSQL cannot store: the row is refused, named, never imported
            row.errors.extend(f"Column {i} {reason}" for i, reason in bad)
            continue
        if len(cells) < width or len(cells) > width + 1:
            expected = "period,value[,note]" if kpi is not None else "kpi,period,value[,note]"
            row.errors.append(f"Expected {expected}; found {len(cells)} column(s).")
            continue
        if kpi is not None:
            row.kpi = kpi
            period_raw, value_raw = cells[0], cells[1]
            note_raw = cells[2] if len(cells) > 2 else ""
        else:
            name = cells[0]
            row.kpi = by_name.get(name.lower()) or by_id.get(name)
            if row.kpi is None:
                row.errors.append(f"Unknown KPI “{name}”.")
            period_raw, value_raw = cells[1], cells[2]
            note_raw = cells[3] if len(cells) > 3 else ""
        try:
            row.value = services.clean_value(value_raw)
        except ValidationError as exc:
            row.errors.extend(exc.message_dict["value"])
        try:
            row.note = services.clean_note(note_raw)
        except ValidationError as exc:
            row.errors.extend(exc.message_dict["note"])
        if row.kpi is not None:
            try:
                row.period = services.clean_period(row.kpi, period_raw, today=today)
            except ValidationError as exc:
                row.errors.extend(exc.message_dict["period"])
        else:
            try:
                services.parse_period(period_raw)
            except ValidationError as exc:
                row.errors.extend(exc.message_dict["period"])
        if row.kpi is not None and row.period is not None:
            key = (row.kpi.pk, row.period)
            if key in seen:
                row.errors.append(
                    f"Duplicate period {row.period.isoformat()} for {row.kpi.name} "
                    f"(also on line {seen[key]})."
                )
            else:
                seen[key] = line

    # What each row would replace (one query).
    good = [r for r in rows if r.kpi is not None and r.period is not None]
    if good:
        existing = {
            (k, p): v
            for k, p, v in DataPoint.objects.filter(
                kpi_id__in={r.kpi.pk for r in good},
                period_start__in={r.period for r in good},
            ).values_list("kpi_id", "period_start", "value")
        }
        for r in good:
            r.replaces = existing.get((r.kpi.pk, r.period))
    return Preview(rows=rows)


def run(preview: Preview, *, author) -> int:
    """Import a clean preview, all or nothing. Returns the number of rows."""
    if not preview.clean:
        raise ValidationError("Fix the rows marked in the preview first: nothing was imported.")
    services.kpi_record_values(rows=preview.to_rows(), source=DataPoint.Source.CSV, author=author)
    return len(preview.rows)
