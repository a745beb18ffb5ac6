"""Who is calling: a bearer token names one user in one organisation."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer

from accounts.models import ApiToken, Membership

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        if not token or len(token) > 200:
            return None
        found = (
            ApiToken.objects.select_related("organization", "user")
            .filter(token_hash=ApiToken.hash(token), revoked_at__isnull=True)
            .first()
        )
        if found is None or not found.user.is_active:
            return None
        membership = Membership.objects.filter(user=found.user, organization=found.organization
                                               ).first()
        if membership is None:  # the user left the organisation: the token is dead
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > dt.timedelta(minutes=1):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        # The same attributes org_view gives a page, so the access helpers serve both.
        request.org = found.organization
        request.user = found.user
        request.membership = membership
        request.api_token = found
        if request.method not in READ_METHODS and not found.can_write:
            # Before any lookup: a read-only token learns nothing from a write.
            raise HttpError(403, "This token is read-only.")
        return found
