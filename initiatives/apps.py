from django.apps import AppConfig


class InitiativesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "initiatives"

    def ready(self) -> None:
        # Open initiatives go with their objective on carry-over (okrs never imports
        # initiatives: it calls what is registered in okrs.hooks).
        from initiatives.carry_over import move_open_initiatives
        from okrs.hooks import on_carried_over

        on_carried_over(move_open_initiatives)
