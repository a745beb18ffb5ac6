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

        from django.db.models.signals import post_migrate

        post_migrate.connect(fill_figures_after_upgrade, sender=self)


FIGURES_MIGRATION = ("okrs", "0002_stored_figures")


def fill_figures_after_upgrade(sender, plan=None, using="default", **kwargs) -> None:
    """The migration that adds the stored figures leaves them empty (it cannot run today's
    roll-up against yesterday's schema). Once every migration has run, an upgrade that has
    just applied it fills them, so an existing installation never shows zeros until someone
    remembers `manage.py rebuild_figures`."""
    applied = {(m.app_label, m.name) for m, backwards in (plan or []) if not backwards}
    if FIGURES_MIGRATION not in applied:
        return
    from accounts.models import Organization
    from okrs.figures import rebuild

    for organization in Organization.objects.using(using).order_by("id"):
        rebuild(organization)
