from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class SourcesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sources"
    verbose_name = gettext_lazy("Data sources")

    def ready(self) -> None:
        from kpis.feeds import register_feed_provider

        from .feeds import provider

        register_feed_provider(provider)
