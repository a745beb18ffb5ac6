from django.apps import AppConfig


class ActivityConfig(AppConfig):
    """Reach: the inbox, comments and mentions, preferences, e-mail digests, Slack and Teams
    messages and signed outgoing webhooks, delivered from the event outbox in core
    (DESIGN.md, "Events and notifications")."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "activity"

    def ready(self) -> None:
        # The inbox's consumers of outbox events (activity.registry) and its Celery tasks;
        # the outbox's tasks, registered at start-up so that emit() finds its dispatch task
        # without importing every app's task modules on the first write (core.events._task).
        from activity import mail_tasks, notify, tasks  # noqa: F401
