"""Each person's notification choices: in-app and/or e-mail per kind of event.

No row means the default: everything in the inbox (in-app); mentions also by e-mail; the
weekly digest by e-mail to leaders and above.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from activity.models import NotificationPreference

Kind = NotificationPreference.Kind

# kind -> (in_app, email)
DEFAULTS: dict[str, tuple[bool, bool]] = {
    Kind.MENTION: (True, True),
    Kind.REPLY: (True, False),
    Kind.WEBHOOK_DISABLED: (True, False),
    Kind.DIGEST: (False, True),
}
# Kinds that have no inbox entry (the digest is an e-mail only).
EMAIL_ONLY = {Kind.DIGEST}


@dataclass(frozen=True)
class Choice:
    kind: str
    label: str
    in_app: bool
    email: bool
    email_only: bool


def choices_for(user, organization_id: int) -> dict[str, Choice]:
    """kind -> the person's choice (one query)."""
    stored = {p.kind: p for p in NotificationPreference.objects.filter(
        user=user, organization_id=organization_id)}
    out = {}
    for kind, label in Kind.choices:
        in_app, email = DEFAULTS[kind]
        if kind in stored:
            in_app, email = stored[kind].in_app, stored[kind].email
        if kind in EMAIL_ONLY:
            in_app = False
        out[kind] = Choice(kind, label, in_app, email, kind in EMAIL_ONLY)
    return out


def choices_of_many(user_ids, organization_id: int, kind: str) -> dict[int, tuple[bool, bool]]:
    """user id -> (in_app, email) for one kind (one query, whatever the number of people)."""
    default = DEFAULTS[kind]
    stored = {uid: (in_app, email) for uid, in_app, email in
                   NotificationPreference.objects.filter(
                       organization_id=organization_id, kind=kind, user_id__in=list(user_ids))
                   .values_list("user_id", "in_app", "email")}
    return {uid: stored.get(uid, default) for uid in user_ids}


@transaction.atomic
def preferences_save(*, user, organization_id: int, values: dict[str, tuple[bool, bool]]) -> None:
    """Store the person's choices (kind -> (in_app, email)); unknown kinds are ignored."""
    for kind, (in_app, email) in values.items():
        if kind not in DEFAULTS:
            continue
        if kind in EMAIL_ONLY:
            in_app = False
        NotificationPreference.objects.update_or_create(
            user=user, organization_id=organization_id, kind=kind,
            defaults={"in_app": bool(in_app), "email": bool(email)})
