"""Production settings, the SECRET_KEY guard, security headers, CSP and CSRF."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.test import Client
from django.urls import reverse

from accounts.models import Invitation, Membership, Role
from core import checks as headway_checks

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = secrets.token_urlsafe(50)


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "SECURE_SSL",
                          "HEADWAY_ENV", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE",
                          "PYTEST_XDIST_WORKER")}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=120)


# --- The deploy check and the SECRET_KEY guard -------------------------------------------

def test_deploy_check_passes_with_production_environment():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {
        "DEBUG": "0", "SECRET_KEY": GOOD_KEY, "SECURE_SSL": "1", "ALLOWED_HOSTS": "example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/headway_deploycheck",
        "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_without_tls_settings():
    """Without SECURE_SSL the deploy check must complain (HSTS, secure cookies, redirect)."""
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {
        "DEBUG": "0", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "example.com"})
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # HSTS


@pytest.mark.parametrize("env", [{"SECURE_SSL": "1"}, {"HEADWAY_ENV": "production"}])
def test_declared_production_refuses_to_load_with_the_development_key(env):
    result = _run(["-c", "import django; django.setup()"], {"DEBUG": "0", **env})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is the development key" in result.stderr


@pytest.mark.parametrize("key", ["", "short-key", "django-insecure-" + "x" * 60, "a" * 60])
def test_declared_production_refuses_weak_keys(key):
    result = _run(["-c", "import django; django.setup()"],
                  {"DEBUG": "0", "HEADWAY_ENV": "production", "SECRET_KEY": key})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_declared_production_loads_with_a_real_key():
    result = _run(["-c", "import django; django.setup(); print('ok')"],
                  {"DEBUG": "0", "HEADWAY_ENV": "production", "SECRET_KEY": GOOD_KEY})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_production_database_without_key_warns_and_fails_the_deploy_check():
    """DEBUG off + DATABASE_URL looks like production: a warning (CI looks the same),
    which the deploy check (--fail-level WARNING) turns into a failure."""
    env = {"DEBUG": "0", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/headway_nokey"}
    result = _run(["manage.py", "check"], env)
    assert result.returncode == 0
    assert "headway.W001" in result.stderr + result.stdout
    result = _run(["manage.py", "check", "--fail-level", "WARNING"], env)
    assert result.returncode != 0


def test_declared_production_without_key_fails_the_system_check(settings, monkeypatch):
    monkeypatch.setenv("HEADWAY_ENV", "production")
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    errors = [e for e in checks.run_checks(tags=[checks.Tags.security])
              if e.id.startswith("headway.")]
    assert [(e.id, e.level) for e in errors] == [("headway.E001", checks.ERROR)]


def test_development_runs_with_the_development_key():
    result = _run(["manage.py", "check"], {})
    assert result.returncode == 0, result.stderr
    result = _run(["manage.py", "check"], {
        "DEBUG": "1", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/headway_nokey"})
    assert result.returncode == 0, result.stderr


def test_secret_key_check_is_registered(settings, monkeypatch):
    monkeypatch.delenv("HEADWAY_ENV", raising=False)
    monkeypatch.delenv("SECURE_SSL", raising=False)
    settings.DEBUG = False
    settings.DATABASE_URL = "postgres://db/x"
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    errors = checks.run_checks(tags=[checks.Tags.security])
    assert [e.id for e in errors if e.id.startswith("headway.")] == ["headway.W001"]
    settings.SECRET_KEY = GOOD_KEY
    assert not [e for e in checks.run_checks(tags=[checks.Tags.security])
                if e.id.startswith("headway.")]


def test_deploy_check_warns_without_a_shared_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.caches])
    assert [e.id for e in found if e.id.startswith("headway.")] == ["headway.W002"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/0"}}
    assert not checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.caches])
    assert not [e for e in checks.run_checks(tags=[checks.Tags.caches])
                if e.id == "headway.W002"]  # a deploy check only


def test_is_production_rules():
    assert headway_checks.is_production(debug=False, database_url="postgres://x", environ={})
    assert not headway_checks.is_production(debug=True, database_url="postgres://x", environ={})
    assert not headway_checks.is_production(debug=False, database_url="", environ={})
    assert headway_checks.is_production(debug=True, database_url="",
                                        environ={"HEADWAY_ENV": "production"})
    assert headway_checks.is_production(debug=False, database_url="",
                                        environ={"SECURE_SSL": "on"})
    assert headway_checks.secret_key_problem(GOOD_KEY, "dev") is None


# --- Headers and CSP ----------------------------------------------------------------------

def _csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.django_db
def test_security_headers_on_pages(client, org, owner, as_user):
    for c, url in ((client, reverse("accounts:login")),
                   (as_user(owner), reverse("accounts:members", kwargs={"org_slug": org.slug}))):
        response = c.get(url)
        assert response.status_code == 200
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        csp = _csp_directives(response)
        script = csp["script-src"]
        assert "'self'" in script
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
        # A nonce appears only when a page uses one (django-csp adds it lazily).
        assert set(script) <= {"'self'"} | {s for s in script if s.startswith("'nonce-")}
        assert csp["object-src"] == ["'none'"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_pages_have_no_inline_script_code(org, owner, as_user):
    """Every <script> either loads a file, carries the nonce, or is a JSON data block."""
    c = as_user(owner)
    response = c.get(reverse("accounts:members", kwargs={"org_slug": org.slug}))
    html = response.content.decode()
    nonce = next((s for s in _csp_directives(response)["script-src"]
                  if s.startswith("'nonce-")), "'nonce-absent'")[len("'nonce-"):-1]
    for tag in re.findall(r"<script\b[^>]*>", html):
        ok = ("src=" in tag or f'nonce="{nonce}"' in tag
              or 'type="application/json"' in tag)
        assert ok, f"inline script without nonce: {tag}"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler attribute"
    assert "hx-on" not in html
    assert '"allowEval": false' in html
    # htmx must never stamp our nonce on scripts it finds in swapped-in content: CSP then
    # blocks any script an attacker manages to inject into a partial.
    assert "inlineScriptNonce" not in html


ROOT = Path(__file__).resolve().parent.parent
# What a browser shows under our CSP: every page template and the Python that writes markup.
# E-mails are not pages (their HTML goes to mail clients, which need inline styles).
STYLE_ATTR = re.compile(r"""<[a-zA-Z][^>]*\sstyle\s*=|<style[\s>]""")
STYLE_ATTR_ONLY = re.compile(r"""<[a-zA-Z][^>]*\sstyle\s*=""")  # Python: comments may say <style>


def _markup_sources():
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if "emails" not in path.relative_to(ROOT / "templates").parts:
            yield path
    for app in ("accounts", "activity", "api", "core", "dashboards", "goals", "initiatives",
                "kpis", "okrs", "sources"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_no_page_markup_has_an_inline_style():
    """style-src has no 'unsafe-inline' (issue 15): a style="" attribute or a <style> element
    in a page would be refused by the browser. Use a class (static/css/utilities.css has the
    data-driven widths w-N, x-N, h-N)."""
    found = [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}"
             for path in _markup_sources()
             for text in [path.read_text(encoding="utf-8")]
             for m in (STYLE_ATTR if path.suffix == ".html" else STYLE_ATTR_ONLY).finditer(text)]
    assert not found, "inline styles: " + ", ".join(found)


@pytest.mark.django_db
def test_rendered_pages_carry_no_inline_style(as_user):
    """The pages with data-driven bars (progress, tick, completion) render classes."""
    from tests.conftest import make_world

    world = make_world()
    c = as_user(world["users"][Role.OWNER])
    slug = world["org"].slug
    for name in ("dashboards:home", "okrs:list", "dashboards:strategy_map", "kpis:list",
                 "dashboards:review"):
        response = c.get(reverse(name, kwargs={"org_slug": slug}))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert not STYLE_ATTR.search(html), f"{name}: {STYLE_ATTR.search(html).group(0)}"
    for name, kwargs in (("okrs:objective", {"pk": world["objective"]}),
                         ("checkins:team", {"team": "support"}),
                         ("dashboards:team", {"team": "support"})):
        response = c.get(reverse(name, kwargs={"org_slug": slug, **kwargs}))
        assert response.status_code == 200, name
        assert not STYLE_ATTR.search(response.content.decode()), name


# --- CSRF --------------------------------------------------------------------------------

def _csrf_client(user=None) -> Client:
    c = Client(enforce_csrf_checks=True)
    if user is not None:
        c.force_login(user)
    return c


def _token(c: Client, url: str) -> str:
    response = c.get(url)
    assert response.status_code == 200
    return response.cookies["csrftoken"].value if "csrftoken" in response.cookies \
        else c.cookies["csrftoken"].value


@pytest.mark.django_db
def test_csrf_enforced_on_signup(db):
    c = _csrf_client()
    data = {"name": "N", "email": "n@example.com", "password": "a-long-pass-phrase-9",
            "org_name": "Initech", "org_slug": ""}
    response = c.post(reverse("accounts:signup"), data)
    assert response.status_code == 403
    token = _token(c, reverse("accounts:signup"))
    response = c.post(reverse("accounts:signup"), {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


@pytest.mark.django_db
def test_csrf_enforced_on_login_and_logout(owner):
    c = _csrf_client()
    response = c.post(reverse("accounts:login"), {"username": owner.email, "password": "x"})
    assert response.status_code == 403
    c = _csrf_client(owner)
    response = c.post(reverse("accounts:logout"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_csrf_enforced_on_invitation_form(org, owner):
    c = _csrf_client(owner)
    url = reverse("accounts:members", kwargs={"org_slug": org.slug})
    response = c.post(url, {"email": "new@example.com", "role": Role.MEMBER})
    assert response.status_code == 403
    assert not Invitation.objects.exists()
    token = _token(c, url)
    response = c.post(url, {"email": "new@example.com", "role": Role.MEMBER,
                            "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Invitation.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
def test_csrf_enforced_on_htmx_post(org, owner, member):
    """htmx sends the token in the X-CSRFToken header (hx-headers on <body>)."""
    c = _csrf_client(owner)
    members_url = reverse("accounts:members", kwargs={"org_slug": org.slug})
    membership = Membership.objects.get(user=member, organization=org)
    url = reverse("accounts:member_role", kwargs={"org_slug": org.slug, "pk": membership.pk})
    response = c.post(url, {"role": Role.LEADER}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER
    page = c.get(members_url)
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page.content.decode())
    assert token, "the page must hand htmx the CSRF token"
    response = c.post(url, {"role": Role.LEADER}, HTTP_HX_REQUEST="true",
                      HTTP_X_CSRFTOKEN="wrong" * 8)
    assert response.status_code == 403
    response = c.post(url, {"role": Role.LEADER}, HTTP_HX_REQUEST="true",
                      HTTP_X_CSRFTOKEN=token.group(1))
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.LEADER


# --- Open redirects and secrets at rest -------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "https:/\\evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, target):
    from tests.factories import PASSWORD, UserFactory

    user = UserFactory()
    response = client.post(reverse("accounts:login") + f"?next={target}",
                           {"username": user.email, "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert "evil" not in response["Location"] and "javascript" not in response["Location"]


@pytest.mark.django_db
def test_checkin_never_redirects_off_site(org, member, as_user):
    from tests.factories import KeyResultFactory, ObjectiveFactory

    kr = KeyResultFactory(objective=ObjectiveFactory(organization=org), owner=member,
                          target_value=10.0)
    p = f"kr{kr.pk}-"
    response = as_user(member).post(
        reverse("checkins:row", kwargs={"org_slug": org.slug, "pk": kr.pk}),
        {p + "value": "3", p + "status": "on_track", "next": "https://evil.example/"})
    assert response.status_code in (302, 303)
    assert response["Location"].startswith("/o/acme/")


@pytest.mark.django_db
def test_invitation_and_api_tokens_are_stored_only_as_hashes(org, owner):
    from accounts.models import ApiToken
    from accounts.services import invitation_create

    invitation, raw = invitation_create(organization=org, email="x@example.com",
                                        role=Role.MEMBER, invited_by=owner)
    invitation.refresh_from_db()
    assert raw not in {invitation.token_hash} and len(raw) >= 32
    assert invitation.token_hash == Invitation.hash(raw)
    token_raw, prefix, hashed = ApiToken.new_token()
    assert token_raw != hashed and len(token_raw) >= 40 and token_raw.startswith(prefix)
