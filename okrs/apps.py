from django.apps import AppConfig


class OkrsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "okrs"

    def ready(self) -> None:
        from kpis.improvement import register_improvement_tracker
        from okrs import (
            promotion,  # noqa: F401  (linked key results follow their KPI)
            signals,  # noqa: F401  (the cycle-progress store's generation)
        )
        from okrs.improvement import KeyResultTracker

        # The KPI engine asks okrs which KPIs are being improved (kpis never imports okrs).
        register_improvement_tracker(KeyResultTracker())
