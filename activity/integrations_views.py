"""The admins' integration pages (issue 18): outgoing webhook subscriptions and Slack/Teams
connections of one organisation, each with its delivery log and a test event.

/o/<org>/integrations/…  — owners and admins only (org_view(Role.ADMIN)).
A webhook's secret is shown once, on the page its creation or rotation answers with.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from accounts.access import get_in_org, org_url, org_view
from accounts.audit import audit_record
from accounts.models import Role, Team
from activity import chat, dispatch, webhooks
from activity.models import ChatConnection, Delivery, DeliveryAttempt, WebhookSubscription
from core.events import PUBLIC_KINDS

LOG_ROWS = 50


# --- Forms -----------------------------------------------------------------------------------

# The webhook kinds' descriptions in the reader's language (core.events.PUBLIC_KINDS stays English:
# the API docs and the JSON payloads use it).
KIND_TEXTS = {
    "checkin.created": gettext_lazy("A check-in was recorded on a key result."),
    "kpi.point_recorded": gettext_lazy("A data point was recorded on a KPI."),
    "kpi.health_changed": gettext_lazy("A KPI's health changed (on target, off target, signal)."),
    "kpi.candidate_flagged": gettext_lazy("A KPI was flagged as an improvement candidate."),
    "objective.created": gettext_lazy("An objective was created."),
    "objective.updated": gettext_lazy("An objective was changed."),
    "objective.closed": gettext_lazy("An objective was closed."),
    "cycle.closed": gettext_lazy("A cycle (quarter or year) was closed."),
}


class WebhookForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("Endpoint URL"), max_length=webhooks.URL_MAX_LENGTH + 1000,
                          widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/headway"}),
                          help_text=gettext_lazy("Events are POSTed here as JSON, signed by the Standard "
                                                 "Webhooks specification."))
    description = forms.CharField(label=gettext_lazy("Description"), required=False,
                                  max_length=webhooks.DESCRIPTION_MAX_LENGTH + 1000)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"), widget=forms.CheckboxSelectMultiple,
        choices=[(k, format_lazy(gettext_lazy("{kind} — {text}"), kind=k, text=KIND_TEXTS.get(k, v)))
                 for k, v in PUBLIC_KINDS.items()])

    def clean_url(self):
        return webhooks.clean_url(self.cleaned_data["url"])

    def clean_description(self):
        return webhooks.clean_description(self.cleaned_data["description"])

    def clean_events(self):
        return webhooks.clean_events(self.cleaned_data["events"])


class ChatForm(forms.Form):
    platform = forms.ChoiceField(label=gettext_lazy("Platform"), choices=ChatConnection.PLATFORMS,
                                 widget=forms.RadioSelect)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("The channel, e.g. “#okrs” (shown on this page only)."))
    url = forms.CharField(
        label=gettext_lazy("Incoming-webhook URL"), max_length=3000,
        error_messages={"required": gettext_lazy("Paste the channel’s incoming-webhook URL.")},
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("Slack: an app's incoming webhook (https://hooks.slack.com/services/…). "
                        "Teams: the channel's Incoming Webhook or Workflows URL. Stored "
                        "encrypted; never shown again."))
    team = forms.ModelChoiceField(label=gettext_lazy("Team"), required=False, queryset=Team.objects.none(),
                                  empty_label=gettext_lazy("The whole organisation"),
                                  help_text=gettext_lazy("A team's connection gets only that team's events."))
    events = forms.MultipleChoiceField(label=gettext_lazy("Messages"), widget=forms.CheckboxSelectMultiple,
                                       choices=ChatConnection.EVENT_CHOICES)

    def __init__(self, *args, organization, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(organization=organization).order_by("name")
        if editing:
            self.fields["platform"].disabled = True
            self.fields["url"].required = False
            self.fields["url"].help_text = gettext("Leave empty to keep the stored URL.")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if "\x00" in name:
            raise ValidationError(gettext("The name contains a NUL character."))
        if not name:
            raise ValidationError(gettext("Give the connection a name."))
        return name

    def clean_events(self):
        return chat.clean_events(self.cleaned_data["events"])

    def clean(self):
        data = super().clean()
        url = data.get("url")
        if url:
            try:
                data["url"] = chat.clean_url(url, data.get("platform", ""))
            except ValidationError as exc:
                self.add_error("url", exc)
        return data


# --- Selectors -------------------------------------------------------------------------------

def _log(**delivery_filter):
    return list(DeliveryAttempt.objects.filter(**{f"delivery__{k}": v
                                                  for k, v in delivery_filter.items()})
                .select_related("delivery__event").order_by("-at", "-id")[:LOG_ROWS])


# --- Pages -----------------------------------------------------------------------------------

@org_view(Role.ADMIN)
def integrations(request: HttpRequest) -> HttpResponse:
    return render(request, "activity/integrations.html", {
        "subscriptions": WebhookSubscription.objects.filter(organization=request.org),
        "connections": ChatConnection.objects.filter(organization=request.org)
                                             .select_related("team"),
        "kinds": PUBLIC_KINDS,
    })


@org_view(Role.ADMIN)
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sub, secret = webhooks.subscription_create(
            organization=request.org, actor=request.user, url=form.cleaned_data["url"],
            events=form.cleaned_data["events"], description=form.cleaned_data["description"])
        audit_record(organization=request.org, actor=request.user, action="webhook created",
                     obj=sub, changes={"url": sub.url, "events": sub.events})
        return _webhook_page(request, sub, new_secret=secret, status=201)
    return render(request, "activity/webhook_form.html", {"form": form},
                  status=400 if form.errors else 200)


def _webhook_page(request, sub, *, form=None, new_secret="", status=200):
    form = form or WebhookForm(initial={"url": sub.url, "description": sub.description,
                                        "events": sub.events})
    return render(request, "activity/webhook_detail.html", {
        "sub": sub, "form": form, "new_secret": new_secret, "log": _log(subscription=sub),
        "grace_until": sub.previous_secret_until if len(sub.signing_secrets()) > 1 else None,
    }, status=status)


@org_view(Role.ADMIN)
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sub = get_in_org(request, WebhookSubscription, pk=pk)
    if request.method == "POST":
        form = WebhookForm(request.POST)
        if not form.is_valid():
            return _webhook_page(request, sub, form=form, status=400)
        changes = {k: form.cleaned_data[k] for k in ("url", "description", "events")
                   if form.cleaned_data[k] != getattr(sub, k)}
        if changes:
            sub = webhooks.subscription_update(subscription=sub, **{
                k: form.cleaned_data[k] for k in ("url", "description", "events")})
            audit_record(organization=request.org, actor=request.user, action="webhook updated",
                         obj=sub, changes=changes)
            messages.success(request, "Webhook saved.")
        return redirect(org_url("activity:webhook", request, pk=sub.pk))
    return _webhook_page(request, sub)


@org_view(Role.ADMIN)
@require_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    sub = get_in_org(request, WebhookSubscription, pk=pk)
    sub, secret = webhooks.subscription_rotate(subscription=sub)
    audit_record(organization=request.org, actor=request.user, action="webhook secret rotated",
                 obj=sub)
    return _webhook_page(request, sub, new_secret=secret)


@org_view(Role.ADMIN)
@require_POST
def webhook_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    sub = get_in_org(request, WebhookSubscription, pk=pk)
    enabled = request.POST.get("enabled") == "1"
    webhooks.subscription_set_enabled(subscription=sub, enabled=enabled)
    audit_record(organization=request.org, actor=request.user,
                 action="webhook enabled" if enabled else "webhook disabled", obj=sub)
    messages.success(request, "Webhook enabled." if enabled else "Webhook disabled.")
    return redirect(org_url("activity:webhook", request, pk=sub.pk))


@org_view(Role.ADMIN)
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    sub = get_in_org(request, WebhookSubscription, pk=pk)
    if not sub.enabled:
        messages.error(request, "Enable the webhook before sending a test event.")
    else:
        dispatch.send_test(subscription=sub)
        messages.success(request, "Test event sent: its try is in the log below.")
    return redirect(org_url("activity:webhook", request, pk=sub.pk))


@org_view(Role.ADMIN)
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    sub = get_in_org(request, WebhookSubscription, pk=pk)
    audit_record(organization=request.org, actor=request.user, action="webhook deleted",
                 obj=sub, changes={"url": sub.url})
    sub.delete()
    messages.success(request, "Webhook deleted.")
    return redirect(org_url("activity:integrations", request))


@org_view(Role.ADMIN)
def chat_create(request: HttpRequest) -> HttpResponse:
    form = ChatForm(request.POST or None, organization=request.org,
                    initial={"platform": request.GET.get("platform", ChatConnection.SLACK)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data.get("url"):
            form.add_error("url", "Paste the channel’s incoming-webhook URL.")
        else:
            conn = chat.connection_create(
                organization=request.org, actor=request.user, platform=data["platform"],
                name=data["name"], url=data["url"], events=data["events"], team=data["team"])
            audit_record(organization=request.org, actor=request.user,
                         action="chat connection created", obj=conn,
                         changes={"platform": conn.platform, "host": conn.url_host})
            _warn_host(request, data["url"], conn.platform)
            messages.success(request, f"{conn.get_platform_display()} connected.")
            return redirect(org_url("activity:chat", request, pk=conn.pk))
    return render(request, "activity/chat_form.html", {"form": form},
                  status=400 if form.errors else 200)


def _warn_host(request, url: str, platform: str) -> None:
    if not chat.expected_host(url, platform):
        messages.warning(request, f"{chat.host_of(url)} is not a usual "
                         f"{dict(ChatConnection.PLATFORMS)[platform]} address: check the URL.")


@org_view(Role.ADMIN)
def chat_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conn = get_in_org(request, ChatConnection.objects.select_related("team"), pk=pk)
    initial = {"platform": conn.platform, "name": conn.name, "team": conn.team_id,
               "events": conn.events}
    form = ChatForm(request.POST or None, organization=request.org, editing=True,
                    initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team_id = data["team"].pk if data["team"] else None
        changed = (data["name"] != conn.name or data["events"] != conn.events
                   or team_id != conn.team_id or bool(data.get("url")))
        if changed:
            conn = chat.connection_update(connection=conn, name=data["name"],
                                          events=data["events"], team=data["team"],
                                          url=data.get("url") or "")
            audit_record(organization=request.org, actor=request.user,
                         action="chat connection updated", obj=conn)
            if data.get("url"):
                _warn_host(request, data["url"], conn.platform)
            messages.success(request, "Connection saved.")
        return redirect(org_url("activity:chat", request, pk=conn.pk))
    return render(request, "activity/chat_detail.html", {
        "conn": conn, "form": form, "log": _log(chat=conn),
    }, status=400 if form.errors else 200)


@org_view(Role.ADMIN)
@require_POST
def chat_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    conn = get_in_org(request, ChatConnection, pk=pk)
    enabled = request.POST.get("enabled") == "1"
    chat.connection_set_enabled(connection=conn, enabled=enabled)
    audit_record(organization=request.org, actor=request.user,
                 action="chat connection enabled" if enabled else "chat connection disabled",
                 obj=conn)
    messages.success(request, "Connection enabled." if enabled else "Connection disabled.")
    return redirect(org_url("activity:chat", request, pk=conn.pk))


@org_view(Role.ADMIN)
@require_POST
def chat_test(request: HttpRequest, pk: int) -> HttpResponse:
    conn = get_in_org(request, ChatConnection, pk=pk)
    if not conn.enabled:
        messages.error(request, "Enable the connection before sending a test message.")
    else:
        dispatch.send_test(connection=conn)
        messages.success(request, "Test message sent: its try is in the log below.")
    return redirect(org_url("activity:chat", request, pk=conn.pk))


@org_view(Role.ADMIN)
@require_POST
def chat_delete(request: HttpRequest, pk: int) -> HttpResponse:
    conn = get_in_org(request, ChatConnection, pk=pk)
    audit_record(organization=request.org, actor=request.user,
                 action="chat connection deleted", obj=conn)
    conn.delete()
    messages.success(request, "Connection deleted.")
    return redirect(org_url("activity:integrations", request))


@org_view(Role.ADMIN)
@require_POST
def delivery_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """One more try of a delivery whose outcome is unknown (a chat send cut by a worker's
    death) or that gave up; back to its subscription's or connection's page."""
    delivery = (Delivery.objects.filter(organization_id=request.org.pk, pk=pk)
                .exclude(destination__startswith="handler:")
                .select_related("subscription", "chat").first())
    if delivery is None:
        raise Http404("Not found.")
    target = delivery.subscription or delivery.chat
    back = (org_url("activity:webhook", request, pk=delivery.subscription_id)
            if delivery.subscription_id else org_url("activity:chat", request, pk=delivery.chat_id))
    if target is None or not target.enabled:
        messages.error(request, gettext("Enable it before resending."))
    elif dispatch.resend(delivery):
        audit_record(organization=request.org, actor=request.user, action="delivery resent",
                     obj=target)
        messages.success(request, gettext("Resent: its try is in the log below."))
    else:
        messages.info(request, gettext("That delivery is not waiting for a resend (any more)."))
    return redirect(back)
