"""An invitation addressed to the person, from their inbox: "send me the link again".

Only a hash of an invitation's link is stored, and the link (sent to the invited address) is
the proof that the person holds that mailbox — an account's e-mail address is not verified —
so the inbox does not accept an invitation itself: it e-mails a fresh link to the invited
address (the previous link stops working, as with an admin's resend). At most once per
``RESEND_GAP`` per invitation, so the button cannot be used to flood a mailbox.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import services as accounts_services
from accounts.audit import audit_record
from accounts.models import Invitation, Membership

RESEND_GAP = dt.timedelta(minutes=10)


def mine(user, pk: int) -> Invitation:
    """A pending invitation to the person's address, to an organisation they are not in;
    404 otherwise (someone else's invitation looks like a missing one)."""
    now = timezone.now()
    inv = (Invitation.objects.filter(pk=pk, email__iexact=user.email, accepted_at__isnull=True,
                                     revoked_at__isnull=True, expires_at__gt=now)
           .exclude(organization__in=Membership.objects.filter(user=user)
                    .values("organization_id"))
           .select_related("organization", "invited_by").first())
    if inv is None:
        raise Http404("Not found.")
    return inv


@transaction.atomic
def send_link_again(*, invitation: Invitation, user) -> Invitation:
    inv = Invitation.objects.select_for_update().get(pk=invitation.pk)
    now = timezone.now()
    renewed_at = inv.expires_at - dt.timedelta(days=settings.INVITATION_DAYS)
    if now - renewed_at < RESEND_GAP:
        raise ValidationError(_("A link was sent a few minutes ago: look for it in your e-mail "
                                "(and its spam folder)."))
    raw, hashed = Invitation.new_token()
    inv.token_hash = hashed
    inv.expires_at = now + dt.timedelta(days=settings.INVITATION_DAYS)
    inv.save(update_fields=["token_hash", "expires_at"])
    audit_record(organization=inv.organization, actor=user,
                 action="invitation link sent to the invitee", obj=inv)
    # accounts' own invitation e-mail (after commit), from the person who invited.
    accounts_services._send_invitation(inv, raw, inv.invited_by or user)
    return inv
