"""Reach's tables (inbox entries, comments, preferences, chat connections, webhook
subscriptions and their deliveries). The event outbox itself is core's."""
