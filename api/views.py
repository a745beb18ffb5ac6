"""The API tokens page (an admin creates and revokes the tokens scripts use for /api/v1/)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import org_url, org_view
from accounts.audit import audit_record
from accounts.models import ApiToken, Role

from .access import get_api_token_for_admin
from .forms import TokenForm


@org_view(Role.ADMIN)
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        raw, prefix, hashed = ApiToken.new_token()
        token = ApiToken.objects.create(organization=request.org, user=request.user,
                                        name=form.cleaned_data["name"], prefix=prefix,
                                        token_hash=hashed, scope=form.cleaned_data["scope"])
        audit_record(organization=request.org, actor=request.user, action="token created",
                     obj=token, changes={"scope": token.scope})
        new_token = raw
        form = TokenForm()
    tokens = ApiToken.objects.filter(organization=request.org).select_related("user")
    return render(request, "api/tokens.html", {
        "form": form, "tokens": tokens, "new_token": new_token,
        "schema_url": "/api/v1/openapi.json", "docs_url": "/api/v1/docs",
    })


@org_view(Role.ADMIN)
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_api_token_for_admin(request, pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(organization=request.org, actor=request.user, action="token revoked",
                     obj=token)
        messages.success(request, f"Token “{token.name}” revoked.")
    return redirect(org_url("api_tokens:list", request))
