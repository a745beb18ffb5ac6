"""Failed log-ins are locked out per account and address (django-axes)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    return settings


def login(client: Client, email: str, password: str, ip: str = "192.0.2.10"):
    return client.post(reverse("accounts:login"), {"username": email, "password": password},
                       REMOTE_ADDR=ip)


def test_five_failures_lock_the_account_from_that_address(axes_on):
    user = UserFactory(email="kim@example.com")
    c = Client()
    for _ in range(4):
        response = login(c, user.email, "wrong")
        assert response.status_code == 200
        assert "do not match" in response.content.decode()
    response = login(c, user.email, "wrong")  # the fifth failure locks
    assert response.status_code == 429
    # now even the right password is refused, with the locked page
    response = login(c, user.email, PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed log-ins" in html
    assert "_auth_user_id" not in c.session
    assert AccessAttempt.objects.filter(username=user.email).exists()


def test_lockout_is_per_account_and_address(axes_on):
    user = UserFactory(email="kim@example.com")
    other = UserFactory(email="lee@example.com")
    for _ in range(5):
        login(Client(), user.email, "wrong", ip="192.0.2.10")
    assert login(Client(), user.email, PASSWORD, ip="192.0.2.10").status_code == 429
    # the same account from another address logs in
    response = login(Client(), user.email, PASSWORD, ip="198.51.100.20")
    assert response.status_code == 302
    # another account from the locked address logs in
    response = login(Client(), other.email, PASSWORD, ip="192.0.2.10")
    assert response.status_code == 302


def test_success_before_the_limit_resets_the_count(axes_on):
    user = UserFactory(email="kim@example.com")
    for _ in range(4):
        login(Client(), user.email, "wrong")
    assert login(Client(), user.email, PASSWORD).status_code == 302
    for _ in range(4):
        assert login(Client(), user.email, "wrong").status_code == 200
    assert login(Client(), user.email, PASSWORD).status_code == 302


def test_axes_is_configured_per_account_and_address():
    from django.conf import settings

    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_FAILURE_LIMIT == 5
    assert "axes.middleware.AxesMiddleware" in settings.MIDDLEWARE
    assert settings.AUTHENTICATION_BACKENDS[0].startswith("axes.")


def test_lockout_ignores_the_case_of_the_email(axes_on):
    user = UserFactory(email="kim@example.com")
    for variant in ("KIM@example.com", "Kim@Example.com", "kim@EXAMPLE.com", "kim@example.COM",
                    "kIm@example.com"):
        login(Client(), variant, "wrong")
    assert login(Client(), user.email, PASSWORD).status_code == 429
    assert AccessAttempt.objects.get().username == "kim@example.com"


def test_forged_forwarded_for_does_not_escape_the_lockout(axes_on):
    """Without CLIENT_IP_HEADER the address is REMOTE_ADDR: a forged X-Forwarded-For
    header cannot give each attempt a fresh address."""
    user = UserFactory(email="kim@example.com")
    for n in range(5):
        Client().post(reverse("accounts:login"), {"username": user.email, "password": "x"},
                      REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = Client().post(reverse("accounts:login"),
                             {"username": user.email, "password": PASSWORD},
                             REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429


def test_behind_a_proxy_the_lockout_uses_the_forwarded_address(axes_on):
    axes_on.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    user = UserFactory(email="kim@example.com")
    for _ in range(5):
        Client().post(reverse("accounts:login"), {"username": user.email, "password": "x"},
                      REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    locked = Client().post(reverse("accounts:login"),
                           {"username": user.email, "password": PASSWORD},
                           REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert locked.status_code == 429
    # another client behind the same proxy is not locked out
    other = Client().post(reverse("accounts:login"),
                          {"username": user.email, "password": PASSWORD},
                          REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert other.status_code == 302
