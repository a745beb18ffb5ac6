"""The demo's conversations (load_demo): comments with mentions on the objectives and a KPI
value, and the inbox entries they made. Written directly (no e-mails at load time)."""

from __future__ import annotations

from django.urls import reverse

from activity.models import Comment, Mention, Notification


def _comment(ctx, target_kind: str, target_id: int, author: str, body: str, url: str,
             title: str, mentions: tuple[str, ...] = ()) -> Comment:
    org, users = ctx.org, ctx.users
    comment = Comment.objects.create(organization=org, target_kind=target_kind,
                                     target_id=target_id, author=users[author], body=body)
    for name in mentions:
        Mention.objects.create(comment=comment, user=users[name])
        Notification.objects.create(
            organization=org, user=users[name], kind=Notification.Kind.MENTION, comment=comment,
            text=f"{users[author].display_name} mentioned you on {title}", url=url)
    return comment


def seed(ctx) -> None:
    org, users = ctx.org, ctx.users
    objectives = ctx.extra.get("objectives", {})
    for obj in objectives.values():
        url = reverse("okrs:objective", kwargs={"org_slug": org.slug, "pk": obj.pk})
        owner = next((k for k, u in users.items() if u.pk == obj.owner_id), None)
        if owner and owner != "olivia":
            _comment(ctx, "objective", obj.pk, "olivia",
                     f"@{users[owner].display_name} please post a short update here every "
                     "Friday: what moved, what is stuck. Background: https://example.com/okr-guide",
                     url, obj.title, mentions=(owner,))
        else:
            _comment(ctx, "objective", obj.pk, "olivia",
                     "Kick-off: this one is mine. Questions and ideas welcome here.", url,
                     obj.title)
    support = objectives.get("support")
    if support is not None:
        url = reverse("okrs:objective", kwargs={"org_slug": org.slug, "pk": support.pk})
        _comment(ctx, "objective", support.pk, "lena",
                 "The backlog is down a fifth since the new macros went live. @Mark Member "
                 "can you share the macro list with Product?", url, support.title,
                 mentions=("mark",))
        _comment(ctx, "objective", support.pk, "mark", "Will do on Monday.", url, support.title)
    kpi = next(iter(ctx.extra.get("kpis", {}).values()), None) if isinstance(
        ctx.extra.get("kpis"), dict) else None
    point = kpi.points.order_by("-period_start").first() if kpi is not None else None
    if point is not None:
        url = reverse("kpis:detail", kwargs={"org_slug": org.slug, "pk": kpi.pk})
        _comment(ctx, "data_point", point.pk, "olivia",
                 "Why did it move this period? @Lena Leader do you know?",
                 url + f"#point-{point.pk}", f"{kpi.name}, {point.period_start:%-d %b %Y}",
                 mentions=("lena",))
