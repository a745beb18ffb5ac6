from django.apps import AppConfig


class OkrsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "okrs"
