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
