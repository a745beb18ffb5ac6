"""The data-source endpoints a script needs: list sources, list a source's runs, and
"run now". Admins' tokens only (sources hold connection details); another organisation's
source is a 404, like a missing one. Credentials never appear in a response."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from ninja import Router, Schema
from ninja.errors import HttpError

from accounts.access import has_role
from accounts.models import Role
from sources import services
from sources.models import DataSource, SourceRun

MAX_RUNS = 100

router = Router(tags=["data sources"])


class SourceOut(Schema):
    id: int
    name: str
    kind: str
    schedule: str
    active: bool
    kpis: list[int]
    next_run_at: dt.datetime | None
    last_run_at: dt.datetime | None
    failing_since: dt.datetime | None
    last_error: str


class RunOut(Schema):
    id: int
    trigger: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    rows_read: int
    created: int
    replaced: int
    unchanged: int
    error: str
    row_errors: list[str]


class Queued(Schema):
    queued: bool
    detail: str


def _admin(request) -> None:
    if not has_role(request, Role.ADMIN):
        raise HttpError(403, "Data sources need an admin's token.")


def _get_source(request, source_id: int) -> DataSource:
    _admin(request)
    source = DataSource.objects.filter(organization=request.org, pk=source_id).first()
    if source is None:
        raise Http404("No such data source.")
    return source


def _source_out(source: DataSource) -> dict:
    return {"id": source.pk, "name": source.name, "kind": source.kind,
            "schedule": source.schedule, "active": source.active,
            "kpis": sorted(f.kpi_id for f in source.feeds.all()),
            "next_run_at": source.next_run_at, "last_run_at": source.last_run_at,
            "failing_since": source.failing_since, "last_error": source.last_error}


@router.get("/sources", response=list[SourceOut], summary="List the data sources")
def list_sources(request):
    _admin(request)
    sources = DataSource.objects.filter(organization=request.org).prefetch_related("feeds")
    return [_source_out(s) for s in sources]


@router.get("/sources/{source_id}/runs", response=list[RunOut],
            summary="A data source's runs, newest first (at most 100)")
def list_runs(request, source_id: int):
    source = _get_source(request, source_id)
    return list(SourceRun.objects.filter(source=source).values(
        "id", "trigger", "status", "started_at", "finished_at", "rows_read", "created",
        "replaced", "unchanged", "error", "row_errors")[:MAX_RUNS])


@router.post("/sources/{source_id}/run", response={202: Queued},
             summary="Run a data source now (queued; its run appears in /runs)")
def run_now(request, source_id: int):
    source = _get_source(request, source_id)
    if source.kind == DataSource.Kind.WEBHOOK:
        raise HttpError(409, "A webhook source is not run: post to its URL.")
    services.source_request_run(source=source, trigger=SourceRun.Trigger.API)
    return 202, {"queued": True, "detail": "The run is queued; see /runs for its result."}
