from django.apps import AppConfig


class OkrsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "okrs"

    def ready(self) -> None:
        from okrs import (
            promotion,  # noqa: F401  (linked key results follow their KPI)
            signals,  # noqa: F401  (the cycle-progress store's generation)
        )
