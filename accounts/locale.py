"""Which language a request (or an e-mail) is rendered in.

In order: the person's own choice (User.language), else the browser's Accept-Language when it
asks for a language we ship, else the organisation's default (Organization.language, applied
by accounts.access.org_view once it knows the organisation — no query of its own), else
settings.LANGUAGE_CODE. No cookie, no URL prefix.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header


def supported(code: str | None) -> str | None:
    """The shipped language for `code` ("de-AT" → "de"), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def from_accept_language(header: str) -> str | None:
    for code, _quality in parse_accept_lang_header(header or ""):
        if code != "*" and (found := supported(code)):
            return found
    return None


def language_for(user=None, organization=None) -> str:
    """The language to render for `user` away from a request (e-mails): their choice, else
    the organisation's default, else the site's."""
    return (supported(getattr(user, "language", "")) or
            supported(getattr(organization, "language", "")) or settings.LANGUAGE_CODE)


def apply_organization_default(request, organization) -> None:
    """Called by org_view: the organisation's default, when nothing better was asked for."""
    if getattr(request, "language_open", False) and (code := supported(organization.language)):
        translation.activate(code)
        request.LANGUAGE_CODE = code


class PersonLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        code = supported(user.language) if user is not None and user.is_authenticated else None
        code = code or from_accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
        request.language_open = code is None  # the organisation's default may still apply
        code = code or settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = code
        try:
            response = self.get_response(request)
            patch_vary_headers(response, ("Accept-Language",))
            response.headers.setdefault("Content-Language", translation.get_language())
            return response
        finally:
            # The thread goes back to the site's language: work done after this request in the
            # same thread (a test's next lines, an eager task) never inherits a reader's choice.
            translation.deactivate()


def javascript_catalog(request, lang: str):
    """Django's JavaScript catalogue (domain djangojs) for `lang`, served from our origin as a
    script file (the CSP allows only 'self'). The language is in the URL — base.html asks for the
    page's own language, which may be the organisation's default that this URL cannot see — so
    the browser may cache it for a day; a new deploy's catalogue comes with a changed page
    anyway (the page links the language, not the content)."""
    from django.http import Http404
    from django.views.i18n import JavaScriptCatalog

    code = supported(lang)
    if code is None or code != lang:
        raise Http404
    with translation.override(code):
        response = JavaScriptCatalog.as_view(domain="djangojs")(request)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Content-Language"] = code
    return response
