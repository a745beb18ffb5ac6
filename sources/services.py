"""Writes for data sources: definitions (secrets encrypted), feeds, runs, webhooks.

A run reads outside any transaction (a slow database must not hold ours), then records
all its points in one transaction through kpis.recording (all or nothing). One run per
source at a time: a conditional UPDATE of ``running_since`` is the claim (as the KPI
sweep's lock), released at the end, taken over when older than the source's timeout
plus ``STALE_CLAIM``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets as pysecrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Membership, Role
from config.celery import enqueue_on_commit
from core import secrets
from core.outbound import OutboundError
from core.versioning import versioned_update
from kpis.models import DataPoint, HealthEvent, Kpi
from kpis.recording import kpi_record_batch

from . import collect as C
from . import schedule as S
from .models import DataSource, Feed, SourceRun
from .rows import ParseError
from .sql import SqlError, mask_url

logger = logging.getLogger(__name__)

STALE_CLAIM = dt.timedelta(minutes=5)
POINT_SOURCE = {DataSource.Kind.SQL: DataPoint.Source.SQL,
                DataSource.Kind.HTTP: DataPoint.Source.HTTP,
                DataSource.Kind.WEBHOOK: DataPoint.Source.WEBHOOK}
# What an audit entry may say of a source: never the URL, a secret or a token.
AUDITED = ["name", "kind", "schedule", "run_at", "weekday", "timeout_seconds", "row_cap",
           "active", "format", "json_path", "auth"]
READ_ERRORS = (SqlError, OutboundError, ParseError, secrets.SecretError)


def display_url(kind: str, url: str) -> str:
    if not url:
        return ""
    if kind == DataSource.Kind.SQL:
        return mask_url(url) or "(not a database URL)"
    head, sep, _ = url.partition("?")
    return head + ("?…" if sep else "")


def next_run_for(source: DataSource, after: dt.datetime | None = None) -> dt.datetime | None:
    return S.next_run(after or timezone.now(), source.schedule, tz=source.organization.tz,
                      at=source.run_at, weekday=source.weekday)


def apply_fields(source: DataSource, data: dict) -> None:
    """Put form data on ``source`` in memory: a URL equal to the masked one and blank
    secrets keep what is stored."""
    for name in ["name", "kind", "query", "format", "json_path", "auth", "auth_user",
                 "auth_header", "schedule", "run_at", "weekday", "timeout_seconds", "row_cap",
                 "active"]:
        if name in data:
            setattr(source, name, data[name])
    url = (data.get("url") or "").strip()
    if url and url != source.url_display:
        source.url_encrypted = secrets.encrypt(url)
        source.url_display = display_url(source.kind, url)[:500]
    elif not url:
        source.url_encrypted, source.url_display = "", ""
    if data.get("secret"):
        source.secret_encrypted = secrets.encrypt(data["secret"])
    if data.get("hmac_secret"):
        source.hmac_secret_encrypted = secrets.encrypt(data["hmac_secret"])
    if source.kind == DataSource.Kind.WEBHOOK and not source.webhook_token_encrypted:
        token = pysecrets.token_urlsafe(32)
        source.webhook_token_encrypted = secrets.encrypt(token)
        source.webhook_token_hash = DataSource.hash_token(token)
    source.next_run_at = next_run_for(source) if source.kind != DataSource.Kind.WEBHOOK else None


def _check(source: DataSource) -> None:
    errors = {}
    if source.kind in (DataSource.Kind.SQL, DataSource.Kind.HTTP) and not source.url_encrypted:
        errors["url"] = _("Give the connection URL.") if source.kind == "sql" else _("Give the URL.")
    if (DataSource.objects.filter(organization=source.organization, name__iexact=source.name)
            .exclude(pk=source.pk).exists()):
        errors["name"] = _("A data source with this name already exists.")
    if errors:
        raise ValidationError(errors)


def _set_single_feed(source: DataSource, kpi: Kpi | None) -> None:
    if kpi is None:
        return
    if kpi.organization_id != source.organization_id:
        raise ValidationError({"kpi": _("Choose one of this organisation's KPIs.")})
    other = Feed.objects.filter(kpi=kpi).exclude(source=source).select_related("source").first()
    if other is not None:
        raise ValidationError({"kpi": _("%(kpi)s is already fed by %(source)s.")
                               % {"kpi": kpi.name, "source": other.source.name}})
    Feed.objects.get_or_create(source=source, kpi=kpi)


@transaction.atomic
def source_create(*, organization, actor, kpi: Kpi | None = None, **data) -> DataSource:
    source = DataSource(organization=organization)
    apply_fields(source, data)
    _check(source)
    source.save()
    _set_single_feed(source, kpi)
    audit_record(organization=organization, actor=actor, action="created", obj=source)
    return source


@transaction.atomic
def source_update(*, source: DataSource, actor, version: int, kpi: Kpi | None = None,
                  **data) -> DataSource:
    before = {f: getattr(source, f) for f in AUDITED}
    apply_fields(source, data)
    _check(source)
    fields = {f: getattr(source, f) for f in [
        "name", "kind", "query", "format", "json_path", "auth", "auth_user", "auth_header",
        "schedule", "run_at", "weekday", "timeout_seconds", "row_cap", "active",
        "url_encrypted", "url_display", "secret_encrypted", "hmac_secret_encrypted",
        "webhook_token_encrypted", "webhook_token_hash", "next_run_at"]}
    versioned_update(source, version=version, **fields, updated_at=timezone.now())
    _set_single_feed(source, kpi)
    changes = {f: [str(before[f]), str(getattr(source, f))] for f in AUDITED
               if before[f] != getattr(source, f)}
    audit_record(organization=source.organization, actor=actor, action="updated", obj=source,
                 changes=changes or None)
    return source


@transaction.atomic
def source_delete(*, source: DataSource, actor) -> None:
    audit_record(organization=source.organization, actor=actor, action="deleted", obj=source)
    source.delete()


@transaction.atomic
def feed_add(*, source: DataSource, kpi: Kpi, key: str = "", query: str = "") -> Feed:
    key = (key or "").strip()
    if kpi.organization_id != source.organization_id:
        raise ValidationError({"kpi": _("Choose one of this organisation's KPIs.")})
    if Feed.objects.filter(kpi=kpi).exists():
        raise ValidationError({"kpi": _("%(kpi)s is already fed by a source.") % {"kpi": kpi.name}})
    if key and Feed.objects.filter(source=source, key__iexact=key).exists():
        raise ValidationError({"key": _("Another KPI of this source has this key.")})
    return Feed.objects.create(source=source, kpi=kpi, key=key, query=(query or "").strip())


@transaction.atomic
def feed_remove(*, feed: Feed) -> None:
    feed.delete()


# --- Runs -----------------------------------------------------------------------------------


def claim(source_id: int) -> bool:
    """Take the source's run claim; False when a run holds it (and is not stale)."""
    now = timezone.now()
    source = DataSource.objects.filter(pk=source_id).only("timeout_seconds").first()
    if source is None:
        return False
    stale = now - STALE_CLAIM - dt.timedelta(seconds=source.timeout_seconds)
    return DataSource.objects.filter(
        Q(running_since__isnull=True) | Q(running_since__lt=stale), pk=source_id,
    ).update(running_since=now) == 1


def source_request_run(*, source: DataSource, trigger: str = SourceRun.Trigger.MANUAL) -> None:
    """Run now: queued after commit (in-process without a broker). The source is also
    marked due, so that if the broker is down the next beat runs it."""
    from .tasks import run_source

    DataSource.objects.filter(pk=source.pk).update(next_run_at=timezone.now())
    enqueue_on_commit(run_source, source.pk, trigger)


def source_run(*, source_id: int, trigger: str = SourceRun.Trigger.SCHEDULE) -> SourceRun | None:
    """One run of a source (None when another run holds the claim)."""
    if not claim(source_id):
        return None
    source = DataSource.objects.select_related("organization").get(pk=source_id)
    run = SourceRun.objects.create(source=source, trigger=trigger, started_at=timezone.now())
    try:
        feeds = list(source.feeds.select_related("kpi"))
        if not feeds:
            raise ParseError("The source feeds no KPI yet: add one on its page.")
        collected = C.collect(source, feeds, today=source.organization.local_now().date())
        checked = collected.checked
        run.rows_read = checked.read
        if checked.errors:
            run.row_errors = checked.errors
            raise ParseError(f"{len(checked.errors)} bad row(s), nothing recorded. "
                             + checked.errors[0])
        outcome = kpi_record_batch(rows=checked.rows, source=POINT_SOURCE[source.kind],
                                   source_ref=f"source {source.pk} run {run.pk}")
        run.created, run.replaced, run.unchanged = (outcome.created, outcome.replaced,
                                                    outcome.unchanged)
        run.status = SourceRun.Status.OK
    except READ_ERRORS as exc:
        run.status, run.error = SourceRun.Status.FAILED, str(exc)
    except Exception as exc:  # a bug or an unexpected driver error: say so, never leak a trace
        logger.exception("data source %s run %s failed", source.pk, run.pk)
        run.status = SourceRun.Status.FAILED
        run.error = f"An unexpected error stopped the run ({type(exc).__name__})."
    _finish(source, run)
    return run


def _finish(source: DataSource, run: SourceRun) -> None:
    now = timezone.now()
    run.finished_at = now
    run.error = run.error[:2000]
    with transaction.atomic():
        run.save()
        failing_now = run.status == SourceRun.Status.FAILED
        was_failing = source.failing_since is not None
        DataSource.objects.filter(pk=source.pk).update(
            running_since=None, last_run_at=now,
            failing_since=(source.failing_since or now) if failing_now else None,
            last_error=run.error if failing_now else "",
            next_run_at=next_run_for(source, now))
        if failing_now and not was_failing:
            _tell_failing(source, run)
        elif was_failing and not failing_now:
            HealthEvent.objects.bulk_create([  # one insert for the thousand KPIs of a source
                HealthEvent(kpi_id=kpi_id, kind="source",
                            message=f"Data source {source.name} works again.")
                for kpi_id in source.feeds.values_list("kpi_id", flat=True)])


def _tell_failing(source: DataSource, run: SourceRun) -> None:
    """The KPIs' histories say it (the app), and their owners and the admins get an e-mail."""
    feeds = list(source.feeds.select_related("kpi__owner"))
    message = f"Data source {source.name} is failing: {run.error}"
    HealthEvent.objects.bulk_create([HealthEvent(kpi=feed.kpi, kind="source", new="failing",
                                                 message=message) for feed in feeds])
    recipients = {f.kpi.owner.email for f in feeds if f.kpi.owner and f.kpi.owner.email}
    recipients |= set(Membership.objects.filter(
        organization=source.organization, role__in=[Role.ADMIN, Role.OWNER],
    ).values_list("user__email", flat=True))
    recipients.discard("")
    if not recipients:
        return
    names = ", ".join(f.kpi.name for f in feeds) or "no KPI yet"
    body = (f"{message}\n\nIt feeds: {names}.\n\n"
            f"{settings.SITE_URL}/o/{source.organization.slug}/sources/{source.pk}/\n")

    def send() -> None:
        try:
            send_mail(f"[Headway] Data source failing: {source.name}", body, None,
                      sorted(recipients), fail_silently=False)
        except Exception:
            logger.warning("could not e-mail the failure of source %s", source.pk, exc_info=True)

    transaction.on_commit(send)


def due_source_ids(now: dt.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(DataSource.objects.filter(
        active=True, next_run_at__lte=now, running_since__isnull=True,
    ).exclude(kind=DataSource.Kind.WEBHOOK).order_by("next_run_at").values_list("pk", flat=True))


# --- Webhooks -------------------------------------------------------------------------------


def webhook_receive(*, source: DataSource, body: bytes, content_type: str) -> SourceRun:
    """Record what a tool posted (the same checks as a run; all or nothing). The run row
    is the record; ValidationError-free: a bad body is a failed run (and a 400)."""
    run = SourceRun(source=source, trigger=SourceRun.Trigger.WEBHOOK, started_at=timezone.now())
    feeds = list(source.feeds.select_related("kpi"))
    try:
        if not feeds:
            raise ParseError("This webhook feeds no KPI yet.")
        fmt = "json" if "json" in content_type or body.lstrip()[:1] in (b"{", b"[") else "csv"
        source.format = fmt
        raw = C.parse_body(source, body, content_type)
        single = feeds[0] if len(feeds) == 1 else None
        from .rows import check

        checked = check(raw, feeds=feeds, single=single, today=source.organization.local_now().date())
        run.rows_read = checked.read
        if checked.errors:
            run.row_errors = checked.errors
            raise ParseError(f"{len(checked.errors)} bad row(s), nothing recorded. "
                             + checked.errors[0])
        run.save()
        outcome = kpi_record_batch(rows=checked.rows, source=DataPoint.Source.WEBHOOK,
                                   source_ref=f"source {source.pk} run {run.pk}")
        run.created, run.replaced, run.unchanged = (outcome.created, outcome.replaced,
                                                    outcome.unchanged)
        run.status = SourceRun.Status.OK
    except ParseError as exc:
        run.status, run.error = SourceRun.Status.FAILED, str(exc)
    run.finished_at = timezone.now()
    run.save()
    return run
