from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares and no app owns: the figure store, rate limits, admin scoping,
    deploy checks, validators, form and version helpers, formatting, chart helpers."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"

    def ready(self) -> None:
        from core import checks

        checks.register()
