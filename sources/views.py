"""Data-source pages (admins only): the list, the form with "Test", a source's page with
its feeds and runs, "Run now", delete; and the inbound webhook (no session, no CSRF)."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.access import org_url, org_view
from accounts.models import Role
from core import ratelimit, secrets
from core.forms import apply_errors, save_versioned

from . import collect, services
from .access import get_feed_for_admin, get_source_for_admin
from .feeds import curl_line
from .forms import FeedForm, SourceForm
from .models import DataSource, Feed, SourceRun

WEBHOOK_MAX_BYTES = 1024 * 1024
WEBHOOK_LIMIT = (120, 60)  # posts per source per minute (HEADWAY_RATE_LIMITS["source_webhook"])


@org_view(Role.ADMIN)
def source_list(request: HttpRequest) -> HttpResponse:
    sources = list(DataSource.objects.filter(organization=request.org)
                   .prefetch_related("feeds__kpi"))
    return render(request, "sources/list.html", {"sources": sources})


def _preview(request, form: SourceForm, source: DataSource | None):
    """What "Test" shows: the first rows and what would be recorded; writes nothing."""
    probe = DataSource(organization=request.org)
    if source is not None:
        for f in ("url_encrypted", "url_display", "secret_encrypted", "hmac_secret_encrypted",
                  "webhook_token_encrypted", "webhook_token_hash", "pk"):
            setattr(probe, f, getattr(source, f))
    services.apply_fields(probe, form.service_fields())
    feeds = list(source.feeds.select_related("kpi")) if source is not None else []
    kpi = form.cleaned_data.get("kpi")
    if kpi is not None and all(f.kpi_id != kpi.pk for f in feeds):
        feeds.append(Feed(kpi=kpi))
    try:
        return {"preview": collect.preview(probe, feeds,
                                           today=request.org.local_now().date())}
    except services.READ_ERRORS as exc:
        return {"test_error": str(exc)}


def _form_page(request, source: DataSource | None):
    form = SourceForm(request.POST or None, organization=request.org, source=source)
    ctx: dict = {"source": source}
    status = 200
    if request.method == "POST" and request.POST.get("action") == "test":
        if form.is_valid():
            ctx.update(_preview(request, form, source))
    elif request.method == "POST":
        if source is None:
            if form.is_valid():
                try:
                    created = services.source_create(organization=request.org,
                                                     actor=request.user, **form.service_fields())
                except services.ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(request, _("Data source %(name)s created.") % {"name": created.name})
                    return redirect(org_url("sources:detail", request, pk=created.pk))
        else:
            saved = save_versioned(form, lambda version: services.source_update(
                source=source, actor=request.user, version=version, **form.service_fields()),
                stale_message="Someone changed this source while you were editing: "
                              "reload it and apply your change again.")
            form, status = saved.form, saved.status
            if saved.result is not None:
                messages.success(request, _("Data source saved."))
                return redirect(org_url("sources:detail", request, pk=source.pk))
    ctx["form"] = form
    return render(request, "sources/form.html", ctx, status=status)


@org_view(Role.ADMIN)
def source_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@org_view(Role.ADMIN)
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, get_source_for_admin(request, pk))


@org_view(Role.ADMIN)
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_admin(request, pk)
    feeds = list(source.feeds.select_related("kpi"))
    runs = list(source.runs.all()[:20])
    ctx = {"source": source, "feeds": feeds, "runs": runs,
           "feed_form": FeedForm(organization=request.org), "curl": ""}
    if source.kind == DataSource.Kind.WEBHOOK:
        try:
            ctx["curl"] = curl_line(source, len(feeds))
        except secrets.SecretError as exc:
            ctx["curl_error"] = str(exc)
    return render(request, "sources/detail.html", ctx)


@org_view(Role.ADMIN)
@require_POST
def source_run_now(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_admin(request, pk)
    if source.kind == DataSource.Kind.WEBHOOK:
        messages.error(request, _("A webhook source is not run: other tools post to it."))
    else:
        services.source_request_run(source=source)
        messages.success(request, _("Run requested: its result is in the run history below."))
    return redirect(org_url("sources:detail", request, pk=source.pk))


@org_view(Role.ADMIN)
@require_POST
def source_delete(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_admin(request, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Confirm the deletion with the Delete button on the source's page."))
        return redirect(org_url("sources:detail", request, pk=source.pk))
    services.source_delete(source=source, actor=request.user)
    messages.success(request, _("Data source %(name)s deleted; the points it recorded stay.")
                     % {"name": source.name})
    return redirect(org_url("sources:list", request))


@org_view(Role.ADMIN)
@require_POST
def feed_add(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_admin(request, pk)
    form = FeedForm(request.POST, organization=request.org)
    if form.is_valid():
        try:
            services.feed_add(source=source, **form.cleaned_data)
        except services.ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(kpi)s is now fed by %(source)s.")
                             % {"kpi": form.cleaned_data["kpi"].name, "source": source.name})
            return redirect(org_url("sources:detail", request, pk=source.pk))
    feeds = list(source.feeds.select_related("kpi"))
    return render(request, "sources/detail.html", {
        "source": source, "feeds": feeds, "runs": list(source.runs.all()[:20]),
        "feed_form": form, "curl": ""}, status=400)


@org_view(Role.ADMIN)
@require_POST
def feed_remove(request: HttpRequest, pk: int, feed_pk: int) -> HttpResponse:
    source = get_source_for_admin(request, pk)
    feed = get_feed_for_admin(request, source, feed_pk)
    services.feed_remove(feed=feed)
    messages.success(request, _("%(kpi)s is no longer fed by %(source)s.")
                     % {"kpi": feed.kpi.name, "source": source.name})
    return redirect(org_url("sources:detail", request, pk=source.pk))


# --- The inbound webhook ---------------------------------------------------------------------


def _error(status: int, detail: str, **extra) -> JsonResponse:
    return JsonResponse({"detail": detail, **extra}, status=status)


@csrf_exempt
def webhook(request: HttpRequest, token: str) -> HttpResponse:
    """POST JSON ({"period", "value"}, a list of them, or {"points": [...]} with "kpi"
    keys) or CSV (period,value or kpi,period,value) to a webhook source's secret URL."""
    if request.method != "POST":
        return _error(405, "POST JSON or CSV to this URL.")
    source = (DataSource.objects.select_related("organization")
              .filter(kind=DataSource.Kind.WEBHOOK, active=True,
                      webhook_token_hash=DataSource.hash_token(token)).first())
    if source is None:
        return _error(404, "No webhook at this URL.")
    if ratelimit.enabled():
        limit, window = settings.HEADWAY_RATE_LIMITS.get("source_webhook", WEBHOOK_LIMIT)
        wait = ratelimit.hit("source_webhook", f"source:{source.pk}", limit=limit, window=window)
        if wait is not None:
            response = _error(429, "Too many posts to this webhook.", retry_after=wait)
            response["Retry-After"] = str(wait)
            return response
    body = request.body
    if len(body) > WEBHOOK_MAX_BYTES:
        return _error(413, "The body is larger than 1 MB.")
    key = secrets.decrypt(source.hmac_secret_encrypted) if source.hmac_secret_encrypted else ""
    if key:
        given = request.headers.get("X-Headway-Signature", "")
        expected = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.strip().lower(), expected):
            return _error(401, "The X-Headway-Signature header is missing or wrong "
                               "(sha256=<hex HMAC-SHA256 of the body>).")
    run = services.webhook_receive(source=source, body=body,
                                   content_type=request.content_type or "")
    out = {"run": run.pk, "status": run.status, "rows": run.rows_read, "created": run.created,
           "replaced": run.replaced, "unchanged": run.unchanged}
    if run.status != SourceRun.Status.OK:
        return JsonResponse({"detail": run.error, "errors": run.row_errors, **out}, status=400)
    return JsonResponse(out, status=200)


