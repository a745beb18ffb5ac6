from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The JSON API (/api/v1/, django-ninja, one Router per domain) and its token pages."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
