from django.apps import AppConfig


class KpisConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "kpis"

    def ready(self) -> None:
        # A KPI's history shows its numbers in its unit and decimals (accounts' {% history %}
        # tag cannot import kpis: it asks what is registered).
        from accounts.audit import register_value_words
        from kpis.words import history_value

        register_value_words("kpis.kpi", history_value)

        # The stored status counts follow a KPI's deletion (kpis.status_counts).
        from django.db.models.signals import post_delete

        from kpis.models import Kpi
        from kpis.status_counts import recount_after_delete

        post_delete.connect(recount_after_delete, sender=Kpi,
                            dispatch_uid="kpis.status_counts.after_delete")
